"""Subscription rows for the console's tests and its walks over every admin (roles, tenant
isolation): a small catalog of its own (codes distinct from `catalog_world`'s), subscriptions in
several states (with an addon, a coupon, billed periods and a scheduled change) and the
organization's subscription settings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portico.core import tenancy
from portico.subscriptions import services
from tests.catalog.factories import addon, coupon, plan, product
from tests.factories import CustomerFactory
from tests.subscriptions.factories import ACTOR


def subscription_catalog(organization) -> dict:
    family = product(organization, name="Team seats")
    starter = plan(
        organization, "seats-starter", product_row=family, pricing_model="per_unit", price_minor=0,
        unit_price=Decimal("10.00"), max_quantity=50,
    )  # fmt: skip
    pro = plan(
        organization, "seats-pro", product_row=family, pricing_model="per_unit", price_minor=0,
        unit_price=Decimal("20.00"), position=1, max_quantity=50,
    )  # fmt: skip
    trial = plan(
        organization, "seats-trial", product_row=family, pricing_model="per_unit", price_minor=0,
        unit_price=Decimal("8.00"), trial_days=14, position=2, max_quantity=50,
    )  # fmt: skip
    storage = addon(organization, "seat-storage")
    ten = coupon(organization, "Ten off", codes=("SEATS10",), percent=Decimal("10"))
    return {
        "family": family,
        "starter": starter,
        "pro": pro,
        "trial": trial,
        "storage": storage,
        "coupon": ten,
    }


def subscription_world(organization, customer=None) -> dict:
    with tenancy.tenant(organization):
        services.subscription_settings(organization)
        customer = customer or CustomerFactory(
            organization=organization, display_name="Subscriber", currency=organization.base_currency
        )
        c = subscription_catalog(organization)

        def subscribe(**kwargs):
            return services.create_subscription(
                customer=customer, plan=c["starter"], actor=ACTOR, quantity=3, addons=[(c["storage"], 2)],
                **kwargs,
            )  # fmt: skip

        live = subscribe(coupon_code="SEATS10")
        non_renewing = services.cancel(subscription=subscribe(), actor=ACTOR, at_term_end=True)
        paused = services.pause(subscription=subscribe(), actor=ACTOR)
        trial = services.create_subscription(customer=customer, plan=c["trial"], actor=ACTOR)
        future = subscribe(start_date=services._today(organization) + dt.timedelta(days=5))
    return {
        **c,
        "customer": customer,
        "live": live,
        "non_renewing": non_renewing,
        "paused": paused,
        "trial_sub": trial,
        "future": future,
    }
