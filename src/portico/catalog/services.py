"""Changes to the catalog outside the console's forms (the API): create, change, archive and
restore tax rates, items, products, plans, addons, coupons and their codes.

The rules are the catalog's own, as the console applies them: each model's validation
(`full_clean`: its fields, its `clean`, its constraints) and, for plans and addons, the tiers
checked together by `pricing.check_tiers` against the pricing model being saved. Each change is
audited under the console's names (`<model>.created`, `<model>.changed`, `<model>.archived`,
`<model>.restored`) in the transaction that makes it."""

from __future__ import annotations

from django.db import models, transaction

from portico.catalog.models import Addon, CouponCode, Item, Plan, TaxRate
from portico.catalog.pricing import Tier, check_tiers
from portico.core.audit import Actor, audit

# How each kind is taken out of (and back into) the catalog: archived, or made inactive.
_ARCHIVED = {TaxRate: ("is_active", False), Item: ("is_active", False), CouponCode: ("is_active", False)}


def _archive_field(model) -> tuple[str, bool]:
    return _ARCHIVED.get(model, ("is_archived", True))


def _set_related(entry, related: dict[str, list]) -> None:
    for name, rows in related.items():
        getattr(entry, name).set(rows)


def _set_tiers(entry, tiers: list[Tier] | None) -> None:
    """Replace the tiers of a plan or addon, checked against its pricing model."""
    if not isinstance(entry, Plan | Addon):
        return
    if tiers is None:
        if entry.pk is None:
            check_tiers(entry.pricing_model, [])
        else:
            stored = [Tier(t.up_to, t.unit_price, t.flat_fee_minor) for t in entry.tier_rows()]
            check_tiers(entry.pricing_model, stored)
        return
    check_tiers(entry.pricing_model, tiers)
    if entry.pk is None:
        return
    entry.tiers.all().delete()
    entry.tiers.model.objects.bulk_create(
        [
            entry.tiers.model(
                **{entry._meta.model_name: entry},
                up_to=t.up_to,
                unit_price=t.unit_price,
                flat_fee_minor=t.flat_fee_minor,
            )
            for t in tiers
        ]
    )


def create_entry(
    *,
    model: type[models.Model],
    organization,
    data: dict,
    actor: Actor,
    related: dict[str, list] | None = None,
    tiers: list[Tier] | None = None,
):
    """A new catalog entry; refused with a `ValidationError` (or `InvalidTiers`) before any write."""
    entry = model(organization=organization, **data)
    entry.full_clean()
    _set_tiers(entry, tiers)
    with transaction.atomic():
        entry.save()
        _set_related(entry, related or {})
        if tiers:
            _set_tiers(entry, tiers)
        audit(actor, f"{entry._meta.model_name}.created", entry, fields=sorted([*data, *(related or {})]))
    return entry


def update_entry(
    *,
    entry,
    data: dict,
    actor: Actor,
    related: dict[str, list] | None = None,
    tiers: list[Tier] | None = None,
):
    """Change the fields given (and replace the relations and tiers given); nothing else moves."""
    with transaction.atomic():
        entry = type(entry).all_tenants.select_for_update().get(pk=entry.pk)
        for name, value in data.items():
            setattr(entry, name, value)
        entry.full_clean()
        _set_tiers(entry, tiers)
        entry.save()
        _set_related(entry, related or {})
        fields = sorted([*data, *(related or {}), *(["tiers"] if tiers is not None else [])])
        if fields:
            audit(actor, f"{entry._meta.model_name}.changed", entry, fields=fields)
    return entry


def set_archived(*, entry, archived: bool, actor: Actor):
    """Archive an entry (it can no longer be chosen for anything new; what uses it keeps it), or
    restore it. Doing what is already done changes nothing."""
    field, archived_value = _archive_field(type(entry))
    value = archived_value if archived else not archived_value
    with transaction.atomic():
        entry = type(entry).all_tenants.select_for_update().get(pk=entry.pk)
        if getattr(entry, field) == value:
            return entry
        setattr(entry, field, value)
        entry.save(update_fields=[field])
        audit(actor, f"{entry._meta.model_name}.{'archived' if archived else 'restored'}", entry)
    return entry
