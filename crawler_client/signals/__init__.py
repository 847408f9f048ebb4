"""Opt-out signals, one module per specification, each a pure parser with its spec's own rules.

Every parser ends in the same shape, a `Verdict`: what the signal says about each use of
Kotowari's vocabulary (`train-ai`, `train-genai`, `ai-input`, `search`, `generate`), each `y`,
`n` or `unknown`, and a one-line reason a crawl log can show. `crawler_client.policy` combines
verdicts the way DESIGN.md says: any `n` gives `n`, otherwise any `y` gives `y`, else unknown.

| module | specification | read |
|---|---|---|
| `robots` | RFC 9309 | before the fetch |
| `aipref` | IETF aipref vocab + attach (Content-Usage header and robots.txt rule) | both |
| `content_signal` | Cloudflare Content Signals in robots.txt | before |
| `tdmrep` | W3C TDMRep (tdmrep.json, headers, HTML meta) | both |
| `aitxt` | Spawning ai.txt | before |
| `robots_tags` | X-Robots-Tag header, robots/UA `<meta>` (noai, noimageai) | after |
| `embedded` | C2PA/CAWG training-mining assertions, IPTC PLUS DataMining in XMP | after |
| `rsl` | RSL 1.0 licence documents (robots.txt `License:`, `Link` header, HTML `<link>`) | both |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from registry.vocabulary import USES, Decision, Use, combine, effective_uses

__all__ = ["USES", "Decision", "Stage", "Use", "Verdict", "combine_uses", "stated", "unknown"]

Stage = Literal["pre-fetch", "post-fetch"]


def unknown() -> dict[Use, Decision]:
    return dict.fromkeys(USES, "unknown")


def stated(values: Mapping[str, str]) -> dict[Use, Decision]:
    """Per-use decisions from explicit statements, `train-genai` inheriting from `train-ai`."""
    return effective_uses(values)


def combine_uses(parts: Iterable[Mapping[Use, Decision]]) -> dict[Use, Decision]:
    """Combine several statements use by use: any `n`, then any `y`, else unknown."""
    collected = list(parts)
    return {use: combine(part[use] for part in collected) for use in USES}


@dataclass(frozen=True)
class Verdict:
    """What one source said, and why.

    `fetch` is False only when the source forbids fetching the URL at all (a robots.txt
    disallow): then no use is possible, whatever `uses` says. `terms` holds structured detail a
    log or an auditor can read beside the reason (an RSL licence's URL and terms); None for most.
    """

    source: str
    location: str
    stage: Stage
    uses: Mapping[Use, Decision] = field(default_factory=unknown)
    reason: str = ""
    fetch: bool = True
    terms: Mapping[str, Any] | None = None

    def for_use(self, use: Use) -> Decision:
        return "n" if not self.fetch else self.uses[use]

    def to_json(self, use: Use | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "source": self.source,
            "location": self.location,
            "stage": self.stage,
            "uses": dict(self.uses),
            "reason": self.reason,
            "fetch": self.fetch,
        }
        if use is not None:
            data["verdict"] = self.for_use(use)
        if self.terms is not None:
            data["terms"] = dict(self.terms)
        return data
