"""The address guard: its rules against the IANA IPv4 and IPv6 Special-Purpose Address Registries, every
IPv6 form that carries an IPv4 address, and the pinned connections that leave no room for DNS rebinding.

Sources: iana.org/assignments/iana-ipv4-special-registry and iana-ipv6-special-registry. Each entry
the registry marks "Globally Reachable: False" is refused; entries marked True are allowed, except
inside 192.0.0.0/24 and 2001::/23, which are refused whole (anycast service addresses nobody serves a
DID document, a webhook or a page from). The connection tests run real servers on 127.0.0.1 only; the
resolvers are stubs, since a DNS answer that changes between two lookups cannot be caused otherwise.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Iterable, Sequence
from typing import Any

import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from registry.address_guard import AddressGuard, Refused, Unresolved
from registry.addresses import is_globally_routable, refusal
from registry.notices.webhooks import forbidden_address
from tests.local_servers import counting_server
from tests.registry.authority import conftest as https_fixtures
from tests.registry.authority.conftest import HttpsServer, Route

# The test CA and HTTPS server of the authority tests (a certificate for alice.example and others,
# not for 127.0.0.1), as fixtures of this module too.
ca = https_fixtures.ca
_https_server = https_fixtures._https_server
https_server = https_fixtures.https_server

# (address inside the range, address just outside it that is public) for every range refused by name.
IPV4_RANGES = [
    ("0.0.0.0/8", "0.0.0.0", "1.0.0.1"),
    ("0.0.0.0/8", "0.255.255.255", "1.0.0.1"),
    ("10.0.0.0/8", "10.0.0.1", "11.0.0.1"),
    ("10.0.0.0/8", "10.255.255.255", "9.255.255.255"),
    ("100.64.0.0/10", "100.64.1.1", "100.63.255.255"),
    ("100.64.0.0/10", "100.127.255.255", "100.128.0.0"),
    ("127.0.0.0/8", "127.0.0.1", "128.0.0.1"),
    ("127.0.0.0/8", "127.255.255.254", "126.255.255.255"),
    ("169.254.0.0/16", "169.254.169.254", "169.255.0.1"),
    ("172.16.0.0/12", "172.16.5.4", "172.15.255.255"),
    ("172.16.0.0/12", "172.31.255.255", "172.32.0.0"),
    ("192.0.0.0/24", "192.0.0.8", "192.0.1.1"),
    ("192.0.0.0/24", "192.0.0.9", "191.255.255.255"),  # IANA: PCP anycast, reachable; refused here
    ("192.0.0.0/24", "192.0.0.170", "192.0.1.0"),
    ("192.0.2.0/24", "192.0.2.1", "192.0.3.1"),
    ("192.88.99.0/24", "192.88.99.1", "192.88.98.255"),
    ("192.168.0.0/16", "192.168.1.1", "192.169.0.1"),
    ("192.168.0.0/16", "192.168.255.255", "192.167.255.255"),
    ("198.18.0.0/15", "198.18.0.1", "198.17.255.255"),
    ("198.18.0.0/15", "198.19.255.255", "198.20.0.1"),
    ("198.51.100.0/24", "198.51.100.7", "198.51.101.1"),
    ("203.0.113.0/24", "203.0.113.9", "203.0.114.1"),
    ("224.0.0.0/4", "224.0.0.1", "223.255.255.254"),
    ("224.0.0.0/4", "239.255.255.255", "223.255.255.255"),
    ("240.0.0.0/4", "240.0.0.1", "223.1.1.1"),
    ("255.255.255.255/32", "255.255.255.255", "223.1.1.2"),
]

GLOBAL = "2606:4700:4700::1111"
IPV6_RANGES = [
    ("::/128", "::", GLOBAL),
    ("::1/128", "::1", GLOBAL),
    ("::ffff:0:0/96 (private IPv4)", "::ffff:10.0.0.1", "::ffff:93.184.216.34"),
    ("::ffff:0:0/96 (loopback IPv4)", "::ffff:127.0.0.1", "::ffff:8.8.8.8"),
    ("64:ff9b::/96 (private IPv4)", "64:ff9b::10.0.0.1", "64:ff9b::93.184.216.34"),
    ("64:ff9b::/96 (CGNAT IPv4)", "64:ff9b::100.64.0.1", "64:ff9b::1.1.1.1"),
    ("64:ff9b:1::/48 (private IPv4)", "64:ff9b:1::a00:1", "64:ff9b:1::5db8:d822"),
    ("64:ff9b:1::/48 (loopback IPv4)", "64:ff9b:1:ffff::7f00:1", "64:ff9b:1:ffff::808:808"),
    ("2002::/16 (private IPv4)", "2002:0a00:0001::1", "2002:5db8:d822::1"),
    ("2002::/16 (link-local IPv4)", "2002:a9fe:a9fe:1::1", "2002:0808:0808::1"),
    ("2001::/32", "2001::1", "2001:200::1"),
    ("2001::/32", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:200::2"),  # RFC 4380's example
    ("::/96 (IPv4-compatible)", "::a00:1", GLOBAL),
    ("::ffff:0:0:0/96 (IPv4-translated)", "::ffff:0:808:808", GLOBAL),
    ("2001:db8::/32", "2001:db8::1", "2001:db9::1"),
    ("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db7:ffff::1"),
    ("fc00::/7", "fc00::1", GLOBAL),
    ("fc00::/7", "fd12:3456:789a::1", GLOBAL),
    ("fe80::/10", "fe80::1", GLOBAL),
    ("fe80::/10", "fe80::1%eth0", f"{GLOBAL}%eth0"),
    ("fe80::/10", "febf:ffff::1", GLOBAL),
    ("ff00::/8", "ff02::1", GLOBAL),
    ("ff00::/8", "ff0e::fb", GLOBAL),
]

# IANA "Globally Reachable: False" entries beyond the ones named above.
IANA_NOT_GLOBAL = [
    "192.0.0.1",  # 192.0.0.0/29 IPv4 Service Continuity Prefix
    "192.0.0.171",  # NAT64/DNS64 discovery
    "100::1",  # 100::/64 discard-only
    "100:0:0:1::1",  # 100:0:0:1::/64 dummy IPv6 prefix
    "2001:2::1",  # 2001:2::/48 benchmarking
    "2001:10::1",  # ORCHID (deprecated)
    "3fff::1",  # 3fff::/20 documentation
    "5f00::1",  # 5f00::/16 segment routing SIDs
    "fec0::1",  # site-local (deprecated)
    "::2",  # ::/8 reserved
    "::a00:1",  # IPv4-compatible (deprecated)
]

# IANA "Globally Reachable: True" entries, allowed.
IANA_GLOBAL = ["192.31.196.1", "192.52.193.1", "192.175.48.1", "2620:4f:8000::1", "64:ff9b::808:808"]
# IANA "True" inside 2001::/23, refused with the whole block.
IANA_GLOBAL_REFUSED = [
    "2001:1::1",
    "2001:1::2",
    "2001:1::3",
    "2001:3::1",
    "2001:4:112::1",
    "2001:20::1",
    "2001:30::1",
]


# IANA "Globally Reachable: False" entries beyond the ones named above.
IANA_NOT_GLOBAL = [
    "192.0.0.1",  # 192.0.0.0/29 IPv4 Service Continuity Prefix
    "192.0.0.171",  # NAT64/DNS64 discovery
    "100::1",  # 100::/64 discard-only
    "100:0:0:1::1",  # 100:0:0:1::/64 dummy IPv6 prefix
    "2001:2::1",  # 2001:2::/48 benchmarking
    "2001:10::1",  # ORCHID (deprecated)
    "3fff::1",  # 3fff::/20 documentation
    "5f00::1",  # 5f00::/16 segment routing SIDs
    "fec0::1",  # site-local (deprecated)
    "::2",  # ::/8 reserved
    "::a00:1",  # IPv4-compatible (deprecated)
]

# IANA "Globally Reachable: True" entries, allowed.
IANA_GLOBAL = ["192.31.196.1", "192.52.193.1", "192.175.48.1", "2620:4f:8000::1", "64:ff9b::808:808"]
# IANA "True" inside 192.0.0.0/24 and 2001::/23, refused with the whole block.
IANA_GLOBAL_REFUSED = [
    "192.0.0.9",
    "192.0.0.10",
    "2001:1::1",
    "2001:1::2",
    "2001:1::3",
    "2001:3::1",
    "2001:4:112::1",
    "2001:20::1",
    "2001:30::1",
]


@pytest.mark.parametrize(("network", "inside", "outside"), IPV4_RANGES + IPV6_RANGES)
def test_every_named_range_is_refused_and_its_neighbour_is_not(
    network: str, inside: str, outside: str
) -> None:
    reason = refusal(inside)
    assert reason is not None, network
    assert reason.startswith(str(ipaddress.ip_address(inside.split("%")[0])) + " is ")
    assert refusal(outside) is None, (network, outside, refusal(outside))
    assert not is_globally_routable(inside) and is_globally_routable(outside)


@pytest.mark.parametrize("address", IANA_NOT_GLOBAL + IANA_GLOBAL_REFUSED)
def test_other_special_purpose_addresses_are_refused(address: str) -> None:
    assert refusal(address) is not None


@pytest.mark.parametrize("address", [*IANA_GLOBAL, "93.184.216.34", "8.8.8.8", "2a00:1450:4001::200e"])
def test_globally_reachable_addresses_are_allowed(address: str) -> None:
    assert refusal(address) is None


# ------------------------------------------------------------------ IPv4 carried in IPv6

PUBLIC, PRIVATE = ipaddress.IPv4Address("93.184.216.34"), ipaddress.IPv4Address("10.0.0.1")
U32 = 2**32 - 1
ISATAP_PREFIX = 0x2A00_1450_4001_081C  # a global unicast /64 (not special in any registry)
TEREDO_SERVER = ipaddress.IPv4Address("65.54.227.120")  # RFC 4380's example server


def mapped(v4: ipaddress.IPv4Address, noise: int = 0) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address((0xFFFF << 32) | int(v4))


def nat64(v4: ipaddress.IPv4Address, noise: int = 0) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address((0x64FF9B << 96) | int(v4))


def local_96(v4: ipaddress.IPv4Address, noise: int = 0) -> ipaddress.IPv6Address:
    """64:ff9b:1::/48 cut at /96: `noise` fills the subnet bits 48-95."""
    return ipaddress.IPv6Address((0x64FF9B0001 << 80) | ((noise & (2**48 - 1)) << 32) | int(v4))


def local_64(v4: ipaddress.IPv4Address, noise: int = 0) -> ipaddress.IPv6Address:
    """RFC 6052 at /64: the address in bits 72-103, after the zero u octet."""
    return ipaddress.IPv6Address((0x64FF9B0001 << 80) | ((noise & 0xFFFF) << 64) | (int(v4) << 24))


def local_56(v4: ipaddress.IPv4Address, noise: int = 0) -> ipaddress.IPv6Address:
    """RFC 6052 at /56: the first octet in bits 56-63, the u octet, then the other three."""
    n = int(v4)
    return ipaddress.IPv6Address(
        (0x64FF9B0001 << 80) | ((noise & 0xFF) << 72) | ((n >> 24) << 64) | ((n & 0xFFFFFF) << 32)
    )


def local_48(v4: ipaddress.IPv4Address, noise: int = 0) -> ipaddress.IPv6Address:
    """RFC 6052 at /48: two octets in bits 48-63, the u octet, then the other two."""
    n = int(v4)
    return ipaddress.IPv6Address((0x64FF9B0001 << 80) | ((n >> 16) << 64) | ((n & 0xFFFF) << 40))


def six_to_four(v4: ipaddress.IPv4Address, noise: int = 0) -> ipaddress.IPv6Address:
    """2002:V4ADDR::/48; `noise` fills the subnet and interface bits."""
    return ipaddress.IPv6Address((0x2002 << 112) | (int(v4) << 80) | (noise & (2**80 - 1)))


def isatap(v4: ipaddress.IPv4Address, noise: int = 0) -> ipaddress.IPv6Address:
    """A global /64 with an ISATAP interface identifier (RFC 5214: 0000:5efe or, u bit set, 0200:5efe)."""
    kind = 0x0200_5EFE if noise & 1 else 0x0000_5EFE
    return ipaddress.IPv6Address((ISATAP_PREFIX << 64) | (kind << 32) | int(v4))


def teredo_client(v4: ipaddress.IPv4Address, noise: int = 0) -> ipaddress.IPv6Address:
    """2001:0:SERVER:FLAGS:PORT:CLIENT, the client address and port stored inverted (RFC 4380 4)."""
    return ipaddress.IPv6Address(
        (0x20010000 << 96) | (int(TEREDO_SERVER) << 64) | ((noise & U32) << 32) | (~int(v4) & U32)
    )


def teredo_server(v4: ipaddress.IPv4Address, noise: int = 0) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address((0x20010000 << 96) | (int(v4) << 64) | (noise & (2**64 - 1)))


def compatible(v4: ipaddress.IPv4Address, noise: int = 0) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(int(v4))


def translated(v4: ipaddress.IPv4Address, noise: int = 0) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address((0xFFFF << 48) | int(v4))  # ::ffff:0:a.b.c.d


JUDGED = [mapped, nat64, local_96, six_to_four, isatap]
"""Forms judged by the IPv4 address they carry: a public one passes."""
REFUSED_WHOLE = [teredo_client, teredo_server, compatible, translated]
"""Forms refused whatever they carry (documented in `registry.addresses`)."""
EVERY_FORM = [*JUDGED, local_64, local_56, local_48, *REFUSED_WHOLE]

# (form, the form of a public IPv4 address: allowed?, what the reason for the private one says)
FORMS = [
    (mapped, True, "an IPv4-mapped address of 10.0.0.1"),
    (nat64, True, "a NAT64 address of 10.0.0.1"),
    (local_96, True, "a NAT64 address (local-use prefix, /96) of 10.0.0.1"),
    (local_64, True, "a NAT64 address (local-use prefix, /64) of 10.0.0.1"),
    # At /56 and /48 the suffix is zero, so the /96 reading is 0.0.0.0: refused, public or not.
    (local_56, False, "a NAT64 address (local-use prefix, /56) of 10.0.0.1"),
    (local_48, False, "a NAT64 address (local-use prefix, /48) of 10.0.0.1"),
    (six_to_four, True, "a 6to4 address of 10.0.0.1"),
    (isatap, True, "an ISATAP address of 10.0.0.1"),
    (teredo_client, False, "a Teredo address (server 65.54.227.120, client 10.0.0.1)"),
    (teredo_server, False, "a Teredo address (server 10.0.0.1, client 255.255.255.255)"),
    (compatible, False, "an IPv4-compatible address of 10.0.0.1"),
    (translated, False, "an IPv4-translated address of 10.0.0.1"),
]


@pytest.mark.parametrize(("form", "public_allowed", "says"), FORMS, ids=[f.__name__ for f, *_ in FORMS])
def test_each_ipv6_form_of_a_public_and_a_private_ipv4_address(
    form: Any, public_allowed: bool, says: str
) -> None:
    private, public = form(PRIVATE), form(PUBLIC)
    assert (refusal(str(private)) or "").startswith(f"{private} is {says}"), refusal(str(private))
    assert (refusal(str(public)) is None) is public_allowed, refusal(str(public))


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.1", "10.0.0.1 is a private address (10.0.0.0/8, RFC 1918)"),
        ("100.64.1.1", "100.64.1.1 is a shared address (100.64.0.0/10, carrier-grade NAT, RFC 6598)"),
        (
            "2002:a00:1::1",
            "2002:a00:1::1 is a 6to4 address of 10.0.0.1, a private address (10.0.0.0/8, RFC 1918)",
        ),
        ("64:ff9b::7f00:1", "64:ff9b::7f00:1 is a NAT64 address of 127.0.0.1, a loopback address"),
        (
            "2001::1",
            "2001::1 is a Teredo address (server 0.0.0.0, client 255.255.255.254); Teredo (2001::/32) is "
            "refused whole",
        ),
        (
            "2a00:1450:4001:81c:0:5efe:a9fe:a9fe",
            "2a00:1450:4001:81c:0:5efe:a9fe:a9fe is an ISATAP address of 169.254.169.254, "
            "a link-local address",
        ),
        ("5f00::1", "5f00::1 is outside the global unicast block 2000::/3"),
        ("255.255.255.255", "255.255.255.255 is the limited broadcast address"),
    ],
)
def test_reasons_say_what_the_address_is(address: str, reason: str) -> None:
    assert refusal(address) == reason


@pytest.mark.parametrize(
    "text", ["", "not-an-ip", "010.0.0.1", "1.2.3", "256.0.0.1", "::ffff:1.2.3.4.5", "[::1]"]
)
def test_text_that_is_not_an_address_is_refused(text: str) -> None:
    assert refusal(text) == f"{text!r} is not an IP address"


def test_the_webhook_guard_is_this_guard() -> None:
    for address in ["93.184.216.34", "100.64.0.1", "2002:a00:1::1", "64:ff9b::a00:1", "2001::1", "3fff::1"]:
        assert forbidden_address(address) == (refusal(address) is not None)


# ------------------------------------------------------------------ properties

PRIVATE_V4 = [ipaddress.IPv4Network(n) for n, _inside, _outside in IPV4_RANGES]


@st.composite
def private_ipv4(draw: st.DrawFn) -> ipaddress.IPv4Address:
    network = draw(st.sampled_from(PRIVATE_V4))
    return ipaddress.IPv4Address(
        draw(st.integers(int(network.network_address), int(network.broadcast_address)))
    )


# First octets whose whole /8 is public unicast.
PUBLIC_FIRST_OCTETS = [n for n in range(1, 224) if n not in (10, 100, 127, 169, 172, 192, 198, 203)]


@st.composite
def public_ipv4(draw: st.DrawFn) -> ipaddress.IPv4Address:
    first = draw(st.sampled_from(PUBLIC_FIRST_OCTETS))
    return ipaddress.IPv4Address((first << 24) | draw(st.integers(0, 2**24 - 1)))


any_ipv4 = st.one_of(private_ipv4(), st.integers(0, U32).map(ipaddress.IPv4Address))


def spellings(address: ipaddress.IPv6Address) -> list[str]:
    return [str(address), address.exploded.upper()]


@given(any_ipv4, st.integers(0, 2**80 - 1))
def test_every_form_of_a_refused_ipv4_address_is_refused(v4: ipaddress.IPv4Address, noise: int) -> None:
    if refusal(str(v4)) is None:
        return
    for form in EVERY_FORM:
        for text in spellings(form(v4, noise)):
            assert refusal(text) is not None, (form.__name__, text)
    assert refusal(f"::ffff:{v4}") is not None


@given(any_ipv4, st.integers(0, 2**80 - 1))
def test_forms_refused_whole_are_refused_whatever_they_carry(v4: ipaddress.IPv4Address, noise: int) -> None:
    for form in REFUSED_WHOLE:
        assert refusal(str(form(v4, noise))) is not None, form.__name__


@given(public_ipv4(), st.integers(0, 2**80 - 1))
def test_a_public_ipv4_address_passes_in_every_judged_form(v4: ipaddress.IPv4Address, noise: int) -> None:
    assume(int(v4) & 0xFFFFFF)  # a zero tail would also read as a shorter local-use NAT64 layout
    assume((noise >> 32) & 0xFFFFFFFF not in (0x00005EFE, 0x01005EFE, 0x02005EFE, 0x03005EFE))  # no ISATAP
    assert refusal(str(v4)) is None
    for form in JUDGED:
        for text in spellings(form(v4, noise)):
            assert refusal(text) is None, (form.__name__, text, refusal(text))
    assert refusal(f"::ffff:{v4}") is None


@given(st.integers(0, 2**128 - 1))
def test_no_ipv6_outside_global_unicast_passes(value: int) -> None:
    address = ipaddress.IPv6Address(value)
    carried = any(
        address in ipaddress.IPv6Network(n)
        for n in ("::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16")
    )
    if not carried and address not in ipaddress.IPv6Network("2000::/3"):
        assert refusal(str(address)) is not None
    if refusal(str(address)) is None:
        assert carried or address.is_global


@given(st.text(max_size=60))
def test_any_text_gets_an_answer_and_never_an_exception(text: str) -> None:
    reason = refusal(text)
    assert reason is None or isinstance(reason, str)


# ------------------------------------------------------------------ the guard: one lookup, all vetted


class Lookups:
    """A resolver stub: answers from `answers` in turn (the last one repeats), recording each call."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = [list(answer) for answer in answers]
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if not self.answers:
            raise OSError("Name or service not known")
        return self.answers[min(len(self.calls), len(self.answers)) - 1]

    async def resolve(self, host: str, port: int) -> list[str]:
        return self(host, port)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.1/", "127.0.0.1 is a loopback address"),
        ("http://0x7f000001/", "127.0.0.1 is a loopback address"),
        ("http://017700000001/", "127.0.0.1 is a loopback address"),
        ("http://10.1/", "10.0.0.1 is a private address"),
        ("http://[::1]:8080/", "::1 is the loopback address"),
        ("http://[::ffff:7f00:1]/", "::ffff:7f00:1 is an IPv4-mapped address of 127.0.0.1"),
        ("http://[fe80::1%25eth0]/", "fe80::1 is a link-local address"),
        ("https://100.64.0.1/", "100.64.0.1 is a shared address"),
    ],
)
def test_literal_hosts_are_judged_as_the_address_they_spell_without_a_lookup(url: str, says: str) -> None:
    lookups = Lookups(["93.184.216.34"])
    with pytest.raises(Refused, match="^" + re.escape(says)):
        AddressGuard(lookup=lookups).check(url)
    assert lookups.calls == []


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "api.localhost"])
def test_loopback_names_are_refused_without_asking_dns(host: str) -> None:
    lookups = Lookups(["93.184.216.34"])
    with pytest.raises(Refused, match=re.escape("is a loopback name")):
        AddressGuard(lookup=lookups).check(f"http://{host}/")
    assert lookups.calls == []
    assert AddressGuard(allow_private=True, lookup=lookups).addresses(host, 80) == ["93.184.216.34"]


