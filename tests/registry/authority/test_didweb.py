"""did:web: the spec's URL mapping, strict DID documents, and resolution over real HTTPS with a cache."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

import keys
from registry.authority.didweb import (
    MAX_DOCUMENT_BYTES,
    DidResolutionError,
    DidWebResolver,
    did_web_host,
    did_web_is_bare,
    did_web_url,
    parse_did_document,
)
from registry.authority.fetch import HttpsFetcher
from tests.registry.authority.conftest import HttpsServer, Resolutions, Route, TickingClock

DID = "did:web:publisher.example"
KEY = keys.SigningKey.from_bytes(bytes([1]) * 32)  # fixed: test ids must match across xdist workers
OTHER = keys.SigningKey.from_bytes(bytes([2]) * 32)  # fixed: test ids must match across xdist workers
TRUNCATED = KEY.public.multibase[:-2]  # no longer an ed25519-pub multicodec
P256_MULTIKEY = "zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"  # W3C Controlled Identifiers, Multikey

# did:web spec (w3c-ccg.github.io/did-method-web), "Example did:web DID Resolution Document using
# JWS2020", verbatim but for the trailing comma after the last verification method, which is not JSON.
SPEC_JWS2020 = b"""{
  "@context": "https://w3id.org/did-resolution/v1",
  "didDocument": {
    "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
    "id": "did:web:example.com",
    "verificationMethod": [
      {"id": "did:web:example.com#key-0", "type": "JsonWebKey2020", "controller": "did:web:example.com",
       "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "0-e2i2_Ua1S5HbTYnVB0lj2Z2ytXu2-tYmDFf8f5NjU"}},
      {"id": "did:web:example.com#key-1", "type": "JsonWebKey2020", "controller": "did:web:example.com",
       "publicKeyJwk": {"kty": "OKP", "crv": "X25519", "x": "9GXjPGGvmRq9F6Ng5dQQ_s31mfhxrcNZxRGONrmH30k"}},
      {"id": "did:web:example.com#key-2", "type": "JsonWebKey2020", "controller": "did:web:example.com",
       "publicKeyJwk": {"kty": "EC", "crv": "P-256", "x": "38M1FDts7Oea7urmseiugGW7tWc3mLpJh6rKe7xINZ8",
                        "y": "nDQW6XZ7b_u2Sy9slofYLlG03sOEoug3I0aAPQ0exs4"}}
    ],
    "authentication": ["did:web:example.com#key-0", "did:web:example.com#key-2"],
    "assertionMethod": ["did:web:example.com#key-0", "did:web:example.com#key-2"],
    "keyAgreement": ["did:web:example.com#key-1", "did:web:example.com#key-2"]
  }
}"""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def multikey(
    fragment: str = "#key-1", key: keys.SigningKey = KEY, did: str = DID, **extra: Any
) -> dict[str, Any]:
    return {
        "id": fragment,
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": key.public.multibase,
    } | extra


def jwk_method(
    fragment: str = "#jwk", key: keys.SigningKey = KEY, kind: str = "JsonWebKey2020", **jwk: Any
) -> dict[str, Any]:
    public = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(key.public.raw)} | jwk
    return {"id": fragment, "type": kind, "controller": DID, "publicKeyJwk": public}


def document(
    methods: list[Any] | None = None, assertion: list[Any] | None = None, did: str = DID, **extra: Any
) -> bytes:
    methods = [multikey()] if methods is None else methods
    body: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "verificationMethod": methods,
    }
    body["assertionMethod"] = [m["id"] for m in methods] if assertion is None else assertion
    return json.dumps(body | extra).encode()


# ------------------------------------------------------------------ the method-specific identifier


@pytest.mark.parametrize(
    ("did", "url"),
    [  # the did:web spec's own examples
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000", "https://example.com:3000/.well-known/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
        ("did:web:example.com:u:bob", "https://example.com/u/bob/did.json"),
        ("did:web:Example.COM", "https://example.com/.well-known/did.json"),
        ("did:web:example.com%3a8443", "https://example.com:8443/.well-known/did.json"),
        ("did:web:xn--r8jz45g.jp", "https://xn--r8jz45g.jp/.well-known/did.json"),
        ("did:web:example.com:a%20b", "https://example.com/a%20b/did.json"),
    ],
)
def test_did_web_urls_follow_the_spec(did: str, url: str) -> None:
    assert did_web_url(did) == url


def test_the_host_is_lower_case_without_its_port() -> None:
    assert did_web_host("did:web:Example.COM%3A3000:user:alice") == "example.com"
    assert did_web_is_bare("did:web:example.com")
    assert not did_web_is_bare("did:web:example.com%3A3000")
    assert not did_web_is_bare("did:web:example.com:user:alice")


@pytest.mark.parametrize(
    ("did", "reason"),
    [
        ("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "not a did:web"),
        ("DID:web:example.com", "not a did:web"),
        ("did:web:", "holds characters"),
        ("did:web:example.com#key-1", "holds characters"),
        ("did:web:example.com/path", "holds characters"),
        ("did:web:example.com?versionId=1", "holds characters"),
        ("did:web:[::1]", "holds characters"),
        ("did:web:例え.jp", "holds characters"),
        ("did:web:example.com:", "empty"),
        ("did:web:example.com::alice", "empty"),
        ("did:web:example.com:..", "dot segment"),
        ("did:web:example.com:user:.", "dot segment"),
        ("did:web:example.com:%2e%2E", "dot segment"),
        ("did:web:example.com:a%2Fb", "unsafe"),
        ("did:web:example.com:a%5Cb", "unsafe"),
        ("did:web:example.com:a%00b", "unsafe"),
        ("did:web:example.com:a%zz", "bad percent-encoding"),
        ("did:web:example.com:a%4", "bad percent-encoding"),
        ("did:web:ex%41mple.com", "only a port"),
        ("did:web:example.com%3A", "only a port"),
        ("did:web:example.com%3A0", "only a port"),
        ("did:web:example.com%3A0443", "only a port"),
        ("did:web:example.com%3Ahttp", "only a port"),
        ("did:web:example.com%3A99999", "out of range"),
        ("did:web:127.0.0.1", "IP address"),
        ("did:web:0x7f.1", "IP address"),
        ("did:web:192.168.1", "IP address"),
        ("did:web:3279880203", "not name a valid domain"),
        ("did:web:localhost", "not name a valid domain"),
        ("did:web:-bad.example", "not name a valid domain"),
        ("did:web:exa_mple.com", "not name a valid domain"),
        ("did:web:example..com", "not name a valid domain"),
        ("did:web:" + "a" * 64 + ".example", "not name a valid domain"),
        ("did:web:example.com:" + "a" * 2100, "at most 2048"),
    ],
)
def test_malformed_did_webs_are_refused(did: str, reason: str) -> None:
    with pytest.raises(DidResolutionError, match=reason):
        did_web_url(did)


def test_a_did_must_be_text() -> None:
    with pytest.raises(DidResolutionError, match="not a did:web"):
        did_web_url(None)  # type: ignore[arg-type]


# ------------------------------------------------------------------ documents


def test_the_spec_example_gives_its_one_ed25519_assertion_key() -> None:
    found = parse_did_document("did:web:example.com", SPEC_JWS2020)
    assert list(found) == ["did:web:example.com#key-0"]  # key-2 is P-256; key-1 is X25519 and not listed
    expected = base64.urlsafe_b64decode("0-e2i2_Ua1S5HbTYnVB0lj2Z2ytXu2-tYmDFf8f5NjU=")
    assert found["did:web:example.com#key-0"].raw == expected


def test_multikey_methods_relative_and_absolute_ids_and_embedded_assertions() -> None:
    raw = document(
        methods=[multikey("#key-1"), multikey(f"{DID}#key-2", key=OTHER), multikey("#auth-only", key=OTHER)],
        assertion=["#key-1", f"{DID}#key-2", multikey("#embedded")],
    )
    found = parse_did_document(DID, raw)
    assert found == {
        f"{DID}#key-1": KEY.public,
        f"{DID}#key-2": OTHER.public,
        f"{DID}#embedded": KEY.public,
    }


def test_ed25519_verification_key_2020_and_both_jwk_types() -> None:
    methods = [
        multikey("#a") | {"type": "Ed25519VerificationKey2020"},
        jwk_method("#b", kind="JsonWebKey2020"),
        jwk_method("#c", key=OTHER, kind="JsonWebKey", alg="EdDSA"),
    ]
    found = parse_did_document(DID, document(methods))
    assert found == {f"{DID}#a": KEY.public, f"{DID}#b": KEY.public, f"{DID}#c": OTHER.public}


def test_other_key_types_are_ignored_beside_a_usable_key() -> None:
    methods = [
        multikey("#p256") | {"publicKeyMultibase": P256_MULTIKEY},
        multikey("#long") | {"publicKeyMultibase": "z" + "2" * 300},
        jwk_method("#x25519", crv="X25519"),
        {"id": "#secp", "type": "EcdsaSecp256k1VerificationKey2019", "controller": DID},
        multikey("#ok"),
    ]
    assert list(parse_did_document(DID, document(methods))) == [f"{DID}#ok"]


def test_assertion_methods_of_other_dids_are_not_followed() -> None:
    raw = document(assertion=["did:web:elsewhere.example#key-9", "#key-1"])
    assert list(parse_did_document(DID, raw)) == [f"{DID}#key-1"]


def test_a_did_resolution_document_is_read_as_its_did_document() -> None:
    wrapped = json.dumps({"didDocument": json.loads(document())}).encode()
    assert list(parse_did_document(DID, wrapped)) == [f"{DID}#key-1"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{", "not strict JSON"),
        (b"\xff{}", "not strict JSON: invalid UTF-8"),
        (b'{"id": "did:web:publisher.example", "id": "did:web:publisher.example"}', 'duplicate key "id"'),
        (b'{"id": "did:web:publisher.example", "x": NaN}', "not strict JSON"),
        (b"[]", "not a JSON object"),
        (document(did="did:web:mallory.example"), "has id 'did:web:mallory.example', not did:web:publisher"),
        (document() .replace(b'"id": "did:web:publisher.example"', b'"x": 1'), "has no id, not"),
        (document(assertion=[]), "lists no assertionMethod"),
        (document(methods=[multikey()], assertion=None, authentication=["#key-1"]).replace(
            b'"assertionMethod"', b'"capabilityInvocation"'), "lists no assertionMethod"),
        (document(assertion="#key-1"), "assertionMethod that is not a list"),  # type: ignore[arg-type]
        (document(assertion=[7]), "assertionMethod entry of the wrong type"),
        (document(assertion=["#missing"]), "lists did:web:publisher.example#missing as an assertionMethod"),
        (document(methods="nope", assertion=["#key-1"]), "verificationMethod that is not a list"),  # type: ignore[arg-type]
        (document(methods=["#key-1"], assertion=[]), "verificationMethod that is not an object"),
        (document(methods=[multikey(), multikey()]), "defines did:web:publisher.example#key-1 twice"),
        (document(assertion=["#key-1", multikey("#key-1")]), "defines did:web:publisher.example#key-1 twice"),
        (document(methods=[multikey("key-1")]), "method id 'key-1' that is not a DID URL"),
        (document(methods=[multikey("#")]), "is not a DID URL"),
        (document(methods=[multikey(None)]), "without an id"),  # type: ignore[arg-type]
        (document(methods=[multikey("did:web:mallory.example#k")]), "belongs to another DID"),
        (document(methods=[multikey(did="did:web:mallory.example")]), "has controller 'did:web:mallory"),
        (document(methods=[{"id": "#key-1", "type": "Multikey", "publicKeyMultibase": KEY.public.multibase}]),
         "has no controller, not did:web"),
        (document(methods=[multikey(publicKeyMultibase=None)]), "no publicKeyMultibase"),
        (document(methods=[multikey(publicKeyMultibase="z6Mk0OIl")]), "invalid key: invalid base58btc"),
        (document(methods=[multikey(publicKeyMultibase="u" + KEY.public.multibase)]), "invalid key"),
        (document(methods=[multikey(publicKeyMultibase=TRUNCATED)]), "no Ed25519 assertion"),
        (document(methods=[multikey(type="Ed25519VerificationKey2020", publicKeyMultibase=TRUNCATED)]),
         "invalid key"),
        (document(methods=[multikey(type="Ed25519VerificationKey2020", publicKeyMultibase=P256_MULTIKEY)]),
         "invalid key: multicodec prefix"),
        (document(methods=[jwk_method(d=_b64url(b"\x01" * 32))]), "publishes a private key"),
        (document(methods=[jwk_method(kty="EC", crv="P-256", d="secret")]), "publishes a private key"),
        (document(methods=[{"id": "#k", "type": "JsonWebKey2020", "controller": DID}]), "no publicKeyJwk"),
        (document(methods=[jwk_method(x=_b64url(b"\x01" * 31))]), "not 32 bytes of base64url"),
        (document(methods=[jwk_method(x=_b64url(KEY.public.raw) + "=")]), "not 32 bytes of base64url"),
        (document(methods=[jwk_method(x=_b64url(KEY.public.raw)[:-1] + "B")]), "not in canonical base64url"),
        (document(methods=[jwk_method(x=_b64url(b"\x00" * 32))]), "invalid key"),  # a small-order point
        (document(methods=[jwk_method(crv="X25519")]), "has no Ed25519 assertion method"),
        (document(methods=[multikey(publicKeyMultibase=P256_MULTIKEY)]), "has no Ed25519 assertion method"),
    ],
)  # fmt: skip
def test_every_rejection_of_a_did_document(raw: bytes, reason: str) -> None:
    with pytest.raises(DidResolutionError, match=reason):
        parse_did_document(DID, raw)


def test_a_document_is_parsed_only_for_a_valid_did() -> None:
    with pytest.raises(DidResolutionError, match="IP address"):
        parse_did_document("did:web:10.0.0.1", document(did="did:web:10.0.0.1"))


# ------------------------------------------------------------------ resolution over HTTPS


@pytest.fixture
def resolver_at(fetcher: HttpsFetcher, ticking: TickingClock) -> DidWebResolver:
    return DidWebResolver(fetcher, ttl=300, clock=ticking)


async def test_resolution_fetches_the_document_and_keeps_its_bytes(
    https_server: HttpsServer, resolver_at: DidWebResolver, ticking: TickingClock
) -> None:
    raw = document(methods=[multikey(), multikey("#auth", key=OTHER)], assertion=["#key-1"])
    https_server.route("publisher.example", "/.well-known/did.json", Route(raw))
    resolved = await resolver_at.resolve(DID)
    assert resolved.did == DID
    assert resolved.url == "https://publisher.example/.well-known/did.json"
    assert resolved.raw == raw and resolved.sha256 == hashlib.sha256(raw).hexdigest()
    assert resolved.resolved_at == ticking.now
    assert resolved.key_for(f"{DID}#key-1") == KEY.public
    assert resolved.key_for("#key-1") == KEY.public
    with pytest.raises(
        DidResolutionError, match=r"'did:web:publisher\.example#auth' is not an assertion method of"
    ):
        resolved.key_for(f"{DID}#auth")
    with pytest.raises(DidResolutionError, match="is not an assertion method"):
        resolved.key_for("did:web:mallory.example#key-1")
    with pytest.raises(TypeError):
        resolved.keys["x"] = KEY.public  # type: ignore[index]


async def test_a_path_did_is_fetched_under_its_path(
    https_server: HttpsServer, resolver_at: DidWebResolver
) -> None:
    did = "did:web:alice.example:people:alice"
    https_server.route(
        "alice.example", "/people/alice/did.json", Route(document(did=did, methods=[multikey(did=did)]))
    )
    assert (await resolver_at.resolve(did)).url == "https://alice.example/people/alice/did.json"
    assert https_server.requests == [("alice.example", "/people/alice/did.json")]


async def test_resolutions_are_cached_until_the_ttl_passes(
    https_server: HttpsServer, resolver_at: DidWebResolver, ticking: TickingClock
) -> None:
    https_server.route("publisher.example", "/.well-known/did.json", Route(document()))
    first = await resolver_at.resolve(DID)
    ticking.advance(299)
    assert await resolver_at.resolve(DID) is first
    assert https_server.count("/.well-known/did.json") == 1
    ticking.advance(1)
    https_server.route(
        "publisher.example", "/.well-known/did.json", Route(document(methods=[multikey(key=OTHER)]))
    )
    second = await resolver_at.resolve(DID)
    assert https_server.count("/.well-known/did.json") == 2
    assert second.key_for("#key-1") == OTHER.public and second.resolved_at == ticking.now
    await resolver_at.resolve(DID, fresh=True)
    assert https_server.count("/.well-known/did.json") == 3
    resolver_at.forget(DID)
    await resolver_at.resolve(DID)
    assert https_server.count("/.well-known/did.json") == 4


async def test_the_cache_is_bounded(https_server: HttpsServer, fetcher: HttpsFetcher) -> None:
    resolver = DidWebResolver(fetcher, max_entries=2)
    dids = ["did:web:publisher.example", "did:web:alice.example", "did:web:www.publisher.example"]
    for did in dids:
        host = did.removeprefix("did:web:")
        https_server.route(
            host, "/.well-known/did.json", Route(document(did=did, methods=[multikey(did=did)]))
        )
        await resolver.resolve(did)
    await resolver.resolve(dids[2])
    await resolver.resolve(dids[1])
    assert https_server.count("/.well-known/did.json") == 3
    await resolver.resolve(dids[0])  # the oldest was dropped
    assert https_server.count("/.well-known/did.json") == 4


async def test_failures_are_not_cached(https_server: HttpsServer, resolver_at: DidWebResolver) -> None:
    with pytest.raises(
        DidResolutionError, match=r"^https://publisher\.example/\.well-known/did\.json answered HTTP 404"
    ):
        await resolver_at.resolve(DID)
    https_server.route("publisher.example", "/.well-known/did.json", Route(document()))
    assert (await resolver_at.resolve(DID)).keys


async def test_a_document_over_32_kib_is_refused(
    https_server: HttpsServer, resolver_at: DidWebResolver
) -> None:
    padded = document(padding="x" * MAX_DOCUMENT_BYTES)
    https_server.route("publisher.example", "/.well-known/did.json", Route(padded))
    with pytest.raises(DidResolutionError, match="larger than 32768 bytes"):
        await resolver_at.resolve(DID)


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (Route(b"late", delay=1.5), r"no answer within 0\.5 s"),
        (Route(status=301, headers={"Location": "https://elsewhere.example/did.json"}), "not followed"),
        (Route(document(did="did:web:alice.example")), "has id 'did:web:alice.example'"),
        (Route(b"<html>"), "not strict JSON"),
    ],
)
async def test_unusable_answers_are_resolution_errors(
    https_server: HttpsServer, resolver_at: DidWebResolver, route: Route, reason: str
) -> None:
    https_server.route("publisher.example", "/.well-known/did.json", route)
    with pytest.raises(DidResolutionError, match=reason):
        await resolver_at.resolve(DID)


async def test_a_did_on_a_private_address_is_not_fetched(
    https_server: HttpsServer, resolver: Resolutions
) -> None:
    resolver.table["publisher.example"] = ["10.1.2.3"]
    fetcher = HttpsFetcher(
        verify=https_server.client_context(), resolve=resolver, https_port=https_server.port
    )
    with pytest.raises(DidResolutionError, match="not globally routable") as refused:
        await DidWebResolver(fetcher).resolve(DID)
    assert "10.1.2.3" not in str(refused.value)
    assert https_server.requests == []


async def test_a_malformed_did_is_refused_before_any_lookup(
    resolver_at: DidWebResolver, resolver: Resolutions
) -> None:
    with pytest.raises(DidResolutionError, match="IP address"):
        await resolver_at.resolve("did:web:127.0.0.1")
    assert resolver.calls == []
