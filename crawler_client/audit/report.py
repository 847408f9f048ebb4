"""What an audit found: discrepancies (the registry's log or answers are not what its signed log
implies), notes (what was not compared, and why) and the figures of the run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["DEFAULT_SAMPLE", "MAX_SHOWN", "AuditError", "AuditReport", "Discrepancy", "Stopped"]

DEFAULT_SAMPLE = 10_000
"""Claims compared with what the registry serves: all of them up to this many, else a random sample.
(Here rather than in `auditor`, so `kotowari log audit --help` can say it without importing the audit.)"""

MAX_SHOWN = 50
"""Discrepancies printed one line each; beyond this many, a count of the rest."""


class AuditError(Exception):
    """The audit could not be carried out: a usage error, an unreachable registry, an answer that
    is not what the protocol allows (a garbage or truncated tile), or a damaged state directory.
    Exit status 2; the message is one line."""


class Stopped(Exception):
    """Raised inside an audit that found something leaving nothing further to audit (a rollback, a
    fork, a forged head, a registry refusing to serve); `found` goes into the report."""

    def __init__(self, *found: Discrepancy) -> None:
        super().__init__(found[0].message if found else "stopped")
        self.found = list(found)


@dataclass(frozen=True)
class Discrepancy:
    """One thing the registry serves that its log does not imply (or a log that is not a log).

    `kind` is a stable word for scripts: `identity`, `checkpoint`, `rollback`, `fork`, `entries`,
    `tile`, `proof`, `witness`, `signature`, `rule`, `replay`, `claim`, `answer`, `integrity`, `record`.
    """

    kind: str
    message: str
    index: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass
class AuditReport:
    """The outcome of `kotowari log audit`: consistent when no discrepancy was found."""

    registry: str
    did: str = ""
    origin: str = ""
    tree_size: int = 0
    root_hash: str = ""
    previous_size: int = 0
    entries: int = 0
    signatures_checked: int = 0
    claims: int = 0
    claims_compared: int = 0
    check_answers: int = 0
    items_checked: int = 0
    records_compared: int = 0
    bundles_fetched: int = 0
    tiles_fetched: int = 0
    requests: int = 0
    witnessed_by: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    live_only: list[str] = field(default_factory=list)  # stages a static copy cannot answer: not done
    complete: bool = True

    @property
    def consistent(self) -> bool:
        return not self.discrepancies

    @property
    def entries_per_second(self) -> float:
        """Entries mirrored, hashed, verified and replayed per second of the log phase (`seconds["log"]`,
        which leaves out the comparisons with what the registry serves)."""
        spent = self.seconds.get("log", 0.0)
        return self.entries / spent if spent > 0 else 0.0

    def add(self, kind: str, message: str, index: int | None = None) -> None:
        self.discrepancies.append(Discrepancy(kind, message, index))

    def summary(self) -> str:
        """The one line printed for a consistent audit."""
        claims = f"{self.claims} claims"
        if self.claims_compared != self.claims:
            claims += f" ({self.claims_compared} compared)"
        if self.records_compared:
            claims += f", {self.records_compared} operator records"
        done = f"audited {self.entries} entries, {claims}, {self.items_checked} answers: consistent"
        if self.live_only:
            done += f" (a static copy: {', '.join(self.live_only)} need the live registry, not audited)"
        return done

    def lines(self, limit: int = MAX_SHOWN) -> list[str]:
        """One line per discrepancy (at most `limit`, then a count), then the closing line."""
        shown = [f"DISCREPANCY {d.kind}: {d.message}" for d in self.discrepancies[:limit]]
        hidden = len(self.discrepancies) - len(shown)
        if hidden > 0:
            shown.append(f"… and {hidden} more discrepancies")
        where = f" at size {self.tree_size}" if self.tree_size else ""
        stopped = "" if self.complete else " (audit stopped early)"
        shown.append(
            f"INCONSISTENT: {len(self.discrepancies)} discrepancies in {self.origin or self.registry}"
            f"{where}{stopped}"
        )
        return shown

    def to_json(self) -> dict[str, Any]:
        out = {key: value for key, value in asdict(self).items() if key != "discrepancies"}
        out["consistent"] = self.consistent
        out["entries_per_second"] = round(self.entries_per_second, 1)
        out["seconds"] = {phase: round(spent, 3) for phase, spent in self.seconds.items()}
        out["discrepancies"] = [d.to_json() for d in self.discrepancies]
        return out
