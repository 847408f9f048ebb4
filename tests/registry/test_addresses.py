"""The address guard against the IANA IPv4 and IPv6 Special-Purpose Address Registries.

Sources: iana.org/assignments/iana-ipv4-special-registry and iana-ipv6-special-registry. Each entry
the registry marks "Globally Reachable: False" is refused; entries marked True are allowed, except
inside 192.0.0.0/24 and 2001::/23, which are refused whole (anycast service addresses nobody serves a
DID document from).
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.addresses import is_globally_routable, refusal
from registry.notices.webhooks import forbidden_address

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
        ("2001::1", "2001::1 is a Teredo tunnel address (2001::/32)"),
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


def embeddings(v4: ipaddress.IPv4Address, noise: int) -> list[str]:
    """The IPv4-carrying IPv6 forms of `v4`; `noise` fills the bits the forms leave free."""
    n = int(v4)
    forms = [
        ipaddress.IPv6Address((0xFFFF << 32) | n),  # ::ffff:0:0/96
        ipaddress.IPv6Address((0x0064FF9B << 96) | n),  # 64:ff9b::/96
        ipaddress.IPv6Address((0x0064FF9B0001 << 80) | ((noise & (2**48 - 1)) << 32) | n),  # 64:ff9b:1::/48
        ipaddress.IPv6Address((0x2002 << 112) | (n << 80) | (noise & (2**80 - 1))),  # 2002::/16
    ]
    return [text for form in forms for text in (str(form), form.exploded.upper())] + [f"::ffff:{v4}"]


@given(private_ipv4(), st.integers(0, 2**80 - 1))
def test_private_ipv4_is_refused_in_every_ipv6_embedding(v4: ipaddress.IPv4Address, noise: int) -> None:
    assert refusal(str(v4)) is not None
    for text in embeddings(v4, noise):
        assert refusal(text) is not None, text


@given(public_ipv4(), st.integers(0, 2**80 - 1))
def test_public_ipv4_is_allowed_in_every_ipv6_embedding(v4: ipaddress.IPv4Address, noise: int) -> None:
    assert refusal(str(v4)) is None
    for text in embeddings(v4, noise):
        assert refusal(text) is None, text


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
