"""Per-regime response deadlines: configuration with defaults, each default with its source.

Where a statute gives a number, the default is that number; where it only says "expeditiously" or
"timely", the default is registry policy and says so. A notice under several regimes is held to
the earliest deadline among them, and to the latest restoration floor. Business days are Monday to
Friday except the US federal holidays (`registry.notices.business_days`, computed from 5 U.S.C.
6103; dates in UTC): only the DMCA, a US statute, counts in business days.

* dmca: acknowledge 2 days, decide 7 days (registry policy: 17 U.S.C. 512(c)(1)(C) says only
  "expeditiously"); restore not before 10 and by 14 business days after a counter-notice
  (17 U.S.C. 512(g)(2)(C)) unless the notifier reports legal action (then `uphold`); a restoration
  before the floor is refused (`refuse_early_restore`, 409 `too-early`).
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

from registry.documents import format_timestamp
from registry.errors import RegistryError
from registry.notices.business_days import add_business_days

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

    def latest(self, regimes: Iterable[str], clock: Clock, start: datetime) -> datetime | None:
        """The latest `clock` moment among `regimes`: a floor ("not before") holds under every regime."""
        found = [moment for regime in regimes if (moment := self.due(regime, clock, start)) is not None]
        return max(found) if found else None

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
        earliest = config.latest(names, "restore-earliest", counter_noticed_at)
        latest = config.earliest(names, "restore-latest", counter_noticed_at)
    overdue: list[str] = []
    if state in ("filed", "delivered") and ack is not None and now > ack:
        overdue.append("acknowledge")
    if state in ("filed", "delivered", "acknowledged") and decide is not None and now > decide:
        overdue.append("decide")
    if state == "counter-noticed" and latest is not None and now > latest:
        overdue.append("restore-or-uphold")
    return Schedule(ack, decide, earliest, latest, tuple(overdue))


class TooEarly(RegistryError):
    status, slug, title = 409, "too-early", "This step is not allowed yet"


def refuse_early_restore(
    config: DeadlineConfig, regimes: Iterable[str], counter_noticed_at: datetime | None, now: datetime
) -> None:
    """Raise `TooEarly` for a restoration before the notice's `restore_not_before`: under the DMCA
    the operator keeps its safe harbour only by restoring not less than 10 business days after the
    counter-notice (17 U.S.C. 512(g)(2)(C)), which leaves the notifier time to go to court."""
    if counter_noticed_at is None:
        return
    floors = [
        (deadline.after(counter_noticed_at), deadline.source)
        for regime in regimes
        if (deadline := config.table.get(regime, {}).get("restore-earliest")) is not None
    ]
    if not floors:
        return
    floor, source = max(floors)
    if now >= floor:
        return
    stamp = format_timestamp(floor)
    raise TooEarly(
        f"restore not before {stamp}: the counter-notice was received {format_timestamp(counter_noticed_at)} "
        f"and {source}; until then the notifier may report legal action (uphold)",
        [("/action", f"restore not before {stamp}")],
    )
