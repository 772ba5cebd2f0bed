"""Public ids as the outside world sees them: a kind's prefix and the row's random `public_id`
(`cus_…`, `ctc_…`, `prod_…`), never a primary key. One registry, below every app that shows ids —
the API (`api.ids` parses and looks them up) and the webhooks' data alike — so an object has the
same id wherever the business's systems meet it."""

from __future__ import annotations

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
    "engagement.review": "rev",
    "engagement.shareddocument": "doc",
    "engagement.conversation": "conv",
    "engagement.conversationmessage": "msg",
}
# Kinds addressed by a field as it is stored, not by a prefixed random id: saved cards (whose
# `card_…` id the portal already uses) and an invoice's lines (their number within the invoice).
AS_STORED = {
    "payments.paymentmethod": "public_id",
    "billing.invoiceline": "position",
}


def prefix_of(model) -> str:
    return PREFIXES[model._meta.label_lower]


def public_id(obj) -> str:
    stored = AS_STORED.get(obj._meta.label_lower)
    if stored is not None:
        return str(getattr(obj, stored))
    return f"{prefix_of(type(obj))}_{obj.public_id}"
