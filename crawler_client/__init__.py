"""The client side of Kotowari: the registry client and the `kotowari` command line."""

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
