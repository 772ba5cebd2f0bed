"""The catalog's schemas and serializers, one group per kind (`resources.catalog` declares the
kinds and builds their operations). Amounts are integers in minor units beside the entry's
`currency`; unit prices and percentages (finer than a cent) are decimals, served as strings."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from portico.api import ids
from portico.api.schemas import AmountMinor, Currency
from portico.catalog.models import (
    Addon,
    Coupon,
    CouponCode,
    IntervalUnit,
    Item,
    Plan,
    PricingModel,
    Product,
    TaxRate,
)

Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)]
UnitPrice = Annotated[Decimal, Field(ge=0, max_digits=19, decimal_places=6)]
Count = Annotated[int, Field(ge=0, le=2_000_000_000)]
Reference = Annotated[str, Field(min_length=1, max_length=40)]
References = Annotated[list[Reference], Field(max_length=500)]
Text = Annotated[str, Field(max_length=10000)]
Interval = Literal[tuple(IntervalUnit.values)]
Pricing = Literal[tuple(PricingModel.values)]


class TierIn(Schema):
    up_to: int | None = Field(None, ge=1, le=10**15, description="Empty for the last tier.")
    unit_price: UnitPrice = Decimal(0)
    flat_fee_minor: AmountMinor = 0


class TierOut(Schema):
    up_to: int | None
    unit_price: Decimal
    flat_fee_minor: int


Tiers = Annotated[list[TierIn], Field(max_length=50)]


def _ref(obj) -> str | None:
    return ids.public_id(obj) if obj is not None else None


def _ids_of(rows) -> list[str]:
    """The ids of related rows, in a stable order, from their prefetch."""
    return [ids.public_id(row) for row in sorted(rows, key=lambda row: row.pk)]


def _tiers_out(entry) -> list[dict]:
    return [
        {"up_to": t.up_to, "unit_price": t.unit_price, "flat_fee_minor": t.flat_fee_minor}
        for t in entry.tier_rows()
    ]


# -- tax rates ------------------------------------------------------------------------------------


class TaxRateIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    percent: Percent
    is_inclusive: bool = False


class TaxRateUpdate(Schema):
    name: str = Field(None, min_length=1, max_length=64)
    percent: Percent = None
    is_inclusive: bool = None


class TaxRateOut(Schema):
    id: str
    object: Literal["tax_rate"]
    name: str
    percent: Decimal
    is_inclusive: bool
    is_active: bool


def tax_rate_out(rate: TaxRate) -> dict:
    return {
        "id": ids.public_id(rate),
        "object": "tax_rate",
        "name": rate.name,
        "percent": rate.percent,
        "is_inclusive": rate.is_inclusive,
        "is_active": rate.is_active,
    }


# -- items ----------------------------------------------------------------------------------------


class ItemIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=500)
    currency: Currency | None = None
    unit_price_minor: AmountMinor
    tax_rate: Reference | None = None


class ItemUpdate(Schema):
    name: str = Field(None, min_length=1, max_length=200)
    description: str = Field(None, max_length=500)
    currency: Currency = None
    unit_price_minor: AmountMinor = None
    tax_rate: Reference | None = None


class ItemOut(Schema):
    id: str
    object: Literal["item"]
    name: str
    description: str
    currency: str
    unit_price_minor: int
    tax_rate: str | None
    is_active: bool


def item_out(item: Item) -> dict:
    return {
        "id": ids.public_id(item),
        "object": "item",
        "name": item.name,
        "description": item.description,
        "currency": item.currency,
        "unit_price_minor": item.unit_price_minor,
        "tax_rate": _ref(item.tax_rate),
        "is_active": item.is_active,
    }


# -- products -------------------------------------------------------------------------------------


class ProductIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    description: Text = ""


class ProductUpdate(Schema):
    name: str = Field(None, min_length=1, max_length=200)
    description: Text = None


class ProductOut(Schema):
    id: str
    object: Literal["product"]
    name: str
    description: str
    is_archived: bool


def product_out(product: Product) -> dict:
    return {
        "id": ids.public_id(product),
        "object": "product",
        "name": product.name,
        "description": product.description,
        "is_archived": product.is_archived,
    }


# -- plans ----------------------------------------------------------------------------------------

Code = Annotated[str, Field(min_length=1, max_length=64)]
Features = Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=100)]


class PlanIn(Schema):
    product: Reference
    code: Code
    name: str = Field(..., min_length=1, max_length=200)
    description: Text = ""
    features: Features = []
    position: Count = 0
    currency: Currency | None = None
    interval_unit: Interval = IntervalUnit.MONTH.value
    interval_count: int = Field(1, ge=1, le=365)
    pricing_model: Pricing = PricingModel.FLAT.value
    price_minor: AmountMinor = 0
    unit_price: UnitPrice = Decimal(0)
    setup_fee_minor: AmountMinor = 0
    tax_rate: Reference | None = None
    trial_days: int = Field(0, ge=0, le=3650)
    billing_cycles: int | None = Field(None, ge=1, le=10000)
    min_quantity: Count = 1
    max_quantity: Count | None = None
    tiers: Tiers | None = None


class PlanUpdate(Schema):
    code: Code = None
    name: str = Field(None, min_length=1, max_length=200)
    description: Text = None
    features: Features = None
    position: Count = None
    price_minor: AmountMinor = None
    unit_price: UnitPrice = None
    setup_fee_minor: AmountMinor = None
    pricing_model: Pricing = None
    tax_rate: Reference | None = None
    trial_days: int = Field(None, ge=0, le=3650)
    billing_cycles: int | None = Field(None, ge=1, le=10000)
    min_quantity: Count = None
    max_quantity: Count | None = None
    tiers: Tiers = None


class PlanOut(Schema):
    id: str
    object: Literal["plan"]
    product: str
    code: str
    name: str
    description: str
    features: list[str]
    position: int
    currency: str
    interval_unit: str
    interval_count: int
    pricing_model: str
    price_minor: int
    unit_price: Decimal
    setup_fee_minor: int
    tax_rate: str | None
    trial_days: int
    billing_cycles: int | None
    min_quantity: int
    max_quantity: int | None
    tiers: list[TierOut]
    is_archived: bool


def plan_out(plan: Plan) -> dict:
    return {
        "id": ids.public_id(plan),
        "object": "plan",
        "product": ids.public_id(plan.product),
        **{
            name: getattr(plan, name)
            for name in (
                "code",
                "name",
                "description",
                "features",
                "position",
                "currency",
                "interval_unit",
                "interval_count",
                "pricing_model",
                "price_minor",
                "unit_price",
                "setup_fee_minor",
                "trial_days",
                "billing_cycles",
                "min_quantity",
                "max_quantity",
                "is_archived",
            )
        },
        "tax_rate": _ref(plan.tax_rate),
        "tiers": _tiers_out(plan),
    }


# -- addons ---------------------------------------------------------------------------------------

ChargeType = Literal[tuple(Addon.ChargeType.values)]


class AddonIn(Schema):
    code: Code
    name: str = Field(..., min_length=1, max_length=200)
    description: Text = ""
    currency: Currency | None = None
    charge_type: ChargeType = Addon.ChargeType.RECURRING.value
    interval_unit: Interval | None = None
    interval_count: int | None = Field(None, ge=1, le=365)
    pricing_model: Pricing = PricingModel.FLAT.value
    price_minor: AmountMinor = 0
    unit_price: UnitPrice = Decimal(0)
    tax_rate: Reference | None = None
    plans: References = Field([], description="Empty: every plan.")
    tiers: Tiers | None = None


class AddonUpdate(Schema):
    code: Code = None
    name: str = Field(None, min_length=1, max_length=200)
    description: Text = None
    pricing_model: Pricing = None
    price_minor: AmountMinor = None
    unit_price: UnitPrice = None
    tax_rate: Reference | None = None
    plans: References = None
    tiers: Tiers = None


class AddonOut(Schema):
    id: str
    object: Literal["addon"]
    code: str
    name: str
    description: str
    currency: str
    charge_type: str
    interval_unit: str
    interval_count: int | None
    pricing_model: str
    price_minor: int
    unit_price: Decimal
    tax_rate: str | None
    plans: list[str]
    tiers: list[TierOut]
    is_archived: bool


def addon_out(addon: Addon) -> dict:
    return {
        "id": ids.public_id(addon),
        "object": "addon",
        **{
            name: getattr(addon, name)
            for name in (
                "code",
                "name",
                "description",
                "currency",
                "charge_type",
                "interval_unit",
                "interval_count",
                "pricing_model",
                "price_minor",
                "unit_price",
                "is_archived",
            )
        },
        "tax_rate": _ref(addon.tax_rate),
        "plans": _ids_of(addon.plans.all()),
        "tiers": _tiers_out(addon),
    }


# -- coupons and their codes ----------------------------------------------------------------------

DiscountType = Literal[tuple(Coupon.DiscountType.values)]
Duration = Literal[tuple(Coupon.Duration.values)]


class CouponIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    discount_type: DiscountType = Coupon.DiscountType.PERCENT.value
    percent: Percent | None = None
    amount_minor: AmountMinor | None = None
    currency: Currency | None = None
    duration: Duration = Coupon.Duration.ONCE.value
    duration_cycles: int | None = Field(None, ge=1, le=10000)
    max_redemptions: int | None = Field(None, ge=1, le=2_000_000_000)
    valid_until: dt.date | None = None
    plans: References = []
    addons: References = []


class CouponUpdate(Schema):
    """A coupon's discount is fixed once created (invoices were priced by it): only its name,
    limits, end date and what it applies to change."""

    name: str = Field(None, min_length=1, max_length=200)
    max_redemptions: int | None = Field(None, ge=1, le=2_000_000_000)
    valid_until: dt.date | None = None
    plans: References = None
    addons: References = None


class CouponOut(Schema):
    id: str
    object: Literal["coupon"]
    name: str
    discount_type: str
    percent: Decimal | None
    amount_minor: int | None
    currency: str
    duration: str
    duration_cycles: int | None
    max_redemptions: int | None
    times_redeemed: int
    valid_until: dt.date | None
    plans: list[str]
    addons: list[str]
    is_archived: bool


def coupon_out(coupon: Coupon) -> dict:
    return {
        "id": ids.public_id(coupon),
        "object": "coupon",
        **{
            name: getattr(coupon, name)
            for name in (
                "name",
                "discount_type",
                "percent",
                "amount_minor",
                "currency",
                "duration",
                "duration_cycles",
                "max_redemptions",
                "times_redeemed",
                "valid_until",
                "is_archived",
            )
        },
        "plans": _ids_of(coupon.plans.all()),
        "addons": _ids_of(coupon.addons.all()),
    }


class CouponCodeIn(Schema):
    code: Code
    max_redemptions: int | None = Field(None, ge=1, le=2_000_000_000)


class CouponCodeUpdate(Schema):
    max_redemptions: int | None = Field(None, ge=1, le=2_000_000_000)


class CouponCodeOut(Schema):
    id: str
    object: Literal["coupon_code"]
    coupon: str
    code: str
    max_redemptions: int | None
    times_redeemed: int
    is_active: bool


def coupon_code_out(code: CouponCode) -> dict:
    return {
        "id": ids.public_id(code),
        "object": "coupon_code",
        "coupon": ids.public_id(code.coupon),
        "code": code.code,
        "max_redemptions": code.max_redemptions,
        "times_redeemed": code.times_redeemed,
        "is_active": code.is_active,
    }
