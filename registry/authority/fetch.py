"""A guarded HTTPS GET for documents named by the public (DID documents, verification files).

Whoever files a claim chooses the host the registry then fetches from, so the fetch must not become a
way into the registry's own network (SSRF) nor a way to tie it up:

* **https only**, no credentials in the URL, no proxies from the environment;
* the host is resolved **once**, every address is vetted by `registry.address_guard`, and the
  connection goes to the checked address itself (``https://<ip>:<port>/path``) with the name in the
  ``Host`` header and in TLS (httpx's ``sni_hostname`` extension), so the certificate is still checked
  against the name and a DNS answer that changes between check and connect (rebinding) is never used;
* a **fresh connection per fetch** (no pool), so a connection verified for one name never carries a
  request for another that happens to share its address;
* one **time limit** over resolution, connection and body; the body is streamed and cut at
  ``max_bytes``; ``Accept-Encoding: identity`` so the limit counts the bytes on the wire;
* redirects are refused unless ``max_redirects`` allows them, and then each hop is guarded again;
* bodies are never logged.

``https_port`` replaces 443 for URLs that name no port: an explicit switch for tests (a server on an
ephemeral port) and private deployments, not something a published URL can choose.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import os
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

from registry.address_guard import AddressGuard, Refused, Unresolved, system_resolver
from registry.addresses import Resolver

__all__ = ["USER_AGENT", "FetchRefused", "Fetched", "HttpsFetcher", "utcnow"]

USER_AGENT = "kotowari-registry/0.1 (+authority check)"
_HOST_NAME = re.compile(
    r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)


def utcnow() -> datetime:
    """The current time in UTC, to the microsecond."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Fetched:
    """One successful answer: what was asked for, what came back and from which address."""

    url: str
    status: int
    body: bytes
    sha256: str
    content_type: str | None
    address: str
    fetched_at: datetime


class FetchRefused(ValueError):
    """A fetch that did not happen or did not succeed; the message is one sentence naming the URL."""


@dataclass(frozen=True)
class _Target:
    url: str
    host: str
    port: int
    origin_port: int | None  # the port the URL names, for the Host header
    target: str  # path and query
    literal: bool  # the host is an IP address


