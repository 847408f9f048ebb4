"""Proofs of control of a host: did:web, the verification file over real HTTPS, and DNS TXT served by
a real DNS server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

import keys
from registry.authority.didweb import DidWebResolver
from registry.authority.evidence import (
    VERIFICATION_FILE,
    DnsLookupFailed,
    DnsTxtLookup,
    DomainChecker,
    Evidence,
    VerificationFailed,
    verification_host,
)
from registry.authority.fetch import HttpsFetcher
from tests.registry.authority.conftest import DnsServer, HttpsServer, Route, TickingClock

ALICE = keys.SigningKey.from_bytes(bytes([1]) * 32)  # fixed: test ids must match across xdist workers
OTHER = keys.SigningKey.from_bytes(bytes([2]) * 32)  # fixed: test ids must match across xdist workers
HOST = "publisher.example"
DID_WEB = f"did:web:{HOST}"


def did_document(did: str = DID_WEB) -> bytes:
    method = {
        "id": "#key-1",
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": ALICE.public.multibase,
    }
    return json.dumps({"id": did, "verificationMethod": [method], "assertionMethod": ["#key-1"]}).encode()


@pytest.fixture
def checker(fetcher: HttpsFetcher, dns_server: DnsServer, ticking: TickingClock) -> DomainChecker:
    dns = DnsTxtLookup(nameservers=[("127.0.0.1", dns_server.port)], timeout=1.0)
    return DomainChecker(fetcher, DidWebResolver(fetcher, clock=ticking), dns=dns, clock=ticking)


# ------------------------------------------------------------------ well-known


async def test_a_verification_file_listing_the_did_is_evidence(
    https_server: HttpsServer, checker: DomainChecker
) -> None:
    body = f"# Kotowari verification\n\n  {OTHER.did}\n{ALICE.did}  \n".encode()
    https_server.route(HOST, VERIFICATION_FILE, Route(body, headers={"Content-Type": "text/plain"}))
    evidence = await checker.check(ALICE.did, HOST, "well-known")
    assert evidence.method == "well-known" and evidence.host == HOST
    assert evidence.url == "https://publisher.example/.well-known/kotowari-did"
    assert evidence.sha256 == hashlib.sha256(body).hexdigest()
    assert https_server.requests == [(HOST, VERIFICATION_FILE)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            f"{OTHER.did}\ndid:key:z6MkOther\n".encode(),
            rf"lists 2 DIDs \({OTHER.did}, did:key:z6MkOther\), not {ALICE.did}",
        ),
        (b"", "lists no DID, not"),
        (b"# nothing yet\n\n", "lists no DID, not"),
        (f"# {ALICE.did}\n".encode(), "lists no DID"),  # a comment is not a listing
        (f"{ALICE.did}x\n".encode(), "lists 1 DID"),  # no prefix matches
        (f"did={ALICE.did}\n".encode(), "lists 1 DID"),
        (b"\xff\xfe", "is not UTF-8 text"),
        (f"{ALICE.did}\n".encode() + b"#" * 16 * 1024, "larger than 16384 bytes"),
    ],
)
async def test_a_verification_file_without_the_did_is_refused(
    https_server: HttpsServer, checker: DomainChecker, body: bytes, reason: str
) -> None:
    https_server.route(HOST, VERIFICATION_FILE, Route(body))
    with pytest.raises(VerificationFailed, match=reason):
        await checker.check(ALICE.did, HOST, "well-known")


async def test_a_missing_verification_file_is_refused(
    https_server: HttpsServer, checker: DomainChecker
) -> None:
    with pytest.raises(
        VerificationFailed, match=r"^https://publisher\.example/\.well-known/kotowari-did answered HTTP 404"
    ):
        await checker.check(ALICE.did, HOST, "well-known")


async def test_a_slow_verification_file_is_refused(https_server: HttpsServer, checker: DomainChecker) -> None:
    https_server.route(HOST, VERIFICATION_FILE, Route(ALICE.did.encode(), delay=1.5))
    with pytest.raises(VerificationFailed, match=r"no answer within 0\.5 s"):
        await checker.check(ALICE.did, HOST, "well-known")


async def test_a_verification_file_on_a_private_address_is_not_fetched(
    https_server: HttpsServer, ticking: TickingClock
) -> None:
    async def private(host: str, port: int) -> list[str]:
        return ["192.168.10.10"]

    fetcher = HttpsFetcher(
        verify=https_server.client_context(), resolve=private, https_port=https_server.port
    )
    checker = DomainChecker(fetcher, DidWebResolver(fetcher))
    with pytest.raises(VerificationFailed, match="not globally routable") as refused:
        await checker.check(ALICE.did, HOST, "well-known")
    assert "192.168.10.10" not in str(refused.value)
    assert https_server.requests == []


# ------------------------------------------------------------------ did-web


async def test_the_hosts_own_did_web_is_evidence(
    https_server: HttpsServer, checker: DomainChecker, ticking: TickingClock
) -> None:
    raw = did_document()
    https_server.route(HOST, "/.well-known/did.json", Route(raw))
    evidence = await checker.check(DID_WEB, HOST, "did-web")
    assert evidence == Evidence(
        "did-web",
        HOST,
        "https://publisher.example/.well-known/did.json",
        hashlib.sha256(raw).hexdigest(),
        ticking.now,
    )
    await checker.check(DID_WEB, "Publisher.Example.", "did-web")
    assert https_server.count("/.well-known/did.json") == 2  # every check fetches anew, cache or not


@pytest.mark.parametrize(
    ("did", "host", "reason"),
    [
        (ALICE.did, HOST, "needs a did:web DID"),
        ("did:web:alice.example", HOST, "is a did:web of alice.example, not of publisher.example"),
        ("did:web:www.publisher.example", HOST, "is a did:web of www.publisher.example, not of publisher"),
        (
            "did:web:publisher.example",
            "www.publisher.example",
            "is a did:web of publisher.example, not of www",
        ),
        ("did:web:publisher.example:people:bob", HOST, "names a port or path on publisher.example"),
        ("did:web:publisher.example%3A8443", HOST, "names a port or path"),
        ("did:web:publisher..example", HOST, "valid domain name"),
    ],
)
async def test_a_did_web_of_another_host_or_of_a_path_is_refused(
    https_server: HttpsServer, checker: DomainChecker, did: str, host: str, reason: str
) -> None:
    with pytest.raises(VerificationFailed, match=reason):
        await checker.check(did, host, "did-web")
    assert https_server.requests == []


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (None, "answered HTTP 404"),
        (Route(did_document("did:web:alice.example")), "has id 'did:web:alice.example'"),
        (Route(b'{"id": "did:web:publisher.example"}'), "lists no assertionMethod"),
    ],
)
async def test_a_did_web_that_does_not_resolve_is_refused(
    https_server: HttpsServer, checker: DomainChecker, route: Route | None, reason: str
) -> None:
    if route is not None:
        https_server.route(HOST, "/.well-known/did.json", route)
    with pytest.raises(VerificationFailed, match=reason):
        await checker.check(DID_WEB, HOST, "did-web")


# ------------------------------------------------------------------ dns-txt


async def test_a_txt_record_naming_the_did_is_evidence(
    dns_server: DnsServer, checker: DomainChecker, ticking: TickingClock
) -> None:
    did = ALICE.did
    dns_server.records["_kotowari.publisher.example"] = [
        [b"v=spf1 -all"],
        [b"did=" + did[:20].encode(), did[20:].encode()],  # one record, two strings: concatenated
    ]
    evidence = await checker.check(did, HOST, "dns-txt")
    assert evidence.method == "dns-txt" and evidence.host == HOST
    assert evidence.url == "dns:_kotowari.publisher.example?type=TXT"
    assert evidence.sha256 == hashlib.sha256(f"did={did}\nv=spf1 -all".encode()).hexdigest()
    assert evidence.checked_at == ticking.now


async def test_no_txt_record_is_refused(dns_server: DnsServer, checker: DomainChecker) -> None:
    with pytest.raises(
        VerificationFailed, match=r"^there is no TXT record at _kotowari\.publisher\.example$"
    ):
        await checker.check(ALICE.did, HOST, "dns-txt")  # NXDOMAIN
    dns_server.records["publisher.example"] = [[f"did={ALICE.did}".encode()]]  # at the host, not _kotowari
    with pytest.raises(VerificationFailed, match="no TXT record"):
        await checker.check(ALICE.did, HOST, "dns-txt")


async def test_a_txt_record_for_another_did_is_refused(dns_server: DnsServer, checker: DomainChecker) -> None:
    dns_server.records["_kotowari.publisher.example"] = [
        [f"did={OTHER.did}".encode()],
        [b"google-site-verification=x"],
    ]
    with pytest.raises(VerificationFailed, match=rf"list 1 DID \({OTHER.did}\), not {ALICE.did}$"):
        await checker.check(ALICE.did, HOST, "dns-txt")
    dns_server.records["_kotowari.publisher.example"] = [[f"did={ALICE.did}x".encode()], [ALICE.did.encode()]]
    with pytest.raises(VerificationFailed, match="list 1 DID"):
        await checker.check(ALICE.did, HOST, "dns-txt")


async def test_a_silent_dns_server_times_out(silent_udp_port: int, fetcher: HttpsFetcher) -> None:
    lookup = DnsTxtLookup(nameservers=[("127.0.0.1", silent_udp_port)], timeout=0.3)
    started = time.monotonic()
    with pytest.raises(
        DnsLookupFailed, match=r"no DNS answer for _kotowari\.publisher\.example within 0\.3 s"
    ):
        await lookup("_kotowari.publisher.example")
    assert time.monotonic() - started < 1.5
    checker = DomainChecker(fetcher, DidWebResolver(fetcher), dns=lookup)
    with pytest.raises(VerificationFailed, match="no DNS answer"):
        await checker.check(ALICE.did, HOST, "dns-txt")


async def test_the_lookup_returns_nothing_for_names_without_txt(dns_server: DnsServer) -> None:
    lookup = DnsTxtLookup(nameservers=[("127.0.0.1", dns_server.port)], timeout=1.0)
    assert await lookup("_kotowari.nowhere.example") == []
    dns_server.records["_kotowari.publisher.example"] = [[b"did=x"]]
    assert await lookup("_kotowari.publisher.example") == ["did=x"]


async def test_dns_txt_needs_a_resolver(fetcher: HttpsFetcher) -> None:
    checker = DomainChecker(fetcher, DidWebResolver(fetcher))
    with pytest.raises(VerificationFailed, match="no DNS resolver"):
        await checker.check(ALICE.did, HOST, "dns-txt")


def test_a_lookup_without_nameservers_reads_the_system_configuration_only_when_used() -> None:
    lookup = DnsTxtLookup()
    assert lookup.nameservers is None  # nothing read, nothing sent yet


# ------------------------------------------------------------------ inputs


@pytest.mark.parametrize(
    ("host", "canonical"),
    [
        ("Publisher.Example", "publisher.example"),
        ("publisher.example.", "publisher.example"),
        ("出版社.example", "xn--79q800f0ye.example"),
    ],
)
def test_hosts_are_canonicalised_as_url_claims_are(host: str, canonical: str) -> None:
    assert verification_host(host) == canonical


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("", "not a host name"),
        ("https://publisher.example", "not a host name"),
        ("publisher.example:443", "not a host name"),
        ("publisher.example/path", "not a host name"),
        ("user@publisher.example", "not a host name"),
        ("[::1]", "not a host name"),
        ("publisher example", "not a host name"),
        ("10.0.0.1", "is an IP address"),
        ("0x7f000001", "is an IP address"),
        ("3279880203", "is an IP address"),
        ("localhost", "not a domain name that can be verified"),
        ("exa_mple.com", "not a domain name that can be verified"),
        ("-bad.example", "not a domain name that can be verified"),
    ],
)
def test_hosts_that_are_not_domain_names_are_refused(host: str, reason: str) -> None:
    with pytest.raises(VerificationFailed, match=reason):
        verification_host(host)


async def test_the_checker_validates_its_inputs_before_fetching(
    https_server: HttpsServer, checker: DomainChecker
) -> None:
    with pytest.raises(VerificationFailed, match="unknown verification method 'meta-tag'"):
        await checker.check(ALICE.did, HOST, "meta-tag")  # type: ignore[arg-type]
    for did in ("", "alice", "did:key:", f"{ALICE.did}#key-1", f"{ALICE.did}/path", f" {ALICE.did}"):
        with pytest.raises(VerificationFailed, match="is not a DID"):
            await checker.check(did, HOST, "well-known")
    with pytest.raises(VerificationFailed, match="is an IP address"):
        await checker.check(ALICE.did, "127.0.0.1", "well-known")
    assert https_server.requests == []
