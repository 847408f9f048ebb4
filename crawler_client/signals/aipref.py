"""IETF aipref: usage preferences in the `Content-Usage` header and the robots.txt rule.

The vocabulary draft (draft-ietf-aipref-vocab) serialises preferences as a Structured Fields
Dictionary whose keys are category labels and whose values are the Tokens `y` or `n`:

- A parse failure makes every preference unknown (not "allowed"): vocab, "Processing Algorithm".
- Anything that is not the Token `y` or `n` — a string `"n"`, a bare key (`true`), another
  token — is unknown for that category; unknown labels and all parameters are ignored.
- Duplicate keys: the last one wins (that is the Dictionary algorithm).

Mapping onto Kotowari's uses (DESIGN.md): `train-ai` → train-ai; `train-genai` (a label of
earlier drafts, still accepted) → train-genai; `ai-use` → ai-input; `search` → search. No aipref
label expresses `generate`, so it stays unknown. `train-genai` inherits `train-ai`.

The robots.txt rule (draft-ietf-aipref-attach) is `Content-Usage: <path> <preferences>` inside a
group; `crawler_client.signals.robots` keeps these rules, and `from_robots` picks those with the
longest matching path and combines tied ones with `n` winning. Preferences apply only to paths the
crawler may fetch.

>>> from_header(["train-ai=n"]).uses["train-genai"]
'n'
>>> from_header(['train-ai="n"']).uses["train-ai"]
'unknown'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from crawler_client.signals import Decision, Stage, Use, Verdict, combine_uses, stated, unknown
from crawler_client.signals.robots import RobotsTxt
from crawler_client.signals.sfv import ParseError, Token, parse_dictionary

__all__ = ["LABELS", "from_header", "from_robots", "parse_preferences"]

#: aipref category label → Kotowari use.
LABELS: Final[Mapping[str, Use]] = {
    "train-ai": "train-ai",
    "train-genai": "train-genai",
    "ai-use": "ai-input",
    "search": "search",
}


def parse_preferences(expression: str | bytes) -> tuple[dict[Use, Decision], str]:
    """Preferences of one expression and a note; a parse failure gives all-unknown and says why."""
    try:
        dictionary = parse_dictionary(expression)
    except ParseError as exc:
        return unknown(), f"not a Structured Fields dictionary ({exc}): every preference unknown"
    values: dict[str, str] = {}
    for label, use in LABELS.items():
        if label in dictionary:
            value = dictionary[label][0]
            if isinstance(value, Token) and value in ("y", "n"):
                values[use] = str(value)
    shown = ", ".join(f"{label}={values[use]}" for label, use in LABELS.items() if use in values)
    return stated(values), shown or "no known category with a y/n token"


def from_header(lines: Sequence[str], *, location: str = "Content-Usage header") -> Verdict:
    """The `Content-Usage` field of a response: all its field lines, joined as RFC 9110 says."""
    if not lines:
        return Verdict("aipref Content-Usage header", location, "post-fetch", unknown(), "absent")
    uses, note = parse_preferences(", ".join(lines))
    return Verdict("aipref Content-Usage header", location, "post-fetch", uses, f"Content-Usage: {note}")


def from_robots(robots: RobotsTxt, url: str, user_agent: str, *, location: str) -> Verdict:
    """The robots.txt `Content-Usage` rules that apply to `url` for this crawler."""
    stage: Stage = "pre-fetch"
    rules = robots.usage_rules(url, user_agent, "content_usage")
    if not rules:
        return Verdict("aipref Content-Usage in robots.txt", location, stage, unknown(), "no rule applies")
    parts = []
    notes = []
    for rule in rules:
        uses, note = parse_preferences(rule.value)
        parts.append(uses)
        notes.append(f"line {rule.line} {rule.pattern}: {note}")
    return Verdict(
        "aipref Content-Usage in robots.txt", location, stage, combine_uses(parts), "; ".join(notes)
    )
