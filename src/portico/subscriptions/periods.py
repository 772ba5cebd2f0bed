"""Billing periods: date arithmetic on the organization's local dates (DESIGN.md "Proration").

A period is the half-open range of local dates `[start, end)`: it includes `start` and ends the day
before `end`, so consecutive periods share a boundary and `(end - start).days` is its length in days.
The bill run and proration read "today" with `core.clock.today(organization's zone)`; nothing here
looks at the time of day.

Months and years clamp to the end of a shorter month and recover (Chargebee's and Stripe's billing
anchor): a subscription anchored on 31 January renews on 28 February (29 in leap years), 31 March,
30 April… Every period is computed from the anchor with a count of intervals (never by chaining the
previous end), and `anchor_day` remembers the anchor's day of month when the anchor itself was a
clamped date (a term that started on 28 February of a subscription anchored on the 31st).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from typing import NamedTuple
from zoneinfo import ZoneInfo

DAY, WEEK, MONTH, YEAR = "day", "week", "month", "year"  # catalog.models.IntervalUnit's values
UNITS = (DAY, WEEK, MONTH, YEAR)


class Period(NamedTuple):
    """`[start, end)` in local dates; `last_day` is the day before `end` (what documents print)."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def contains(self, on: dt.date) -> bool:
        return self.start <= on < self.end


def local_date(moment: dt.datetime, zone: str | ZoneInfo) -> dt.date:
    """The organization's date at an aware `moment` (a change "on" a day is that local day)."""
    if moment.tzinfo is None:
        raise ValueError("A moment is timezone-aware")
    return moment.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone).date()


def _check(unit: str, count: int) -> None:
    if unit not in UNITS:
        raise ValueError(f"Unknown interval unit {unit!r}: one of {', '.join(UNITS)}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError("An interval count is a whole number of at least 1")


def _add_months(anchor: dt.date, months: int, day: int) -> dt.date:
    index = anchor.year * 12 + (anchor.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise OverflowError("date out of range")
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def add_interval(
    anchor: dt.date, unit: str, count: int = 1, n: int = 1, anchor_day: int | None = None
) -> dt.date:
    """The date `n` intervals of `count` `unit`s after `anchor` (`n` may be 0 or negative).

    Months and years keep the anchor's day of month (or `anchor_day`, 1–31), clamped to the month's
    last day: from 31 Jan 2026 monthly, n=1 → 28 Feb 2026, n=2 → 31 Mar 2026; from 29 Feb 2024
    yearly, n=1 → 28 Feb 2025, n=4 → 29 Feb 2028."""
    _check(unit, count)
    if anchor_day is not None and not 1 <= anchor_day <= 31:
        raise ValueError("An anchor day is a day of the month, 1 to 31")
    steps = count * n
    if unit == DAY:
        return anchor + dt.timedelta(days=steps)
    if unit == WEEK:
        return anchor + dt.timedelta(weeks=steps)
    day = anchor_day if anchor_day is not None else anchor.day
    return _add_months(anchor, steps * (12 if unit == YEAR else 1), day)


def _index_of(anchor: dt.date, unit: str, count: int, on: dt.date, anchor_day: int | None) -> int:
    """The `n` with add_interval(anchor, n) <= on < add_interval(anchor, n + 1)."""
    if unit in (DAY, WEEK):
        length = count * (7 if unit == WEEK else 1)
        return (on - anchor).days // length
    months = (on.year - anchor.year) * 12 + (on.month - anchor.month)
    n = months // (count * (12 if unit == YEAR else 1))
    # The estimate is off by at most one either way (the day of month decides).
    while add_interval(anchor, unit, count, n, anchor_day) > on:
        n -= 1
    while add_interval(anchor, unit, count, n + 1, anchor_day) <= on:
        n += 1
    return n


def period_at(anchor: dt.date, unit: str, count: int, n: int, anchor_day: int | None = None) -> Period:
    """The `n`-th period from the anchor (n=0 starts on the anchor)."""
    return Period(
        add_interval(anchor, unit, count, n, anchor_day), add_interval(anchor, unit, count, n + 1, anchor_day)
    )


def period_containing(
    anchor: dt.date, unit: str, count: int, on: dt.date, anchor_day: int | None = None
) -> Period:
    """The period of the schedule anchored on `anchor` that contains the local date `on`
    (a date before the anchor falls in a period before it, as the schedule extends backwards)."""
    _check(unit, count)
    return period_at(anchor, unit, count, _index_of(anchor, unit, count, on, anchor_day), anchor_day)


term_containing = period_containing  # the name the issue-11 brief agreed on


def periods_between(
    anchor: dt.date,
    unit: str,
    count: int,
    since: dt.date,
    through: dt.date,
    anchor_day: int | None = None,
) -> Iterator[Period]:
    """Every period that starts on or after `since` and on or before `through`, oldest first:
    what a bill run that last ran before `since` and runs on `through` must bill (each once).

    Lazy, so a subscription years behind does not build a list."""
    _check(unit, count)
    if through < since:
        return
    n = _index_of(anchor, unit, count, since, anchor_day)
    if add_interval(anchor, unit, count, n, anchor_day) < since:
        n += 1
    while True:
        period = period_at(anchor, unit, count, n, anchor_day)
        if period.start > through:
            return
        yield period
        n += 1
