"""Catalog rows for tests: fixed prices, each test builds what it needs."""

from __future__ import annotations

from decimal import Decimal

from portico.catalog.models import Addon, Coupon, CouponCode, Plan, PlanTier, Product


def product(organization, name="Cloud Backup", **fields) -> Product:
    return Product.all_tenants.create(organization=organization, name=name, **fields)


def plan(organization, code="basic", *, product_row=None, tiers=(), **fields) -> Plan:
    """A plan of `product_row` (a new product when none); `tiers` as (up_to, unit_price, flat_fee_minor)."""
    fields.setdefault("name", code.title())
    fields.setdefault("currency", organization.base_currency)
    fields.setdefault("price_minor", 1000)
    row = Plan.all_tenants.create(
        organization=organization,
        product=product_row or product(organization, name=f"Product of {code}"),
        code=code,
        **fields,
    )
    for up_to, unit_price, fee in tiers:
        PlanTier.objects.create(plan=row, up_to=up_to, unit_price=Decimal(unit_price), flat_fee_minor=fee)
    return row


def addon(organization, code="extra-storage", *, plans=(), **fields) -> Addon:
    fields.setdefault("name", code.replace("-", " ").title())
    fields.setdefault("currency", organization.base_currency)
    fields.setdefault("pricing_model", "per_unit")
    fields.setdefault("unit_price", Decimal("2.50"))
    if fields.get("charge_type", "recurring") == "recurring":
        fields.setdefault("interval_unit", "month")
        fields.setdefault("interval_count", 1)
    row = Addon.all_tenants.create(organization=organization, code=code, **fields)
    row.plans.set(plans)
    return row


def coupon(
    organization, name="Launch 20% off", *, codes=("LAUNCH20",), plans=(), addons=(), **fields
) -> Coupon:
    fields.setdefault("percent", Decimal("20"))
    row = Coupon.all_tenants.create(organization=organization, name=name, **fields)
    row.plans.set(plans)
    row.addons.set(addons)
    for code in codes:
        CouponCode.all_tenants.create(organization=organization, coupon=row, code=code)
    return row


def catalog_world(organization) -> dict:
    """One row of every catalog model the console shows (for the walks over every admin)."""
    family = product(organization, name="Backup")
    basic = plan(organization, "backup-basic", product_row=family)
    tiered = plan(
        organization,
        "backup-tiered",
        product_row=family,
        pricing_model="tiered",
        price_minor=0,
        tiers=[(10, "1.00", 0), (None, "0.50", 500)],
        position=1,
    )
    extra = addon(organization, plans=[basic])
    deal = coupon(organization, plans=[basic])
    return {"product": family, "plan": basic, "tiered": tiered, "addon": extra, "coupon": deal}