def test_a_name_with_one_private_answer_is_refused_and_the_answer_is_not_echoed() -> None:
    guard = AddressGuard(lookup=Lookups(["93.184.216.34", "10.1.2.3"]), hint="ask the operator")
    with pytest.raises(Refused) as refused:
        guard.addresses("mixed.example", 443)
    assert str(refused.value) == (
        "mixed.example resolves to an address that is not globally routable; ask the operator"
    )


def test_an_answer_that_is_not_an_address_is_refused_even_when_private_is_allowed() -> None:
    guard = AddressGuard(allow_private=True, lookup=Lookups(["intranet.example"]))
    with pytest.raises(Refused, match=re.escape("not an IP address")):
        guard.addresses("alias.example", 80)


def test_a_name_without_an_answer_passes_the_check_but_has_no_address() -> None:
    for lookups in (Lookups(), Lookups([])):
        guard = AddressGuard(lookup=lookups)
        guard.check("https://nowhere.invalid/")
        with pytest.raises(Unresolved):
            guard.addresses("nowhere.invalid", 443)


def test_the_refusal_error_is_the_callers_own() -> None:
    class Mine(Exception):
        pass

    with pytest.raises(Mine, match=re.escape("10.0.0.1 is a private address")):
        AddressGuard(error=Mine).check("http://10.0.0.1/")


