"""Cloudflare Content Signals: `Content-Signal:` lines inside robots.txt groups.

The Content Signals Policy (contentsignals.org, CC0) defines three signals with `yes`/`no`
values, written as a comma-separated list: `Content-Signal: search=yes, ai-train=no`. A signal
that is absent grants nothing and restricts nothing. An optional leading path (as in the aipref
robots.txt rule) scopes a line; without one it covers the whole site. Lines in the group selected
for the crawler apply; among them the longest matching path wins and tied lines combine with
`no` winning.

Mapping (DESIGN.md): `search` → search, `ai-input` → ai-input, `ai-train` → train-ai (and so
train-genai). Values other than `yes`/`no` (matched case-insensitively) are unknown and reported.

>>> parse_signals("search=yes, ai-train=no")[0]["train-genai"]
'n'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from crawler_client.signals import Decision, Use, Verdict, combine_uses, stated, unknown
from crawler_client.signals.robots import RobotsTxt

__all__ = ["SIGNALS", "from_robots", "parse_signals"]

SIGNALS: Final[Mapping[str, Use]] = {"search": "search", "ai-input": "ai-input", "ai-train": "train-ai"}


def parse_signals(text: str) -> tuple[dict[Use, Decision], str]:
    values: dict[str, str] = {}
    odd: list[str] = []
    for part in text.split(","):
        name, equals, value = part.partition("=")
        name, value = name.strip().lower(), value.strip().lower()
        if not name:
            continue
        if name not in SIGNALS:
            odd.append(f"unknown signal {name!r} ignored")
            continue
        if not equals or value not in ("yes", "no"):
            odd.append(f"{name}: value {value!r} is not yes/no")
            continue
        values[SIGNALS[name]] = "y" if value == "yes" else "n"
    shown = ", ".join(
        f"{name}={'yes' if values[use] == 'y' else 'no'}" for name, use in SIGNALS.items() if use in values
    )
    return stated(values), "; ".join([shown or "no signal", *odd])


def from_robots(robots: RobotsTxt, url: str, user_agent: str, *, location: str) -> Verdict:
    rules = robots.usage_rules(url, user_agent, "content_signal")
    if not rules:
        return Verdict(
            "Content-Signal in robots.txt", location, "pre-fetch", unknown(), "no Content-Signal line applies"
        )
    parts, notes = [], []
    for rule in rules:
        uses, note = parse_signals(rule.value)
        parts.append(uses)
        notes.append(f"line {rule.line}: {note}")
    return Verdict(
        "Content-Signal in robots.txt", location, "pre-fetch", combine_uses(parts), "; ".join(notes)
    )
