"""robots.txt against RFC 9309: its own examples, precedence rules and malformed input."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler_client.signals.robots import MAX_BYTES, RobotsTxt, normalise_path, path_of, product_token

RFC_EXAMPLE = b"""User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot

EOF
"""


@pytest.mark.parametrize(
    ("agent", "path", "allowed"),
    [
        ("foobot", "/example/page.html", True),
        ("foobot", "/example/allowed.gif", True),
        ("foobot", "/anything/else", False),
        ("barbot", "/example/page.html", False),
        ("bazbot", "/example/page.html", False),
        ("barbot", "/example/page.gif", True),  # barbot's group excludes the * group
        ("quxbot", "/example/page.gif", True),  # an empty group allows everything
        ("otherbot", "/example/page.gif", False),
        ("otherbot", "/example/x", False),
        ("otherbot", "/publications/x", True),
        ("otherbot", "/a.gif?x", True),  # $ anchors: a query after .gif does not end in .gif
    ],
)
def test_rfc9309_section_5_1_example(agent: str, path: str, allowed: bool) -> None:
    assert RobotsTxt.parse(RFC_EXAMPLE).is_allowed(path, agent) is allowed


def test_longest_match_wins_rfc9309_section_5_2() -> None:
    robots = RobotsTxt.parse(
        b"User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n"
    )
    assert robots.is_allowed("/example/page/ok.gif", "foobot")
    assert not robots.is_allowed("/example/page/disallowed.gif", "foobot")


def test_allow_wins_a_tie_whatever_the_order() -> None:
    assert RobotsTxt.parse(b"User-agent: *\nDisallow: /same\nAllow: /same\n").is_allowed("/same/x", "bot")
    assert RobotsTxt.parse(b"User-agent: *\nAllow: /same\nDisallow: /same\n").is_allowed("/same", "bot")


def test_product_token_matching_is_case_insensitive_and_ignores_version() -> None:
    robots = RobotsTxt.parse(b"User-agent: ExampleBot\nDisallow: /\n")
    assert not robots.is_allowed("/x", "examplebot")
    assert not robots.is_allowed("/x", "EXAMPLEBOT/2.1 (+https://example.com/bot)")
    assert product_token("GPTBot/1.1 (+https://openai.com/gptbot)") == "GPTBot"


def test_groups_for_the_same_agent_merge() -> None:
    text = b"User-agent: a\nDisallow: /one\n\nUser-agent: b\nDisallow: /x\n\nUser-agent: A\nDisallow: /two\n"
    robots = RobotsTxt.parse(text)
    assert not robots.is_allowed("/one", "a")
    assert not robots.is_allowed("/two", "a")
    assert robots.is_allowed("/x", "a")


def test_star_groups_merge_when_no_group_names_the_crawler() -> None:
    text = (
        b"User-agent: *\nDisallow: /one\nUser-agent: other\nDisallow: /o\n\nUser-agent: *\nDisallow: /two\n"
    )
    robots = RobotsTxt.parse(text)
    assert not robots.is_allowed("/one", "bot")
    assert not robots.is_allowed("/two", "bot")
    assert robots.is_allowed("/two", "other")


@pytest.mark.parametrize(
    ("rule", "url", "matches"),
    [
        ("/foo/bar?baz=quz", "https://e.example/foo/bar?baz=quz", True),
        ("/foo/bar/ツ", "https://e.example/foo/bar/%E3%83%84", True),
        ("/foo/bar/%E3%83%84", "https://e.example/foo/bar/ツ", True),
        ("/foo/bar/%62%61%7A", "https://e.example/foo/bar/baz", True),
        ("/foo/bar/baz", "https://e.example/foo/bar/%62%61%7a", True),
        ("/path/file-with-a-%2A.html", "https://www.example.com/path/file-with-a-*.html", True),
        ("/path/foo-%24", "https://www.example.com/path/foo-$", True),
        ("/this/path/exactly$", "https://e.example/this/path/exactly", True),
        ("/this/path/exactly$", "https://e.example/this/path/exactly/not", False),
        ("/this/*/exactly", "https://e.example/this/any/thing/exactly", True),
        ("/a%2fb", "https://e.example/a%2Fb", True),  # reserved escapes stay escapes, hex case aside
        ("/a%2Fb", "https://e.example/a/b", False),
    ],
)
def test_rfc9309_percent_encoding_and_special_characters(rule: str, url: str, matches: bool) -> None:
    robots = RobotsTxt.parse(f"User-agent: *\nDisallow: {rule}\n".encode())
    assert robots.is_allowed(url, "bot") is not matches


def test_robots_txt_itself_is_always_allowed() -> None:
    assert RobotsTxt.parse(b"User-agent: *\nDisallow: /\n").is_allowed("/robots.txt", "bot")


def test_comments_and_rules_outside_a_group() -> None:
    text = (
        b"Disallow: /before # no group yet\nUser-agent: * # all\nallow: / # in line\nDisallow: /private#x\n"
    )
    robots = RobotsTxt.parse(text)
    assert robots.is_allowed("/before", "bot")
    assert not robots.is_allowed("/private", "bot")
    assert robots.ignored_lines == 1


def test_garbage_lines_are_skipped_and_counted() -> None:
    text = (
        b"\xef\xbb\xbfUser-agent: *\nnot a rule\n:::\nDisallow /nocolon\n"
        b"Foo: bar\nDisallow: /x\n\x00\xff\xfe junk\n"
    )
    robots = RobotsTxt.parse(text)
    assert not robots.is_allowed("/x", "bot")
    assert robots.is_allowed("/nocolon", "bot")
    assert robots.ignored_lines >= 4


def test_binary_garbage_never_raises() -> None:
    robots = RobotsTxt.parse(bytes(range(256)) * 50)
    assert robots.is_allowed("/", "bot")


def test_only_the_first_500_kib_are_parsed() -> None:
    head = b"User-agent: *\nDisallow: /early\n"
    filler = b"# " + b"x" * 1000 + b"\n"
    body = head + filler * (MAX_BYTES // len(filler) + 1) + b"Disallow: /late\n"
    robots = RobotsTxt.parse(body)
    assert robots.truncated
    assert not robots.is_allowed("/early", "bot")
    assert robots.is_allowed("/late", "bot")


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (200, True),
        (404, True),
        (403, True),
        (410, True),
        (429, False),
        (500, False),
        (503, False),
        (None, False),
    ],
)
def test_access_results_by_status(status: int | None, allowed: bool) -> None:
    robots = RobotsTxt.from_fetch(status, b"User-agent: *\nAllow: /\n", error="timeout")
    assert robots.is_allowed("/page", "bot") is allowed


def test_crawl_delay_is_read_per_group_and_bad_values_ignored() -> None:
    robots = RobotsTxt.parse(b"User-agent: slow\nCrawl-delay: 2.5\n\nUser-agent: *\nCrawl-delay: soon\n")
    assert robots.crawl_delay("slow") == 2.5
    assert robots.crawl_delay("other") is None
    assert robots.ignored_lines == 1


def test_normalisation_is_idempotent() -> None:
    for path in ["/a b", "/%7e", "/ü/%e3%83%84", "/%zz", "/%"]:
        once = normalise_path(path)
        assert normalise_path(once) == once
    assert normalise_path("/%zz") == "/%25zz"
    assert normalise_path("/%7e") == "/~"


# ------------------------------------------------------------------ property: vs a reference


def _reference_regex(pattern: str) -> re.Pattern[str]:
    """The plain translation of RFC 9309 2.2.3: `*` any run, trailing `$` end, else literal prefix."""
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    out = "".join(".*" if char == "*" else re.escape(char) for char in body)
    return re.compile(out + ("$" if anchored else ""), re.DOTALL)


_patterns = st.builds(
    lambda body, anchor: "/" + body + ("$" if anchor else ""),
    st.text(alphabet="ab/.*", max_size=8),
    st.booleans(),
)
_paths = st.builds(lambda body: "/" + body, st.text(alphabet="ab/.", max_size=12))


@settings(max_examples=150, deadline=None)
@given(rules=st.lists(st.tuples(st.booleans(), _patterns), max_size=6), path=_paths)
def test_decision_matches_a_brute_force_reference(rules: list[tuple[bool, str]], path: str) -> None:
    text = "User-agent: *\n" + "".join(f"{'Allow' if allow else 'Disallow'}: {p}\n" for allow, p in rules)
    robots = RobotsTxt.parse(text)
    matching = [(len(p), allow) for allow, p in rules if _reference_regex(p).match(path)]
    expected = True if not matching else max(matching)[1]  # longest wins; (n, True) > (n, False): allow ties
    assert robots.is_allowed(path, "bot") is expected


@settings(max_examples=100, deadline=None)
@given(text=st.binary(max_size=2000))
def test_any_bytes_parse_without_error(text: bytes) -> None:
    robots = RobotsTxt.parse(text)
    robots.is_allowed("/x", "bot")
    assert path_of("/x") == "/x"


def test_hostile_wildcard_patterns_match_in_linear_time() -> None:
    import time

    robots = RobotsTxt.parse(
        b"User-agent: *\nDisallow: /*a*a*a*a*a*a*a*a*a*a*a*a*b\nDisallow: /*a*a*a*a*a*a*a*c$\n"
    )
    start = time.perf_counter()
    assert robots.is_allowed("/" + "a" * 5000, "bot")
    assert not robots.is_allowed("/" + "a" * 5000 + "b", "bot")
    assert not robots.is_allowed("/" + "a" * 5000 + "c", "bot")
    assert time.perf_counter() - start < 1.0
