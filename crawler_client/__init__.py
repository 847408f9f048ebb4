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
    from crawler_client.guard import Guard, GuardInputError, GuardMatch, GuardResult
    from crawler_client.guard_record import InvalidGuardRecord, VerifiedGuardRecord, verify_guard_record

__all__ = [
    "AlreadyFiled",
    "AsyncClient",
    "CheckResult",
    "Client",
    "Guard",
    "GuardInputError",
    "GuardMatch",
    "GuardResult",
    "InvalidGuardRecord",
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
    "VerifiedGuardRecord",
    "WitnessPolicy",
    "WitnessedCheckpoint",
    "verify_guard_record",
]

_HOMES = {
    "AsyncClient": "crawler_client.async_client",
    "Client": "crawler_client.client",
    "CheckResult": "crawler_client.core",
    "Guard": "crawler_client.guard",
    "GuardInputError": "crawler_client.guard",
    "GuardMatch": "crawler_client.guard",
    "GuardResult": "crawler_client.guard",
    "InvalidGuardRecord": "crawler_client.guard_record",
    "VerifiedGuardRecord": "crawler_client.guard_record",
    "verify_guard_record": "crawler_client.guard_record",
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