async def test_the_async_guard_uses_the_async_resolver_or_the_lookup_in_a_thread() -> None:
    lookups = Lookups(["10.0.0.7"])
    with pytest.raises(Refused):
        await AddressGuard(resolve=lookups.resolve).acheck("https://hooks.example/")
    with pytest.raises(Refused):
        await AddressGuard(lookup=lookups).acheck("https://hooks.example/")
    assert lookups.calls == ["hooks.example", "hooks.example"]
    assert await AddressGuard(allow_private=True, lookup=lookups).aaddresses("hooks.example", 1) == [
        "10.0.0.7"
    ]


# ------------------------------------------------------------------ pinned connections, on 127.0.0.1


def _get(guard: AddressGuard, url: str, mode: str, **transport: Any) -> httpx.Response:
    """GET `url` through the guard's sync or async transport."""
    if mode == "sync":
        with httpx.Client(transport=guard.transport(**transport), timeout=5) as http:
            return http.get(url)

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=guard.async_transport(**transport), timeout=5) as http:
            return await http.get(url)

    return asyncio.run(run())


MODES = ["sync", "async"]


@pytest.mark.parametrize("mode", MODES)
def test_a_name_that_rebinds_after_the_check_is_never_connected_to(mode: str) -> None:
    """Public when checked, 127.0.0.1 when connecting: the connection is refused, and nothing on
    127.0.0.1 is ever reached (the server counts accepted connections, not requests)."""
    with counting_server() as server:
        server.route("/secret", b"internal")
        lookups = Lookups(["93.184.216.34"], ["127.0.0.1"])
        guard = AddressGuard(lookup=lookups)
        url = server.url("rebind.example", "/secret")
        guard.check(url)  # the first answer: public
        with pytest.raises(
            Refused, match=re.escape("rebind.example resolves to an address that is not globally")
        ):
            _get(guard, url, mode)
        assert server.connections == 0 and server.requests == []
        assert lookups.calls == ["rebind.example", "rebind.example"]


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The system resolver, answering only numeric hosts: a connection that resolved the name again
    would fail. Returns the names it was asked for."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def numeric_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        text = host.decode() if isinstance(host, bytes) else str(host)
        try:
            ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            asked.append(text)
            raise socket.gaierror(socket.EAI_NONAME, "this test allows no DNS lookup") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", numeric_only)
    return asked


