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

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal

import orjson
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
            return _json_text(field.encoder)
        return lambda value: field.get_db_prep_save(value, connection)
    if isinstance(field, (models.ForeignKey, *_PLAIN)):
        # A choice may be an enum member: psycopg would send an Enum's name, not its value.
        return (
            (lambda value: value if value is None or type(value) is str else str(value))
            if field.choices
            else None
        )
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


# What orjson must hand to the field's encoder, as `json.dumps(cls=encoder)` would: datetimes and
# dataclasses (orjson writes its own forms of them). Integer keys become strings, as in `json`.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _json_text(encoder):
    """value → the JSON text `json.dumps(value, cls=encoder)` gives, as jsonb reads it (the same
    document; spacing and escapes aside), by orjson — the bill run's rows carry four JSON values
    each, and `json` took a tenth of its time. What orjson refuses (an int beyond 64 bits, a type
    only `json`'s encoder knows) goes through `json` itself."""
    default = encoder().default if encoder is not None else None

    def dumps(value):
        if value is None:
            return None
        try:
            return orjson.dumps(value, default=default, option=_ORJSON_OPTIONS).decode()
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            return json.dumps(value, cls=encoder)

    return dumps


_MISSING = object()


def _value_of(row, field, default, now):
    if isinstance(row, dict):
        value = row.get(field.attname, _MISSING)
        if value is _MISSING:
            value = row.get(field.name, _MISSING)
            if value is _MISSING:
                value = default()
            elif isinstance(field, models.ForeignKey) and value is not None:
                value = value.pk
    else:
        value = getattr(row, field.attname)
    if value is None and (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)):
        return now
    return value


