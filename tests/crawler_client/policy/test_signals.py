"""The header, file and meta signals against their specifications' own examples and bad input."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler_client.signals import aipref, aitxt, content_signal, robots_tags, tdmrep
from crawler_client.signals.robots import RobotsTxt
from crawler_client.signals.sfv import ParseError, Token, parse_dictionary

# ------------------------------------------------------------------ Structured Fields dictionary


def test_dictionary_members_parameters_and_inner_lists() -> None:
    parsed = parse_dictionary('a=1, b;x=?0, c=(1 2);p="q", d=:aGk=:, e=4.5, f=tok/en')
    assert parsed["a"] == (1, {})
    assert parsed["b"] == (True, {"x": False})
    assert parsed["c"] == ([(1, {}), (2, {})], {"p": "q"})
    assert parsed["d"] == (b"hi", {})
    assert parsed["e"] == (4.5, {})
    assert parsed["f"][0] == Token("tok/en")


@pytest.mark.parametrize(
    "text",
    [
        "Train-ai=n",
        "a=n,",
        "a=n;;",
        "a=(1",
        'a="unterminated',
        "a=1.2345",
        "a=?2",
        "a=n b=y",
        "é=n",
        "a=\x01",
    ],
)
def test_invalid_dictionaries_fail_as_a_whole(text: str) -> None:
    with pytest.raises(ParseError):
        parse_dictionary(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_parser_raises_only_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_dictionary(text)


# ------------------------------------------------------------------ aipref


def test_aipref_vocab_example_allow_training_disallow_search() -> None:
    uses, _ = aipref.parse_preferences("train-ai=y, search=n")
    assert (uses["train-ai"], uses["train-genai"], uses["search"], uses["ai-input"]) == (
        "y",
        "y",
        "n",
        "unknown",
    )


def test_aipref_vocab_duplicate_keys_example_is_all_unknown() -> None:
    uses, _ = aipref.parse_preferences('train-ai=y, train-ai, search=n, search="n"')
    assert set(uses.values()) == {"unknown"}


def test_aipref_vocab_parameters_are_ignored_and_last_value_wins() -> None:
    uses, _ = aipref.parse_preferences("train-ai;allow=n, train-ai=y")
    assert uses["train-ai"] == "y"
    uses, _ = aipref.parse_preferences('train-ai;has;parameters="?"')
    assert uses["train-ai"] == "unknown"


def test_aipref_parse_failure_makes_everything_unknown_and_says_so() -> None:
    verdict = aipref.from_header(["TRAIN-AI=n"])
    assert set(verdict.uses.values()) == {"unknown"}
    assert "every preference unknown" in verdict.reason


def test_aipref_header_field_lines_are_joined() -> None:
    verdict = aipref.from_header(["train-ai=y", "ai-use=n"])
    assert verdict.uses["train-ai"] == "y"
    assert verdict.uses["ai-input"] == "n"
    assert aipref.from_header(["train-genai=n"]).uses["train-ai"] == "unknown"


ATTACH_EXAMPLE = b"""User-Agent: *
Allow: /
Disallow: /never/
Content-Usage: / train-ai=n
Content-Usage: /ai-ok/ train-ai=y

