"""Retries, backoff and timeouts, with injected faults: httpx.MockTransport for answers a healthy
registry never gives (429, 502, 503, 504, resets), and a silent socket on 127.0.0.1 for timeouts.
Sleeping and the clock are injected, so no test waits for a backoff."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from crawler_client import (
    AsyncClient,
    Client,
    RegistryBusy,
    RegistryProblem,
    RegistryUnavailable,
    RetryPolicy,
    UnexpectedAnswer,
)
from crawler_client.core import parse_retry_after

BASE = "http://registry.test"
Handler = Callable[[httpx.Request], httpx.Response]


class FakeTime:
    """A clock that moves only when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def scripted(*answers: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler giving `answers` in turn (the last one forever), recording each request."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handle, seen


def ok(body: Any = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"ok": True})


def status(code: int, **headers: str) -> httpx.Response:
    return httpx.Response(code, headers=headers, text="busy")


def sync_call(handler: Handler, clock: FakeTime, call: Callable[[Any], Any], **options: Any) -> Any:
    with Client(
        BASE, transport=httpx.MockTransport(handler), sleep=clock.sleep, clock=clock, **options
    ) as registry:
        return call(registry)


def async_call(handler: Handler, clock: FakeTime, call: Callable[[Any], Any], **options: Any) -> Any:
    async def run() -> Any:
        async with AsyncClient(
            BASE, transport=httpx.MockTransport(handler), sleep=clock.asleep, clock=clock, **options
        ) as registry:
            return await call(registry)

    return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Run `call(registry)` on a Client or an AsyncClient over the scripted handler."""
    return sync_call if request.param == "sync" else async_call  # type: ignore[return-value]


def get_thing(registry: Any) -> Any:
    return registry.request("GET", "/v1/thing")


@pytest.mark.parametrize("code", [429, 502, 503, 504])
def test_overload_and_gateway_errors_are_retried(call: Callable[..., Any], code: int):
    handler, seen = scripted(status(code), status(code), ok())
    clock = FakeTime()
    assert call(handler, clock, get_thing) == {"ok": True}
    assert len(seen) == 3 and len(clock.sleeps) == 2


def test_connection_errors_and_timeouts_are_retried(call: Callable[..., Any]):
    handler, seen = scripted(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), ok())
    assert call(handler, FakeTime(), get_thing) == {"ok": True}
    assert len(seen) == 3


def test_backoff_is_exponential_with_full_jitter_and_capped(call: Callable[..., Any]):
    handler, seen = scripted(status(503))
    clock = FakeTime()
    policy = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=4.0, max_elapsed=1000)
    with pytest.raises(RegistryBusy) as busy:
        call(handler, clock, get_thing, retry=policy)
    assert len(seen) == 6 and busy.value.status == 503 and "after 6 attempts" in str(busy.value)
    assert len(clock.sleeps) == 5
    for attempt, slept in enumerate(clock.sleeps, start=1):
        assert 0 <= slept <= min(4.0, 2 ** (attempt - 1))


def test_retry_after_is_a_floor_on_the_delay(call: Callable[..., Any]):
    handler, _ = scripted(status(429, **{"Retry-After": "7"}), ok())
    clock = FakeTime()
    call(handler, clock, get_thing, retry=RetryPolicy(base_delay=0.01))
    assert clock.sleeps == [7.0]


def test_a_retry_after_beyond_the_time_budget_is_reported_not_waited(call: Callable[..., Any]):
    handler, seen = scripted(status(503, **{"Retry-After": "120"}))
    clock = FakeTime()
    with pytest.raises(RegistryBusy) as busy:
        call(handler, clock, get_thing, retry=RetryPolicy(max_elapsed=30))
    assert len(seen) == 1 and clock.sleeps == [] and busy.value.retry_after == 120.0


def test_the_total_time_is_bounded(call: Callable[..., Any]):
    handler, seen = scripted(httpx.ConnectError("refused"))
    clock = FakeTime()
    policy = RetryPolicy(max_attempts=100, base_delay=4.0, max_delay=4.0, max_elapsed=10.0)
    with pytest.raises(RegistryUnavailable, match="cannot reach"):
        call(handler, clock, get_thing, retry=policy)
    assert clock.now <= 10.0 and 2 <= len(seen) < 100


def test_giving_up_on_timeouts_says_so(call: Callable[..., Any]):
    handler, seen = scripted(httpx.ReadTimeout("slow"))
    with pytest.raises(RegistryUnavailable, match=r"did not answer GET /v1/thing in time.*\(2 attempts\)"):
        call(handler, FakeTime(), get_thing, retry=RetryPolicy(max_attempts=2))
    assert len(seen) == 2


@pytest.mark.parametrize("code", [400, 404, 409, 422, 500])
def test_other_errors_are_not_retried(call: Callable[..., Any], code: int):
    problem = httpx.Response(
        code, json={"type": "https://kotowari.dev/problems/x", "title": "X", "detail": "no"},
        headers={"content-type": "application/problem+json"},
    )  # fmt: skip
    handler, seen = scripted(problem)
    with pytest.raises(RegistryProblem) as refused:
        call(handler, FakeTime(), get_thing)
    assert len(seen) == 1 and refused.value.status == code


def test_requests_that_are_not_safe_to_repeat_are_sent_once(call: Callable[..., Any]):
    handler, seen = scripted(status(503))
    with pytest.raises(RegistryBusy):
        call(handler, FakeTime(), lambda registry: registry.request("POST", "/v1/notices", document={"a": 1}))
    handler, seen_reset = scripted(httpx.RemoteProtocolError("reset"))
    with pytest.raises(RegistryUnavailable):
        call(handler, FakeTime(), lambda registry: registry.request("POST", "/v1/notices", document={"a": 1}))
    assert len(seen) == 1 and len(seen_reset) == 1


@pytest.mark.parametrize(
    "body", [{}, {"leaf_index": "x", "inclusion_proof": []}, {"consistency_proof": ["not base64!"]}]
)
def test_malformed_log_proofs_are_unexpected(call: Callable[..., Any], body: dict[str, Any]):
    handler, _ = scripted(ok(body))
    with pytest.raises(UnexpectedAnswer, match="malformed"):
        call(handler, FakeTime(), lambda registry: registry.inclusion_proof(b"\0" * 32, 1))
    with pytest.raises(UnexpectedAnswer, match="malformed"):
        call(handler, FakeTime(), lambda registry: registry.consistency_proof(1, 2))


def test_non_json_answers_are_unexpected(call: Callable[..., Any]):
    for answer in (httpx.Response(200, text="<html>"), httpx.Response(200, json=[1]), status(500)):
        handler, _ = scripted(answer)
        with pytest.raises(UnexpectedAnswer):
            call(handler, FakeTime(), get_thing)


def test_snapshot_is_requested_raw_with_since(call: Callable[..., Any]):
    handler, seen = scripted(httpx.Response(200, content=b"\x00KOTOWARI\xff"))
    assert call(handler, FakeTime(), lambda registry: registry.snapshot()) == b"\x00KOTOWARI\xff"
    assert call(handler, FakeTime(), lambda registry: registry.snapshot(since=12)) == b"\x00KOTOWARI\xff"
    assert [str(r.url) for r in seen] == [f"{BASE}/v1/snapshot", f"{BASE}/v1/snapshot?since=12"]
    with pytest.raises(ValueError, match="tree size"):
        call(handler, FakeTime(), lambda registry: registry.snapshot(since=-1))


# ------------------------------------------------------------------ real sockets on 127.0.0.1


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections on 127.0.0.1 and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in held:
            connection.close()
        listener.close()


def test_timeouts_are_configurable_and_bounded(silent_server: str):
    started = time.monotonic()
    policy = RetryPolicy(max_attempts=2, base_delay=0.0)
    with (
        Client(silent_server, timeout=0.2, retry=policy) as registry,
        pytest.raises(RegistryUnavailable, match="in time"),
    ):
        registry.info()
    assert time.monotonic() - started < 3.0


async def test_async_timeouts_are_configurable_and_bounded(silent_server: str):
    started = time.monotonic()
    async with AsyncClient(
        silent_server, timeout=0.2, retry=RetryPolicy(max_attempts=2, base_delay=0.0)
    ) as r:
        with pytest.raises(RegistryUnavailable, match="in time"):
            await r.info()
    assert time.monotonic() - started < 3.0


def test_a_closed_port_is_unavailable_after_retries():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = FakeTime()
    registry = Client(f"http://127.0.0.1:{port}", sleep=clock.sleep, clock=clock)
    with registry, pytest.raises(RegistryUnavailable, match=r"cannot reach \S+ \(4 attempts\): "):
        registry.info()


# ------------------------------------------------------------------ the policy itself


def test_jitter_spans_zero_to_the_exponential_ceiling():
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0)
    assert [policy.backoff(n, lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.backoff(3, lambda: 0.0) == 0.0


def test_retry_after_parsing():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("5", now) == 5.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


@pytest.mark.parametrize(
    "options", [{"max_attempts": 0}, {"max_elapsed": -1.0}, {"base_delay": -1.0}, {"max_delay": -1.0}]
)
def test_impossible_policies_are_refused(options: dict[str, Any]):
    with pytest.raises(ValueError):
        RetryPolicy(**options)
