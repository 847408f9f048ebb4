"""How much a claim is worth: its authority, per identifier, with the chain behind it.

A claim always has a base: `self-asserted` (the claimant speaks for itself), `agent-asserted` (it
says it speaks for someone else) or `mandated` (the principal's signed mandate covers it). On top,
grants from the log may raise single identifiers: `attested` (a domain-verified organisation
vouches for the person, for the identifiers it names) and `domain-verified` (a registry check
proved that the claimant, or the mandated principal, controls the host a URL names).

Pure, shared by the registry's answers and the offline snapshot, so both say the same thing.

>>> authority = ClaimAuthority("self-asserted")
>>> authority.evaluate("url", "example.com/a/", at=datetime(2026, 1, 1, tzinfo=UTC))[0]
['self-asserted']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime  # noqa: F401 - UTC is used by the doctest
from typing import Any, Final, Literal, get_args

from registry.names import fold

Level = Literal["self-asserted", "agent-asserted", "mandated", "attested", "domain-verified"]
#: Weakest first: `--min-authority L` keeps a match whose strongest level is at least L.
LEVELS: Final[tuple[Level, ...]] = get_args(Level)
RANK: Final[Mapping[str, int]] = {level: rank for rank, level in enumerate(LEVELS)}
Base = Literal["self-asserted", "agent-asserted"]
#: How the registry can check that a DID controls a host (`POST /v1/verifications`), which grants
#: `domain-verified`; the client offers them in this order (`kotowari domain verify --method`).
VERIFICATION_METHODS: Final = ("well-known", "did-web", "dns-txt")


class UnknownLevel(ValueError):
    """A minimum authority that is not one of `LEVELS`."""


def parse_level(value: str) -> Level:
    """`value` as a level, or `UnknownLevel` listing the levels."""
    if value not in RANK:
        raise UnknownLevel(f"unknown authority {value!r}: one of {', '.join(LEVELS)}")
    return LEVELS[RANK[value]]


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Grant:
    """One link of a claim's chain: who raised it to `level`, how, when, and where that is logged.

    `covers` limits it: exact keys (`isni:…`, `name:…`) for an attestation naming identifiers,
    hosts for a domain verification (`example.com` covers that host; `.example.com` the registrable
    domain and every host below it); None for the whole claim (a mandate, a member attestation).
    """

    level: Level
    by: str
    method: str
    document: str
    log_index: int
    at: str
    covers: tuple[str, ...] | None = None
    valid_from: str | None = None
    valid_until: str | None = None

    def in_force(self, at: datetime) -> bool:
        start, end = _parse(self.valid_from), _parse(self.valid_until)
        return (start is None or at >= start) and (end is None or at < end)

    def applies_to(self, scheme: str, key: str) -> bool:
        """Whether this grant raises a hit of `scheme` on `key` (a URL key is `host/path`)."""
        if self.level == "mandated":
            return True
        if self.level == "domain-verified":
            return scheme == "url" and host_covered(key.split("/", 1)[0], self.covers or ())
        if scheme == "url":
            return False  # a person's attestation says nothing about who controls a site
        return self.covers is None or cover_key(scheme, key) in self.covers

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "authority": self.level,
            "by": self.by,
            "method": self.method,
            "document": self.document,
            "log_index": self.log_index,
            "at": self.at,
        }
        for name in ("covers", "valid_from", "valid_until"):
            value = getattr(self, name)
            if value is not None:
                out[name] = list(value) if name == "covers" else value
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Grant:
        covers = obj.get("covers")
        return cls(
            level=parse_level(str(obj["authority"])),
            by=str(obj["by"]),
            method=str(obj["method"]),
            document=str(obj["document"]),
            log_index=int(obj["log_index"]),
            at=str(obj["at"]),
            covers=tuple(str(c) for c in covers) if covers is not None else None,
            valid_from=obj.get("valid_from"),
            valid_until=obj.get("valid_until"),
        )


def cover_key(scheme: str, value: str) -> str:
    """How an attestation names an identifier it covers: the exact key, or a folded name."""
    return f"name:{fold(value)}" if scheme == "name" else f"{scheme}:{value}"


def host_covered(host: str, covers: Iterable[str]) -> bool:
    """`host` equals a covered host, or lies under a covered `.domain`."""
    for cover in covers:
        if cover.startswith("."):
            if host == cover[1:] or host.endswith(cover):
                return True
        elif host == cover:
            return True
    return False


@dataclass(frozen=True)
class ClaimAuthority:
    """A claim's base authority, its grants, and notes on what was offered but does not count."""

    base: Base
    grants: tuple[Grant, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def evaluate(self, scheme: str, key: str, *, at: datetime) -> tuple[list[Level], list[dict[str, Any]]]:
        """The levels a hit of `scheme` on `key` holds at `at`, weakest first, and the chain behind them."""
        levels: set[Level] = set()
        chain = []
        for grant in self.grants:
            if grant.in_force(at) and grant.applies_to(scheme, key):
                levels.add(grant.level)
                chain.append(grant.to_json())
        if "mandated" not in levels:
            levels.add(self.base)
        return sorted(levels, key=RANK.__getitem__), chain

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"base": self.base}
        if self.grants:
            out["grants"] = [grant.to_json() for grant in self.grants]
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ClaimAuthority:
        base = str(obj["base"])
        if base not in ("self-asserted", "agent-asserted"):
            raise UnknownLevel(f"a claim's base authority is self- or agent-asserted, not {base!r}")
        return cls(
            base="self-asserted" if base == "self-asserted" else "agent-asserted",
            grants=tuple(Grant.from_json(g) for g in obj.get("grants", ())),
            notes=tuple(str(n) for n in obj.get("notes", ())),
        )


SELF_ASSERTED: Final = ClaimAuthority("self-asserted")
AGENT_ASSERTED: Final = ClaimAuthority("agent-asserted")


def strongest(levels: Sequence[str]) -> int:
    """The rank of the strongest level in `levels` (-1 for none)."""
    return max((RANK[level] for level in levels), default=-1)


def counts(levels: Sequence[str], minimum: str | None) -> bool:
    """Whether a match holding `levels` counts under the caller's minimum authority."""
    return minimum is None or strongest(levels) >= RANK[minimum]


__all__ = [
    "AGENT_ASSERTED",
    "LEVELS",
    "RANK",
    "SELF_ASSERTED",
    "VERIFICATION_METHODS",
    "Base",
    "ClaimAuthority",
    "Grant",
    "Level",
    "UnknownLevel",
    "counts",
    "cover_key",
    "host_covered",
    "parse_level",
    "strongest",
]
