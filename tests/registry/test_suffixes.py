"""Public suffixes: the Public Suffix List's own test vectors, the hosts claims must not name, and
where the rule binds (claims and notices being filed) and where it does not (checks, stored
documents, the location of infringing material)."""

from __future__ import annotations

import doctest
import encodings.idna
import re
import tomllib
from pathlib import Path
from typing import Any

import publicsuffixlist
import pytest
from pydantic import TypeAdapter, ValidationError

from registry import suffixes
from registry.documents import Claim, InvalidDocument, new_claim, validate_document
from registry.notices.documents import Notice, new_notice, validate_notice_document
from registry.schemes import CheckItem, identifier, refuse_public_suffix_url
from registry.suffixes import (
    PublicSuffixHost,
    is_public_suffix,
    public_suffix,
    refuse_public_suffix,
    registrable_domain,
)
from registry.urls import canonicalize

ROOT = Path(__file__).resolve().parents[2]
VECTORS_FILE = ROOT / "tests" / "data" / "psl_test_vectors.txt"
_CASE = re.compile(r"checkPublicSuffix\((null|'[^']*'), (null|'[^']*')\);")
DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
PROOF = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "verificationMethod": f"{DID}#{DID.removeprefix('did:key:')}",
    "proofPurpose": "assertionMethod",
    "proofValue": "z1",
}


def _literal(text: str) -> str | None:
    return None if text == "null" else text[1:-1]


def _vectors() -> list[tuple[str, str | None]]:
    cases = []
    for line in VECTORS_FILE.read_text(encoding="utf-8").splitlines():
        match = _CASE.fullmatch(line.strip())
        if match is None:
            assert not line.startswith("checkPublicSuffix"), line
            continue
        host = _literal(match.group(1))
        if host is None:
            continue  # the null input: our functions take a str
        cases.append((host, _literal(match.group(2))))
    return cases


VECTORS = _vectors()


def _ascii(domain: str) -> str:
    return ".".join(
        label.lower() if label.isascii() else encodings.idna.ToASCII(label).decode()
        for label in domain.split(".")
    )


def test_the_vectors_file_is_complete():
    assert len(VECTORS) == 77
    assert ("www.ck", "www.ck") in VECTORS and ("食狮.公司.cn", "食狮.公司.cn") in VECTORS


@pytest.mark.parametrize(("host", "expected"), VECTORS)
def test_psl_test_vectors(host: str, expected: str | None):
    want = None if expected is None else _ascii(expected)
    assert registrable_domain(host) == want
    if not host.startswith("."):
        assert is_public_suffix(host) == (expected is None)


@pytest.mark.parametrize(
    ("host", "expected"), [(host, expected) for host, expected in VECTORS if not host.startswith(".")]
)
def test_psl_test_vectors_through_url_canonicalisation(host: str, expected: str | None):
    """The hosts as `registry.urls` canonicalises them (Punycode, lower case) give the same answers;
    leading dots are left out, since canonicalisation strips them (``.example.com`` is example.com)."""
    canonical = canonicalize(f"https://{host}/").host
    assert registrable_domain(canonical) == (None if expected is None else _ascii(expected))
    if expected is None:
        with pytest.raises(PublicSuffixHost):
            refuse_public_suffix_url(f"https://{host}/")
    else:
        refuse_public_suffix_url(f"https://{host}/")