@pytest.mark.parametrize("mode", MODES)
def test_the_connection_goes_to_the_vetted_address_and_the_name_is_not_resolved_again(
    mode: str, no_dns: list[str]
) -> None:
    with counting_server() as server:
        server.route("/page", b"hello")
        lookups = Lookups(["127.0.0.1"])
        response = _get(
            AddressGuard(allow_private=True, lookup=lookups), server.url("pinned.example", "/page"), mode
        )
        assert response.text == "hello"
        assert server.requests == [(f"pinned.example:{server.port}", "/page")]  # the name, not the address
        assert server.connections == 1 and lookups.calls == ["pinned.example"]
    assert no_dns == []


class Pretend(AddressGuard):
    """Takes 127.0.0.1 for a public address for the names in `public`, so that a first hop can be
    allowed without any traffic off this machine; every other name is vetted by the real rules."""

    def __init__(self, public: Iterable[str], **options: Any) -> None:
        super().__init__(**options)
        self.public = set(public)

    def vet(self, host: str, addresses: Iterable[str]) -> list[str]:
        found = list(addresses)
        return found if host in self.public else super().vet(host, found)


@pytest.mark.parametrize("mode", MODES)
def test_every_redirect_hop_is_vetted_on_its_own(mode: str) -> None:
    with counting_server() as server:
        server.route("/moved", status=302, Location=server.url("inside.example", "/secret"))
        server.route("/secret", b"internal")
        guard = Pretend({"public.example"}, lookup=Lookups(["127.0.0.1"]))
        url = server.url("public.example", "/moved")
        if mode == "sync":
            with (
                httpx.Client(transport=guard.transport(), follow_redirects=True) as http,
                pytest.raises(Refused, match=re.escape("inside.example resolves to an address")),
            ):
                http.get(url)
        else:

            async def run() -> None:
                async with httpx.AsyncClient(
                    transport=guard.async_transport(), follow_redirects=True
                ) as http:
                    with pytest.raises(Refused, match=re.escape("inside.example resolves to an address")):
                        await http.get(url)

            asyncio.run(run())
        assert [path for _host, path in server.requests] == ["/moved"]
        assert server.connections == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_name_that_does_not_resolve_when_connecting_is_a_connect_error(mode: str) -> None:
    with pytest.raises(httpx.ConnectError, match=re.escape("cannot resolve gone.example")):
        _get(AddressGuard(lookup=Lookups()), "http://gone.example/", mode)


