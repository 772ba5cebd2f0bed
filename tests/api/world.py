"""One object of every kind the API addresses, in one organization."""

from __future__ import annotations

from decimal import Decimal

from portico.catalog.models import Addon, Coupon, CouponCode, Item, Plan, Product, TaxRate
from portico.core.tenancy import tenant
from tests.factories import ContactFactory, CustomerFactory


def build_world(organization) -> dict[str, object]:
    with tenant(organization):
        customer = CustomerFactory(organization=organization)
        tax_rate = TaxRate.objects.create(organization=organization, name="Tax", percent=Decimal("8.25"))
        product = Product.objects.create(organization=organization, name=f"Product of {organization.slug}")
        plan = Plan.objects.create(
            organization=organization, product=product, code="basic", name="Basic", price_minor=3000
        )
        addon = Addon.objects.create(
            organization=organization,
            code="seats",
            name="Seats",
            charge_type="recurring",
            interval_unit="month",
            interval_count=1,
            price_minor=500,
        )
        coupon = Coupon.objects.create(organization=organization, name="Launch", percent=Decimal(10))
        return {
            "customer": customer,
            "contact": ContactFactory(customer=customer, is_primary=True),
            "tax_rate": tax_rate,
            "item": Item.objects.create(organization=organization, name="Hour", unit_price_minor=9000),
            "product": product,
            "plan": plan,
            "addon": addon,
            "coupon": coupon,
            "coupon_code": CouponCode.objects.create(organization=organization, coupon=coupon, code="LAUNCH"),
        }
