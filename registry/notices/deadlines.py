"""Per-regime response deadlines: configuration with defaults, each default with its source.

Where a statute gives a number, the default is that number; where it only says "expeditiously" or
"timely", the default is registry policy and says so. A notice under several regimes is held to
the earliest deadline among them. Business days are Monday to Friday; public holidays are not
modelled (so a business-day deadline may fall up to a few days early around holidays).

* dmca: acknowledge 2 days, decide 7 days (registry policy: 17 U.S.C. 512(c)(1)(C) says only
  "expeditiously"); restore not before 10 and by 14 business days after a counter-notice
  (17 U.S.C. 512(g)(2)(C)) unless the notifier reports legal action (then `uphold`).
* dsa: acknowledge 1 day (policy; Art. 16(4) "without undue delay"), decide 7 days (policy;
  Art. 16(6) "timely").
* jp-platform: acknowledge and decide 7 days (情報流通プラットフォーム対処法: designated large
  platforms decide and notify the requester within the period of the MIC ordinance, 7 days).
* no-fakes: acknowledge 2 days, decide 3 days (policy; S.1367 "as soon as is technically and
  practically feasible"; the bill is not law).

>>> d = DeadlineConfig().due("dmca", "decide", datetime(2026, 1, 1, tzinfo=UTC))
>>> d.isoformat()
'2026-01-08T00:00:00+00:00'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta  # noqa: F401 - UTC is used by the doctest
from typing import Final, Literal

Unit = Literal["days", "hours", "business-days"]
Clock = Literal["acknowledge", "decide", "restore-earliest", "restore-latest"]


@dataclass(frozen=True)
class Deadline:
    """`amount` `unit`s after the clock starts, and where that number comes from."""

    amount: int
    unit: Unit
    source: str

    def after(self, start: datetime) -> datetime:
        if self.unit == "hours":
            return start + timedelta(hours=self.amount)
        if self.unit == "days":
            return start + timedelta(days=self.amount)
        return add_business_days(start, self.amount)

    def describe(self) -> dict[str, object]:
        return {"amount": self.amount, "unit": self.unit, "source": self.source}


def add_business_days(start: datetime, days: int) -> datetime:
    """`start` moved forward by `days` Monday-to-Friday days (weekends skipped, holidays not)."""
    moment = start
    left = days
    while left > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment


_POLICY = "registry policy: "
DEFAULTS: Final[Mapping[str, Mapping[Clock, Deadline]]] = {
    "dmca": {
        "acknowledge": Deadline(2, "days", _POLICY + "17 U.S.C. 512(c)(1)(C) asks to act 'expeditiously'"),
        "decide": Deadline(7, "days", _POLICY + "17 U.S.C. 512(c)(1)(C) asks to act 'expeditiously'"),
        "restore-earliest": Deadline(
            10, "business-days", "17 U.S.C. 512(g)(2)(C): not less than 10 business days"
        ),
        "restore-latest": Deadline(
            14, "business-days", "17 U.S.C. 512(g)(2)(C): nor more than 14 business days"
        ),
    },
    "dsa": {
        "acknowledge": Deadline(
            1, "days", _POLICY + "DSA Art. 16(4): confirmation of receipt without undue delay"
        ),
        "decide": Deadline(7, "days", _POLICY + "DSA Art. 16(6): decide in a timely manner"),
    },
    "jp-platform": {
        "acknowledge": Deadline(
            7, "days", "情報流通プラットフォーム対処法: decision notice within 7 days (MIC ordinance)"
        ),
        "decide": Deadline(
            7, "days", "情報流通プラットフォーム対処法: decision notice within 7 days (MIC ordinance)"
        ),
    },
    "no-fakes": {
        "acknowledge": Deadline(2, "days", _POLICY + "NO FAKES Act (S.1367, not enacted)"),
        "decide": Deadline(
            3,
            "days",
            _POLICY + "NO FAKES Act (S.1367, not enacted): 'as soon as technically and practically feasible'",
        ),
    },
}


@dataclass(frozen=True)
class DeadlineConfig:
    """The deadlines in force: `DEFAULTS` with any overrides (`with_override`)."""

    table: Mapping[str, Mapping[Clock, Deadline]] = field(default_factory=lambda: DEFAULTS)

    def with_override(self, regime: str, clock: Clock, deadline: Deadline) -> DeadlineConfig:
        table = {name: dict(clocks) for name, clocks in self.table.items()}
        table.setdefault(regime, {})[clock] = deadline
        return replace(self, table=table)

    def due(self, regime: str, clock: Clock, start: datetime) -> datetime | None:
        deadline = self.table.get(regime, {}).get(clock)
        return deadline.after(start) if deadline else None

    def earliest(self, regimes: Iterable[str], clock: Clock, start: datetime) -> datetime | None:
        """The earliest `clock` deadline among `regimes` (None where no regime sets one)."""
        found = [moment for regime in regimes if (moment := self.due(regime, clock, start)) is not None]
        return min(found) if found else None

    def describe(self) -> dict[str, dict[str, dict[str, object]]]:
        return {
            regime: {clock: d.describe() for clock, d in clocks.items()}
            for regime, clocks in self.table.items()
        }


@dataclass(frozen=True)
class Schedule:
    """When a notice's steps are due, and which are overdue at `now`."""

    acknowledge_by: datetime | None
    decide_by: datetime | None
    restore_not_before: datetime | None
    restore_by: datetime | None
    overdue: tuple[str, ...]


def schedule(
    config: DeadlineConfig,
    regimes: Iterable[str],
    state: str,
    *,
    filed_at: datetime,
    counter_noticed_at: datetime | None,
    now: datetime,
) -> Schedule:
    """Deadlines of one notice and what is overdue: acknowledgement while unacknowledged, a decision
    while undecided, a restore-or-uphold while a counter-notice waits past its latest day."""
    names = list(regimes)
    ack = config.earliest(names, "acknowledge", filed_at)
    decide = config.earliest(names, "decide", filed_at)
    earliest = latest = None
    if counter_noticed_at is not None:
        earliest = config.earliest(names, "restore-earliest", counter_noticed_at)
        latest = config.earliest(names, "restore-latest", counter_noticed_at)
    overdue: list[str] = []
    if state in ("filed", "delivered") and ack is not None and now > ack:
        overdue.append("acknowledge")
    if state in ("filed", "delivered", "acknowledged") and decide is not None and now > decide:
        overdue.append("decide")
    if state == "counter-noticed" and latest is not None and now > latest:
        overdue.append("restore-or-uphold")
    return Schedule(ack, decide, earliest, latest, tuple(overdue))
