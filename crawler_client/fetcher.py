"""A guarded fetcher: httpx transports that enforce a `Policy` for one declared use and crawler.

Plug it into any httpx client; every request (each redirect hop included, since httpx sends those
through the transport too) goes through the same steps:

1. the host must resolve to public addresses only (`AddressRefused` otherwise, unless the policy
   was made with `allow_private=True`); the default inner transport is the policy's address guard's
   (`registry.addresses`), which resolves the host once per connection, vets every address and
   connects to a vetted one, so a DNS answer that changes after the check is never connected to;
2. the pre-fetch decision — robots.txt, tdmrep.json, ai.txt, the registry — is made *before* the
   request is sent; a refusal raises `UseReserved` and nothing is fetched;
3. the request waits for a per-host slot (at most `max_per_host` at once) and for the host's
   crawl delay (robots.txt `Crawl-delay` for this crawler, or `min_delay`, whichever is longer);
4. the response body is read and the post-fetch signals (headers, meta, embedded metadata) are
   applied; a refusal raises `UseReserved` and the content never reaches the caller.

Every decision is written to the audit log as one JSON line (`audit=`: a path, a text file or a
callable taking the record). Site files are cached per URL in the policy's `SiteCache`, honouring
their HTTP caching headers (24 hours by default and at most).

>>> policy = Policy(registry=None)  # doctest: +SKIP
>>> transport = GuardedTransport(policy, purpose="train-ai", user_agent="ExampleBot/1.0")  # doctest: +SKIP
>>> with httpx.Client(transport=transport, follow_redirects=True) as http:  # doctest: +SKIP
...     http.get("https://example.com/picture.jpg")  # raises UseReserved if anything reserves train-ai

A `transport=` you pass yourself is used as given: the address check still runs before each request,
but pinning the connection to the vetted address is then up to that transport.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx

from crawler_client.errors import AddressRefused, UseReserved
from crawler_client.policy import Decision, Policy, PreFlow
from crawler_client.signals import Verdict, unknown
from crawler_client.signals.robots import product_token
from crawler_client.site_files import AsyncSiteFetcher, SiteFetcher
from registry.vocabulary import as_use

__all__ = ["AsyncGuardedTransport", "AuditLog", "GuardedTransport"]

INSPECT_BYTES = 64 * 1024 * 1024
"""How much of a decoded body post-fetch signals read (see `_rebuilt`)."""

MAX_CRAWL_DELAY = 60.0
"""A robots.txt `Crawl-delay` above this is capped: one site must not stall a crawler for hours."""


AuditTarget = str | Path | IO[str] | Callable[[dict[str, Any]], None] | None
"""Where decisions are logged: a file path (appended to), an open text file, a callable, or nowhere."""


class AuditLog:
    """JSON lines, one per decision: time, URL, use, crawler, verdict and every signal.

    `target` is a file path (appended to), an open text file, or a callable taking each record.
    Writes are serialised, so threads and tasks may share one log.
    """

    def __init__(self, target: AuditTarget) -> None:
        self._lock = threading.Lock()
        self._callable: Callable[[dict[str, Any]], None] | None = None
        self._file: IO[str] | None = None
        self._owned = False
        if target is None:
            return
        if callable(target) and not hasattr(target, "write"):
            self._callable = target
        elif isinstance(target, (str, Path)):
            self._file = open(target, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
            self._owned = True
        else:
            self._file = target  # type: ignore[assignment]

    def write(self, event: str, record: dict[str, Any], now: float) -> None:
        entry = {"time": datetime.fromtimestamp(now, UTC).isoformat(), "event": event, **record}
        if self._callable is not None:
            self._callable(entry)
        if self._file is not None:
            line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
            with self._lock:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        if self._owned and self._file is not None:
            self._file.close()


class _Hosts:
    """Per-host bookkeeping shared by the two transports: slots in use and next allowed start."""

    def __init__(self, max_per_host: int, min_delay: float) -> None:
        if max_per_host < 1:
            raise ValueError("max_per_host must be at least 1")
        self.max_per_host = max_per_host
        self.min_delay = min_delay
        self.next_start: dict[str, float] = {}
        self.lock = threading.Lock()

    def delay(self, decision: Decision) -> float:
        """Seconds between starts on this host: robots.txt's Crawl-delay or Request-rate, whichever
        asks for more (`SiteRules.interval`), capped, and never less than `min_delay`."""
        asked = decision.site.interval if decision.site is not None else None
        if asked is None:
            asked = decision.crawl_delay
        return max(self.min_delay, min(asked or 0.0, MAX_CRAWL_DELAY))

    def reserve(self, host: str, delay: float, now: float) -> float:
        """Claim the next start time for `host`; returns how long to wait before starting."""
        with self.lock:
            start = max(now, self.next_start.get(host, 0.0))
            self.next_start[host] = start + delay
            return start - now


class _Guard:
    """What both transports share: the policy, the declared use and crawler, the log, the hosts."""

    def __init__(
        self,
        policy: Policy,
        *,
        purpose: str,
        user_agent: str,
        audit: AuditTarget,
        max_per_host: int,
        min_delay: float,
        monotonic: Callable[[], float],
    ) -> None:
        self.policy = policy
        self.purpose = as_use(purpose)
        if not product_token(user_agent):
            raise ValueError(f"user agent {user_agent!r} has no product token")
        self.user_agent = user_agent
        self.audit = AuditLog(audit)
        self.hosts = _Hosts(max_per_host, min_delay)
        self.monotonic = monotonic
        self.last: Decision | None = None

    def refuse_address(self, request: httpx.Request) -> None:
        """`AddressRefused` (carrying its decision) when the request's host is refused."""
        try:
            self.policy.guard.check(str(request.url))
        except AddressRefused as exc:
            raise self.refused(request, exc) from None

    async def arefuse_address(self, request: httpx.Request) -> None:
        try:
            await self.policy.guard.acheck(str(request.url))
        except AddressRefused as exc:
            raise self.refused(request, exc) from None

    def refused(self, request: httpx.Request, exc: AddressRefused) -> AddressRefused:
        """`exc`, logged and carrying a decision whose one signal is the address guard's, so every
        `FetchRefused` explains itself the same way (`exc.decision.explain()`)."""
        url = str(request.url)
        self.audit.write(
            "refused",
            {"url": url, "purpose": self.purpose, "user_agent": self.user_agent, "reason": str(exc)},
            self.policy.clock(),
        )
        if exc.decision is None:
            verdict = Verdict("address", request.url.host, "pre-fetch", unknown(), str(exc), fetch=False)
            exc.decision = Decision(
                url, self.purpose, self.user_agent, "pre-fetch", [verdict], self.policy.unknown_allows
            )
        self.last = exc.decision
        return exc

    def judge(self, decision: Decision, event: str) -> None:
        self.last = decision
        self.audit.write(event, decision.to_json(), self.policy.clock())
        if not decision.allowed:
            raise UseReserved(decision.explain(), decision)

    def pre_fetch_flow(self, request: httpx.Request) -> PreFlow:
        """The pre-fetch decision for `request`, as a flow for `Policy.run`/`arun` to drive."""
        return self.policy.pre_fetch_flow(str(request.url), self.purpose, self.user_agent)

    def admit(self, decision: Decision, request: httpx.Request) -> float:
        """Log the pre-fetch decision (`UseReserved` if it refuses), name the crawler on `request`
        and return the host's crawl delay."""
        self.judge(decision, "pre-fetch")
        request.headers["User-Agent"] = self.user_agent
        return self.hosts.delay(decision)

    def hand_over(
        self, decision: Decision, response: httpx.Response, raw: bytes, request: httpx.Request
    ) -> httpx.Response:
        """The response rebuilt from its `raw` body, once the post-fetch signals allow it."""
        handed, inspected = _rebuilt(response, raw, request)
        self.judge(self.policy.post_fetch(decision, inspected), "post-fetch")
        return handed

    async def ahand_over(
        self, decision: Decision, response: httpx.Response, raw: bytes, request: httpx.Request
    ) -> httpx.Response:
        """`hand_over` for the async transport: licences the response names are fetched without
        blocking the event loop (`Policy.apost_fetch`)."""
        handed, inspected = _rebuilt(response, raw, request)
        self.judge(await self.policy.apost_fetch(decision, inspected), "post-fetch")
        return handed