@pytest.mark.parametrize("mode", MODES)
def test_https_at_the_pinned_address_is_verified_against_the_name(
    mode: str, https_server: HttpsServer, no_dns: list[str]
) -> None:
    """The server's certificate names alice.example, not 127.0.0.1: reaching it proves the check was
    made against the name, and the server saw the name as SNI."""
    https_server.route("alice.example", "/doc", Route(b"signed", headers={"Content-Type": "text/plain"}))
    guard = AddressGuard(allow_private=True, lookup=Lookups(["127.0.0.1"]))
    url = f"https://alice.example:{https_server.port}/doc"
    response = _get(guard, url, mode, verify=https_server.client_context())
    assert response.text == "signed"
    assert https_server.server_names == ["alice.example"]
    assert https_server.requests == [(f"alice.example:{https_server.port}", "/doc")]
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):  # not in the certificate
        _get(
            guard,
            f"https://other.example:{https_server.port}/doc",
            mode,
            verify=https_server.client_context(),
        )
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):  # a CA nobody trusts
        _get(guard, url, mode)
    assert no_dns == []


def test_the_async_resolver_counts_against_the_connect_timeout() -> None:
    async def slow(host: str, port: int) -> list[str]:
        await asyncio.sleep(5)
        return ["127.0.0.1"]

    async def run() -> None:
        guard = AddressGuard(allow_private=True, resolve=slow)
        async with httpx.AsyncClient(transport=guard.async_transport(), timeout=0.2) as http:
            await http.get("http://slow.example/")

    with pytest.raises(httpx.ConnectTimeout):
        asyncio.run(run())


def test_the_modules_examples_hold() -> None:
    import doctest

    from registry import address_guard, addresses

    for module in (addresses, address_guard):
        result = doctest.testmod(module, raise_on_error=False)
        assert result.attempted and not result.failed, module.__name__
