"""robots.txt decisions: Kotowari's RFC 9309 parser beside `protego` and `urllib.robotparser`, on the
same rules and URLs in one run (machines here are noisy: compare the ratios, not the seconds).

    python bench/robots.py [--urls 20000] [--rules 300] [--parses 200] [--seed 7]

Two parts:

1. Correctness: hand-written cases, each with the answer RFC 9309 requires (the section is named),
   run through all three parsers; every case where a parser disagrees with the RFC is listed.
2. Throughput: one generated robots.txt (a `*` group of `--rules` literal and wildcard rules plus
   named groups) and `--urls` generated URLs, decided by each parser after one parse; and the
   parse time of that file. Kotowari's figure is printed as a ratio beside each baseline.

Bounded: no network, a few seconds at the defaults. Needs `protego` (the `dev` extra).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import urllib.robotparser
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler_client.signals.robots import RobotsTxt

try:
    from protego import Protego
except ImportError:  # pragma: no cover - the bench says how to get it
    sys.exit("bench/robots.py needs protego: pip install -e '.[dev]'")

Decide = Callable[[str, str], bool]
BASE = "https://example.com"

# (name, RFC 9309 section, robots.txt, crawler, path, allowed per the RFC)
CASES: list[tuple[str, str, str, str, str, bool]] = [
    (
        "longest match beats order",
        "2.2.2",
        "User-agent: *\nDisallow: /\nAllow: /public",
        "Bot",
        "/public/x",
        True,
    ),
    ("longer disallow wins", "2.2.2", "User-agent: *\nAllow: /a\nDisallow: /a/b", "Bot", "/a/b/c", False),
    ("allow wins a tie", "2.2.2", "User-agent: *\nDisallow: /same\nAllow: /same", "Bot", "/same", True),
    ("wildcard", "2.2.3", "User-agent: *\nDisallow: /*.gif$", "Bot", "/img/x.gif", False),
    ("$ anchors the end", "2.2.3", "User-agent: *\nDisallow: /*.gif$", "Bot", "/img/x.gif?size=2", True),
    ("wildcard in the middle", "2.2.3", "User-agent: *\nDisallow: /a/*/c", "Bot", "/a/b/b/c", False),
    ("query wildcard", "2.2.3", "User-agent: *\nDisallow: /*?", "Bot", "/page?x=1", False),
    ("query wildcard, no query", "2.2.3", "User-agent: *\nDisallow: /*?", "Bot", "/page", True),
    (
        "%-encoded rule, plain URL",
        "2.2.2",
        "User-agent: *\nDisallow: /foo/bar/%62%61%7A",
        "Bot",
        "/foo/bar/baz",
        False,
    ),
    ("UTF-8 rule, encoded URL", "2.2.2", "User-agent: *\nDisallow: /ツ", "Bot", "/%E3%83%84", False),
    (
        "encoded * matches literally",
        "2.2.3",
        "User-agent: *\nDisallow: /file-%2A.html",
        "Bot",
        "/file-*.html",
        False,
    ),
    (
        "named group excludes *",
        "2.2.1",
        "User-agent: *\nDisallow: /\n\nUser-agent: Bot\nAllow: /",
        "Bot",
        "/x",
        True,
    ),
    (
        "same-agent groups merge",
        "2.2.1",
        "User-agent: Bot\nDisallow: /a\n\nUser-agent: Bot\nDisallow: /b",
        "Bot",
        "/b",
        False,
    ),
    (
        "agent match is case-insensitive",
        "2.2.1",
        "User-agent: EXAMPLEBOT\nDisallow: /",
        "examplebot",
        "/x",
        False,
    ),
    ("agent is a token, not a substring", "2.2.1", "User-agent: bot\nDisallow: /", "ExampleBot", "/x", True),
    ("several agents, one group", "2.2.1", "User-agent: a\nUser-agent: Bot\nDisallow: /", "Bot", "/x", False),
    ("rules before any group", "2.1", "Disallow: /\nUser-agent: *\nAllow: /", "Bot", "/x", True),
    ("empty disallow", "2.2.2", "User-agent: *\nDisallow:", "Bot", "/x", True),
    ("robots.txt always allowed", "2.2.2", "User-agent: *\nDisallow: /", "Bot", "/robots.txt", True),
    ("garbage lines skipped", "2.2", "User-agent: *\nnonsense here\nDisallow: /x", "Bot", "/x/y", False),
    ("comment after rule", "2.2.3", "User-agent: * # all\nDisallow: /x # not /y", "Bot", "/y", True),
    (
        "crawler with version",
        "2.2.1",
        "User-agent: Bot\nDisallow: /",
        "Bot/2.1 (+https://e.example)",
        "/x",
        False,
    ),
]


def kotowari(text: str) -> Decide:
    robots = RobotsTxt.parse(text.encode())
    return lambda url, agent: robots.is_allowed(url, agent)


def protego(text: str) -> Decide:
    robots = Protego.parse(text)
    return lambda url, agent: bool(robots.can_fetch(url, agent))


def robotparser(text: str) -> Decide:
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(text.splitlines())
    return lambda url, agent: robots.can_fetch(agent, url)


PARSERS: dict[str, Callable[[str], Decide]] = {
    "kotowari": kotowari,
    "protego": protego,
    "urllib.robotparser": robotparser,
}


def correctness() -> dict[str, list[str]]:
    wrong: dict[str, list[str]] = {name: [] for name in PARSERS}
    for name, section, text, agent, path, expected in CASES:
        for parser, build in PARSERS.items():
            try:
                got = build(text)(BASE + path, agent)
            except Exception as exc:
                wrong[parser].append(f"{name} (RFC 9309 {section}): raised {type(exc).__name__}")
                continue
            if got != expected:
                verdict = "allowed" if got else "disallowed"
                wrong[parser].append(f"{name} (RFC 9309 {section}): {verdict}, the RFC says the opposite")
    return wrong


def generated(rules: int, urls: int, seed: int) -> tuple[str, list[str]]:
    rng = random.Random(seed)
    words = ["img", "static", "blog", "2024", "private", "api", "search", "user", "tag", "page", "docs", "a"]
    lines = ["User-agent: *"]
    for i in range(rules):
        depth = rng.randint(1, 4)
        path = "/" + "/".join(rng.choice(words) for _ in range(depth))
        kind = rng.random()
        if kind < 0.15:
            path = path + "/*." + rng.choice(["gif", "jpg", "pdf"]) + ("$" if rng.random() < 0.5 else "")
        elif kind < 0.25:
            path = "/*" + path
        elif kind < 0.3:
            path += "?"
        lines.append(f"{'Allow' if i % 4 == 0 else 'Disallow'}: {path}")
    for bot in ("GPTBot", "CCBot", "ClaudeBot", "Google-Extended", "Bytespider"):
        lines += ["", f"User-agent: {bot}", "Disallow: /"]
    text = "\n".join(lines) + "\n"
    paths = []
    for _ in range(urls):
        depth = rng.randint(1, 6)
        path = "/" + "/".join(rng.choice(words) for _ in range(depth))
        if rng.random() < 0.3:
            path += "." + rng.choice(["gif", "jpg", "pdf", "html"])
        if rng.random() < 0.2:
            path += "?q=" + rng.choice(words)
        paths.append(BASE + path)
    return text, paths


def throughput(text: str, urls: list[str], parses: int) -> dict[str, tuple[float, float, list[bool]]]:
    """Per parser: (decisions per second, parses per second, the decisions)."""
    results = {}
    agents = ["ExampleBot", "GPTBot"]
    for name, build in PARSERS.items():
        start = time.perf_counter()
        for _ in range(parses):
            build(text)
        parse_rate = parses / (time.perf_counter() - start)
        decide = build(text)
        decisions = []
        start = time.perf_counter()
        for i, url in enumerate(urls):
            decisions.append(decide(url, agents[i % 2]))
        rate = len(urls) / (time.perf_counter() - start)
        results[name] = (rate, parse_rate, decisions)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--urls", type=int, default=20_000)
    parser.add_argument("--rules", type=int, default=300)
    parser.add_argument("--parses", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    print(f"Correctness: {len(CASES)} RFC 9309 cases")
    for name, problems in correctness().items():
        print(f"  {name:<20} {len(CASES) - len(problems):>2}/{len(CASES)} agree with RFC 9309")
        for problem in problems:
            print(f"      - {problem}")

    text, urls = generated(args.rules, args.urls, args.seed)
    results = throughput(text, urls, args.parses)
    ours_rate, ours_parse, ours = results["kotowari"]
    print(
        f"\nThroughput: {len(urls)} URLs, one robots.txt of {len(text.splitlines())} lines "
        f"({len(text)} bytes)"
    )
    print(
        f"  {'parser':<20} {'decisions/s':>12} {'kotowari ×':>11} "
        f"{'parses/s':>10} {'kotowari ×':>11} {'same answer':>12}"
    )
    for name, (rate, parse_rate, decisions) in results.items():
        same = sum(a == b for a, b in zip(decisions, ours, strict=True)) / len(ours)
        print(
            f"  {name:<20} {rate:>12,.0f} {ours_rate / rate:>10.2f}× {parse_rate:>10,.0f} "
            f"{ours_parse / parse_rate:>10.2f}× {same:>11.1%}"
        )


if __name__ == "__main__":
    main()