def _rebuilt(
    response: httpx.Response, raw: bytes, request: httpx.Request
) -> tuple[httpx.Response, httpx.Response]:
    """(what the caller gets: the raw bytes and original headers; what the policy reads).

    The policy reads the decoded body, but at most `INSPECT_BYTES` of it: every signal it looks
    for sits in the head of a document or in metadata before the image data, and a compressed
    body must not be able to inflate without bound here (a "zip bomb"). An undecodable body is
    inspected as it came.
    """
    handed = httpx.Response(
        response.status_code,
        headers=response.headers,
        content=raw,
        extensions=response.extensions,
        request=request,
    )
    decoded = bytearray()
    try:
        for chunk in httpx.Response(
            response.status_code, headers=response.headers, content=raw, request=request
        ).iter_bytes():
            decoded += chunk
            if len(decoded) >= INSPECT_BYTES:
                break
    except httpx.DecodingError:
        decoded = bytearray(raw[:INSPECT_BYTES])
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
    inspected = httpx.Response(response.status_code, headers=headers, content=bytes(decoded), request=request)
    inspected.read()
    return handed, inspected


class _Guarded:
    """What the two transports share beyond `_Guard`: reading the last decision."""

    guard: _Guard

    @property
    def last_decision(self) -> Decision | None:
        """The most recent decision made (meaningful when one request runs at a time)."""
        return self.guard.last


