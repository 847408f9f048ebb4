"""The client side of Kotowari: the registry client and the `kotowari` command line."""

from crawler_client.async_client import AsyncClient
from crawler_client.client import Client
from crawler_client.core import CheckResult, RetryPolicy
from crawler_client.errors import (
    AlreadyFiled,
    InvalidSignedAnswer,
    KotowariError,
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
    "RegistryBusy",
    "RegistryKeyMismatch",
    "RegistryProblem",
    "RegistryUnavailable",
    "RetryPolicy",
    "UnexpectedAnswer",
    "UntrustedAnswer",
]
