"""One object of every kind the API addresses, in one organization."""

from __future__ import annotations

from decimal import Decimal

from portico.catalog.models import Addon, Coupon, CouponCode, Item, Plan, Product, TaxRate
from portico.core.tenancy import tenant
from tests.factories import ContactFactory, CustomerFactory


def build_world(organization, tag: str = "") -> dict[str, object]:
    """`tag` tells apart the codes and names of a second world in the same organization."""
    with tenant(organization):
        customer = CustomerFactory(organization=organization)
        tax_rate = TaxRate.objects.create(organization=organization, name="Tax", percent=Decimal("8.25"))
        product = Product.objects.create(
            organization=organization, name=f"Product of {organization.slug}{tag}"
        )
        plan = Plan.objects.create(
            organization=organization, product=product, code=f"basic{tag}", name="Basic", price_minor=3000
        )
        addon = Addon.objects.create(
            organization=organization,
            code=f"seats{tag}",
            name="Seats",
            charge_type="recurring",
            interval_unit="month",
            interval_count=1,
            price_minor=500,
        )
        coupon = Coupon.objects.create(organization=organization, name="Launch", percent=Decimal(10))
        addon.plans.add(plan)
        coupon.plans.add(plan)
        coupon.addons.add(addon)
        tiered = Plan.objects.create(
            organization=organization,
            product=product,
            code=f"tiered{tag}",
            name="Tiered",
            pricing_model="tiered",
        )
        tiered.tiers.create(up_to=10, unit_price=Decimal(2))
        tiered.tiers.create(up_to=None, unit_price=Decimal(1))
        return {
            "customer": customer,
            "contact": ContactFactory(customer=customer, is_primary=True),
            "tax_rate": tax_rate,
            "item": Item.objects.create(organization=organization, name="Hour", unit_price_minor=9000),
            "product": product,
            "plan": plan,
            "addon": addon,
            "coupon": coupon,
            "coupon_code": CouponCode.objects.create(
                organization=organization, coupon=coupon, code=f"LAUNCH{tag}"
            ),
        }
