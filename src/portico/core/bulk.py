"""Inserting many rows fast, for the bill run's batches (thousands of invoices, lines, audit and
outbox rows a second): rows go in without building a Django model per row and without Django's
per-value INSERT compiler.

- PostgreSQL: the ids are taken from the table's sequence in one query, the rows are sent with
  `COPY … FROM STDIN` (psycopg's C implementation), ids included.
- SQLite: the caller's transaction holds the database's write lock (transactions start IMMEDIATE,
  see settings), so the next ids are `sqlite_sequence`'s value + 1, …; rows go in with
  `executemany`.

Each row is an object or a dict with the model's field names or attnames (`customer` or
`customer_id`); a missing value takes the field's default. Values are converted as Django would
for the database (`get_db_prep_save`), once per distinct value object where it matters (a batch's
timestamps are one object). The caller must be inside a transaction: a failure rolls the whole
batch back, ids and all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection, models, transaction
from django.db.models import fields as django_fields

from portico.core import clock

_PLAIN = (
    django_fields.IntegerField,
    django_fields.BigIntegerField,
    django_fields.PositiveIntegerField,
    django_fields.PositiveSmallIntegerField,
    django_fields.PositiveBigIntegerField,
    django_fields.SmallIntegerField,
    django_fields.CharField,
    django_fields.TextField,
    django_fields.BooleanField,
)


def _columns(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _converter(field):
    """A function value → database value, equal to `field.get_db_prep_save` for this database
    (None: the value goes as it is)."""
    if isinstance(field, models.JSONField):
        if connection.vendor == "postgresql":
            encoder = field.encoder
            return lambda value: None if value is None else json.dumps(value, cls=encoder)
        return lambda value: field.get_db_prep_save(value, connection)
    if isinstance(field, (models.ForeignKey, *_PLAIN)):
        return (lambda value: None if value is None else str(value)) if field.choices else None
    if connection.vendor == "postgresql" and isinstance(
        field,
        models.DateField | models.DecimalField,  # DateTimeField is a DateField
    ):
        return None  # psycopg sends dates, datetimes and decimals as they are
    cache: dict = {}

    def convert(value):  # SQLite: dates, datetimes, decimals as Django stores them; repeats cached
        try:
            return cache[value]
        except KeyError:
            result = cache[value] = field.get_db_prep_save(value, connection)
            if len(cache) > 4096:
                cache.clear()
            return result
        except TypeError:
            return field.get_db_prep_save(value, connection)

    return convert


def _value_of(row, field, default, now):
    if isinstance(row, dict):
        if field.attname in row:
            value = row[field.attname]
        elif field.name in row:
            value = row[field.name]
            if isinstance(field, models.ForeignKey) and value is not None:
                value = value.pk
        else:
            value = default()
    else:
        value = getattr(row, field.attname)
    if value is None and (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)):
        return now
    return value


def insert(model, rows: Sequence, *, set_pk: bool = True) -> list[int]:
    """Insert `rows` of `model`; their new ids, in order (and set on objects when `set_pk`)."""
    if not rows:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("core.bulk.insert runs inside the caller's transaction")
    columns = _columns(model)
    converters = [_converter(f) for f in columns]
    defaults = [f.get_default for f in columns]
    table = model._meta.db_table
    n = len(rows)
    now = clock.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
            )
            ids = [r[0] for r in cursor.fetchall()]
        else:
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            found = cursor.fetchone()
            if found is None:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
                found = cursor.fetchone()
            ids = list(range(found[0] + 1, found[0] + 1 + n))
        values = []
        for pk, row in zip(ids, rows, strict=True):
            record = [pk]
            for field, convert, default in zip(columns, converters, defaults, strict=True):
                value = _value_of(row, field, default, now)
                record.append(convert(value) if convert is not None else value)
            values.append(record)
        names = ["id"] + [f.column for f in columns]
        quoted = ", ".join(connection.ops.quote_name(c) for c in names)
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg's own cursor under Django's wrapper
            with raw.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
                for record in values:
                    copy.write_row(record)
        else:
            marks = ", ".join(["%s"] * len(names))
            cursor.executemany(
                f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({marks})",  # noqa: S608
                values,
            )
    if set_pk:
        for pk, row in zip(ids, rows, strict=True):
            if isinstance(row, dict):
                row["id"] = pk
            else:
                row.pk = pk
                if hasattr(row, "_state"):
                    row._state.adding = False
    return ids