REFUSED = [
    "https://co.jp/",
    "https://co.jp./",
    "https://CO.JP/",
    "https://Co.Jp:8443/gallery/",
    "https://user:pw@co.jp/",
    "https://ne.jp/",
    "https://jp/",
    "http://com/",
    "https://com./",
    "https://uk/",
    "https://co.uk/",
    "https://github.io/",
    "https://GitHub.IO/alice/",
    "https://s3.amazonaws.com/bucket/",  # private section: path-style would span every bucket
    "https://blogspot.com/",
    "https://ck/",
    "https://test.ck/",  # *.ck
    "https://c.kobe.jp/",  # *.kobe.jp
    "https://kobe.jp/",  # the implicit root of a wildcard
    "https://xn--p1ai/",  # рф
    "https://рф/",
    "https://РФ./",
    "https://xn--fiqs8s/",  # 中国
    "https://公司.cn/",
    "https://localhost/",  # the default rule *: a single unknown label
    "http://localhost:8080/",
    "https://intranet/",
    "https://example/",
]
ACCEPTED = [
    "https://example.co.jp/",
    "https://www.example.co.jp/gallery/",
    "https://example.com/",
    "https://a.b.c.example.com/x",
    "https://alice.github.io/",
    "https://www.alice.github.io/",
    "https://bucket.s3.amazonaws.com/",
    "https://www.ck/",  # !www.ck
    "https://www.www.ck/",
    "https://b.test.ck/",
    "https://city.kobe.jp/",  # !city.kobe.jp
    "https://пример.рф/",
    "https://xn--e1afmkfd.xn--p1ai/",
    "https://example.test/",  # under no listed suffix, but two labels: registrable by the default rule
    "https://intranet.example/",
    "http://192.0.2.1/",  # IP addresses have no registrable domain and are not public suffixes
    "http://127.0.0.1:8000/a/",
    "http://3279880203/",  # an IPv4 address in another form
    "http://[2001:db8::1]/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_urls_over_public_suffixes_are_refused(url: str):
    with pytest.raises(PublicSuffixHost) as refused:
        refuse_public_suffix_url(url)
    assert isinstance(refused.value, ValueError)
    assert "Public Suffix List" in str(refused.value)
    assert "a claim must name a registrable domain" in str(refused.value)


@pytest.mark.parametrize("url", ACCEPTED)
def test_registrable_domains_below_them_and_ip_addresses_are_accepted(url: str):
    refuse_public_suffix_url(url)


def test_the_messages_say_what_is_wrong_and_what_would_do():
    def message(host: str) -> str:
        with pytest.raises(PublicSuffixHost) as refused:
            refuse_public_suffix(host)
        assert refused.value.host == host
        return str(refused.value)

    assert message("co.jp") == (
        "co.jp is a public suffix (Public Suffix List): a claim must name a registrable domain "
        "such as example.co.jp or something below it"
    )
    assert message("github.io").startswith("github.io is a public suffix")
    assert message("xn--p1ai").startswith("xn--p1ai (рф) is a public suffix")
    assert message("localhost") == (
        "localhost has no registrable domain (it is not under any suffix of the Public Suffix List): "
        "a claim must name a registrable domain such as example.com or something below it"
    )
    assert "not a valid host name" in message("a..b")


def test_ip_addresses_have_no_registrable_domain_and_are_not_public_suffixes():
    for host in ("192.0.2.1", "[2001:db8::1]", "2001:db8::1", "[::1]"):
        assert suffixes.is_ip_host(host)
        assert registrable_domain(host) is None and public_suffix(host) is None
        assert not is_public_suffix(host)
        refuse_public_suffix(host)


def test_public_suffix_and_lenient_input():
    assert public_suffix("www.example.co.jp") == "co.jp"
    assert public_suffix("alice.github.io") == "github.io"
    assert public_suffix("a.b.test.ck") == "test.ck"
    assert public_suffix("intranet") == "intranet"
    assert registrable_domain("WWW.Example.CO.JP.") == "example.co.jp"
    assert registrable_domain("www.пример.рф") == "xn--e1afmkfd.xn--p1ai"
    assert registrable_domain("www.example。co。jp") == "example.co.jp"
    assert registrable_domain("") is None and is_public_suffix("")


def test_one_list_parsed_once_with_both_sections():
    assert suffixes._list() is suffixes._list()
    assert suffixes._list().accept_unknown is True
    assert is_public_suffix("github.io"), "the PRIVATE section counts"


def test_the_rules_are_those_the_library_builds_with_its_own_idna_encoding():
    """The fast parse (Punycode for the international rules only) against the library's own."""
    reference = publicsuffixlist.PublicSuffixList(
        accept_unknown=True, accept_encoded_idn=True, only_icann=False
    )
    fast = suffixes._list()
    assert fast._publicsuffix == reference._publicsuffix
    assert fast._maxlabel == reference._maxlabel
    assert any(rule.startswith("xn--") for rule in fast._publicsuffix)
    assert any(rule.startswith("!") for rule in fast._publicsuffix)


def test_the_list_version_and_the_pin():
    assert publicsuffixlist.__version__ == suffixes.PACKAGE_VERSION
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}_UTC", suffixes.list_version())
    assert suffixes.list_version()[:10].replace("-", "") <= suffixes.PACKAGE_VERSION.rsplit(".", 1)[1]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert f"publicsuffixlist=={suffixes.PACKAGE_VERSION}" in project["dependencies"]


