"""Subscription tests' catalog and subscriptions: fixed prices, so amounts can be written by hand.

The family "Team" (per unit): starter $10.00/seat/month and pro $20.00/seat/month (setup fee
$25.00 on starter), and "trial" $8.00/seat/month with 14 trial days and a $10.00 setup fee;
addons "storage" ($2.50/unit/month, recurring), "support" ($15.00 flat, recurring) and "onboarding"
($100.00 once); coupons LAUNCH20 (20 %, repeating 2 cycles), ONCE5 ($5.00 off, once)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.forms.models import model_to_dict

from portico.billing.models import CreditNote, Invoice
from portico.catalog.models import Addon, Coupon, Plan, Product
from portico.core.audit import Actor, AuditEvent
from portico.payments.gateways import CardDetails
from portico.payments.methods import save_method
from portico.subscriptions import services
from portico.subscriptions.models import (
    CouponRedemption,
    ScheduledChange,
    Subscription,
    SubscriptionItem,
)
from tests.catalog.factories import addon, coupon, plan, product

ACTOR = Actor.system("tests")


@dataclass
class World:
    family: Product
    starter: Plan
    pro: Plan
    trial: Plan
    storage: Addon
    support: Addon
    onboarding: Addon
    launch20: Coupon
    once5: Coupon


def world(organization) -> World:
    family = product(organization, name="Team")
    starter = plan(
        organization, "starter", product_row=family, pricing_model="per_unit", price_minor=0,
        unit_price=Decimal("10.00"), setup_fee_minor=2500, max_quantity=50,
    )  # fmt: skip
    pro = plan(
        organization, "pro", product_row=family, pricing_model="per_unit", price_minor=0,
        unit_price=Decimal("20.00"), position=1, max_quantity=50,
    )  # fmt: skip
    trial = plan(
        organization, "trial", product_row=family, pricing_model="per_unit", price_minor=0,
        unit_price=Decimal("8.00"), trial_days=14, setup_fee_minor=1000, position=2, max_quantity=50,
    )  # fmt: skip
    storage = addon(organization, "storage")
    support = addon(organization, "support", pricing_model="flat", price_minor=1500)
    onboarding = addon(
        organization, "onboarding", charge_type="one_time", pricing_model="flat", price_minor=10000
    )
    launch20 = coupon(
        organization, "Launch 20% off", codes=("LAUNCH20",), duration="repeating", duration_cycles=2
    )
    once5 = coupon(
        organization, "Five off", codes=("ONCE5",), discount_type="fixed", percent=None,
        amount_minor=500, currency=organization.base_currency,
    )  # fmt: skip
    return World(family, starter, pro, trial, storage, support, onboarding, launch20, once5)


def card(customer, number="4242424242424242"):
    return save_method(
        organization=customer.organization,
        customer=customer,
        actor=ACTOR,
        card=CardDetails(number=number, exp_month=12, exp_year=2030, cvc="123", name="Maria Lopez"),
    )


def subscribe(customer, plan_row, **kwargs) -> Subscription:
    return services.create_subscription(customer=customer, plan=plan_row, actor=ACTOR, **kwargs)


def in_state(status: str, customer, w: World) -> Subscription:
    """A subscription of `customer` in `status`, reached through the services (the bill run's
    states `unpaid` and `expired` are set on the row: no customer action leads there).
    Every one has the `storage` addon (quantity 2) and 3 seats of `starter` (of `trial` in trial)."""
    addons = [(w.storage, 2)]
    today = dt.date(2026, 3, 10)
    if status == "future":
        return subscribe(
            customer, w.starter, quantity=3, addons=addons, start_date=today + dt.timedelta(days=5)
        )
    if status == "in_trial":
        return subscribe(customer, w.trial, quantity=3, addons=addons)
    sub = subscribe(customer, w.starter, quantity=3, addons=addons)
    if status == "live":
        return sub
    if status == "non_renewing":
        return services.cancel(subscription=sub, actor=ACTOR, at_term_end=True)
    if status == "paused":
        return services.pause(subscription=sub, actor=ACTOR)
    if status == "cancelled":
        return services.cancel(subscription=sub, actor=ACTOR)
    if status in ("unpaid", "expired"):
        Subscription.all_tenants.filter(pk=sub.pk).update(status=status, next_billing_on=None)
        sub.refresh_from_db()
        return sub
    raise ValueError(status)


def snapshot(sub: Subscription) -> dict:
    """Everything a refused transition must leave as it was."""
    sub = Subscription.all_tenants.get(pk=sub.pk)
    row = model_to_dict(sub)
    return {
        "row": row,
        "invoices": Invoice.all_tenants.count(),
        "credit_notes": CreditNote.all_tenants.count(),
        "audit": AuditEvent.all_tenants.count(),
        "changes": list(
            ScheduledChange.all_tenants.values_list("kind", "status", "effective_on").order_by("id")
        ),
        "items": list(SubscriptionItem.all_tenants.values_list("addon_id", "quantity").order_by("id")),
        "redemptions": list(CouponRedemption.all_tenants.values_list("coupon_id", "status", "cycles_left")),
        "coupon_uses": list(Coupon.all_tenants.values_list("times_redeemed", flat=True).order_by("id")),
    }
