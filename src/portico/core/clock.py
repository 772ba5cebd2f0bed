"""The one place code reads the time, so tests can move it (see the `clock` fixture)."""

from __future__ import annotations

import contextlib
import datetime as dt
from zoneinfo import ZoneInfo

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(dt.UTC)


def today(zone: str | ZoneInfo = "UTC") -> dt.date:
    """Today's date in a time zone (an organization's, for billing dates)."""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return now().astimezone(tz).date()


def freeze(at: dt.datetime | None) -> None:
    """Fix the clock at `at` (aware), or release it with None. For tests and `billrun --at`."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at.astimezone(dt.UTC) if at is not None else None


def advance(delta: dt.timedelta) -> dt.datetime:
    freeze(now() + delta)
    return now()


@contextlib.contextmanager
def restored():
    """Let the block move the clock (e.g. to write history); put it back exactly as it was afterwards."""
    global _frozen
    previous = _frozen
    try:
        yield
    finally:
        _frozen = previous
