"""Dates and numbers as customers read them: Babel, in the active organization's locale.

One rule for every page and document (the `local_date` / `local_datetime` template filters of
`core.templatetags.dates` and the template tags that write markup themselves call these): dates are
Babel's "medium" format in the organization's locale (`Dec 1, 2026` for en_US, `1 Dec 2026` for en_GB,
`01.12.2026` for de_DE), so a page never mixes ISO dates with Django's `DATE_FORMAT`. Machine formats
(CSV, `<input type=date>` values, ISO query strings) stay ISO and do not come through here.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date, format_time

from portico.core import tenancy
from portico.core.templatetags.money import current_locale

FALLBACK_LOCALE = "en_US"


@lru_cache(maxsize=64)
def parse_locale(locale: str) -> Locale:
    """A Babel locale; an unknown or malformed code falls back to en_US rather than failing a page."""
    try:
        return Locale.parse(locale or FALLBACK_LOCALE)
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(FALLBACK_LOCALE)


@lru_cache(maxsize=8192)
def format_local_date(value: dt.date, locale: str) -> str:
    return format_date(value, format="medium", locale=parse_locale(locale))


def local_date(value: dt.date | dt.datetime | None, locale: str | None = None) -> str:
    """A date in the organization's locale (a datetime is first moved to the organization's zone)."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(_zone()).date() if value.tzinfo else value.date()
    return format_local_date(value, locale or current_locale())


def local_datetime(value: dt.datetime | None, locale: str | None = None) -> str:
    """A moment in the organization's locale and time zone, to the minute (`Dec 1, 2026, 7:49 PM`)."""
    if value is None or value == "":
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(_zone())
    parsed = parse_locale(locale or current_locale())
    # The locale's own way of joining a date and a time ("{1}, {0}", "{1} 'um' {0}", ...).
    pattern = str(parsed.datetime_formats.get("medium", "{1}, {0}")).replace("'", "")
    return pattern.format(
        format_time(value, format="short", locale=parsed), format_local_date(value.date(), str(parsed))
    )


def short_date(value: dt.date | None) -> str:
    """For template tags that write rows themselves: the same as `{{ value|local_date }}`."""
    return local_date(value)


def country_name(code: str, locale: str | None = None) -> str:
    """An ISO 3166 country code as the organization's locale names it (`US` → `United States`)."""
    if not code:
        return ""
    return parse_locale(locale or current_locale()).territories.get(code.upper(), code)


def _zone() -> zoneinfo.ZoneInfo:
    organization = tenancy.current_organization()
    name = getattr(organization, "time_zone", "") or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")
