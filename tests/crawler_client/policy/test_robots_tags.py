"""`X-Robots-Tag` scopes: every crawler-scoped group of a field line is read, not only the first.

The header examples are Google's ("Robots meta tag, data-nosnippet, and X-Robots-Tag specifications",
developers.google.com/search/docs/crawling-indexing/robots-meta-tag, section "Using the X-Robots-Tag
HTTP header") and MDN's syntax (`<indexing-rule>, <bot-name>: <indexing-rule>`); the merged forms are
what a proxy that folds several field lines into one (RFC 9110 5.3) makes of them.
"""

from __future__ import annotations

import pytest

from crawler_client.signals.robots_tags import directives_for, from_header, from_html

GOOGLE = [
    # (field lines, crawler, the directives that apply to it)
    (["noindex"], "Googlebot", ["noindex"]),
    (["noindex"], "ExampleBot", ["noindex"]),
    (["noindex, nofollow"], "AnyBot", ["noindex", "nofollow"]),
    (
        ["noimageindex", "unavailable_after: 25 Jun 2010 15:00:00 PST"],
        "Googlebot",
        ["noimageindex", "unavailable_after: 25 jun 2010 15:00:00 pst"],
    ),
    (
        ["noarchive", "unavailable_after: 25 Jun 2010 15:00:00 PST"],
        "ExampleBot",
        ["noarchive", "unavailable_after: 25 jun 2010 15:00:00 pst"],
    ),
    (["googlebot: nofollow", "otherbot: noindex, nofollow"], "Googlebot/2.1", ["nofollow"]),
    (["googlebot: nofollow", "otherbot: noindex, nofollow"], "OtherBot", ["noindex", "nofollow"]),
    (["googlebot: nofollow", "otherbot: noindex, nofollow"], "ExampleBot", []),
    # "The HTTP header, the user agent name, and the specified values are not case sensitive."
    (["GOOGLEBOT: NoFollow"], "googlebot", ["nofollow"]),
    (
        ["max-snippet: 20, max-image-preview: large"],
        "ExampleBot",
        ["max-snippet: 20", "max-image-preview: large"],
    ),
]

MERGED = [
    # Google's two scoped lines, folded into one.
    (["googlebot: nofollow, otherbot: noindex, nofollow"], "Googlebot", ["nofollow"]),
    (["googlebot: nofollow, otherbot: noindex, nofollow"], "OtherBot", ["noindex", "nofollow"]),
    # The case: the second scope's noai was lost.
    (["googlebot: noindex, ExampleBot: noai"], "ExampleBot/1.0", ["noai"]),
    (["googlebot: noindex, ExampleBot: noai"], "Googlebot", ["noindex"]),
    # MDN: rules before any bot name apply to all, then to the named bot up to the next name.
    (["noindex, ExampleBot: noai, noimageai"], "ExampleBot", ["noindex", "noai", "noimageai"]),
    (["noindex, ExampleBot: noai, noimageai"], "OtherBot", ["noindex"]),
    (["a: noai, b: noindex, ExampleBot: noai, c: none"], "examplebot", ["noai"]),
    # Product tokens with digits (real AI crawlers), and a date whose commas and colons are not scopes.
    (["googlebot: noindex, AI2Bot-Dolma: noai"], "AI2Bot-Dolma/1.0", ["noai"]),
    (["googlebot: noindex, AI2Bot-Dolma: noai"], "AI2Bot", []),
    (["360Spider: noai, MJ12bot: noindex"], "360Spider", ["noai"]),
    (["360Spider: noai, MJ12bot: noindex"], "MJ12bot/v1.4", ["noindex"]),
    (
        ["ExampleBot: unavailable_after: Sunday, 25-Jun-10 15:00:00 PST, noai"],
        "ExampleBot",
        ["unavailable_after: sunday", "25-jun-10 15:00:00 pst", "noai"],
    ),
    (
        ["unavailable_after: Sun, 25 Jun 2010 15:00:00 PST, noai"],
        "AnyBot",
        ["unavailable_after: sun", "25 jun 2010 15:00:00 pst", "noai"],
    ),
]


@pytest.mark.parametrize(("lines", "crawler", "expected"), GOOGLE + MERGED)
def test_the_directives_that_apply_to_a_crawler(lines: list[str], crawler: str, expected: list[str]) -> None:
    assert directives_for(lines, crawler) == expected


def test_a_scope_ends_with_its_field_line() -> None:
    assert directives_for(["otherbot: noindex", "noai"], "ExampleBot") == ["noai"]


def test_a_noai_in_a_later_scope_of_a_merged_line_reserves_training() -> None:
    merged = from_header(["googlebot: noindex, ExampleBot: noai"], "ExampleBot/1.0", content_type="image/png")
    assert merged.uses["train-ai"] == "n" and merged.uses["train-genai"] == "n"
    assert from_header(["googlebot: noindex, ExampleBot: noai"], "Googlebot").uses["train-ai"] == "unknown"
    separate = from_header(["googlebot: noindex", "ExampleBot: noai"], "ExampleBot/1.0")
    assert separate.uses == merged.uses


def test_meta_contents_have_no_scopes() -> None:
    html = b'<meta name="robots" content="max-snippet:20, noai"><meta name="examplebot" content="noimageai">'
    assert from_html(html, "text/html", "ExampleBot").uses["train-ai"] == "n"
    assert directives_for(["otherbot: noai"], "") == []


@pytest.mark.parametrize("line", ["", ",", " , ,", ":", "::noai", "bot:", "bot:,", "\x00: noai", "é: noai"])
def test_odd_field_lines_never_raise(line: str) -> None:
    assert isinstance(directives_for([line], "ExampleBot"), list)
    from_header([line], "ExampleBot")
