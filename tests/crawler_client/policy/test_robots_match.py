"""robots.txt patterns: one percent-encoding for rule and URL, and the rule index against a plain
one-rule-at-a-time reference (the index must never change a decision, only its cost)."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler_client.signals.robots import RobotsTxt
from crawler_client.signals.robots_match import (
    PathRule,
    RuleIndex,
    normalise_path,
    normalise_pattern,
    path_of,
)

# ------------------------------------------------------------------ percent-encoding, both ways

_ASCII_TO_ENCODE = ["|", '"', "<", ">", "{", "}", "^", "`", " ", "\\"]


@pytest.mark.parametrize("char", _ASCII_TO_ENCODE)
def test_ascii_outside_the_uri_set_is_encoded_alike_in_rule_and_url(char: str) -> None:
    escaped = f"%{ord(char):02X}"
    for rule, url in [(char, escaped), (escaped, char), (char, char), (escaped, escaped.lower())]:
        robots = RobotsTxt.parse(f"User-agent: *\nDisallow: /a{rule}b\n".encode())
        assert not robots.is_allowed(f"https://e.example/a{url}b/c", "bot"), (rule, url)
    assert normalise_path(f"/a{char}b") == normalise_path(f"/a{escaped.lower()}b") == f"/a{escaped}b"


@pytest.mark.parametrize(
    ("rule", "url"),
    [
        ("/%7Ejoe/", "/~joe/"),  # unreserved escapes are decoded on both sides
        ("/~joe/", "/%7ejoe/"),
        ("/%41%42c", "/ABc"),
        ("/a%3cd", "/a%3Cd"),  # hex case
        ("/a%3Cd", "/a<d"),
        ("/ü", "/%C3%BC"),
        ("/%c3%bc", "/ü"),
        ("/q?a=%7C", "/q?a=|"),
    ],
)
def test_rule_and_url_differing_only_in_encoding_match_both_ways(rule: str, url: str) -> None:
    for pattern, path in [(rule, url), (url, rule)]:
        robots = RobotsTxt.parse(f"User-agent: *\nDisallow: {pattern}\n".encode())
        assert not robots.is_allowed("https://e.example" + path + "-tail", "bot"), (pattern, path)


def test_reserved_escapes_stay_distinct_from_their_characters() -> None:
    robots = RobotsTxt.parse(b"User-agent: *\nDisallow: /a%2Fb\n")
    assert not robots.is_allowed("/a%2fb", "bot")
    assert robots.is_allowed("/a/b", "bot")


def test_dollar_inside_a_pattern_is_a_literal() -> None:
    robots = RobotsTxt.parse(b"User-agent: *\nDisallow: /price$/list\nDisallow: /a*b$c\n")
    assert normalise_pattern("/price$/list") == "/price%24/list"
    assert not robots.is_allowed("/price$/list/1", "bot")
    assert not robots.is_allowed("/price%24/list/1", "bot")
    assert robots.is_allowed("/price/list", "bot")
    assert not robots.is_allowed("/axxb$cd", "bot")
    assert robots.is_allowed("/axxbc", "bot")


def test_path_of_takes_path_and_query_and_drops_the_fragment() -> None:
    assert path_of("https://user@e.example:8080/a;p?q=1#frag") == "/a;p?q=1"
    assert path_of("https://e.example") == "/"
    assert path_of("https://e.example?x") == "/?x"
    assert path_of("/a b#c") == "/a%20b"
    assert path_of("e.example/a") == "/e.example/a"


# ------------------------------------------------------------------ the index against a reference


def _reference(rules: list[PathRule], path: str) -> PathRule | None:
    """RFC 9309 2.2.2 and 2.2.3 read literally: every rule tried; the longest wins, allow on a tie."""
    best: PathRule | None = None
    for rule in rules:
        anchored = rule.pattern.endswith("$")
        body = rule.pattern[:-1] if anchored else rule.pattern
        regex = "".join(".*" if c == "*" else re.escape(c) for c in body) + (r"\Z" if anchored else "")
        if re.match(regex, path, re.DOTALL) is None:
            continue
        if best is None or (rule.length, rule.value == "allow") > (best.length, best.value == "allow"):
            best = rule
    return best


def _decision(rule: PathRule | None) -> tuple[int, bool]:
    return (-1, True) if rule is None else (rule.length, rule.value == "allow")


_piece = st.sampled_from(["a", "b", "ab", "ba", "/", ".", "x.y", "/a/", "%2A", "?q=", "aa"])
_pattern = st.builds(
    lambda pieces, stars, anchor: (
        "/" + "".join(p + ("*" if s else "") for p, s in zip(pieces, stars, strict=False)) + anchor
    ),
    st.lists(_piece, min_size=0, max_size=5),
    st.lists(st.booleans(), min_size=5, max_size=5),
    st.sampled_from(["", "", "$"]),
)
_path = st.builds(lambda pieces: "/" + "".join(pieces), st.lists(_piece, max_size=8))


@settings(max_examples=300, deadline=None)
@given(
    rules=st.lists(st.tuples(st.booleans(), _pattern), max_size=60),
    paths=st.lists(_path, min_size=1, max_size=8),
)
def test_index_picks_the_same_rule_as_trying_every_rule(
    rules: list[tuple[bool, str]], paths: list[str]
) -> None:
    """Up to 60 rules, so both index paths run: a plain scan (< 16 wildcards) and the automaton."""
    parsed = [
        PathRule(normalise_pattern(p), "allow" if allow else "disallow", n)
        for n, (allow, p) in enumerate(rules)
    ]
    index = RuleIndex(parsed)
    for path in paths:
        assert _decision(index.winner(path)) == _decision(_reference(parsed, path)), path


def test_index_agrees_with_the_reference_on_a_large_generated_file() -> None:
    rng = random.Random(9309)
    words = ["img", "static", "blog", "2024", "private", "api", "a", "b", "tag", "x.pdf", "x.gif"]

    def piece() -> str:
        return "/".join(rng.choice(words) for _ in range(rng.randint(1, 3)))

    lines = ["User-agent: *"]
    for i in range(400):
        kind = rng.random()
        pattern = "/" + piece()
        if kind < 0.3:
            pattern = "/*" + piece() + ("$" if rng.random() < 0.3 else "")
        elif kind < 0.5:
            pattern += "/*" + piece()
        elif kind < 0.55:
            pattern += "$"
        lines.append(f"{'Allow' if i % 3 == 0 else 'Disallow'}: {pattern}")
    group = RobotsTxt.parse("\n".join(lines)).group_for("bot")
    assert group is not None and len(group.rules) == 400
    for _ in range(300):
        path = "/" + piece() + rng.choice(["", "/", "/" + piece(), ".gif"])
        assert _decision(group.winner(path)) == _decision(_reference(group.rules, path)), path
