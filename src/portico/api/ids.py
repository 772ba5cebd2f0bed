"""Public ids as the API shows them: a kind's prefix and the row's random `public_id` (`cus_…`,
`ctc_…`, `prod_…`), never a primary key. One registry, so that every resource formats and parses
them alike; an id of the wrong kind, or malformed, finds nothing (404) rather than failing."""

from __future__ import annotations

import re

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
}
_RANDOM_PART = re.compile(r"^[A-Za-z0-9_\-]{1,16}$")


def prefix_of(model) -> str:
    return PREFIXES[model._meta.label_lower]


def public_id(obj) -> str:
    return f"{prefix_of(type(obj))}_{obj.public_id}"


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

    stored = parse(queryset.model, value)
    obj = queryset.filter(public_id=stored).first() if stored is not None else None
    if obj is None:
        raise ResourceMissing(field=field)
    return obj
