"""RFC 9421 HTTP Message Signatures and RFC 9530 digests against the published examples (RFC 9421
Appendix B.1.4 key, B.2 request, B.2.6 expected base and signature; RFC 9530 section 2)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

import keys
from keys.http_signatures import (
    SignatureError,
    content_digest,
    parse_signature,
    sign_request,
    signature_base,
    verify_request,
)

# RFC 9421 Appendix B.1.4 (test-key-ed25519), PKCS#8: the last 32 bytes are the seed.
RFC9421_ED25519_PKCS8 = "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF"
RFC9421_ED25519_PUBLIC_SPKI = "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs="
# RFC 9421 Appendix B.2 test request and B.2.6 expected values.
B2_URL = "https://example.com/foo?param=Value&Pet=dog"
B2_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
    ),
    "Content-Length": "18",
}
B2_BODY = b'{"hello": "world"}'
B26_COMPONENTS = ("date", "@method", "@path", "@authority", "content-type", "content-length")
B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="


def _rfc_key() -> keys.SigningKey:
    return keys.SigningKey.from_bytes(base64.b64decode(RFC9421_ED25519_PKCS8)[16:])


def test_the_rfc_key_is_the_published_one() -> None:
    spki = base64.b64decode(RFC9421_ED25519_PUBLIC_SPKI)
    assert _rfc_key().public.raw == spki[-32:]


def test_rfc9421_b26_signature_base_and_signature() -> None:
    headers = sign_request(
        "POST",
        B2_URL,
        B2_HEADERS,
        _rfc_key(),
        created=1618884473,
        keyid="test-key-ed25519",
        components=B26_COMPONENTS,
        label="sig-b26",
        alg=None,
    )
    assert headers["Signature-Input"] == (
        'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"'
    )
    assert headers["Signature"] == f"sig-b26=:{B26_SIGNATURE}:"
    params = headers["Signature-Input"].removeprefix("sig-b26=")
    values = [(name, value) for name, value in (line.split(": ", 1) for line in B26_BASE.splitlines()[:-1])]
    assert signature_base([(n.strip('"'), v) for n, v in values], params).decode() == B26_BASE


def test_rfc9421_b26_signature_verifies_and_tampering_does_not() -> None:
    signed = {**B2_HEADERS, "Signature-Input": "", "Signature": ""}
    signed |= {
        "Signature-Input": 'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"',
        "Signature": f"sig-b26=:{B26_SIGNATURE}:",
    }
    public = _rfc_key().public
    verified = verify_request("POST", B2_URL, signed, B2_BODY, public, required=())
    assert verified.params == {"created": 1618884473, "keyid": "test-key-ed25519"}
    with pytest.raises(SignatureError):
        verify_request("POST", B2_URL, {**signed, "Content-Length": "19"}, B2_BODY, public, required=())
    with pytest.raises(SignatureError):
        verify_request("PUT", B2_URL, signed, B2_BODY, public, required=())
    with pytest.raises(SignatureError, match="does not cover"):
        verify_request("POST", B2_URL, signed, B2_BODY, public)
    with pytest.raises(SignatureError, match="not fresh"):
        verify_request("POST", B2_URL, signed, B2_BODY, public, required=(), now=datetime.now(UTC))


def test_rfc9530_content_digest_example() -> None:
    # RFC 9530 section 2 / RFC 9421 B.2: sha-256 of {"hello": "world"}
    assert content_digest(B2_BODY) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"


def test_our_own_signatures_cover_the_body() -> None:
    key = keys.SigningKey.generate()
    body = b'{"type":"NoticeDelivery"}'
    url = "https://operator.example/hooks/kotowari"
    headers = {"Content-Type": "application/json", "Content-Digest": content_digest(body)}
    now = datetime(2026, 11, 30, tzinfo=UTC)
    headers |= sign_request(
        "POST", url, headers, key, created=int(now.timestamp()), keyid="k", expires=int(now.timestamp()) + 300
    )
    assert verify_request("POST", url, headers, body, key.public, now=now).params["alg"] == "ed25519"
    with pytest.raises(SignatureError, match="Content-Digest"):
        verify_request("POST", url, headers, body + b" ", key.public, now=now)
    with pytest.raises(SignatureError):
        verify_request("POST", url, headers, body, keys.SigningKey.generate().public, now=now)
    with pytest.raises(SignatureError, match="no usable"):
        verify_request("POST", url, {}, body, key.public)


def test_parse_signature_reads_the_member_and_its_parameters() -> None:
    parsed = parse_signature(
        {
            "Signature-Input": 'a=("@method" "@path");created=5;keyid="did:key:z6Mk#z6Mk";tag="t"',
            "Signature": "a=:" + base64.b64encode(b"x" * 64).decode() + ":",
        }
    )
    assert parsed.label == "a"
    assert parsed.components == ("@method", "@path")
    assert parsed.keyid == "did:key:z6Mk#z6Mk"
    assert parsed.params["tag"] == "t"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Signature-Input": 'a=("@method");created=1', "Signature": "b=:AAAA:"},
        {"Signature-Input": 'a=("@method" "@method");created=1', "Signature": "a=:AAAA:"},
        {"Signature-Input": "a=(@method);created=1", "Signature": "a=:AAAA:"},
        {"Signature-Input": 'a=("@method");created=1;created=2', "Signature": "a=:AAAA:"},
        {"Signature-Input": 'a=("@method");created=1', "Signature": "a=:A*AA:"},
    ],
)
def test_malformed_signature_headers_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        parse_signature(headers)
