"""Business days as US courts count them: Monday to Friday, except the US federal holidays.

17 U.S.C. 512(g)(2)(C) gives the DMCA restoration window in business days; courts read "business
day" as a day that is neither a weekend day nor a legal public holiday, and for a US statute those
are the federal holidays of 5 U.S.C. 6103(a), with the observance rule of 6103(b) and Executive
Order 11582: a holiday on a Saturday is observed the Friday before, one on a Sunday the Monday
after. The holidays are computed from those rules, never listed by date:

* New Year's Day (1 January), Juneteenth National Independence Day (19 June, from 2021), Independence
  Day (4 July), Veterans Day (11 November), Christmas Day (25 December): fixed dates, observed;
* Birthday of Martin Luther King, Jr. (third Monday of January), Washington's Birthday (third Monday
  of February), Memorial Day (last Monday of May), Labor Day (first Monday of September), Columbus
  Day (second Monday of October), Thanksgiving Day (fourth Thursday of November).

Not counted: Inauguration Day (a holiday only for federal employees around Washington, D.C.), one-off
closures by executive order, and state holidays. Dates are taken in UTC, as every timestamp here is.
The rules are today's; years before a holiday existed (other than Juneteenth) are not special-cased.

>>> us_federal_holidays(2023)[-2:]
(datetime.date(2023, 11, 23), datetime.date(2023, 12, 25))
>>> add_business_days(datetime(2023, 12, 22, 9, tzinfo=UTC), 1).date()  # Christmas skipped
datetime.date(2023, 12, 26)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta  # noqa: F401 - UTC is used by the doctest
from functools import lru_cache
from typing import Final

_MONDAY, _THURSDAY = 0, 3
_JUNETEENTH_FROM: Final = 2021  # Juneteenth National Independence Day Act, 17 June 2021


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The `n`th `weekday` of the month (n = -1: the last one)."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    following = date(year + month // 12, month % 12 + 1, 1)
    last = following - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """5 U.S.C. 6103(b) and E.O. 11582: Saturday to the Friday before, Sunday to the Monday after."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=256)
def us_federal_holidays(year: int) -> tuple[date, ...]:
    """The observed dates of `year`'s federal holidays, in order. New Year's Day of `year` may be
    observed on 31 December of the year before, so a date's holidays are its year's and the next's."""
    fixed = [(1, 1), (7, 4), (11, 11), (12, 25)]
    if year >= _JUNETEENTH_FROM:
        fixed.append((6, 19))
    days = [_observed(date(year, month, day)) for month, day in fixed]
    days += [
        _nth_weekday(year, 1, _MONDAY, 3),
        _nth_weekday(year, 2, _MONDAY, 3),
        _nth_weekday(year, 5, _MONDAY, -1),
        _nth_weekday(year, 9, _MONDAY, 1),
        _nth_weekday(year, 10, _MONDAY, 2),
        _nth_weekday(year, 11, _THURSDAY, 4),
    ]
    return tuple(sorted(days))


def is_business_day(day: date) -> bool:
    """Monday to Friday and not an (observed) US federal holiday."""
    if day.weekday() >= 5:
        return False
    return day not in us_federal_holidays(day.year) and day not in us_federal_holidays(day.year + 1)


def add_business_days(start: datetime, days: int) -> datetime:
    """`start` moved to the same time of day on the `days`th business day after its date (`days` >= 0;
    0 gives `start`). Counting starts the day after, as "N business days after receipt" does."""
    if days < 0:
        raise ValueError("days must not be negative")
    moment = start
    left = days
    while left > 0:
        moment += timedelta(days=1)
        if is_business_day(moment.date()):
            left -= 1
    return moment
