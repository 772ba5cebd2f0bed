"""Formatting helpers for code that writes markup itself (template tags rendering many rows)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.utils.formats import date_format
from django.utils.translation import get_language


@lru_cache(maxsize=4096)
def _date(value: dt.date, language: str | None) -> str:
    return date_format(value, "DATE_FORMAT")


def short_date(value: dt.date | None) -> str:
    """`{{ value|date:"DATE_FORMAT" }}` in the active language, remembered per date and language."""
    return _date(value, get_language()) if value else ""
