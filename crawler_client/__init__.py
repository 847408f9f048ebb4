"""The client side of Kotowari: the registry client and the `kotowari` command line.

The names below are imported on first use (PEP 562), so `import crawler_client.cli` does not
pay for httpx, asyncio and the verification core before a command needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler_client.async_client import AsyncClient
    from crawler_client.client import Client
    from crawler_client.core import CheckResult, RetryPolicy, WitnessedCheckpoint, WitnessPolicy
    from crawler_client.errors import (
        AlreadyFiled,
        InvalidSignedAnswer,
        KotowariError,
        NotWitnessed,
        RegistryBusy,
        RegistryKeyMismatch,
        RegistryProblem,
        RegistryUnavailable,
        UnexpectedAnswer,
        UntrustedAnswer,
    )

__all__ = [
    "AlreadyFiled",
    "AsyncClient",
    "CheckResult",
    "Client",
    "InvalidSignedAnswer",
    "KotowariError",
    "NotWitnessed",
    "RegistryBusy",
    "RegistryKeyMismatch",
    "RegistryProblem",
    "RegistryUnavailable",
    "RetryPolicy",
    "UnexpectedAnswer",
    "UntrustedAnswer",
    "WitnessPolicy",
    "WitnessedCheckpoint",
]

_HOMES = {
    "AsyncClient": "crawler_client.async_client",
    "Client": "crawler_client.client",
    "CheckResult": "crawler_client.core",
    "RetryPolicy": "crawler_client.core",
    "WitnessedCheckpoint": "crawler_client.core",
    "WitnessPolicy": "crawler_client.core",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES.get(name, "crawler_client.errors")), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
