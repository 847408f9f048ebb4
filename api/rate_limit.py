"""A small per-client rate limit for endpoints that write outside the log (key backups).

Fixed windows per (bucket, client address), in process memory: enough to stop one client hammering
one worker; several workers each keep their own count, which only makes the limit per worker.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request

from registry.errors import RegistryError


class RateLimited(RegistryError):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.response_headers = {"Retry-After": str(retry_after)}


@dataclass
class RateLimit:
    """At most `limit` requests per `window` seconds per client; `clock` is a parameter for tests."""

    limit: int
    window: float
    clock: Callable[[], float] = time.monotonic
    _counts: dict[str, tuple[float, int]] = field(default_factory=dict)

    def hit(self, client: str) -> None:
        now = self.clock()
        start, count = self._counts.get(client, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        if count >= self.limit:
            retry = max(1, math.ceil(self.window - (now - start)))
            raise RateLimited(f"at most {self.limit} requests per {self.window:g} s: retry later", retry)
        self._counts[client] = (start, count + 1)
        if len(self._counts) > 10_000:  # forget finished windows, so memory stays bounded
            self._counts = {k: v for k, v in self._counts.items() if now - v[0] < self.window}

    def check(self, request: Request) -> None:
        self.hit(request.client.host if request.client else "unknown")
