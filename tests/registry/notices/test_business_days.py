"""Business days (`registry.notices.business_days`), property-tested against a reference that counts.

The reference counts, day by day, the dates after the start that are Monday to Friday and not in a
set of US federal holidays built here from the statute's wording (5 U.S.C. 6103(a): "the third
Monday in January", "the last Monday in May", …) by scanning each month's days, a different route
from the module's arithmetic. Holidays counted: the eleven of 5 U.S.C. 6103(a) (Juneteenth from
2021), observed per 6103(b) and E.O. 11582 (Saturday to Friday, Sunday to Monday); Inauguration
Day and one-off closures are not. A few published OPM dates pin both to the calendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.notices.business_days import add_business_days, is_business_day, us_federal_holidays
from registry.notices.deadlines import DeadlineConfig, refuse_early_restore

MONDAY, THURSDAY = 0, 3


def _weekdays_of(year: int, month: int, weekday: int) -> list[date]:
    day = date(year, month, 1)
    found = []
    while day.month == month:
        if day.weekday() == weekday:
            found.append(day)
        day += timedelta(days=1)
    return found


def _observed(day: date) -> date:
    return {5: day - timedelta(days=1), 6: day + timedelta(days=1)}.get(day.weekday(), day)


def reference_holidays(year: int) -> set[date]:
    fixed = [(1, 1), (7, 4), (11, 11), (12, 25)] + ([(6, 19)] if year >= 2021 else [])
    days = {_observed(date(year, month, day)) for month, day in fixed}
    days |= {
        _weekdays_of(year, 1, MONDAY)[2],
        _weekdays_of(year, 2, MONDAY)[2],
        _weekdays_of(year, 5, MONDAY)[-1],
        _weekdays_of(year, 9, MONDAY)[0],
        _weekdays_of(year, 10, MONDAY)[1],
        _weekdays_of(year, 11, THURSDAY)[3],
    }
    return days


def reference_is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in reference_holidays(day.year) | reference_holidays(day.year + 1)


def reference_count(start: date, end: date) -> int:
    """Business days in (start, end]."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += reference_is_business_day(day)
    return count


moments = st.builds(
    lambda day, seconds: datetime.combine(day, time(), tzinfo=UTC) + timedelta(seconds=seconds),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    st.integers(min_value=0, max_value=86_399),
)


@given(moments, st.integers(min_value=0, max_value=60))
def test_adding_n_business_days_lands_on_the_nth_business_day_counted(start: datetime, days: int) -> None:
    end = add_business_days(start, days)
    assert end.time() == start.time() and end.tzinfo == start.tzinfo
    assert reference_count(start.date(), end.date()) == days
    if days:
        assert reference_is_business_day(end.date())  # the first date that makes the count, not later
    else:
        assert end == start


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_business_days_agree_with_the_reference_every_day(day: date) -> None:
    assert is_business_day(day) == reference_is_business_day(day)


@given(st.integers(min_value=1990, max_value=2100))
def test_each_year_has_its_holidays_on_weekdays(year: int) -> None:
    holidays = us_federal_holidays(year)
    assert set(holidays) == reference_holidays(year)
    assert len(holidays) == (11 if year >= 2021 else 10)
    assert all(day.weekday() < 5 for day in holidays)
    assert list(holidays) == sorted(holidays)


def test_opm_published_dates() -> None:
    # opm.gov federal holidays: 2023 (Veterans Day observed Friday 10 November), 2021-2022 (Christmas
    # 2021 observed Friday 24 December, New Year's Day 2022 observed Friday 31 December 2021).
    assert us_federal_holidays(2023) == tuple(
        date(2023, month, day)
        for month, day in [
            (1, 2),
            (1, 16),
            (2, 20),
            (5, 29),
            (6, 19),
            (7, 4),
            (9, 4),
            (10, 9),
            (11, 10),
            (11, 23),
            (12, 25),
        ]
    )
    assert date(2021, 12, 24) in us_federal_holidays(2021)
    assert date(2021, 12, 31) in us_federal_holidays(2022)  # observed in the year before
    assert not is_business_day(date(2021, 12, 31))
    assert date(2020, 6, 19) not in us_federal_holidays(2020)  # Juneteenth is a holiday from 2021


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        add_business_days(datetime(2026, 1, 1, tzinfo=UTC), -1)


@given(moments, st.integers(min_value=0, max_value=20 * 86_400))
def test_restoring_is_refused_exactly_before_the_floor(countered: datetime, wait: int) -> None:
    from registry.notices.deadlines import TooEarly

    config = DeadlineConfig()
    floor = add_business_days(countered, 10)
    now = countered + timedelta(seconds=wait)
    if now < floor:
        with pytest.raises(TooEarly) as refused:
            refuse_early_restore(config, ["dmca", "dsa"], countered, now)
        assert refused.value.status == 409 and refused.value.slug == "too-early"
    else:
        refuse_early_restore(config, ["dmca", "dsa"], countered, now)
    refuse_early_restore(config, ["dsa", "jp-platform", "no-fakes"], countered, now)  # no floor there


def test_a_notice_under_several_floors_waits_for_the_latest() -> None:
    from registry.notices.deadlines import Deadline, TooEarly, schedule

    config = DeadlineConfig().with_override("dsa", "restore-earliest", Deadline(20, "days", "a test policy"))
    countered = datetime(2026, 3, 2, 12, tzinfo=UTC)
    plan = schedule(
        config,
        ["dmca", "dsa"],
        "counter-noticed",
        filed_at=countered,
        counter_noticed_at=countered,
        now=countered,
    )
    assert plan.restore_not_before == countered + timedelta(days=20)  # later than 10 business days
    with pytest.raises(TooEarly, match="a test policy"):
        refuse_early_restore(config, ["dmca", "dsa"], countered, add_business_days(countered, 10))
