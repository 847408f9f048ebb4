"""The words an operator's disclosure is written in: opt-out signals, AI Principle Code items,
safeguard stages and information-request topics. Pure: the CLI offers them as choices without
importing the pydantic documents.

Signals are named as the crawler's policy names its sources (`crawler_client.policy`, each
`Verdict.source`), so "we honour TDMRep" in a disclosure means the signal the SDK's policy reads
under that name. The Principle Code items follow the Japanese Cabinet Office's draft
「生成AIの適切な利活用等に向けた知的財産の保護及び透明性に関するプリンシプル・コード（仮称）（案）」
(comply or explain; principle 1: disclose the models, the training data, accountability and the
measures against infringement, such as respecting robots.txt and similar signals, avoiding pirate
sites, a contact window for rights holders and keeping records; principles 2 and 3: disclose on a
rights holder's or a user's request). The item names and their split are ours, not the code's.

>>> SIGNAL_SOURCES["aipref"]
('aipref Content-Usage header', 'aipref Content-Usage in robots.txt')
>>> PRINCIPLE_ITEMS[0]
'1-models'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, get_args

Signal = Literal[
    "robots.txt", "tdmrep", "aipref", "content-signal", "rsl", "x-robots-tag", "ai.txt", "c2pa", "registry"
]
SIGNALS: Final[tuple[Signal, ...]] = get_args(Signal)

SIGNAL_SOURCES: Final[Mapping[Signal, tuple[str, ...]]] = {
    "robots.txt": ("robots.txt", "robots.txt AI crawler groups"),
    "tdmrep": ("TDMRep",),
    "aipref": ("aipref Content-Usage header", "aipref Content-Usage in robots.txt"),
    "content-signal": ("Content-Signal in robots.txt",),
    "rsl": ("RSL",),
    "x-robots-tag": ("X-Robots-Tag", "robots meta tag"),
    "ai.txt": ("ai.txt",),
    "c2pa": ("C2PA/CAWG training-mining", "IPTC PLUS DataMining"),
    "registry": ("registry",),
}
"""Each signal token and the `Verdict.source` names the crawler policy gives it."""

PrincipleItem = Literal[
    "1-models",
    "1-training-data",
    "1-accountability",
    "1-technical-measures",
    "1-machine-readable-signals",
    "1-pirate-sites",
    "1-contact-window",
    "1-records",
    "2-disclosure-to-rights-holders",
    "3-disclosure-to-users",
]
PRINCIPLE_ITEMS: Final[tuple[PrincipleItem, ...]] = get_args(PrincipleItem)

PRINCIPLE_DESCRIPTIONS: Final[Mapping[PrincipleItem, str]] = {
    "1-models": "publish the models used and when they change",
    "1-training-data": "publish an outline of the training data (kinds, whether collected from the web)",
    "1-accountability": "say who is accountable and how decisions are made",
    "1-technical-measures": "publish the technical measures against infringing output",
    "1-machine-readable-signals": "respect robots.txt and similar machine-readable reservations",
    "1-pirate-sites": "avoid collecting from sites known to distribute infringing copies",
    "1-contact-window": "keep a contact window for rights holders' requests",
    "1-records": "keep records of collection and of responses to requests",
    "2-disclosure-to-rights-holders": "disclose training data to a rights holder who asks with cause",
    "3-disclosure-to-users": "disclose to a user who suspects infringing output",
}

Answer = Literal["comply", "explain"]
ANSWERS: Final[tuple[Answer, ...]] = get_args(Answer)

Stage = Literal["prompt", "reference-input", "output", "training-data"]
STAGES: Final[tuple[Stage, ...]] = get_args(Stage)
"""Where a safeguard checks: the prompt's text, reference inputs (images, voices), the output, or
the data before training."""

CheckedScheme = Literal["url", "sha256", "iscc", "pdq", "name", "text", "isni", "wikidata", "embedding"]
CHECKED_SCHEMES: Final[tuple[CheckedScheme, ...]] = get_args(CheckedScheme)
"""The identifier schemes a safeguard checks with (those of `POST /v1/check`)."""

DatasetKind = Literal["web-crawl", "licensed", "public-domain", "own", "user-data", "synthetic", "other"]
DATASET_KINDS: Final[tuple[DatasetKind, ...]] = get_args(DatasetKind)

SubjectKind = Literal["model", "service"]
DISCLOSED_KINDS: Final[tuple[SubjectKind, ...]] = get_args(SubjectKind)

Topic = Literal[
    "training-data", "safeguards", "actions-after-violations", "contact-window", "records", "other"
]
TOPICS: Final[tuple[Topic, ...]] = get_args(Topic)
"""What an information request asks about (after the proposals to let authorities ask operators to
explain their safeguards, disclose their training data and what they did after violations)."""


class UnknownWord(ValueError):
    """A word outside one of these vocabularies; the message lists the ones there are."""


def parse_words(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    """A comma-separated list of `allowed` words, as the CLI takes them (`all` for every one).

    >>> parse_words("robots.txt, tdmrep", SIGNALS, "signal")
    ['robots.txt', 'tdmrep']
    """
    if text.strip() == "all":
        return list(allowed)
    words = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [word for word in words if word not in allowed]
    if unknown or not words:
        raise UnknownWord(f"unknown {what} {unknown[0] if unknown else text!r}: one of {', '.join(allowed)}")
    return list(dict.fromkeys(words))
