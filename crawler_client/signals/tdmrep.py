"""W3C TDM Reservation Protocol (TDMRep, Final Community Group Report).

Three places hold the two TDM properties, `tdm-reservation` (0: not reserved, 1: reserved) and
`tdm-policy` (a URL where a licence can be sought):

1. `/.well-known/tdmrep.json` on the origin: a JSON array of rules `{"location": pattern,
   "tdm-reservation": 0|1, "tdm-policy": url}`. The pattern uses robots.txt syntax (`*`, a final
   `$`), matched case-sensitively against the path; the first rule that matches is the one used.
2. The `tdm-reservation` / `tdm-policy` response header fields.
3. `<meta name="tdm-reservation" content="1">` (and `tdm-policy`) in an HTML head.

Precedence, as the issue fixes it after the spec: the file is overridden by the headers, and the
headers by the HTML. A value other than `0`/`1` is a protocol error and counts as *unset*, never
as "not reserved" — so it cannot override a reservation made at a lower level.

A missing file (any non-2xx answer or no answer) means the origin does not implement the
protocol: unset. An unparsable file is reported and also unset (the spec names no other outcome).

Mapping onto Kotowari's uses: a TDM reservation covers every automated analysis for AI —
`train-ai`, `train-genai`, `ai-input` and `generate` — and says nothing about `search`, which
classic indexing is not counted as (a deliberate, documented reading).

>>> rules = parse_file(b'[{"location": "/", "tdm-reservation": 1}]')
>>> for_url(rules, "https://example.com/a").reservation
1
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from crawler_client.signals import Decision, Stage, Use, Verdict, unknown
from crawler_client.signals.html import meta_tags
from crawler_client.signals.robots import PathRule, normalise_path, path_of

__all__ = [
    "AI_USES",
    "MAX_BYTES",
    "Declaration",
    "TDMFile",
    "for_url",
    "from_headers",
    "from_html",
    "parse_file",
    "resolve",
]

MAX_BYTES: Final = 1024 * 1024
AI_USES: Final[tuple[Use, ...]] = ("train-ai", "train-genai", "ai-input", "generate")


@dataclass(frozen=True)
class Declaration:
    """One level's TDM properties: reservation 0, 1 or None (unset), with the reason."""

    reservation: int | None
    policy: str | None
    reason: str

    def uses(self) -> dict[Use, Decision]:
        result = unknown()
        if self.reservation is not None:
            for use in AI_USES:
                result[use] = "n" if self.reservation == 1 else "y"
        return result


@dataclass(frozen=True)
class TDMFile:
    """A parsed tdmrep.json: its rules in order, or why there are none."""

    rules: tuple[tuple[PathRule, Declaration], ...]
    problem: str | None = None


def _reservation(value: object, where: str) -> tuple[int | None, str]:
    # JSON uses integers; headers and meta carry text. Booleans are not integers here.
    if isinstance(value, bool):
        return None, f"{where}: {value!r} is not 0 or 1: unset"
    if isinstance(value, int) and value in (0, 1):
        return value, ""
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return int(value.strip()), ""
    if value is None:
        return None, f"{where}: absent"
    return None, f"{where}: {value!r} is not 0 or 1: unset"


def parse_file(body: bytes) -> TDMFile:
    """Parse tdmrep.json; invalid JSON or shape gives no rules and says why."""
    if len(body) > MAX_BYTES:
        return TDMFile((), f"tdmrep.json larger than {MAX_BYTES} bytes: ignored")
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return TDMFile((), f"tdmrep.json is not valid JSON ({type(exc).__name__}): unset")
    if not isinstance(data, list):
        return TDMFile((), "tdmrep.json is not a JSON array: unset")
    rules: list[tuple[PathRule, Declaration]] = []
    for index, rule in enumerate(data):
        if not isinstance(rule, dict) or not isinstance(rule.get("location"), str):
            continue
        location: str = rule["location"]
        if not location.startswith(("/", "*")):
            location = "/" + location
        reservation, note = _reservation(rule.get("tdm-reservation"), f"rule {index} tdm-reservation")
        policy = rule.get("tdm-policy")
        declaration = Declaration(
            reservation,
            policy if isinstance(policy, str) else None,
            note or f"rule {index} ({rule['location']}): tdm-reservation={reservation}",
        )
        rules.append((PathRule(normalise_path(location), "tdm", index), declaration))
    return TDMFile(tuple(rules), None if rules else "tdmrep.json holds no usable rule")


def for_url(file: TDMFile, url: str) -> Declaration:
    """The first rule whose location matches the URL's path (TDMRep: first match wins)."""
    if file.problem and not file.rules:
        return Declaration(None, None, file.problem)
    path = path_of(url)
    for pattern, declaration in file.rules:
        if pattern.matches(path):
            return declaration
    return Declaration(None, None, "no tdmrep.json rule matches this path")


def from_headers(reservation: Sequence[str], policy: Sequence[str]) -> Declaration:
    """The `tdm-reservation` / `tdm-policy` header fields (every field line considered)."""
    if not reservation:
        return Declaration(None, None, "no tdm-reservation header")
    values = {value.strip() for line in reservation for value in line.split(",")}
    if len(values) != 1:
        return Declaration(None, None, f"conflicting tdm-reservation headers {sorted(values)}: unset")
    value, note = _reservation(values.pop(), "tdm-reservation header")
    return Declaration(value, policy[0].strip() if policy else None, note or f"tdm-reservation: {value}")


def from_html(body: bytes, content_type: str) -> Declaration:
    """`<meta name="tdm-reservation">` in an HTML head (the first one counts)."""
    tags = meta_tags(body, content_type)
    found = [content for name, content in tags if name == "tdm-reservation"]
    policies = [content for name, content in tags if name == "tdm-policy"]
    if not found:
        return Declaration(None, None, "no tdm-reservation meta tag")
    value, note = _reservation(found[0], "tdm-reservation meta")
    return Declaration(value, policies[0] if policies else None, note or f"<meta tdm-reservation={value}>")


def resolve(levels: Sequence[tuple[str, Declaration]], *, location: str, stage: Stage) -> Verdict:
    """Apply TDMRep precedence: later levels (header over file, HTML over header) override earlier
    ones, but only with a valid value; unset levels are skipped."""
    chosen: tuple[str, Declaration] | None = None
    for name, declaration in levels:
        if declaration.reservation is not None:
            chosen = (name, declaration)
    notes = "; ".join(f"{name}: {d.reason}" for name, d in levels)
    if chosen is None:
        return Verdict("TDMRep", location, stage, unknown(), f"unset ({notes})")
    name, declaration = chosen
    policy = f", licence policy {declaration.policy}" if declaration.policy else ""
    state = "reserved" if declaration.reservation == 1 else "not reserved"
    return Verdict("TDMRep", location, stage, declaration.uses(), f"{state} by {name}{policy} ({notes})")