User-Agent: ExampleBot
Allow: /
Content-Usage: / train-ai=y
"""


@pytest.mark.parametrize(
    ("agent", "path", "crawl", "train"),
    [
        ("OtherBot", "/test", True, "n"),
        ("OtherBot", "/never/test", False, None),
        ("OtherBot", "/ai-ok/test", True, "y"),
        ("ExampleBot", "/never/test", True, "y"),
    ],
)
def test_aipref_attach_robots_example(agent: str, path: str, crawl: bool, train: str | None) -> None:
    robots = RobotsTxt.parse(ATTACH_EXAMPLE)
    assert robots.is_allowed(path, agent) is crawl
    if train is not None:
        assert aipref.from_robots(robots, path, agent, location="r").uses["train-ai"] == train


def test_aipref_robots_conflicting_rules_for_one_path_resolve_to_n() -> None:
    robots = RobotsTxt.parse(
        b"User-Agent: *\nContent-Usage: /a train-ai=y\nContent-Usage: /a train-ai=n, search=y\n"
    )
    verdict = aipref.from_robots(robots, "/a/b", "bot", location="r")
    assert verdict.uses["train-ai"] == "n"
    assert verdict.uses["search"] == "y"


# ------------------------------------------------------------------ Content-Signal


def test_content_signal_cloudflare_default() -> None:
    robots = RobotsTxt.parse(b"User-Agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n")
    verdict = content_signal.from_robots(robots, "/page", "bot", location="r")
    assert verdict.uses["search"] == "y"
    assert verdict.uses["train-ai"] == "n"
    assert verdict.uses["train-genai"] == "n"
    assert verdict.uses["ai-input"] == "unknown"


def test_content_signal_per_group_and_path() -> None:
    text = (
        b"User-Agent: *\nContent-Signal: ai-input=no\n\n"
        b"User-Agent: NiceBot\nContent-Signal: /open/ ai-input=yes\n"
    )
    robots = RobotsTxt.parse(text)
    assert content_signal.from_robots(robots, "/x", "bot", location="r").uses["ai-input"] == "n"
    assert content_signal.from_robots(robots, "/open/x", "NiceBot", location="r").uses["ai-input"] == "y"
    assert content_signal.from_robots(robots, "/x", "NiceBot", location="r").uses["ai-input"] == "unknown"


def test_content_signal_odd_values_are_unknown_and_reported() -> None:
    uses, note = content_signal.parse_signals("ai-train=maybe, search, foo=no, AI-INPUT=NO")
    assert uses["train-ai"] == "unknown"
    assert uses["ai-input"] == "n"
    assert "maybe" in note and "foo" in note


# ------------------------------------------------------------------ TDMRep


def test_tdmrep_file_first_matching_rule_wins() -> None:
    rules = tdmrep.parse_file(
        b"""[
        {"location": "/images/*", "tdm-reservation": 1, "tdm-policy": "https://e.example/policy.json"},
        {"location": "/images/public/*", "tdm-reservation": 0},
        {"location": "/", "tdm-reservation": 0}
    ]"""
    )
    assert tdmrep.for_url(rules, "https://e.example/images/public/a.png").reservation == 1
    assert tdmrep.for_url(rules, "https://e.example/text").reservation == 0


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"location": "/"}', b"\xff\xfe", b"[1, 2, 3]", b'[{"location": 5}]', b"[" * 100000],
)
def test_tdmrep_invalid_files_are_unset(body: bytes) -> None:
    declaration = tdmrep.for_url(tdmrep.parse_file(body), "https://e.example/a")
    assert declaration.reservation is None
    assert declaration.reason


@pytest.mark.parametrize("value", ["2", "yes", "", "1;x", "true"])
def test_tdmrep_invalid_values_are_unset_not_allowed(value: str) -> None:
    file = tdmrep.Declaration(1, None, "file")
    header = tdmrep.from_headers([value], [])
    assert header.reservation is None
    verdict = tdmrep.resolve([("tdmrep.json", file), ("header", header)], location="x", stage="post-fetch")
    assert verdict.uses["train-ai"] == "n"  # an invalid header cannot lift the file's reservation


def test_tdmrep_json_booleans_and_strings_are_not_integers() -> None:
    rules = tdmrep.parse_file(b'[{"location": "/", "tdm-reservation": true}]')
    assert tdmrep.for_url(rules, "https://e.example/").reservation is None


def test_tdmrep_precedence_file_then_header_then_html() -> None:
    file = tdmrep.Declaration(1, None, "file")
    header = tdmrep.from_headers(["0"], [])
    html = tdmrep.from_html(
        b'<html><head><meta name="tdm-reservation" content="1"></head></html>', "text/html"
    )
    assert (
        tdmrep.resolve([("f", file), ("h", header)], location="x", stage="post-fetch").uses["train-ai"] == "y"
    )
    both = tdmrep.resolve([("f", file), ("h", header), ("m", html)], location="x", stage="post-fetch")
    assert both.uses["train-ai"] == "n"
    assert both.uses["search"] == "unknown"


def test_tdmrep_conflicting_header_lines_are_unset() -> None:
    assert tdmrep.from_headers(["1", "0"], []).reservation is None
    assert tdmrep.from_headers(["1"], ["https://e.example/p"]).policy == "https://e.example/p"


# ------------------------------------------------------------------ X-Robots-Tag and meta


def test_x_robots_tag_every_line_and_user_agent_scope() -> None:
    lines = [
        "googlebot: nofollow",
        "otherbot: noai",
        "ExampleBot: NoAI",
        "unavailable_after: 25 Jun 2010 15:00 PST",
    ]
    assert robots_tags.from_header(lines, "examplebot/1.0").uses["train-ai"] == "n"
    assert robots_tags.from_header(lines, "ThirdBot").uses["train-ai"] == "unknown"
    assert robots_tags.from_header(["noindex", "noai, noimageai"], "any").uses["train-genai"] == "n"


def test_noimageai_applies_to_images_only() -> None:
    assert robots_tags.from_header(["noimageai"], "b", content_type="image/png").uses["train-ai"] == "n"
    page = robots_tags.from_header(["noimageai"], "b", content_type="text/html")
    assert page.uses["train-ai"] == "unknown"
    assert "images" in page.reason


def test_noindex_only_when_asked() -> None:
    assert robots_tags.from_header(["noindex"], "b").uses["search"] == "unknown"
    assert robots_tags.from_header(["none"], "b", honour_noindex=True).uses["search"] == "n"


def test_meta_robots_and_user_agent_named_meta() -> None:
    html = b"""<html><head><META NAME="Robots" content="noindex"><meta name="GPTBot" content="noai">
    </head><body><meta name="robots" content="noai"></body></html>"""
    assert robots_tags.from_html(html, "text/html", "GPTBot").uses["train-ai"] == "n"
    assert (
        robots_tags.from_html(html, "text/html", "OtherBot").uses["train-ai"] == "unknown"
    )  # body meta ignored
    assert robots_tags.from_html(html, "text/html", "OtherBot", honour_noindex=True).uses["search"] == "n"


def test_broken_html_never_raises() -> None:
    for body in [
        b"<meta name=robots content=noai",
        b"\x00\xff<<<>>>",
        b"<html><head><meta name='robots' content='noai'>",
    ]:
        robots_tags.from_html(body, "text/html; charset=bogus-charset", "b")
    assert robots_tags.from_html(b"<meta name=robots content=noai>", "text/html", "b").uses["train-ai"] == "n"


# ------------------------------------------------------------------ ai.txt


def test_ai_txt_spawning_style_patterns() -> None:
    text = b"User-Agent: *\nDisallow: *.jpg\nDisallow: /private/\nAllow: /private/ok/\n"
    assert aitxt.from_fetch(200, text, "https://e.example/a/b.jpg", "bot").uses["train-ai"] == "n"
    assert aitxt.from_fetch(200, text, "https://e.example/private/ok/x", "bot").uses["ai-input"] == "y"
    assert aitxt.from_fetch(200, text, "https://e.example/page", "bot").uses["train-ai"] == "unknown"
    assert aitxt.from_fetch(200, text, "https://e.example/a.jpg", "bot").uses["search"] == "unknown"


@pytest.mark.parametrize("status", [404, 500, None])
def test_ai_txt_absent_or_failing_is_unknown(status: int | None) -> None:
    verdict = aitxt.from_fetch(
        status, b"User-Agent: *\nDisallow: /\n", "https://e.example/a", "bot", error="boom"
    )
    assert set(verdict.uses.values()) == {"unknown"}
