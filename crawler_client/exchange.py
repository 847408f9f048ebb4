"""What the client core exchanges with its I/O shells: requests, responses, sleeps, the absence of
an answer, and the retry policy that decides whether and when to send a request again (see
`crawler_client.core`)."""

from __future__ import annotations

import email.utils
import random as random_module
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import keys

USER_AGENT = "kotowari-client/0.1"
RETRY_STATUSES = frozenset({429, 502, 503, 504})


# ------------------------------------------------------------------ requests and responses


@dataclass(frozen=True)
class Request:
    """What to send; `repeatable` says whether sending it twice is harmless (so it may be retried)."""

    method: str
    path: str
    params: Mapping[str, str | int] | None = None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    repeatable: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Response:
    """What came back; `headers` is case-insensitive (the drivers pass httpx's), `attempts` counts sends."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def problem(self) -> dict[str, Any] | None:
        """The RFC 9457 problem details, when that is what the answer is."""
        if "application/problem+json" not in self.headers.get("content-type", ""):
            return None
        try:
            body = keys.parse_strict_json(self.content)
        except keys.InvalidJSON:
            return None
        return body if isinstance(body, dict) else None


@dataclass(frozen=True)
class Sleep:
    """A step of `ClientCore.steps` (and of a flow): wait `seconds`, then carry on (the driver
    sends back None)."""

    seconds: float


@dataclass(frozen=True)
class Unreachable:
    """What a driver sends back for an attempt that got no answer (a connection error or timeout)."""

    error: Exception
    timeout: bool = False


def problem_slug(problem: Mapping[str, Any] | None) -> str:
    """The stable last segment of a problem `type` URI (`…/problems/nonce-reused` → `nonce-reused`)."""
    return str((problem or {}).get("type", "")).rsplit("/", 1)[-1]


# ------------------------------------------------------------------ retries


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date); None if absent or bad."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """When to send a repeatable request again, and after how long.

    Delays are "full jitter" (uniform between 0 and `base_delay * 2**(n-1)`, capped at
    `max_delay`), which spreads a crowd of clients out after an outage instead of having them
    return in lock step; a `Retry-After` from the registry is a floor on the delay. No retry starts
    when it would end past `max_elapsed` seconds after the first attempt: the caller gets
    `RegistryUnavailable`/`RegistryBusy` then, rather than an unbounded wait.
    """

    max_attempts: int = 4
    max_elapsed: float = 30.0
    base_delay: float = 0.25
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts is at least 1 (1 means: never retry)")
        if self.max_elapsed < 0 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("retry times cannot be negative")

    def backoff(self, attempt: int, random: Callable[[], float]) -> float:
        """The jittered delay after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return float(ceiling * random())

    def delay(
        self,
        request: Request,
        attempt: int,
        elapsed: float,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        random: Callable[[], float] = random_module.random,
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to stop and report this outcome.

        `status` is None for a connection error or timeout, else the HTTP status answered.
        """
        if not request.repeatable or attempt >= self.max_attempts:
            return None
        if status is not None and status not in RETRY_STATUSES:
            return None
        wait = self.backoff(attempt, random)
        if retry_after is not None:
            wait = max(wait, retry_after)
        if elapsed + wait > self.max_elapsed:
            return None
        return wait


NO_RETRIES = RetryPolicy(max_attempts=1)