class GuardedTransport(_Guarded, httpx.BaseTransport):
    """A blocking transport enforcing `policy` for `purpose` as `user_agent`.

    Raises `AddressRefused` or `UseReserved` (both `FetchRefused`, carrying the decision) instead
    of sending, or instead of returning, a request the policy refuses.
    """

    def __init__(
        self,
        policy: Policy,
        *,
        purpose: str,
        user_agent: str,
        transport: httpx.BaseTransport | None = None,
        audit: AuditTarget = None,
        max_per_host: int = 2,
        min_delay: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = transport or policy.guard.transport()
        self.guard = _Guard(
            policy,
            purpose=purpose,
            user_agent=user_agent,
            audit=audit,
            max_per_host=max_per_host,
            min_delay=min_delay,
            monotonic=monotonic,
        )
        self.sleep = sleep
        self._site = SiteFetcher(self.inner, policy.guard, policy.timeout)
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._slots_lock = threading.Lock()

    @contextmanager
    def _slot(self, host: str, delay: float) -> Iterator[None]:
        with self._slots_lock:
            slot = self._slots.setdefault(host, threading.BoundedSemaphore(self.guard.hosts.max_per_host))
        with slot:
            wait = self.guard.hosts.reserve(host, delay, self.guard.monotonic())
            if wait > 0:
                self.sleep(wait)
            yield

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        guard = self.guard
        guard.refuse_address(request)
        decision = guard.policy.run(guard.pre_fetch_flow(request), self._site, guard.user_agent)
        with self._slot(request.url.host, guard.admit(decision, request)):
            try:
                response = self.inner.handle_request(request)
            except AddressRefused as exc:  # at connect time: the name now resolves elsewhere
                raise guard.refused(request, exc) from None
            try:
                raw = b"".join(response.iter_raw())
            finally:
                response.close()
        return guard.hand_over(decision, response, raw, request)

    def close(self) -> None:
        self.inner.close()
        self.guard.audit.close()


class AsyncGuardedTransport(_Guarded, httpx.AsyncBaseTransport):
    """The async twin of `GuardedTransport` (same arguments; `transport` is an async transport)."""

    def __init__(
        self,
        policy: Policy,
        *,
        purpose: str,
        user_agent: str,
        transport: httpx.AsyncBaseTransport | None = None,
        audit: AuditTarget = None,
        max_per_host: int = 2,
        min_delay: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.inner = transport or policy.guard.async_transport()
        self.guard = _Guard(
            policy,
            purpose=purpose,
            user_agent=user_agent,
            audit=audit,
            max_per_host=max_per_host,
            min_delay=min_delay,
            monotonic=monotonic,
        )
        self.sleep = sleep
        self._site = AsyncSiteFetcher(self.inner, policy.guard, policy.timeout)
        self._slots: dict[str, asyncio.Semaphore] = {}

    @asynccontextmanager
    async def _slot(self, host: str, delay: float) -> Any:
        slot = self._slots.setdefault(host, asyncio.Semaphore(self.guard.hosts.max_per_host))
        async with slot:
            wait = self.guard.hosts.reserve(host, delay, self.guard.monotonic())
            if wait > 0:
                await self.sleep(wait)
            yield

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        guard = self.guard
        await guard.arefuse_address(request)
        decision = await guard.policy.arun(guard.pre_fetch_flow(request), self._site, guard.user_agent)
        async with self._slot(request.url.host, guard.admit(decision, request)):
            try:
                response = await self.inner.handle_async_request(request)
            except AddressRefused as exc:
                raise guard.refused(request, exc) from None
            try:
                raw = b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()
        return await guard.ahand_over(decision, response, raw, request)

    async def aclose(self) -> None:
        await self.inner.aclose()
        self.guard.audit.close()
