"""Subscriptions for bill-run tests and the bench: a plan with an addon and a coupon, and many
subscriptions due, created in bulk (no services: the bill run is what is under test).

Also a script, for the tests that run the bill run in subprocesses on a database of their own:
  python -m tests.subscriptions.billrun_world SUBSCRIPTIONS LATE_PERIODS
migrates the database of DATABASE_URL and seeds it."""

from __future__ import annotations

import datetime as dt
import os
import sys
from decimal import Decimal

# A subscription that started on 1 January and was billed for January only: due since 1 February.
STARTED = dt.date(2026, 1, 1)
FIRST_DUE = dt.date(2026, 2, 1)
# Three monthly periods due (February, March, April) at this moment; one (February) at ONE_LATE.
THREE_LATE = dt.datetime(2026, 4, 15, 12, 0, tzinfo=dt.UTC)
ONE_LATE = dt.datetime(2026, 2, 10, 12, 0, tzinfo=dt.UTC)
# Each period's invoice: the plan $50.00 and 2 × $2.50 of the addon, both 10 % off: 45.00 + 4.50.
PERIOD_TOTAL = 4950


def catalog(organization):
    from tests.catalog.factories import addon, coupon, plan, product

    family = product(organization, name="Team Workspace")
    team = plan(organization, "team", product_row=family, name="Team", price_minor=5000)
    storage = addon(organization, "storage", name="Extra storage", plans=[team], unit_price=Decimal("2.50"))
    deal = coupon(organization, name="Ten off", codes=("TEN",), percent=Decimal("10"), duration="forever")
    return team, storage, deal


def seed(organization, count: int, *, customers=None, auto_charge_every: int = 0, start_number: int = 1):
    """`count` live subscriptions due since FIRST_DUE, each with 2 units of the addon and the coupon.
    `auto_charge_every`: every n-th subscription charges automatically (0: none)."""
    from portico.customers.models import Customer
    from portico.subscriptions.models import (
        CouponRedemption,
        Status,
        Subscription,
        SubscriptionItem,
    )

    team, storage, deal = catalog(organization)
    if customers is None:
        customers = Customer.all_tenants.bulk_create(
            Customer(
                organization=organization,
                display_name=f"Subscriber {n:06d}",
                email=f"billing{n}@subscriber.example",
                currency=organization.base_currency,
            )
            for n in range(count)
        )
    made = 0
    chunk = 2000
    for first in range(0, count, chunk):
        rows = Subscription.all_tenants.bulk_create(
            Subscription(
                organization=organization,
                number=f"SUB-{start_number + n:06d}",
                customer=customers[n % len(customers)],
                plan=team,
                quantity=1,
                currency=team.currency,
                status=Status.LIVE,
                start_date=STARTED,
                current_term_start=STARTED,
                current_term_end=FIRST_DUE,
                next_billing_on=FIRST_DUE,
                cycles_billed=1,
                auto_charge=bool(auto_charge_every) and n % auto_charge_every == 0,
            )
            for n in range(first, min(count, first + chunk))
        )
        SubscriptionItem.all_tenants.bulk_create(
            SubscriptionItem(organization=organization, subscription=s, addon=storage, quantity=2)
            for s in rows
        )
        CouponRedemption.all_tenants.bulk_create(
            CouponRedemption(organization=organization, subscription=s, coupon=deal) for s in rows
        )
        made += len(rows)
    return team, storage, deal


def main() -> None:
    count = int(sys.argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")
    os.environ.setdefault("EMAIL_URL", "locmem://")
    os.environ.setdefault("PORTICO_DEMO", "true")
    import django

    django.setup()
    from django.core.management import call_command

    from tests.factories import OrganizationFactory

    call_command("migrate", verbosity=0, interactive=False)
    organization = OrganizationFactory(slug="billrun", name="Bill Run Co")
    seed(organization, count)
    print(f"seeded {count}", flush=True)


if __name__ == "__main__":
    main()