def _records(rows: Sequence, ids: list[int], columns: list, now) -> list[list]:
    """The rows' values in column order, converted for the database. Dict rows keyed by attnames
    (the bill run's) take the short way: the missing columns' plain defaults filled in from one
    template, no call per value; other rows go value by value."""
    converters = [_converter(f) for f in columns]
    attnames = [f.attname for f in columns]
    known = set(attnames)
    stamped = [
        i for i, f in enumerate(columns) if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    # The defaults that are the same for every row (not callables that must run per row, like a
    # new token or a fresh dict): a value, or what Django stores for none ("" or NULL).
    template = {
        f.attname: None
        if (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
        else f.get_default()
        for f in columns
        if not (f.has_default() and callable(f.default))
    }
    needed = known - template.keys()
    pairs = [(i, convert) for i, convert in enumerate(converters) if convert is not None]
    records = []
    for pk, row in zip(ids, rows, strict=True):
        if isinstance(row, dict) and row.keys() <= known and needed <= row.keys():
            full = {**template, **row} if len(row) != len(known) else row
            values = [full[name] for name in attnames]
        else:
            values = [_value_of(row, f, f.get_default, now) for f in columns]
        for i in stamped:
            if values[i] is None:
                values[i] = now
        for i, convert in pairs:
            values[i] = convert(values[i])
        values.insert(0, pk)
        records.append(values)
    return records


def instances(model, rows: Sequence[dict]) -> list:
    """Model objects for rows just inserted (`insert` set their "id"), without `Model.__init__`'s
    work per field: the values are set as they are (a row lacking a field gets its default)."""
    from django.db.models.base import ModelState

    fields = [(field.attname, field.get_default) for field in model._meta.concrete_fields]
    alias = connection.alias  # once: each `connection.…` is a lookup in a context-local
    objects = []
    for row in rows:
        obj = model.__new__(model)
        values = obj.__dict__
        for name, default in fields:
            values[name] = row[name] if name in row else default()
        state = ModelState()
        state.adding = False
        state.db = alias
        values["_state"] = state
        objects.append(obj)
    return objects


def array_literal(values: Sequence) -> str:
    """A PostgreSQL array's text form (`{1,2,NULL,"a \\"b\\""}`), sent as one string parameter and
    cast (`%s::bigint[]`): psycopg's list adapter quotes each element in Python, which for the bill
    run's arrays of 500 values cost more than the queries. Elements: None, bool, int, Decimal, str,
    date and datetime (ISO, with its offset)."""
    parts = []
    for value in values:
        kind = type(value)
        if value is None:
            parts.append("NULL")
        elif kind is int:
            parts.append(str(value))
        elif kind is bool:
            parts.append("t" if value else "f")
        elif isinstance(value, dt.date | Decimal):  # datetime is a date
            parts.append(f'"{value.isoformat() if kind is not Decimal else value}"')
        elif isinstance(value, str):
            parts.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        elif isinstance(value, int):  # an IntegerChoices member
            parts.append(str(int(value)))
        else:
            raise TypeError(f"array_literal: {kind.__name__} is not an array element here")
    return "{" + ",".join(parts) + "}"


def load(queryset) -> list:
    """The objects of `queryset`, and the ones it `select_related` (forward keys), as Django's
    iterator would give them but without `Model.__init__`'s work per field and row: the converted
    values are set as they are, like `instances` (the bill run claims thousands of subscriptions a
    second, each with its customer). Deferred fields (`defer`, `only`) load on first use, as
    Django's do. Refused rather than built wrong: values, annotations, reverse relations."""
    from django.db.models.base import ModelState

    query = queryset.query
    if query.annotation_select or query.extra_select or query.values_select:
        raise ValueError("bulk.load builds model objects: no values or annotations")
    alias = queryset.db
    compiler = query.get_compiler(using=alias)
    results = compiler.execute_sql(chunked_fetch=False)

    def plan(info) -> tuple:
        fields = info["select_fields"]
        attnames = [compiler.select[i][0].target.attname for i in fields]
        model = info["model"]
        concrete = [f.attname for f in model._meta.concrete_fields]
        if model._meta.pk.attname not in attnames or attnames != [a for a in concrete if a in attnames]:
            raise ValueError(f"bulk.load: {model.__name__}'s columns are not its fields in order")
        related = []
        for sub in info.get("related_klass_infos", []):
            if sub.get("reverse"):
                raise ValueError("bulk.load follows forward keys only")
            related.append((sub["field"].cache_name, plan(sub)))
        pk_index = attnames.index(model._meta.pk.attname)
        return model, fields[0], fields[-1] + 1, attnames, pk_index, related

    def build(row, model, start, end, attnames, pk_index, related):
        values = row[start:end]
        if values[pk_index] is None:  # a nullable key that is not set: no object
            return None
        obj = model.__new__(model)
        attributes = obj.__dict__
        attributes.update(zip(attnames, values, strict=True))
        state = ModelState()
        state.adding = False
        state.db = alias
        attributes["_state"] = state
        for cache_name, sub in related:
            state.fields_cache[cache_name] = build(row, *sub)
        return obj

    top = plan(compiler.klass_info)
    return [build(row, *top) for row in compiler.results_iter(results)]


_sequences: dict[tuple[str, str], str] = {}


def _sequence_of(cursor, table: str) -> str:
    """The table's id sequence (PostgreSQL), looked up once per process and database."""
    key = (connection.settings_dict["NAME"], table)
    if key not in _sequences:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        _sequences[key] = cursor.fetchone()[0]
    return _sequences[key]


def _take_ids(cursor, table: str, n: int) -> list[int]:
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [_sequence_of(cursor, table), n]
        )
        return [r[0] for r in cursor.fetchall()]
    # SQLite: the caller's transaction holds the write lock, so the next ids are ours.
    cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
    found = cursor.fetchone()
    if found is None:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
        found = cursor.fetchone()
    return list(range(found[0] + 1, found[0] + 1 + n))


def insert(model, rows: Sequence, *, set_pk: bool = True) -> list[int]:
    """Insert `rows` of `model`; their new ids, in order (and set on objects when `set_pk`)."""
    return _insert(model, rows, set_pk=set_pk, with_ids=True)


def insert_rows(model, rows: Sequence) -> int:
    """Insert `rows` of `model` whose ids nobody needs (the database numbers them); how many."""
    _insert(model, rows, set_pk=False, with_ids=False)
    return len(rows)


def _insert(model, rows: Sequence, *, set_pk: bool, with_ids: bool) -> list[int]:
    if not rows:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("core.bulk.insert runs inside the caller's transaction")
    columns = _columns(model)
    table = model._meta.db_table
    n = len(rows)
    now = clock.now()
    with connection.cursor() as cursor:
        ids = _take_ids(cursor, table, n) if with_ids else [None] * n
        values = _records(rows, ids, columns, now)
        names = [f.column for f in columns]
        if with_ids:
            names.insert(0, "id")
        else:
            for record in values:
                del record[0]
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