class HttpsFetcher:
    """GET over HTTPS with the address guard, a size limit and one time limit; see the module text.

    `verify` is an `ssl.SSLContext`, a CA bundle file or directory, True (certifi's roots) or False
    (no certificate check at all: tests only).
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        verify: ssl.SSLContext | str | bool = True,
        timeout: float = 5.0,
        max_bytes: int = 64 * 1024,
        resolve: Resolver = system_resolver,
        https_port: int = 443,
        clock: Callable[[], datetime] = utcnow,
        max_redirects: int = 0,
    ) -> None:
        if timeout <= 0 or max_bytes <= 0 or max_redirects < 0 or not 0 < https_port < 65536:
            raise ValueError("timeout and max_bytes must be positive, https_port a port, max_redirects >= 0")
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.resolve = resolve
        self.https_port = https_port
        self.clock = clock
        self.max_redirects = max_redirects
        self._ssl = _ssl_context(verify)
        self._closed = False

    async def __aenter__(self) -> HttpsFetcher:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Refuse further fetches; each fetch closes its own connection, so nothing else is held."""
        self._closed = True

    async def get(self, url: str, *, accept: str | None = None, max_bytes: int | None = None) -> Fetched:
        """The body at `url`, or `FetchRefused`; `max_bytes` may lower (never raise) the fetcher's limit."""
        if self._closed:
            raise FetchRefused(f"cannot fetch {url}: the fetcher is closed")
        limit = self.max_bytes if max_bytes is None else min(max_bytes, self.max_bytes)
        try:
            async with asyncio.timeout(self.timeout):
                current = url
                for _hop in range(self.max_redirects + 1):
                    answer = await self._get_once(current, accept, limit)
                    if isinstance(answer, Fetched):
                        return answer
                    current = answer
                raise FetchRefused(f"{url} redirects more than {self.max_redirects} times")
        except TimeoutError:
            raise FetchRefused(f"{url} gave no answer within {self.timeout:g} s") from None

    async def _get_once(self, url: str, accept: str | None, limit: int) -> Fetched | str:
        """One request: the answer, or the URL a permitted redirect points to."""
        target = self._parse(url)
        addresses = await self._addresses(target)
        host = f"[{target.host}]" if ":" in target.host else target.host
        if target.origin_port is not None:
            host = f"{host}:{target.origin_port}"
        headers = {"Host": host, "User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if accept is not None:
            headers["Accept"] = accept
        last: FetchRefused | None = None
        for address in addresses:
            try:
                return await self._request(target, address, headers, limit)
            except _Unreachable as exc:
                last = FetchRefused(f"cannot connect to {url} at {address}: {exc}")
        assert last is not None  # `_addresses` never returns an empty list
        raise last

    def _parse(self, url: str) -> _Target:
        try:
            split = urlsplit(url)
            port = split.port
        except ValueError:
            raise FetchRefused(f"{url!r} is not a valid URL") from None
        if split.scheme != "https":
            raise FetchRefused(f"{url} is not an https URL")
        if split.username is not None or split.password is not None:
            raise FetchRefused(f"{url} carries credentials, which are never sent")
        host = (split.hostname or "").rstrip(".")
        literal = _is_ip(host)
        if not literal and not _HOST_NAME.fullmatch(host):
            raise FetchRefused(f"{url} does not name a valid host")
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
        return _Target(url, host, port or self.https_port, port, target, literal)

    async def _addresses(self, target: _Target) -> list[str]:
        """The host's addresses from one lookup, each vetted by the registry's one address guard
        (`registry.address_guard.AddressGuard`: the same rules, loopback names and numeric host
        spellings as the crawler's and the webhooks')."""
        guard = AddressGuard(allow_private=self.allow_private, resolve=self.resolve)
        try:
            return await guard.aaddresses(target.host, target.port)
        except Unresolved as exc:
            why = str(exc).removeprefix(f"cannot resolve {target.host}: ")
            raise FetchRefused(f"cannot resolve the host of {target.url}: {why}") from None
        except Refused as exc:
            raise FetchRefused(f"{target.url} is not fetched: {exc}") from None

    async def _request(
        self, target: _Target, address: str, headers: dict[str, str], limit: int
    ) -> Fetched | str:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        netloc = f"[{ip}]" if ip.version == 6 else str(ip)
        extensions = {} if target.literal else {"sni_hostname": target.host}
        transport = httpx.AsyncHTTPTransport(
            verify=self._ssl, retries=0, limits=httpx.Limits(max_connections=1)
        )
        async with httpx.AsyncClient(
            transport=transport, trust_env=False, follow_redirects=False, timeout=self.timeout
        ) as client:
            request = client.build_request(
                "GET",
                f"https://{netloc}:{target.port}{target.target}",
                headers=headers,
                extensions=extensions,
            )
            try:
                response = await client.send(request, stream=True)
            except httpx.ConnectError as exc:
                tls = _tls_failure(exc)
                if tls is not None:
                    raise FetchRefused(f"TLS with {target.url} failed: {tls}") from None
                raise _Unreachable(_reason(exc)) from None
            except httpx.TimeoutException:
                raise TimeoutError from None
            except httpx.HTTPError as exc:
                raise FetchRefused(f"fetching {target.url} failed: {_reason(exc)}") from None
            try:
                return await self._read(target, address, response, limit)
            finally:
                await response.aclose()

    async def _read(
        self, target: _Target, address: str, response: httpx.Response, limit: int
    ) -> Fetched | str:
        url, status = target.url, response.status_code
        if 300 <= status < 400:
            location = response.headers.get("location")
            if self.max_redirects == 0 or location is None:
                where = f" to {location}" if location else ""
                raise FetchRefused(f"{url} answered HTTP {status}, a redirect{where}, which is not followed")
            return str(urljoin(url, location))
        if not 200 <= status < 300:
            raise FetchRefused(f"{url} answered HTTP {status}, not a 2xx success")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding != "identity":
            raise FetchRefused(f"{url} answered with Content-Encoding {encoding}, not identity")
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise FetchRefused(f"{url} is larger than {limit} bytes")
        body = bytearray()
        try:
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) > limit:
                    raise FetchRefused(f"{url} is larger than {limit} bytes")
        except httpx.TimeoutException:
            raise TimeoutError from None
        except httpx.HTTPError as exc:
            raise FetchRefused(f"reading {url} failed: {_reason(exc)}") from None
        data = bytes(body)
        return Fetched(
            url=url,
            status=status,
            body=data,
            sha256=hashlib.sha256(data).hexdigest(),
            content_type=response.headers.get("content-type"),
            address=address,
            fetched_at=self.clock(),
        )


class _Unreachable(Exception):
    """A connection that failed before TLS: the next address may still answer."""


def _ssl_context(verify: ssl.SSLContext | str | bool) -> ssl.SSLContext:
    """One context for every fetch, built once (loading a CA bundle is slow)."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is True:
        return httpx.create_ssl_context()
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _tls_failure(exc: BaseException) -> str | None:
    """The TLS error behind an httpx connection error, if there is one."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen.verify_message or str(seen)
        if isinstance(seen, ssl.SSLError):
            return seen.reason or str(seen)
        seen = seen.__cause__ or seen.__context__
    return None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__
