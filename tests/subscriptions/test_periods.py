"""Billing periods on local dates, [start, end): month-end anchors clamp and recover, leap years,
weeks and days, and the catch-up of missed periods (dates written out as literals)."""

from __future__ import annotations

from datetime import UTC, date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portico.subscriptions.periods import (
    Period,
    add_interval,
    period_containing,
    periods_between,
    term_containing,
)


@pytest.mark.parametrize(
    ("anchor", "unit", "count", "n", "anchor_day", "expected"),
    [
        # month-end anchor: clamp and recover
        (date(2026, 1, 31), "month", 1, 1, None, date(2026, 2, 28)),
        (date(2026, 1, 31), "month", 1, 2, None, date(2026, 3, 31)),
        (date(2026, 1, 31), "month", 1, 3, None, date(2026, 4, 30)),
        (date(2026, 1, 31), "month", 1, 4, None, date(2026, 5, 31)),
        (date(2028, 1, 31), "month", 1, 1, None, date(2028, 2, 29)),  # leap year
        (date(2026, 1, 30), "month", 1, 1, None, date(2026, 2, 28)),
        (date(2026, 1, 30), "month", 1, 2, None, date(2026, 3, 30)),
        # a clamped term start remembers the anchor's 31st
        (date(2026, 2, 28), "month", 1, 1, 31, date(2026, 3, 31)),
        (date(2026, 2, 28), "month", 1, 1, None, date(2026, 3, 28)),
        (date(2026, 4, 30), "month", 1, 1, 31, date(2026, 5, 31)),
        # quarterly, across a year end
        (date(2026, 11, 30), "month", 3, 1, None, date(2027, 2, 28)),
        (date(2026, 11, 30), "month", 3, 2, None, date(2027, 5, 30)),
        # yearly from 29 February
        (date(2024, 2, 29), "year", 1, 1, None, date(2025, 2, 28)),
        (date(2024, 2, 29), "year", 1, 2, None, date(2026, 2, 28)),
        (date(2024, 2, 29), "year", 1, 4, None, date(2028, 2, 29)),
        (date(2025, 2, 28), "year", 1, 3, 29, date(2028, 2, 29)),
        # monthly from 29 February
        (date(2024, 2, 29), "month", 1, 1, None, date(2024, 3, 29)),
        (date(2024, 2, 29), "month", 1, 12, None, date(2025, 2, 28)),
        # backwards
        (date(2026, 3, 31), "month", 1, -1, None, date(2026, 2, 28)),
        (date(2026, 1, 15), "month", 1, 0, None, date(2026, 1, 15)),
        # days and weeks
        (date(2026, 2, 20), "day", 10, 1, None, date(2026, 3, 2)),
        (date(2024, 2, 20), "day", 10, 1, None, date(2024, 3, 1)),
        (date(2026, 12, 28), "week", 2, 1, None, date(2027, 1, 11)),
        (date(2026, 1, 1), "week", 1, 52, None, date(2026, 12, 31)),
    ],
)
def test_add_interval(anchor, unit, count, n, anchor_day, expected):
    assert add_interval(anchor, unit, count, n, anchor_day) == expected


@pytest.mark.parametrize(
    ("anchor", "unit", "count", "on", "expected"),
    [
        (date(2026, 1, 31), "month", 1, date(2026, 3, 15), Period(date(2026, 2, 28), date(2026, 3, 31))),
        (date(2026, 1, 31), "month", 1, date(2026, 3, 31), Period(date(2026, 3, 31), date(2026, 4, 30))),
        (date(2026, 1, 31), "month", 1, date(2026, 2, 27), Period(date(2026, 1, 31), date(2026, 2, 28))),
        (date(2026, 1, 31), "month", 1, date(2026, 1, 31), Period(date(2026, 1, 31), date(2026, 2, 28))),
        (date(2028, 1, 31), "month", 1, date(2028, 2, 29), Period(date(2028, 2, 29), date(2028, 3, 31))),
        (date(2024, 2, 29), "year", 1, date(2027, 6, 1), Period(date(2027, 2, 28), date(2028, 2, 29))),
        (date(2026, 1, 15), "month", 1, date(2025, 12, 20), Period(date(2025, 12, 15), date(2026, 1, 15))),
        (date(2026, 1, 1), "week", 2, date(2026, 1, 20), Period(date(2026, 1, 15), date(2026, 1, 29))),
    ],
)
def test_period_containing(anchor, unit, count, on, expected):
    period = period_containing(anchor, unit, count, on)
    assert period == expected
    assert period.contains(on)
    assert term_containing(anchor, unit, count, on) == expected


def test_a_period_is_end_exclusive():
    period = Period(date(2028, 2, 1), date(2028, 3, 1))
    assert period.days == 29  # leap February
    assert period.last_day == date(2028, 2, 29)
    assert period.contains(date(2028, 2, 29)) and not period.contains(date(2028, 3, 1))


def test_periods_between_catches_up_every_missed_period_once():
    periods = list(periods_between(date(2026, 1, 31), "month", 1, date(2026, 2, 1), date(2026, 5, 30)))
    assert periods == [
        Period(date(2026, 2, 28), date(2026, 3, 31)),
        Period(date(2026, 3, 31), date(2026, 4, 30)),
        Period(date(2026, 4, 30), date(2026, 5, 31)),
    ]
    # a period starting on `since` or on `through` is included
    assert list(periods_between(date(2026, 1, 31), "month", 1, date(2026, 2, 28), date(2026, 3, 31))) == [
        Period(date(2026, 2, 28), date(2026, 3, 31)),
        Period(date(2026, 3, 31), date(2026, 4, 30)),
    ]
    assert list(periods_between(date(2026, 1, 31), "month", 1, date(2026, 3, 1), date(2026, 3, 30))) == []


def test_bad_intervals_are_refused():
    with pytest.raises(ValueError):
        add_interval(date(2026, 1, 1), "fortnight", 1)
    with pytest.raises(ValueError):
        add_interval(date(2026, 1, 1), "month", 0)
    with pytest.raises(ValueError):
        add_interval(date(2026, 1, 1), "month", 1, anchor_day=32)


@given(
    anchor=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    unit=st.sampled_from(["day", "week", "month", "year"]),
    count=st.integers(1, 4),
    offset=st.integers(-800, 3000),
)
def test_periods_tile_the_calendar(anchor, unit, count, offset):
    on = date.fromordinal(anchor.toordinal() + offset)
    period = period_containing(anchor, unit, count, on)
    assert period.contains(on)
    following = period_containing(anchor, unit, count, period.end)
    assert following.start == period.end
    if unit in ("month", "year"):
        # the day of month recovers: clamped only where the month is too short
        assert period.start.day == anchor.day or period.start.day < anchor.day


def test_the_local_date_is_the_organizations():
    from datetime import datetime

    from portico.subscriptions.periods import local_date

    moment = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert local_date(moment, "UTC") == date(2026, 3, 31)
    assert local_date(moment, "Europe/Berlin") == date(2026, 4, 1)  # 01:30 CEST
    assert local_date(moment, "America/Los_Angeles") == date(2026, 3, 31)
    with pytest.raises(ValueError):
        local_date(datetime(2026, 3, 31, 12), "UTC")
