"""One guard for every address the registry connects to on someone else's say-so.

DID documents, verification files and webhooks name hosts chosen by the public. A host that resolves
to a loopback, private, link-local, shared (CGNAT) or otherwise special address would let anyone make
the registry reach its own network (SSRF), so every resolved address goes through `refusal` before a
connection is made. The ranges follow the IANA IPv4 and IPv6 Special-Purpose Address Registries;
Python's `is_global` is consulted as well, but it is not relied on alone (in 3.11 it calls ``::2``,
``fec0::1``, ``3fff::1`` and ``192.88.99.1`` global). IPv6 forms that carry an IPv4 address
(IPv4-mapped, NAT64, 6to4) are judged by the address they carry, and IPv6 outside the global unicast
block ``2000::/3`` is refused.

>>> refusal("93.184.216.34") is None
True
>>> refusal("2002:a00:1::1")
'2002:a00:1::1 is a 6to4 address of 10.0.0.1, a private address (10.0.0.0/8, RFC 1918)'
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from typing import Final

__all__ = ["Resolver", "is_globally_routable", "name_refusal", "refusal", "system_resolver"]

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``resolve(host, port)`` -> the host's addresses as text; the same shape as `registry.notices.webhooks`."""

_Net4 = ipaddress.IPv4Network
_Net6 = ipaddress.IPv6Network

# Checked in order, so the most specific reason comes first.
_IPV4: Final[tuple[tuple[_Net4, str], ...]] = tuple(
    (ipaddress.IPv4Network(net), reason)
    for net, reason in (
        ("0.0.0.0/8", "a 'this network' address"),
        ("10.0.0.0/8", "a private address (10.0.0.0/8, RFC 1918)"),
        ("100.64.0.0/10", "a shared address (100.64.0.0/10, carrier-grade NAT, RFC 6598)"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address (172.16.0.0/12, RFC 1918)"),
        ("192.0.0.0/24", "an IETF protocol assignment (192.0.0.0/24)"),
        ("192.0.2.0/24", "a documentation address (TEST-NET-1)"),
        ("192.88.99.0/24", "a 6to4 relay anycast address (deprecated)"),
        ("192.168.0.0/16", "a private address (192.168.0.0/16, RFC 1918)"),
        ("198.18.0.0/15", "a benchmarking address (198.18.0.0/15)"),
        ("198.51.100.0/24", "a documentation address (TEST-NET-2)"),
        ("203.0.113.0/24", "a documentation address (TEST-NET-3)"),
        ("224.0.0.0/4", "a multicast address"),
        ("255.255.255.255/32", "the limited broadcast address"),
        ("240.0.0.0/4", "a reserved address (240.0.0.0/4)"),
    )
)

_MAPPED: Final = ipaddress.IPv6Network("::ffff:0:0/96")
_NAT64: Final = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_SIX_TO_FOUR: Final = ipaddress.IPv6Network("2002::/16")
_TEREDO: Final = ipaddress.IPv6Network("2001::/32")
_GLOBAL_UNICAST: Final = ipaddress.IPv6Network("2000::/3")
_IPV6: Final[tuple[tuple[_Net6, str], ...]] = tuple(
    (ipaddress.IPv6Network(net), reason)
    for net, reason in (
        ("::/128", "the unspecified address"),
        ("::1/128", "the loopback address"),
        ("2001:db8::/32", "a documentation address (2001:db8::/32)"),
        ("3fff::/20", "a documentation address (3fff::/20)"),
        ("2001::/23", "an IETF protocol assignment (2001::/23)"),
        ("fc00::/7", "a unique local address (fc00::/7)"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address (deprecated)"),
        ("ff00::/8", "a multicast address"),
    )
)


def refusal(address: str) -> str | None:
    """Why `address` must not be connected to, in one phrase; None when it is globally routable.

    A zone id (``fe80::1%eth0``) is ignored; text that is not an IP address is refused, never passed.
    """
    text = address.strip().split("%", 1)[0]
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return f"{address!r} is not an IP address"
    if isinstance(parsed, ipaddress.IPv4Address):
        reason = _ipv4_refusal(parsed)
        return None if reason is None else f"{parsed} is {reason}"
    return _ipv6_refusal(parsed)


def name_refusal(host: str, address: str) -> str | None:
    """Why a host *name* that resolved to `address` is refused, without saying what it resolved to.

    Echoing the address (or even its range) would let anyone map the registry's internal DNS by
    registering webhooks or DIDs under names they probe; the reason says only that it is not public.

    >>> name_refusal("intranet.example", "10.1.2.3")
    'intranet.example resolves to an address that is not globally routable'
    """
    if refusal(address) is None:
        return None
    return f"{host} resolves to an address that is not globally routable"


def is_globally_routable(address: str) -> bool:
    """Whether `refusal` lets `address` through."""
    return refusal(address) is None


def _ipv4_refusal(address: ipaddress.IPv4Address) -> str | None:
    for network, reason in _IPV4:
        if address in network:
            return reason
    if not address.is_global:
        return "not a globally routable address"
    return None


def _ipv6_refusal(address: ipaddress.IPv6Address) -> str | None:
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        form, ipv4 = embedded
        reason = _ipv4_refusal(ipv4)
        return None if reason is None else f"{address} is {form} of {ipv4}, {reason}"
    if address in _TEREDO:
        return f"{address} is a Teredo tunnel address (2001::/32)"
    for network, reason in _IPV6:
        if address in network:
            return f"{address} is {reason}"
    if address not in _GLOBAL_UNICAST:
        return f"{address} is outside the global unicast block 2000::/3"
    if not address.is_global:
        return f"{address} is not a globally routable address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv4-mapped, NAT64 (last 32 bits) or 6to4 (bits 16-48) address carries."""
    if address in _MAPPED:
        return "an IPv4-mapped address", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in network for network in _NAT64):
        return "a NAT64 address", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return "a 6to4 address", ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer for `host`, as sorted unique address strings."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})
