"""One guard for every address the registry or a crawler connects to on someone else's say-so.

DID documents, verification files, webhooks and crawled links name hosts chosen by the public. A host
that resolves to a loopback, private, link-local, shared (CGNAT) or otherwise special address would let
anyone make the registry, or a crawler, reach its own network (SSRF). So:

* **Rules** (`refusal`): an address is refused unless it is globally routable per the IANA IPv4 and
  IPv6 Special-Purpose Address Registries. Python's `is_global` is consulted as well, but not relied on
  alone (in 3.11 it calls ``::2``, ``fec0::1``, ``3fff::1`` and ``192.88.99.1`` global). IPv6 outside
  the global unicast block ``2000::/3`` is refused, and IPv6 that carries an IPv4 address is judged by
  every IPv4 address it carries: IPv4-mapped (``::ffff:0:0/96``), NAT64 (``64:ff9b::/96``, and the
  local-use ``64:ff9b:1::/48`` read at each RFC 6052 prefix length that fits it), 6to4 (``2002::/16``)
  and ISATAP interface identifiers (``…:0:5efe:a.b.c.d``, RFC 5214). Refused whole, whatever they
  carry: Teredo (``2001::/32``: a tunnel through a relay to a client address that is the bitwise NOT
  of the last 32 bits; IANA marks all of ``2001::/23`` not globally reachable), IPv4-compatible
  (``::/96``, deprecated by RFC 4291) and IPv4-translated (``::ffff:0:0:0/96``, RFC 2765) addresses.
  ``192.0.0.0/24`` and ``2001::/23`` are refused whole too, although IANA lists a few anycast service
  addresses inside them (``192.0.0.9``, ``192.0.0.10``, ``2001:1::1``-``3``, ``2001:3::/32``, ...) as
  reachable: nobody serves a DID document, a webhook or a page from them, and one less exception is
  one less thing to get wrong.
* **Pinning** (`registry.address_guard`): a name is resolved once per connection, every address
  vetted, and the socket opened to a vetted address, so DNS rebinding between check and connect
  reaches nothing.

>>> refusal("93.184.216.34") is None
True
>>> refusal("2002:a00:1::1")
'2002:a00:1::1 is a 6to4 address of 10.0.0.1, a private address (10.0.0.0/8, RFC 1918)'
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

__all__ = ["Lookup", "Resolver", "is_globally_routable", "name_refusal", "refusal"]

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``await resolve(host, port)`` -> the host's addresses as text (the webhooks' and did:web's shape)."""
Lookup = Callable[[str, int], Sequence[str]]
"""``lookup(host, port)`` -> the host's addresses as text, blocking (the crawler's shape)."""

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
_TRANSLATED: Final = ipaddress.IPv6Network("::ffff:0:0:0/96")
_COMPATIBLE: Final = ipaddress.IPv6Network("::/96")
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL: Final = ipaddress.IPv6Network("64:ff9b:1::/48")
_SIX_TO_FOUR: Final = ipaddress.IPv6Network("2002::/16")
_TEREDO: Final = ipaddress.IPv6Network("2001::/32")
_GLOBAL_UNICAST: Final = ipaddress.IPv6Network("2000::/3")
_ISATAP: Final = frozenset({0x00005EFE, 0x01005EFE, 0x02005EFE, 0x03005EFE})
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
_U32: Final = 0xFFFFFFFF


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
    for form, ipv4 in _embedded_ipv4(address):
        reason = _ipv4_refusal(ipv4)
        if reason is not None:
            return f"{address} is {form} of {ipv4}, {reason}"
    if address in _MAPPED or address in _NAT64 or address in _NAT64_LOCAL:
        return None  # judged by the IPv4 address they carry, all of which passed
    whole = _refused_whole(address)
    if whole is not None:
        return f"{address} is {whole}"
    for network, reason in _IPV6:
        if address in network:
            return f"{address} is {reason}"
    if address not in _GLOBAL_UNICAST:
        return f"{address} is outside the global unicast block 2000::/3"
    if not address.is_global:
        return f"{address} is not a globally routable address"
    return None


def _refused_whole(address: ipaddress.IPv6Address) -> str | None:
    """The tunnelling forms refused whatever they carry, named with what they carry."""
    value = int(address)
    if address in _TEREDO:
        server = ipaddress.IPv4Address((value >> 64) & _U32)
        client = ipaddress.IPv4Address(~value & _U32)
        return f"a Teredo address (server {server}, client {client}); Teredo (2001::/32) is refused whole"
    if address in _COMPATIBLE and value > 1:
        carried = ipaddress.IPv4Address(value & _U32)
        return f"an IPv4-compatible address of {carried} (::/96, deprecated); refused whole"
    if address in _TRANSLATED:
        carried = ipaddress.IPv4Address(value & _U32)
        return f"an IPv4-translated address of {carried} (::ffff:0:0:0/96); refused whole"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """Every IPv4 address `address` may carry, with the form that carries it.

    The local-use NAT64 prefix may be cut at any RFC 6052 length from /48 to /96, and the length is
    the network's choice, so the address is read at each length whose layout it fits (the ``u`` octet,
    bits 64-71, zero; the suffix zero): whichever is meant, a private IPv4 address among them refuses.
    So an address laid out at /48 or /56 is refused even when it carries a public address: its last
    32 bits are zero, and read at /96 it is 0.0.0.0. IANA marks the prefix not globally reachable,
    and the common deployment (a /96 inside it) is unaffected.
    """
    value = int(address)
    if address in _MAPPED:
        return [("an IPv4-mapped address", ipaddress.IPv4Address(value & _U32))]
    if address in _NAT64:
        return [("a NAT64 address", ipaddress.IPv4Address(value & _U32))]
    if address in _NAT64_LOCAL:
        readings = _rfc6052_readings(value) if (value >> 56) & 0xFF == 0 else []
        readings.append((96, ipaddress.IPv4Address(value & _U32)))
        return [(f"a NAT64 address (local-use prefix, /{length})", ipv4) for length, ipv4 in readings]
    found = []
    if address in _SIX_TO_FOUR:
        found.append(("a 6to4 address", ipaddress.IPv4Address((value >> 80) & _U32)))
    if address in _GLOBAL_UNICAST and (value >> 32) & _U32 in _ISATAP:
        found.append(("an ISATAP address", ipaddress.IPv4Address(value & _U32)))
    return found


def _rfc6052_readings(value: int) -> list[tuple[int, ipaddress.IPv4Address]]:
    """The IPv4 address read at prefix lengths 48, 56 and 64 (RFC 6052 2.2), where the suffix is zero.

    At /48 and /56 the address is split around the ``u`` octet (bits 64-71); at /64 it follows it.
    """
    readings = []
    # (prefix length, bits of the IPv4 address before the u octet, bits of the suffix after it)
    for length, before, suffix in ((48, 16, 40), (56, 8, 32), (64, 0, 24)):
        if value & ((1 << suffix) - 1):
            continue
        after = 32 - before
        high = (value >> 64) & ((1 << before) - 1)
        low = (value >> suffix) & ((1 << after) - 1)
        readings.append((length, ipaddress.IPv4Address((high << after) | low)))
    return readings
