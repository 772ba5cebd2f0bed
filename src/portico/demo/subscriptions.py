"""Demo additions of subscriptions: RenoTech sells two families of plans — "Maintenance" (Basic, Pro
and Business, monthly and yearly; Pro monthly with a 14-day trial) and "Cloud backup" (per seat, or
tiered by terabyte) — with addons (priority support, extra storage, a one-time onboarding) and
coupons (WELCOME20, 20 % off the first three invoices; "$10 off once", a fixed one, also the
retention offer and redeemable as SAVE10).

Acme Interiors has a live Maintenance Pro subscription with priority support and WELCOME20,
charged automatically to its saved default card; a Cloud backup one in trial; one paused; and one
that cancels at the end of its term. Bluebird Cafe has a cancelled one and one left unpaid (its
renewal charged to a card the bank declines, retried by dunning, then marked unpaid: the real path,
`_unpaid`); Harbor Dental has one starting next month.

Everything is made through `subscriptions.services`, dated with the demo's clock (moved to each
step's moment, as `demo.billing` does), so invoices, periods and audits read as they would have
happened. Idempotent: plans, addons and coupons are found by their codes, and the subscriptions
are made once (when RenoTech has none).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from portico.catalog.models import Addon, Coupon, CouponCode, Plan, PlanTier, Product, TaxRate
from portico.core import clock, tenancy
from portico.core.audit import Actor
from portico.subscriptions import services
from portico.subscriptions.models import Subscription

ACTOR = Actor.system("demo")


def _product(organization, name, description) -> Product:
    row, _ = Product.all_tenants.get_or_create(
        organization=organization, name=name, defaults={"description": description}
    )
    return row


def _plan(organization, product, code, name, *, tiers=(), **fields) -> Plan:
    fields.setdefault("currency", organization.base_currency)
    row, created = Plan.all_tenants.get_or_create(
        organization=organization, code=code, defaults={"product": product, "name": name, **fields}
    )
    if created:
        for up_to, unit_price, fee in tiers:
            PlanTier.objects.create(plan=row, up_to=up_to, unit_price=Decimal(unit_price), flat_fee_minor=fee)
    return row


def _addon(organization, code, name, *, plans=(), **fields) -> Addon:
    fields.setdefault("currency", organization.base_currency)
    row, created = Addon.all_tenants.get_or_create(
        organization=organization, code=code, defaults={"name": name, **fields}
    )
    if created and plans:
        row.plans.set(plans)
    return row


def _coupon(organization, name, code, **fields) -> Coupon:
    row, _ = Coupon.all_tenants.get_or_create(organization=organization, name=name, defaults=fields)
    CouponCode.all_tenants.get_or_create(organization=organization, code=code, defaults={"coupon": row})
    return row


def catalog(organization) -> dict:
    maintenance = _product(organization, "Maintenance", "Scheduled maintenance visits and a help line.")
    backup = _product(organization, "Cloud backup", "Off-site backup of your office's computers.")
    plans = {}
    for position, (code, name, monthly, trial) in enumerate(
        [("basic", "Basic", 2900, 0), ("pro", "Pro", 5900, 14), ("business", "Business", 9900, 0)]
    ):
        plans[f"maint-{code}-monthly"] = _plan(
            organization, maintenance, f"maint-{code}-monthly", f"Maintenance {name} (monthly)",
            price_minor=monthly, interval_unit="month", interval_count=1, trial_days=trial, position=position,
        )  # fmt: skip
        plans[f"maint-{code}-yearly"] = _plan(
            organization, maintenance, f"maint-{code}-yearly", f"Maintenance {name} (yearly)",
            price_minor=monthly * 10, interval_unit="year", interval_count=1, position=position + 3,
        )  # fmt: skip
    # Cloud backup is taxed (the organization's sales tax, from the ledger's demo); maintenance is not.
    tax = TaxRate.all_tenants.filter(organization=organization, is_active=True).order_by("pk").first()
    plans["backup-seat"] = _plan(
        organization, backup, "backup-seat", "Cloud backup (per seat)", pricing_model="per_unit",
        price_minor=0, unit_price=Decimal("5.00"), max_quantity=500, trial_days=30, tax_rate=tax,
    )  # fmt: skip
    plans["backup-tiered"] = _plan(
        organization, backup, "backup-tiered", "Cloud backup (per terabyte, tiered)", pricing_model="tiered",
        price_minor=0, position=1, tiers=[(5, "12.00", 0), (None, "8.00", 0)], tax_rate=tax,
    )  # fmt: skip
    maintenance_plans = [p for key, p in plans.items() if key.startswith("maint-")]
    # fmt: off
    addons = {
        "priority-support": _addon(
            organization,
            "priority-support",
            "Priority support",
            pricing_model="flat",
            price_minor=1500,
            interval_unit="month",
            interval_count=1,
            plans=maintenance_plans,
        ),
        "extra-storage": _addon(
            organization,
            "extra-storage-tb",
            "Extra storage (per TB)",
            pricing_model="per_unit",
            unit_price=Decimal("2.50"),
            interval_unit="month",
            interval_count=1,
            plans=[plans["backup-seat"], plans["backup-tiered"]],
        ),
        "onboarding": _addon(
            organization,
            "onboarding",
            "Onboarding visit",
            charge_type="one_time",
            pricing_model="flat",
            price_minor=10000,
        ),
    }
    coupons = {
        "welcome": _coupon(
            organization,
            "Welcome 20% off",
            "WELCOME20",
            percent=Decimal("20"),
            duration="repeating",
            duration_cycles=3,
        ),
        "ten_off": _coupon(
            organization,
            "$10 off once",
            "SAVE10",
            discount_type="fixed",
            percent=None,
            amount_minor=1000,
            currency=organization.base_currency,
            duration="once",
        ),
    }
    # fmt: on
    settings = services.subscription_settings(organization)
    if settings.retention_coupon_id is None:
        settings.retention_coupon = coupons["ten_off"]
        settings.save(update_fields=["retention_coupon"])
    return {"plans": plans, "addons": addons, "coupons": coupons}


def _at(now: dt.datetime, days_ago: int) -> None:
    clock.freeze(now - dt.timedelta(days=days_ago))


DECLINED_CARD = "4000 0000 0000 0341"  # the test gateway saves it, then declines every charge


def _unpaid(organization, customer, plan, now: dt.datetime) -> Subscription:
    """Unpaid the way it happens: live since 45 days ago and charged automatically to a card the
    bank declines; its renewal billed by the bill run and charged by its consumer (declined: dunning
    starts), retried by dunning on the organization's schedule (1, 3 and 5 days later, the clock
    moved to each), then the final action (mark unpaid). No status is written by hand."""
    from portico.core import outbox
    from portico.core.models import OutboxDelivery
    from portico.payments.gateways import CardDetails
    from portico.payments.methods import save_method
    from portico.subscriptions import dunning
    from portico.subscriptions.billrun import run_bill_run

    _at(now, 45)
    sub = services.create_subscription(customer=customer, plan=plan, actor=ACTOR, trial=False)
    save_method(
        organization=organization, customer=customer, actor=ACTOR, make_default=True,
        card=CardDetails(number=DECLINED_CARD, exp_month=12, exp_year=clock.now().year + 3, cvc="123",
                         name=customer.display_name),
    )  # fmt: skip
    services.set_auto_charge(subscription=sub, enabled=True, actor=ACTOR)
    sub.refresh_from_db()
    due = dt.datetime.combine(sub.next_billing_on, dt.time(12), tzinfo=ZoneInfo(organization.time_zone))
    clock.freeze(due)
    run_bill_run(due, organization=organization)
    # the worker's part, now: the renewal's charge (its outbox delivery, as the worker hands it over)
    charges = OutboxDelivery.all_tenants.filter(
        event__organization=organization,
        event__topic="invoice.finalized",
        consumer="payments.auto_charge",
        status="pending",
    )
    outbox.deliver(ids=list(charges.values_list("pk", flat=True)))
    for days in services.subscription_settings(organization).dunning_retry_days:
        clock.freeze(due + dt.timedelta(days=days))
        dunning.run_dunning(clock.now())
    sub.refresh_from_db()
    return sub


def extend(demo) -> None:
    organization = demo.renotech
    now = clock.now()
    with tenancy.tenant(organization), clock.restored():
        c = catalog(organization)
        if Subscription.all_tenants.filter(organization=organization).exists():
            return
        plans, addons = c["plans"], c["addons"]
        acme, bluebird, harbor = (demo.customers[k] for k in ("acme", "bluebird", "harbor"))

        def subscribe(customer, plan, **kwargs) -> Subscription:
            return services.create_subscription(customer=customer, plan=plan, actor=ACTOR, **kwargs)

        # Acme: live with an addon and a coupon, charged to its default card (saved by demo.payments)
        _at(now, 20)
        subscribe(
            acme,
            plans["maint-pro-monthly"],
            trial=False,
            addons=[(addons["priority-support"], 1)],
            coupon_code="WELCOME20",
            auto_charge=True,
        )
        # Acme: paused last week (started two weeks before)
        _at(now, 21)
        paused = subscribe(acme, plans["maint-basic-yearly"])
        _at(now, 7)
        services.pause(subscription=paused, actor=ACTOR)
        # Acme: cancels at the end of its term
        _at(now, 12)
        leaving = subscribe(acme, plans["backup-tiered"], quantity=3)
        _at(now, 2)
        services.cancel(subscription=leaving, actor=ACTOR, at_term_end=True, reason="Too expensive")
        # Acme: a trial of cloud backup, with extra storage
        _at(now, 5)
        subscribe(acme, plans["backup-seat"], quantity=8, addons=[(addons["extra-storage"], 2)])
        # Bluebird: cancelled, and unpaid
        _at(now, 25)
        cancelled = subscribe(bluebird, plans["maint-basic-monthly"], coupon_code="SAVE10")
        _at(now, 10)
        services.cancel(subscription=cancelled, actor=ACTOR, reason="No longer needed")
        _unpaid(organization, bluebird, plans["maint-business-monthly"], now)
        # Harbor: starts on the first of next month
        _at(now, 0)
        today = clock.today(organization.time_zone)
        first_next = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        subscribe(harbor, plans["maint-business-yearly"], start_date=first_next)
