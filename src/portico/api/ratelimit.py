"""The rate limit per API key: at most `PORTICO_API_RATE_LIMIT` requests (default 100) per fixed
window of `PORTICO_API_RATE_WINDOW` seconds (default 10), counted in the database so that every app
process and server shares one count. One upsert per request (`INSERT … ON CONFLICT DO UPDATE …
RETURNING`, which PostgreSQL and SQLite both speak) counts and reads atomically."""

from __future__ import annotations

import math

from django.conf import settings
from django.db import connection

from portico.api.models import RateWindow
from portico.core import clock


def limit() -> int:
    return int(getattr(settings, "PORTICO_API_RATE_LIMIT", 100))


def window() -> int:
    return int(getattr(settings, "PORTICO_API_RATE_WINDOW", 10))


def hit(api_key) -> int | None:
    """Count one request of the key; None when it is within the limit, else the seconds to wait."""
    now = clock.now().timestamp()
    length = window()
    start = int(now // length) * length
    table = connection.ops.quote_name(RateWindow._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (api_key_id, window_start, count) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (api_key_id, window_start) DO UPDATE SET count = {table}.count + 1 "
            "RETURNING count",
            [api_key.pk, start],
        )
        count = cursor.fetchone()[0]
    if count == 1:  # a new window: forget the key's earlier ones
        RateWindow.objects.filter(api_key_id=api_key.pk, window_start__lt=start).delete()
    if count > limit():
        return max(1, math.ceil(start + length - now))
    return None
