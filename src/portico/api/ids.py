"""Public ids in the API: formatted by `core.public_ids` (the one registry of prefixes), parsed and
looked up here; an id of the wrong kind, or malformed, finds nothing (404) rather than failing."""

from __future__ import annotations

import re

from django.db import models

from portico.core.public_ids import AS_STORED, PREFIXES, prefix_of, public_id

__all__ = ["AS_STORED", "PREFIXES", "get", "parse", "prefix_of", "public_id"]

_RANDOM_PART = re.compile(r"^[A-Za-z0-9_\-]{1,16}$")
_STORED_TEXT = re.compile(r"^[A-Za-z0-9._\-]{1,40}$")


def _lookup(model, value) -> dict | None:
    """The filter that finds `value` among `model`'s rows, or None when it cannot name one."""
    stored = AS_STORED.get(model._meta.label_lower)
    if stored is None:
        found = parse(model, value)
        return None if found is None else {"public_id": found}
    if not isinstance(value, str) or not _STORED_TEXT.match(value):
        return None
    if isinstance(model._meta.get_field(stored), models.IntegerField):
        return {stored: int(value)} if value.isdigit() and len(value) < 10 else None
    return {stored: value}


def parse(model, value: str) -> str | None:
    """The stored `public_id` inside an API id of `model`'s kind, or None when it is not one."""
    prefix = prefix_of(model) + "_"
    if not isinstance(value, str) or not value.startswith(prefix):
        return None
    rest = value[len(prefix) :]
    return rest if _RANDOM_PART.match(rest) else None


def get(queryset, value: str, *, field: str | None = None):
    """The row of `queryset` (a tenant-scoped queryset) with this API id, else 404."""
    from portico.api.errors import ResourceMissing

    lookup = _lookup(queryset.model, value)
    obj = queryset.filter(**lookup).first() if lookup is not None else None
    if obj is None:
        raise ResourceMissing(field=field)
    return obj
