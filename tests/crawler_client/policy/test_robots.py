"""robots.txt against RFC 9309: its own examples, precedence rules and malformed input."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler_client.signals.robots import (
    MAX_BYTES,
    PathRule,
    RobotsTxt,
    normalise_path,
    path_of,
    product_token,
)

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
    assert not robots.is_allowed("/nocolon", "bot")  # a missing colon is read as Google reads it
    assert robots.ignored_lines == 4
    assert robots.unknown_records == 2  # "Foo: bar" and "\0\xff\xfe junk" (two words, as Google counts)


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


def test_hostile_wildcard_patterns_are_matched_without_backtracking() -> None:
    """Each wildcard piece is found once, leftmost, so `/*a*a*…*b` cannot go exponential (a
    regression would hang here rather than fail; no timing is asserted)."""
    robots = RobotsTxt.parse(
        b"User-agent: *\nDisallow: /*a*a*a*a*a*a*a*a*a*a*a*a*b\nDisallow: /*a*a*a*a*a*a*a*c$\n"
    )
    assert robots.is_allowed("/" + "a" * 5000, "bot")
    assert not robots.is_allowed("/" + "a" * 5000 + "b", "bot")
    assert not robots.is_allowed("/" + "a" * 5000 + "c", "bot")


# ------------------------------------------------------------------ defects found by the published suites


def test_the_500_kib_cut_drops_the_line_it_splits() -> None:
    head, cut = b"User-agent: *\nDisallow: /\n", b"Allow: /p"
    body = head + b"#" * (MAX_BYTES - len(head) - len(cut) - 1) + b"\n" + b"Allow: /public/\n"
    assert body[:MAX_BYTES].endswith(b"\n" + cut)  # the limit falls inside the last line
    robots = RobotsTxt.parse(body)
    assert robots.truncated
    assert not robots.is_allowed("/private/x", "bot")  # "Allow: /p" would have allowed it
    assert not robots.is_allowed("/public/x", "bot")  # past the limit: never read


def test_a_line_ending_exactly_at_the_cut_is_kept() -> None:
    head, tail = b"User-agent: *\nDisallow: /\n", b"Allow: /public/\n"
    body = head + b"#" * (MAX_BYTES - len(head) - len(tail) - 1) + b"\n" + tail + b"Disallow: /late\n"
    assert body[:MAX_BYTES].endswith(tail)
    robots = RobotsTxt.parse(body)
    assert robots.truncated and robots.is_allowed("/public/x", "bot")
    assert robots.match("/late", "bot").rule == PathRule("/", "disallow", 2)  # "/late" is past the limit


@pytest.mark.parametrize(
    ("user_agent", "token"),
    [
        ("AI2Bot-Dolma", "AI2Bot-Dolma"),
        ("MJ12bot/v1.4.8 (http://mj12bot.com/)", "MJ12bot"),
        ("360Spider", "360Spider"),
        ("Mozilla/5.0 (compatible; GPTBot/1.1; +https://openai.com/gptbot)", "GPTBot"),
        (
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claude@example)",
            "ClaudeBot",
        ),
        ("Mail.RU_Bot/2.0", "Mail.RU_Bot"),
        ("Jävla-Foobot", "Jävla-Foobot"),
        ("foo*bot", "foobot"),
        ("Foo Bar", "Foo"),
        ("", ""),
    ],
)
def test_product_tokens_keep_digits_and_letters(user_agent: str, token: str) -> None:
    assert product_token(user_agent) == token


def test_groups_of_tokens_with_digits_are_their_own() -> None:
    text = (
        b"User-agent: AI2Bot\nDisallow: /a\n\nUser-agent: AI2Bot-Dolma\nDisallow: /dolma\n\n"
        b"User-agent: 360Spider\nDisallow: /\n\nUser-agent: MJ12bot\nDisallow: /mj\n"
    )
    robots = RobotsTxt.parse(text)
    assert not robots.is_allowed("/dolma", "AI2Bot-Dolma") and robots.is_allowed("/a", "AI2Bot-Dolma")
    assert not robots.is_allowed("/a", "AI2Bot/1.0") and robots.is_allowed("/dolma", "AI2Bot")
    assert not robots.is_allowed("/x", "360Spider")
    assert not robots.is_allowed("/mj", "MJ12bot/v1.4.8") and robots.is_allowed("/x", "MJ12bot")
    assert sorted(robots.group_for("AI2Bot-Dolma").agents) == ["ai2bot-dolma"]  # type: ignore[union-attr]


def test_a_full_user_agent_header_is_matched_by_its_compatible_token() -> None:
    robots = RobotsTxt.parse(b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    assert not robots.is_allowed(
        "/x", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.1)"
    )
    assert robots.is_allowed("/x", "Mozilla/5.0 (Windows NT 10.0) Chrome/120")


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b"\xef\xbb", b"\xef"])
def test_a_whole_or_partial_byte_order_mark_is_skipped(bom: bytes) -> None:
    robots = RobotsTxt.parse(bom + b"User-agent: bot\nDisallow: /x\n")
    assert not robots.is_allowed("/x", "bot")
    assert robots.unknown_records == 0 and robots.directives == 2


@pytest.mark.parametrize(
    "line",
    [
        "Dissallow: /x",
        "dissallow: /x",
        "disalow: /x",
        "DISSALOW: /x",
        "Diasllow: /x",
        "Disallaw: /x",
        "Disallow /x",
    ],
)
def test_frequent_disallow_typos_are_read(line: str) -> None:
    robots = RobotsTxt.parse(f"User-agent: bot\n{line}\n".encode())
    assert not robots.is_allowed("/x/y", "bot")
    assert robots.is_allowed("/y", "bot")


@pytest.mark.parametrize("line", ["useragent: bot", "user agent: bot", "User-agent bot", "USERAGENT bot"])
def test_frequent_user_agent_typos_are_read(line: str) -> None:
    assert not RobotsTxt.parse(f"{line}\nDisallow: /\n".encode()).is_allowed("/x", "bot")


def test_not_every_unknown_word_is_a_record() -> None:
    robots = RobotsTxt.parse(b"User-agent: bot\nDisallowed /x\nAllowance: /y\nNo colon here at all\n")
    assert robots.is_allowed("/x", "bot") and robots.directives == 1
    assert robots.unknown_records == 2  # "Disallowed /x" and "Allowance: /y" have a key; the last has none


# ------------------------------------------------------------------ records beside the rules


def test_sitemaps_and_licenses_anywhere_in_the_file_as_written() -> None:
    text = (
        b"Sitemap: https://e.example/a.xml\nLicense: https://e.example/license.xml\n"
        b"User-agent: bot\nSitemap: https://e.example/b.xml\nLicense: /relative.xml\nUser-agent: other\n"
        b"Disallow: /\nLicense: https://rsl.example/L?id=1\nsite-map: https://e.example/c.xml\n"
    )
    robots = RobotsTxt.parse(text)
    assert robots.sitemaps == (
        "https://e.example/a.xml",
        "https://e.example/b.xml",
        "https://e.example/c.xml",
    )
    assert robots.licenses == ("https://e.example/license.xml", "https://rsl.example/L?id=1")
    assert not robots.is_allowed("/x", "bot")  # neither record ends the group "bot, other"
    assert RobotsTxt.unreachable("x").licenses == () and RobotsTxt.unavailable("x").sitemaps == ()


def test_crawl_delay_and_request_rate_follow_the_agent_lines_above_them() -> None:
    text = (
        b"User-agent: a\nCrawl-delay: 5\nRequest-rate: 1/10s\nUser-agent: b\nRequest-rate: 100/15m\n"
        b"Disallow: /private\n\nUser-agent: *\nCrawl-delay: 1.5\nRequest-rate: 3/1m 0600-0845\n"
        b"Request-rate: 2/1h\n\nUser-agent: c\nRequest-rate: nonsense\nCrawl-delay: -1\n"
    )
    robots = RobotsTxt.parse(text)
    assert robots.crawl_delay("a") == 5.0 and robots.request_rate("a") == (1, 10.0)
    assert robots.crawl_delay("b") is None and robots.request_rate("b") == (100, 900.0)
    assert not robots.is_allowed("/private", "a") and not robots.is_allowed("/private", "b")  # one group
    assert robots.crawl_delay("other") == 1.5 and robots.request_rate("other") == (2, 3600.0)  # strictest
    assert robots.request_rate("c") is None and robots.crawl_delay("c") is None
    assert robots.ignored_lines == 2


def test_a_larger_limit_reads_the_whole_file() -> None:
    body = b"User-agent: *\n" + b"#" * MAX_BYTES + b"\nDisallow: /late\n"
    assert RobotsTxt.parse(body).is_allowed("/late", "bot")
    whole = RobotsTxt.parse(body, limit=None)
    assert not whole.truncated and not whole.is_allowed("/late", "bot")


def test_crawlers_falling_back_to_star_share_one_compiled_group() -> None:
    robots = RobotsTxt.parse(b"User-agent: *\nDisallow: /x\n\nUser-agent: GPTBot\nDisallow: /\n")
    assert robots.group_for("ExampleBot/1.0") is robots.group_for("OtherBot")
    assert robots.group_for("GPTBot/1.1") is robots.group_for("Mozilla/5.0 (compatible; GPTBot/1.2)")
