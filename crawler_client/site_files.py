"""Site files a crawler reads before it fetches (robots.txt, tdmrep.json, ai.txt, RSL licences):
fetched through the address guard, size-limited, and cached per their HTTP caching headers.

Split from `crawler_client.policy`, which decides with them: this module knows how to get the
files and keep them, not what they mean. Every fetch goes through `AddressGuard` (the registry's
own rules, with connection pinning), follows at most `MAX_REDIRECTS` redirects, and never raises:
a file that cannot be had is a `SiteFile` with no status and the reason in `error`.
"""

from __future__ import annotations

import email.utils
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from crawler_client import licensing
from crawler_client.errors import AddressRefused
from crawler_client.signals import Use, Verdict
from crawler_client.signals.robots import RobotsTxt
from registry import address_guard, addresses

__all__ = [
    "MAX_REDIRECTS",
    "AddressGuard",
    "Ask",
    "AsyncSiteFetcher",
    "Need",
    "SiteCache",
    "SiteFetcher",
    "SiteFile",
    "describe_error",
    "licence_needs",
    "robots_of",
]

DEFAULT_TTL: Final = 24 * 3600.0
"""RFC 9309 2.4: a robots.txt may be cached, but not used for more than 24 hours."""
FAILURE_TTL: Final = 300.0
"""How long a failed site-file fetch (5xx, timeout) is remembered before it is tried again."""
MAX_REDIRECTS: Final = 5
"""RFC 9309 2.3.1.2: follow at least five consecutive redirects. More are treated as unreachable."""


# ------------------------------------------------------------------ addresses


Resolver = Callable[[str], list[str]]
"""``resolver(host)`` -> the host's addresses as text (tests, custom DNS); the system's by default."""


class AddressGuard(address_guard.AddressGuard):
    """The crawler's address guard: `registry.address_guard.AddressGuard` (the registry's own rules and
    connection pinning), raising `AddressRefused`.

    `check(url)` refuses a URL early, so a decision can say why; `transport()` and
    `async_transport()` are httpx transports that resolve each host once per connection, vet every
    address and connect to a vetted one, so a DNS answer that changes after the check (rebinding)
    is never connected to. A name that does not resolve passes `check`; its connection then fails.
    """

    def __init__(self, *, allow_private: bool = False, resolver: Resolver | None = None) -> None:
        lookup = None if resolver is None else _host_only(resolver)
        super().__init__(
            allow_private=allow_private,
            lookup=lookup,
            error=AddressRefused,
            hint="pass allow_private to fetch it",
        )


def _host_only(resolver: Resolver) -> addresses.Lookup:
    return lambda host, _port: resolver(host)


# ------------------------------------------------------------------ site files and their cache


@dataclass
class SiteFile:
    """One fetched site file (robots.txt, tdmrep.json, ai.txt), after redirects.

    `status` None means no answer (`error` says why). `parsed` caches parser results per kind.
    """

    url: str
    status: int | None
    body: bytes = b""
    error: str = ""
    truncated: bool = False
    expires_at: float = 0.0
    parsed: dict[str, Any] = field(default_factory=dict)


def _lifetime(headers: httpx.Headers, status: int | None, now: float) -> float:
    """Seconds a site file may be reused: its Cache-Control or Expires, at most 24 hours."""
    if status is None or status >= 500 or status == 429:
        return FAILURE_TTL
    directives = {
        part.strip().split("=", 1)[0].lower(): part.strip().partition("=")[2].strip('"')
        for part in ",".join(headers.get_list("cache-control")).split(",")
        if part.strip()
    }
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    if "max-age" in directives:
        try:
            return max(0.0, min(float(int(directives["max-age"])), DEFAULT_TTL))
        except ValueError:
            return 0.0  # RFC 9111 4.2.1: an invalid max-age means stale
    if "expires" in headers:
        try:
            expires = email.utils.parsedate_to_datetime(headers["expires"]).timestamp()
        except (TypeError, ValueError, IndexError):
            return 0.0
        return max(0.0, min(expires - now, DEFAULT_TTL))
    return DEFAULT_TTL


class SiteCache:
    """Site files per URL, kept as long as their HTTP caching headers say (24 hours at most).

    Thread-safe; share one between a `Policy` and every fetcher that uses it.
    """

    def __init__(self, *, max_entries: int = 50_000) -> None:
        self._files: dict[str, SiteFile] = {}
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, url: str, now: float) -> SiteFile | None:
        with self._lock:
            entry = self._files.get(url)
            if entry is None or entry.expires_at <= now:
                return None
            return entry

    def put(self, entry: SiteFile) -> None:
        with self._lock:
            if len(self._files) >= self.max_entries:
                oldest = min(self._files, key=lambda key: self._files[key].expires_at)
                del self._files[oldest]
            self._files[entry.url] = entry

    def clear(self) -> None:
        with self._lock:
            self._files.clear()


