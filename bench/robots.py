"""robots.txt decisions: Kotowari's RFC 9309 parser beside `protego` and `urllib.robotparser`, on the
same files and URLs in one run (machines here are noisy: compare the ratios, not the seconds).

    python bench/robots.py [--sizes 2000,25000,100000] [--urls 4000] [--budget 2.0] [--seed 7]

Three parts:

1. Correctness, hand-written: cases with the answer RFC 9309 requires (the section is named), run
   through all three parsers; every disagreement with the RFC is listed.
2. Correctness, published: the `allowed` cases ported from google/robotstxt's robots_test.cc and
   protego's test_protego.py (tests/crawler_client/policy/data/), counted per parser against the
   upstream expectation (Kotowari's marked deviations count as misses here).
3. Throughput on large generated files: for each size, one literal-heavy file (plain path prefixes)
   and one wildcard-heavy file (`*` and `$` in most rules), one `*` group of that many rules plus a
   few named groups. Each parser parses the file once, then decides the same URLs (half built to hit
   a rule) for up to `--budget` seconds. Decisions per second, Kotowari's ratio to each, and how
   often the answers agree. The larger files pass RFC 9309's 500 KiB: Kotowari reads them whole
   here (`limit=None`), as the others do, so all decide on the same rules; the rate includes the
   compiling of the group's rules, which Kotowari does at its first decision. urllib.robotparser
   knows no wildcards: it is run on the literal files only, and at most 400 URLs (it tries every
   rule per URL).

Bounded: no network; about a minute at the defaults. Needs `protego` (the `dev` extra).
"""

from __future__ import annotations

import argparse
import json
import random
import re
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
DATA = Path(__file__).resolve().parent.parent / "tests" / "crawler_client" / "policy" / "data"
REPEAT = re.compile(r"\{(.)\*(\d+)\}")

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
    (
        "unknown record keeps the group",
        "2.2.4",
        "User-agent: a\nFoo: x\nUser-agent: Bot\nDisallow: /",
        "a",
        "/x",
        False,
    ),
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
    robots = RobotsTxt.parse(text.encode(), limit=None)  # the whole file, as the others read it
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


def suites() -> list[tuple[str, int, dict[str, int]]]:
    """(suite, cases, passes per parser) for the `allowed` cases of the ported suites."""
    rows = []
    for file, label, keep in [
        ("google_robotstxt.json", "google/robotstxt ID_*", lambda c: c["suite"] == "ID"),
        ("google_robotstxt.json", "google/robotstxt GoogleOnly_*", lambda c: c["suite"] == "google-only"),
        ("protego.json", "protego test_protego.py", lambda c: True),
    ]:
        document = json.loads((DATA / file).read_text(encoding="utf-8"))
        cases = [c for c in document["cases"] if c["kind"] == "allowed" and keep(c)]
        passes = dict.fromkeys(PARSERS, 0)
        for case in cases:
            body, url = document["robots"][case["robots"]], case["url"]
            if case.get("expand"):  # the 16 KiB lines, written as {c*n}
                body, url = (REPEAT.sub(lambda m: m.group(1) * int(m.group(2)), s) for s in (body, url))
            if case.get("encoding") == "latin-1":
                body = body.encode("latin-1").decode("utf-8", "replace")
            for parser, build in PARSERS.items():
                try:
                    got = build(body)(url, case["agent"])
                except Exception:
                    continue
                passes[parser] += got == case["expected"]
        rows.append((label, len(cases), passes))
    return rows


WORDS = ["img", "static", "blog", "news", "private", "api", "search", "user", "tag", "page", "docs", "media"]
EXTS = ["gif", "jpg", "pdf", "html", "png"]


