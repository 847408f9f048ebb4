"""The auditor's HTTP: `crawler_client.core`'s retries and error mapping over a blocking `httpx`
client (whose transport the caller may supply), counting every request sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from crawler_client.audit.report import Discrepancy, Stopped
from crawler_client.client import send_once
from crawler_client.core import (
    USER_AGENT,
    ClientCore,
    Flow,
    Request,
    Response,
    RetryPolicy,
    Unreachable,
    problem_slug,
    run_steps,
)

__all__ = ["RegistryHttp"]

_JSON = {"Content-Type": "application/json"}


def _single(request: Request) -> Flow[Response]:
    response = yield request
    return response


class RegistryHttp:
    """GET and POST to one registry; thread-safe (claim lookups are fetched a few at a time).

    A registry answering 503 `integrity-failure` says its own log does not verify: that ends the
    audit with that finding (`Stopped`). Other failures raise the client's errors
    (`crawler_client.errors`), which the audit turns into `AuditError`.
    """

    def __init__(
        self,
        registry: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.core = ClientCore(registry, retry=retry)
        self.registry = self.core.registry
        self.requests = 0
        self._sleep = sleep
        self._lock = threading.Lock()
        self._http = httpx.Client(
            base_url=self.registry, transport=transport, timeout=timeout, headers={"User-Agent": USER_AGENT}
        )

    def close(self) -> None:
        self._http.close()

    def send(
        self, method: str, path: str, *, content: bytes | None = None, params: dict[str, Any] | None = None
    ) -> Response:
        """The answer to one request (retried as the policy says), whatever its status."""
        request = Request(
            method, path, params=params, content=content, headers=_JSON if content else {}, repeatable=True
        )
        response = run_steps(self.core.steps(_single(request), time.monotonic), self._attempt, self._sleep)
        if response.status == 503 and problem_slug(response.problem()) == "integrity-failure":
            detail = (response.problem() or {}).get("detail", "")
            raise Stopped(
                Discrepancy("integrity", f"the registry reports that its own log does not verify: {detail}")
            )
        return response

    def json(
        self, method: str, path: str, *, content: bytes | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The JSON object answered, or the client error the answer amounts to."""
        return self.core.json_object(self.send(method, path, content=content, params=params))

    def raw(self, path: str) -> bytes:
        """The bytes of a successful GET, or the client error the answer amounts to."""
        return self.core.raw(self.send("GET", path))

    def _attempt(self, request: Request) -> Response | Unreachable:
        with self._lock:
            self.requests += 1
        return send_once(self._http, request)