@dataclass(frozen=True)
class Need:
    """The flow needs a site file: the driver fetches it (or takes it from the cache)."""

    url: str
    limit: int


@dataclass(frozen=True)
class Ask:
    """The flow needs the registry's answer for one URL."""

    url: str
    purpose: Use


def _timeout_extension(seconds: float) -> dict[str, float]:
    return {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}


def _redirect_target(response: httpx.Response, url: str) -> str | None:
    if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
        try:
            return str(httpx.URL(url).join(response.headers["location"]))
        except (httpx.InvalidURL, ValueError):
            return None
    return None


def _site_request(url: str, user_agent: str, timeout: float) -> httpx.Request:
    """One hop of a site file fetch."""
    return httpx.Request(
        "GET",
        url,
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        extensions={"timeout": _timeout_extension(timeout)},
    )


def _site_file(url: str, response: httpx.Response, body: bytearray, limit: int, now: float) -> SiteFile:
    """The site file answered at `url` (after redirects); `body` was read until past `limit`."""
    return SiteFile(
        url,
        response.status_code,
        bytes(body),
        truncated=len(body) > limit,
        expires_at=now + _lifetime(response.headers, response.status_code, now),
    )


def _unfetched(url: str, error: str, now: float) -> SiteFile:
    return SiteFile(url, None, error=error, expires_at=now + FAILURE_TTL)


class SiteFetcher:
    """Fetches site files over a transport: redirects by hand (counted, each hop guarded), body
    read up to a limit (so a huge or endless file costs at most `limit` bytes)."""

    def __init__(self, transport: httpx.BaseTransport | None, guard: AddressGuard, timeout: float) -> None:
        self.transport = transport
        self.guard = guard
        self.timeout = timeout

    def fetch(self, url: str, limit: int, user_agent: str, now: float) -> SiteFile:
        assert self.transport is not None
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                self.guard.check(current)
                request = _site_request(current, user_agent, self.timeout)
                response = self.transport.handle_request(request)
                response.request = request
                try:
                    target = _redirect_target(response, current)
                    if target is None:
                        body = bytearray()
                        for chunk in response.iter_bytes():
                            body += chunk
                            if len(body) > limit:
                                break
                        return _site_file(url, response, body, limit, now)
                finally:
                    response.close()
                current = target
            except Exception as exc:
                return _unfetched(url, describe_error(exc), now)
        return _unfetched(url, f"more than {MAX_REDIRECTS} redirects", now)


class AsyncSiteFetcher:
    """`SiteFetcher` over an async transport."""

    def __init__(
        self, transport: httpx.AsyncBaseTransport | None, guard: AddressGuard, timeout: float
    ) -> None:
        self.transport = transport
        self.guard = guard
        self.timeout = timeout

    async def fetch(self, url: str, limit: int, user_agent: str, now: float) -> SiteFile:
        assert self.transport is not None
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                await self.guard.acheck(current)
                request = _site_request(current, user_agent, self.timeout)
                response = await self.transport.handle_async_request(request)
                response.request = request
                try:
                    target = _redirect_target(response, current)
                    if target is None:
                        body = bytearray()
                        async for chunk in response.aiter_bytes():
                            body += chunk
                            if len(body) > limit:
                                break
                        return _site_file(url, response, body, limit, now)
                finally:
                    await response.aclose()
                current = target
            except Exception as exc:
                return _unfetched(url, describe_error(exc), now)
        return _unfetched(url, f"more than {MAX_REDIRECTS} redirects", now)


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, AddressRefused):
        return str(exc)
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def robots_of(robots_file: SiteFile) -> RobotsTxt:
    """The robots.txt a fetched site file holds (parsed once, kept with the cached file)."""
    robots = robots_file.parsed.get("robots")
    if robots is None:
        robots = RobotsTxt.from_fetch(robots_file.status, robots_file.body, error=robots_file.error)
        if robots_file.truncated:
            robots.truncated = True
        robots_file.parsed["robots"] = robots
    result: RobotsTxt = robots
    return result


def licence_needs(flow: licensing.LicenceFlow) -> Generator[Need, SiteFile, list[Verdict]]:
    """A licence flow (which yields `(url, limit)`) as a policy flow (which yields `Need`)."""
    try:
        wanted = next(flow)
        while True:
            wanted = flow.send((yield Need(*wanted)))
    except StopIteration as done:
        verdicts: list[Verdict] = done.value
        return verdicts