def generated(rules: int, wildcard: bool, urls: int, seed: int) -> tuple[str, list[str]]:
    """A robots.txt of `rules` rules in the `*` group (distinct, by a number in each), and URLs."""
    rng = random.Random(seed * 1_000_003 + rules + wildcard)
    lines = ["User-agent: *"]
    patterns = []
    for i in range(rules):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        kind = rng.randrange(6) if wildcard and rng.random() < 0.8 else 6 + rng.randrange(3)
        pattern = [
            f"/{a}/*/{b}-{i}",
            f"/*/{a}-{i}.{rng.choice(EXTS)}$",
            f"/{a}/*.{rng.choice(EXTS)}?{b}={i}",
            f"/*{a}{i}*",
            f"/{a}-{i}/*",
            f"/*/{b}/{i}/*.{rng.choice(EXTS)}",
            f"/{a}/{b}/{i}",
            f"/{a}/{i}-{b}.html",
            f"/{a}?{b}={i}",
        ][kind]
        patterns.append(pattern)
        lines.append(f"{'Allow' if rng.random() < 0.2 else 'Disallow'}: {pattern}")
    for bot in ("GPTBot", "CCBot", "ClaudeBot", "Google-Extended", "Bytespider"):
        lines += ["", f"User-agent: {bot}", "Disallow: /"]
    text = "\n".join(lines) + "\n"
    paths = []
    for _ in range(urls):
        if rng.random() < 0.5:  # near a rule: its pattern with the wildcards filled in
            path = rng.choice(patterns).rstrip("$").replace("*", rng.choice(WORDS), 1).replace("*", "x")
            path += rng.choice(["", "", "/more", "?q=1"])
        else:
            path = "/" + "/".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
            path += rng.choice(["", f"/{rng.randrange(rules)}", f".{rng.choice(EXTS)}", "?q=x"])
        paths.append(BASE + path)
    return text, paths


def measure(decide: Decide, urls: list[str], budget: float) -> tuple[float, list[bool]]:
    """Decisions per second over the URLs, stopping after `budget` seconds (at least 20 URLs)."""
    decisions: list[bool] = []
    start = time.perf_counter()
    for i, url in enumerate(urls):
        decisions.append(decide(url, "ExampleBot"))
        if i >= 19 and i % 10 == 0 and time.perf_counter() - start > budget:
            break
    return len(decisions) / (time.perf_counter() - start), decisions


def throughput(sizes: list[int], urls: int, budget: float, seed: int) -> None:
    print(f"\nThroughput: decisions per second after one parse (up to {budget:g} s of {urls} URLs each)")
    print(f"  {'file':<28} {'parser':<20} {'parse s':>8} {'decisions/s':>12} {'kotowari ×':>11} {'same':>12}")
    for size in sizes:
        for wildcard in (False, True):
            text, paths = generated(size, wildcard, urls, seed)
            label = f"{size:,} {'wildcard' if wildcard else 'literal'} ({len(text) // 1024:,} KiB)"
            results: dict[str, tuple[float, float, list[bool]]] = {}
            for name, build in PARSERS.items():
                if name == "urllib.robotparser" and wildcard:
                    continue
                start = time.perf_counter()
                decide = build(text)
                parse = time.perf_counter() - start
                rate, decisions = measure(
                    decide, paths[:400] if name == "urllib.robotparser" else paths, budget
                )
                results[name] = (parse, rate, decisions)
            ours = results["kotowari"]
            for name, (parse, rate, decisions) in results.items():
                n = min(len(decisions), len(ours[2]))
                same = sum(a == b for a, b in zip(decisions[:n], ours[2][:n], strict=True)) / n
                ratio = "" if name == "kotowari" else f"{ours[1] / rate:>10.2f}×"
                print(f"  {label:<28} {name:<20} {parse:>8.2f} {rate:>12,.0f} {ratio:>11} {same:>11.1%}")
                label = ""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="2000,25000,100000", help="rule counts, comma-separated")
    parser.add_argument("--urls", type=int, default=4000)
    parser.add_argument("--budget", type=float, default=2.0, help="seconds of decisions per parser and file")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    print(f"Correctness: {len(CASES)} RFC 9309 cases")
    for name, problems in correctness().items():
        print(f"  {name:<20} {len(CASES) - len(problems):>2}/{len(CASES)} agree with RFC 9309")
        for problem in problems:
            print(f"      - {problem}")

    print("\nPublished suites: `allowed` cases agreeing with the upstream expectation")
    for label, total, passes in suites():
        counts = "  ".join(f"{name} {count}/{total}" for name, count in passes.items())
        print(f"  {label:<32} {counts}")

    throughput([int(s) for s in args.sizes.split(",")], args.urls, args.budget, args.seed)


if __name__ == "__main__":
    main()
