"""RSL 1.0 documents: the project's examples as data, the usage mapping, and every way a document is
refused (each an `Invalid` value, never an exception)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crawler_client.licensing import links_from_header
from crawler_client.signals import USES, rsl
from crawler_client.signals.html import head, licence_links, meta_tags

EXAMPLES = json.loads((Path(__file__).parent / "data" / "rsl_examples.json").read_text("utf-8"))
NS = 'xmlns="https://rslstandard.org/rsl"'


def licence(body: str, url: str = "/", server: str = "") -> bytes:
    attribute = f' server="{server}"' if server else ""
    return f'<rsl {NS}><content url="{url}"{attribute}><license>{body}</license></content></rsl>'.encode()


def read(data: bytes | str) -> rsl.Document:
    document = rsl.parse(data)
    assert isinstance(document, rsl.Document), document
    return document


def status_of(data: bytes | str, page: str = "https://example.com/a") -> dict[str, str]:
    return {str(use): str(status) for use, status in rsl.statuses(read(data).content_for(page)).items()}


def invalid(data: bytes | str) -> str:
    document = rsl.parse(data)
    assert isinstance(document, rsl.Invalid), document
    return document.reason


@pytest.mark.parametrize("case", EXAMPLES["cases"], ids=[c["name"] for c in EXAMPLES["cases"]])
def test_published_examples_read_as_documented(case: dict[str, Any]) -> None:
    assert status_of(case["document"], case["page"]) == case["expect"]


# ------------------------------------------------------------------ the usage mapping


@pytest.mark.parametrize(
    ("token", "reserved"),
    [
        ("all", set(USES)),
        ("ai-all", {"train-ai", "train-genai", "ai-input", "generate"}),
        ("ai-train", {"train-ai", "train-genai"}),
        ("ai-input", {"ai-input"}),
        ("ai-index", {"ai-input"}),
        ("search", {"search"}),
        ("train-genai", {"train-genai"}),
        ("ai-use", {"ai-input"}),
    ],
)
def test_each_prohibited_token_reserves_its_uses_and_leaves_the_rest_offered(
    token: str, reserved: set[str]
) -> None:
    got = status_of(licence(f'<prohibits type="usage">{token}</prohibits>'))
    assert {use for use, status in got.items() if status == "prohibited"} == reserved
    assert all(status == "permitted" for use, status in got.items() if use not in reserved)


@pytest.mark.parametrize(
    ("token", "granted"),
    [
        ("all", set(USES)),
        ("ai-all", {"train-ai", "train-genai", "ai-input", "generate"}),
        ("ai-train", {"train-ai", "train-genai"}),
        ("ai-input", {"ai-input"}),
        ("ai-index", set()),  # AI indexing alone is narrower than ai-input: it grants none of our uses
        ("search", {"search"}),
    ],
)
def test_a_permits_list_grants_only_what_it_names(token: str, granted: set[str]) -> None:
    got = status_of(licence(f'<permits type="usage">{token}</permits>'))
    assert {use for use, status in got.items() if status == "permitted"} == granted
    assert all(status == "not-permitted" for use, status in got.items() if use not in granted)


def test_tokens_may_be_separated_by_commas_or_spaces_and_in_any_case() -> None:
    got = status_of(licence('<prohibits type="usage">AI-Train,\n search</prohibits>'))
    assert got["train-ai"] == got["search"] == "prohibited" and got["ai-input"] == "permitted"


# ------------------------------------------------------------------ payments, servers, restrictions


@pytest.mark.parametrize("kind", ["purchase", "subscription", "training", "crawl", "use", "contribution"])
def test_a_paid_licence_makes_its_uses_reserved_unless_licensed(kind: str) -> None:
    amount = '<amount currency="USD">0.015</amount>'
    body = f'<permits type="usage">ai-input</permits><payment type="{kind}">{amount}</payment>'
    got = status_of(licence(body))
    assert got["ai-input"] == "licensable" and got["search"] == "not-permitted"


@pytest.mark.parametrize(
    "payment",
    ['<payment type="free"/>', '<payment type="attribution"/>', "<payment/>", ""],
    ids=["free", "attribution", "empty", "none"],
)
def test_free_attribution_and_absent_payments_grant(payment: str) -> None:
    assert status_of(licence(f'<permits type="usage">ai-input</permits>{payment}'))["ai-input"] == "permitted"


@pytest.mark.parametrize(
    "payment",
    [
        '<payment type="per-token"><amount currency="USD">1</amount></payment>',
        '<payment type="Use"/>',
        '<payment><amount currency="USD">0.015</amount></payment>',
        "<payment><standard>https://licences.example/collective</standard></payment>",
    ],
    ids=["unrecognised type", "case variant", "no type with an amount", "no type with a standard"],
)
def test_payments_not_known_to_be_free_are_reserved_unless_licensed(payment: str) -> None:
    assert (
        status_of(licence(f'<permits type="usage">ai-input</permits>{payment}'))["ai-input"] == "licensable"
    )


def test_a_licence_server_binds_even_a_free_licence_and_an_entry_without_licences() -> None:
    free = licence('<permits type="usage">all</permits><payment type="free"/>', server="https://lic.example/")
    assert set(status_of(free).values()) == {"licensable"}
    bare = f'<rsl {NS}><content url="/" server="https://lic.example/"/></rsl>'
    assert set(status_of(bare).values()) == {"licensable"}
    assert set(status_of(f'<rsl {NS}><content url="/"/></rsl>').values()) == {"not-covered"}


def test_user_and_geo_restrictions_are_not_a_grant_this_crawler_can_show_it_meets() -> None:
    for term in ('<permits type="user">education</permits>', '<prohibits type="geo">GB</prohibits>'):
        got = status_of(licence(f'<permits type="usage">ai-input</permits>{term}'))
        assert got["ai-input"] == "licensable"


def test_a_free_offer_beside_a_priced_one_is_taken_whatever_the_order() -> None:
    priced = '<license><permits type="usage">ai-input</permits><payment type="use"/></license>'
    free = '<license><permits type="usage">ai-input</permits><payment type="free"/></license>'
    for first, second in ((priced, free), (free, priced)):
        document = f'<rsl {NS}><content url="/">{first}{second}</content></rsl>'
        assert status_of(document)["ai-input"] == "permitted"


def test_a_licence_naming_a_use_outweighs_a_silent_one_and_a_prohibition_outweighs_a_permit() -> None:
    priced = '<license><permits type="usage">ai-input</permits><payment type="use"/></license>'
    silent = '<license><payment type="attribution"/></license>'
    assert (
        status_of(f'<rsl {NS}><content url="/">{priced}{silent}</content></rsl>')["ai-input"] == "licensable"
    )
    assert status_of(f'<rsl {NS}><content url="/">{silent}</content></rsl>')["ai-input"] == "permitted"
    refusing = '<license><prohibits type="usage">ai-all</prohibits></license>'
    granting = '<license><permits type="usage">all</permits></license>'
    assert (
        status_of(f'<rsl {NS}><content url="/">{granting}{refusing}</content></rsl>')["train-ai"]
        == "prohibited"
    )


# ------------------------------------------------------------------ which <content> governs a page


def test_the_most_specific_content_entry_governs_and_unmatched_pages_are_not_covered() -> None:
    document = read(
        f'<rsl {NS}><content url="/"><license><permits type="usage">all</permits></license></content>'
        '<content url="/premium/*.html$"><license><prohibits type="usage">all</prohibits></license>'
        '</content><content url="https://other.example/"><license/></content></rsl>'
    )
    assert rsl.statuses(document.content_for("https://example.com/premium/a.html"))["search"] == "prohibited"
    assert rsl.statuses(document.content_for("https://example.com/premium/a.html?x"))["search"] == "permitted"
    assert rsl.statuses(document.content_for("https://example.com/free"))["search"] == "permitted"
    scoped = read(f'<rsl {NS}><content url="https://example.com/blog/"><license/></content></rsl>')
    assert scoped.content_for("https://example.com/blog/post") is not None
    assert scoped.content_for("https://example.com/shop/") is None
    assert scoped.content_for("https://evil.example/blog/post") is None


def test_a_feed_carrying_the_rsl_module_is_read() -> None:
    feed = (
        '<rss xmlns:rsl="https://rslstandard.org/rsl" version="2.0"><channel><item><title>t</title>'
        '<rsl:content url="/news/a"><rsl:license><rsl:prohibits type="usage">ai-train</rsl:prohibits>'
        "</rsl:license></rsl:content></item></channel></rss>"
    )
    assert status_of(feed, "https://example.com/news/a")["train-ai"] == "prohibited"


# ------------------------------------------------------------------ refused documents


def test_malformed_xml_is_refused_with_the_reason() -> None:
    assert "not well-formed XML" in invalid(b"<rsl xmlns='https://rslstandard.org/rsl'><content>")
    assert "not well-formed XML" in invalid(b"")
    assert "not well-formed XML" in invalid(b"\xff\xfe\x00garbage")
    # the getting-started page's typographic quotes, as published, make the XML malformed
    assert "not well-formed XML" in invalid(f"<rsl {NS}><content url=”/”><license/></content></rsl>")


def test_a_document_over_one_mebibyte_is_refused_before_parsing() -> None:
    padding = b"<!-- " + b"x" * rsl.MAX_BYTES + b" -->"
    assert "larger than" in invalid(licence("") + padding)


@pytest.mark.parametrize(
    "prolog",
    [
        b'<!DOCTYPE rsl [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>',
        b'<!DOCTYPE rsl SYSTEM "file:///etc/passwd">',
        b"<!DOCTYPE rsl>",
        b'<!DOCTYPE rsl [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]>',
    ],
    ids=["entity expansion", "external DTD", "bare doctype", "parameter entity"],
)
def test_any_doctype_is_refused_so_no_entity_is_ever_declared_or_expanded(prolog: bytes) -> None:
    assert "DOCTYPE" in invalid(prolog + licence('<permits type="usage">all</permits>'))


def test_an_undeclared_entity_reference_is_refused() -> None:
    assert "not well-formed XML" in invalid(licence('<permits type="usage">&xxe;</permits>'))


def test_an_unknown_usage_token_refuses_the_document() -> None:
    reason = invalid(licence('<prohibits type="usage">ai-train, ai-everything</prohibits>'))
    assert "'ai-everything'" in reason and "does not define" in reason
    assert "ai-foo" in invalid(licence('<permits type="usage">ai-foo</permits>'))


def test_an_unknown_term_type_refuses_the_document() -> None:
    assert "is not one of usage, user, geo" in invalid(licence('<permits type="agent">x</permits>'))


def test_a_root_outside_the_rsl_namespace_or_without_content_is_refused() -> None:
    assert "not in the RSL namespace" in invalid(b'<rsl><content url="/"/></rsl>')
    assert "not in the RSL namespace" in invalid(
        b'<rsl xmlns="https://example.com/rsl"><content url="/"/></rsl>'
    )
    assert "no RSL <content>" in invalid(f"<rsl {NS}/>".encode())
    assert "no RSL <content>" in invalid(b"<html><body>licence</body></html>")


def test_deep_or_huge_trees_are_refused() -> None:
    deep = b"<a>" * (rsl.MAX_DEPTH + 1) + b"</a>" * (rsl.MAX_DEPTH + 1)
    assert "levels" in invalid(deep)
    many = f"<rsl {NS}>".encode() + b'<content url="/"/>' * (rsl.MAX_ELEMENTS + 1) + b"</rsl>"
    assert "elements" in invalid(many)


def test_encodings_declared_by_the_document_are_honoured() -> None:
    text = f'<?xml version="1.0" encoding="UTF-16"?><rsl {NS}><content url="/"><license/></content></rsl>'
    assert status_of(text.encode("utf-16"))["search"] == "permitted"


# ------------------------------------------------------------------ verdicts


def test_a_verdict_cites_the_licence_and_its_terms() -> None:
    data = licence(
        '<permits type="usage">ai-all</permits><payment type="use"><amount currency="USD">0.015</amount>'
        "<standard>https://lic.example/std</standard></payment>",
        server="https://lic.example/api",
    )
    verdict = rsl.verdict(
        read(data),
        "https://example.com/a",
        location="https://example.com/l.xml",
        stage="pre-fetch",
        found_in="robots.txt",
    )
    assert verdict.source == "RSL" and verdict.location == "https://example.com/l.xml"
    assert verdict.uses["train-ai"] == "n" and verdict.uses["search"] == "n"
    assert "reserved unless licensed: train-ai, train-genai, ai-input, generate" in verdict.reason
    assert "licence server https://lic.example/api" in verdict.reason
    assert "payment use 0.015 USD, standard terms https://lic.example/std" in verdict.reason
    terms = verdict.to_json("train-ai")["terms"]
    assert (
        terms["uses"]["ai-input"] == "licensable" and terms["content"]["server"] == "https://lic.example/api"
    )
    assert terms["content"]["licences"][0]["payments"][0]["amounts"] == [
        {"currency": "USD", "amount": "0.015"}
    ]
    json.dumps(terms)


def test_an_invalid_document_fails_closed() -> None:
    verdict = rsl.verdict(
        rsl.Invalid("bad"), "https://e.example/", location="L", stage="pre-fetch", found_in="x"
    )
    assert set(verdict.uses.values()) == {"n"} and "reserved unless licensed" in verdict.reason


# ------------------------------------------------------------------ discovery


def test_link_headers_name_rsl_licences_only_with_the_rsl_type() -> None:
    values = [
        '<https://a.example/l.xml>; rel="license"; type="application/rsl+xml", </b,c.xml>; rel=license; '
        "type=application/rsl+xml",
        '<https://cc.example/by/4.0/>; rel="license", '
        '<https://x.example/s>; rel="stylesheet"; type="text/css"',
        '<https://d.example/l.xml>; type="application/rsl+xml"; rel="alternate license"; title="a;b"',
        "garbage, <unterminated",
    ]
    assert links_from_header(values, "https://e.example/dir/page") == [
        "https://a.example/l.xml",
        "https://e.example/b,c.xml",
        "https://d.example/l.xml",
    ]
    assert (
        links_from_header(['<ftp://x.example/l>; rel="license"; type="application/rsl+xml"'], "https://e/")
        == []
    )


def test_html_link_and_inline_script_licences_are_read_from_the_head() -> None:
    page = (
        b'<html><head><meta name="robots" content="noai">'
        b'<link rel="License" type="application/rsl+xml" href="/license.xml">'
        b'<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
        b'<script type="application/rsl+xml">'
        b'<rsl xmlns="https://rslstandard.org/rsl"><content url="/"/></rsl></script>'
        b'</head><body><link rel="license" type="application/rsl+xml" href="/body.xml"></body></html>'
    )
    found = head(page)
    assert found.licences == ["/license.xml"] == licence_links(page)
    assert found.inline_rsl == ['<rsl xmlns="https://rslstandard.org/rsl"><content url="/"/></rsl>']
    assert meta_tags(page) == [("robots", "noai")]
