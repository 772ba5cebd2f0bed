"""Public ids as the API shows them: a kind's prefix and the row's random `public_id` (`cus_…`,
`ctc_…`, `prod_…`), never a primary key. One registry, so that every resource formats and parses
them alike; an id of the wrong kind, or malformed, finds nothing (404) rather than failing."""

from __future__ import annotations

import re

from django.db import models

PREFIXES = {
    "customers.customer": "cus",
    "customers.contactperson": "ctc",
    "catalog.product": "prod",
    "catalog.plan": "plan",
    "catalog.addon": "addon",
    "catalog.coupon": "coupon",
    "catalog.couponcode": "promo",
    "catalog.taxrate": "txr",
    "catalog.item": "item",
    "billing.invoice": "in",
    "billing.creditnote": "cn",
    "billing.payment": "pay",
    "subscriptions.subscription": "sub",
    "projects.project": "prj",
    "projects.task": "tsk",
    "projects.staffmember": "stf",
    "projects.timeentry": "te",
    "projects.milestone": "ms",
}
# Kinds addressed by a field as it is stored, not by a prefixed random id: saved cards (whose
# `card_…` id the portal already uses) and an invoice's lines (their number within the invoice).
AS_STORED = {
    "payments.paymentmethod": "public_id",
    "billing.invoiceline": "position",
}
_RANDOM_PART = re.compile(r"^[A-Za-z0-9_\-]{1,16}$")
_STORED_TEXT = re.compile(r"^[A-Za-z0-9._\-]{1,40}$")


def prefix_of(model) -> str:
    return PREFIXES[model._meta.label_lower]


def public_id(obj) -> str:
    stored = AS_STORED.get(obj._meta.label_lower)
    if stored is not None:
        return str(getattr(obj, stored))
    return f"{prefix_of(type(obj))}_{obj.public_id}"


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