def test_doctests():
    assert doctest.testmod(suffixes, raise_on_error=False).failed == 0


# ------------------------------------------------------------------ where the rule binds


def _claim(*urls: str) -> dict[str, Any]:
    from datetime import UTC, datetime

    document = new_claim(
        DID,
        "work",
        [("url", url) for url in urls],
        {"train-ai": "n"},
        created=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return {**document, "proof": PROOF}


def _notice(identifiers: list[tuple[str, str]], locations: list[tuple[str, str]]) -> dict[str, Any]:
    from datetime import UTC, datetime

    document = new_notice(
        DID,
        DID,
        kind="work",
        identifiers=identifiers,
        locations=locations,
        actions=["remove"],
        regimes=["dsa"],
        created=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return {**document, "proof": PROOF}


def test_a_claim_being_filed_is_refused_with_a_pointer_to_the_identifier():
    with pytest.raises(InvalidDocument) as refused:
        validate_document(Claim, _claim("https://example.co.jp/", "https://github.io/"))
    assert refused.value.errors == [
        (
            "/subject/identifiers/1/value",
            "github.io is a public suffix (Public Suffix List): a claim must name a registrable domain "
            "such as example.github.io or something below it",
        )
    ]
    validate_document(Claim, _claim("https://example.co.jp/", "https://alice.github.io/"))


def test_stored_claims_still_load_so_the_log_replays():
    """A claim the registry accepted before the rule existed is in the log for good: reading it back
    (index replay, snapshots) validates without the filing context and must not fail."""
    claim = Claim.model_validate(_claim("https://co.jp/"))
    assert claim.subject.identifiers[0].value == "https://co.jp/"


def test_notices_refuse_public_suffix_identifiers_but_not_material_locations():
    with pytest.raises(InvalidDocument) as refused:
        validate_notice_document(Notice, _notice([("url", "https://co.jp/")], [("model", "acme/x")]))
    assert [pointer for pointer, _ in refused.value.errors] == ["/subject/identifiers/0/value"]
    notice = validate_notice_document(
        Notice, _notice([("url", "https://aoi.example.jp/")], [("url", "https://github.io/acme/")])
    )
    assert notice.material.locations[0].value == "https://github.io/acme/"


def test_checks_may_ask_about_any_url():
    adapter: TypeAdapter[Any] = TypeAdapter(CheckItem)
    for url in REFUSED:
        assert adapter.validate_python({"scheme": "url", "value": url}, context={"filing": True}).value == url
        assert identifier({"scheme": "url", "value": url}).value == url  # not filing
        with pytest.raises(ValidationError):
            identifier({"scheme": "url", "value": url}, filing=True)


def test_an_invalid_url_is_reported_once():
    with pytest.raises(ValidationError) as refused:
        identifier({"scheme": "url", "value": "ftp://co.jp/"}, filing=True)
    assert [error["msg"] for error in refused.value.errors()] == [
        "Value error, invalid URL: not an http(s) URL"
    ]
