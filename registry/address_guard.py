"""Resolving once, vetting every address, connecting to a vetted one: the guard's httpx transports.

The rules live in `registry.addresses`; this module applies them where it matters, at connect time,
so a DNS answer that changes between a check and the connection (rebinding) is never connected to.
TLS still checks the certificate against the host name and sends it as SNI (httpcore takes both from
the URL, not from the socket); httpx sends every redirect hop through the transport, so each hop is
vetted on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import anyio
import httpcore
import httpx

from registry.addresses import Lookup, Resolver, name_refusal, refusal

__all__ = ["AddressGuard", "Refused", "Unresolved", "system_lookup", "system_resolver"]


# ------------------------------------------------------------------ resolving once, vetting, connecting


class Refused(ValueError):
    """The guard will not connect; the message says why (a name's addresses are never echoed)."""


class Unresolved(OSError):
    """A host name without a usable answer: the lookup failed, or found nothing."""


def system_lookup(host: str, port: int) -> list[str]:
    """The operating system's answer for `host`, in its order of preference, duplicates dropped."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer for `host`, as sorted unique address strings."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


_NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?", re.IGNORECASE)


def _literal(host: str) -> str | None:
    """`host` as an IP address when it is one, in any spelling a resolver would take as one.

    ``127.1``, ``0x7f000001`` and ``017700000001`` are IPv4 addresses to ``inet_aton`` (and to the
    WHATWG URL standard), so they are judged, and connected to, as the address they spell.
    """
    text = unquote(host.strip().strip("[]"))
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(text):
        try:
            return socket.inet_ntoa(socket.inet_aton(text.rstrip(".")))
        except OSError:
            return None
    return None


def _local_name(host: str) -> bool:
    """``localhost`` and its subdomains are loopback by definition (RFC 6761 6.3), whatever DNS says."""
    name = host.strip().rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


_LIMITS: Final = httpx.Limits(max_connections=100, max_keepalive_connections=20)
"""httpx's own defaults."""


class AddressGuard:
    """Resolves a host once, vets every address, and connects only to vetted ones.

    `allow_private` lets private and loopback addresses through (tests, intranets); the connection is
    still pinned to what the lookup answered. `lookup` is the blocking resolver, `resolve` an async
    one (without it, async code runs `lookup` in a thread). `error` builds the exception a refusal
    raises (`Refused` by default; the crawler raises its own `AddressRefused`), and `hint` is added to
    its message.

    A name with one public and one private address is refused: it can be steered to either.

    >>> AddressGuard().vet("10.0.0.1", ["10.0.0.1"])
    Traceback (most recent call last):
    ...
    registry.address_guard.Refused: 10.0.0.1 is a private address (10.0.0.0/8, RFC 1918)
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        lookup: Lookup | None = None,
        resolve: Resolver | None = None,
        error: Callable[[str], Exception] = Refused,
        hint: str = "",
    ) -> None:
        self.allow_private = allow_private
        self.lookup: Lookup = lookup or system_lookup
        self.resolve = resolve
        self.error = error
        self.hint = hint

    # -------------------------------------------------------------- vetting

    def vet(self, host: str, addresses: Iterable[str]) -> list[str]:
        """`addresses` (what `host` resolved to) when every one may be connected to; raise otherwise.

        An answer that is not an IP address is refused even with `allow_private`: connecting to it
        would mean resolving again.
        """
        literal = _literal(host) is not None
        found = list(addresses)
        if not found:
            raise Unresolved(f"{host} resolves to no address")
        for address in found:
            if _literal(address) is None:
                raise self._refused(f"{host} resolves to {address!r}, which is not an IP address")
            if self.allow_private:
                continue
            reason = refusal(address) if literal else name_refusal(host, address)
            if reason is not None:
                raise self._refused(reason)
        return [str(_literal(address)) for address in found]

    def addresses(self, host: str, port: int) -> list[str]:
        """The vetted addresses for a connection to `host`:`port`, from one lookup.

        Raises the guard's `error` for a refused address, `Unresolved` for a name without one.
        """
        literal = self._before_lookup(host)
        if literal is not None:
            return self.vet(host, [literal])
        try:
            found = list(self.lookup(host, port))
        except (OSError, UnicodeError, ValueError) as exc:
            raise Unresolved(f"cannot resolve {host}: {exc}") from None
        return self.vet(host, found)

    async def aaddresses(self, host: str, port: int) -> list[str]:
        """`addresses` for async code: through `resolve` if given, else `lookup` in a worker thread."""
        literal = self._before_lookup(host)
        if literal is not None:
            return self.vet(host, [literal])
        try:
            if self.resolve is not None:
                found = list(await self.resolve(host, port))
            else:
                found = list(await anyio.to_thread.run_sync(self.lookup, host, port, abandon_on_cancel=True))
        except (OSError, UnicodeError, ValueError) as exc:
            raise Unresolved(f"cannot resolve {host}: {exc}") from None
        return self.vet(host, found)

    def check(self, url: str) -> None:
        """Refuse `url` early when its host is refused; a host that does not resolve passes (the
        connection, which resolves and vets again, then fails on its own). With `allow_private`
        there is nothing to refuse early, so nothing is looked up."""
        host, port = _host_port(url)
        if host and not self.allow_private:
            with contextlib.suppress(Unresolved):
                self.addresses(host, port)

    async def acheck(self, url: str) -> None:
        """`check` for async code."""
        host, port = _host_port(url)
        if host and not self.allow_private:
            with contextlib.suppress(Unresolved):
                await self.aaddresses(host, port)

    def _before_lookup(self, host: str) -> str | None:
        """The literal address `host` spells, if it does; refuses loopback names without asking DNS."""
        literal = _literal(host)
        if literal is None and not self.allow_private and _local_name(host):
            raise self._refused(f"{host} is a loopback name")
        return literal

    def _refused(self, reason: str) -> Exception:
        return self.error(f"{reason}; {self.hint}" if self.hint else reason)

    # -------------------------------------------------------------- transports

    def transport(self, **options: Any) -> httpx.HTTPTransport:
        """An `httpx.HTTPTransport` whose every connection goes through this guard (no proxies).

        Takes httpx's own transport options: verify, cert, trust_env, http1, http2, limits, retries,
        local_address."""
        context, limits, pool = _pool_options(**options)
        made = httpx.HTTPTransport(verify=context, limits=limits, **_transport_options(pool))
        made._pool = httpcore.ConnectionPool(**pool, network_backend=_PinnedBackend(self))
        return made

    def async_transport(self, **options: Any) -> httpx.AsyncHTTPTransport:
        """An `httpx.AsyncHTTPTransport` whose every connection goes through this guard (no proxies)."""
        context, limits, pool = _pool_options(**options)
        made = httpx.AsyncHTTPTransport(verify=context, limits=limits, **_transport_options(pool))
        made._pool = httpcore.AsyncConnectionPool(**pool, network_backend=_AsyncPinnedBackend(self))
        return made


def _pool_options(
    *,
    verify: ssl.SSLContext | str | bool = True,
    cert: Any = None,
    trust_env: bool = True,
    http1: bool = True,
    http2: bool = False,
    limits: httpx.Limits | None = None,
    retries: int = 0,
    local_address: str | None = None,
) -> tuple[ssl.SSLContext, httpx.Limits, dict[str, Any]]:
    """(TLS context, limits, httpcore pool options) for a pinned transport, as httpx builds its own."""
    context = httpx.create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)
    limits = limits or _LIMITS
    pool = {
        "ssl_context": context,
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
        "http1": http1,
        "http2": http2,
        "retries": retries,
        "local_address": local_address,
    }
    return context, limits, pool


def _transport_options(pool: dict[str, Any]) -> dict[str, Any]:
    return {name: pool[name] for name in ("http1", "http2", "retries")}


def _host_port(url: str) -> tuple[str, int]:
    try:
        split = urlsplit(url)
        port = split.port
    except ValueError:
        return "", 0
    return split.hostname or "", port or (443 if split.scheme == "https" else 80)


def _left(deadline: float | None) -> float | None:
    """Seconds until `deadline` (None: no limit); a connect timeout of 0 would mean non-blocking."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ConnectTimeout("no time left to connect")
    return left


class _PinnedBackend(httpcore.NetworkBackend):
    """httpcore's blocking backend, connecting to the guard's vetted addresses instead of the name."""

    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            addresses = self.guard.addresses(host, port)
        except Unresolved as exc:
            raise httpcore.ConnectError(str(exc)) from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return self.inner.connect_tcp(
                    address, port, _left(deadline), local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # `addresses` is never empty
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("the address guard connects over TCP only")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _AsyncPinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's async (anyio) backend, connecting to the guard's vetted addresses."""

    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            with anyio.fail_after(timeout):
                addresses = await self.guard.aaddresses(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout} s") from None
        except Unresolved as exc:
            raise httpcore.ConnectError(str(exc)) from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address, port, _left(deadline), local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("the address guard connects over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
