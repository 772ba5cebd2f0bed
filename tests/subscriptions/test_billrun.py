"""The bill run (issue 11, section 5): every due period billed exactly once, with the catalog's
prices, coupons counted down, scheduled changes applied, trials ended, cycles expired."""

import datetime as dt
from decimal import Decimal

from django.core.management import call_command

from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice, InvoiceLine
from portico.core.models import AuditEvent, OutboxEvent
from portico.subscriptions.billrun import run_bill_run
from portico.subscriptions.models import (
    BillingPeriod,
    CouponRedemption,
    ScheduledChange,
    Status,
    Subscription,
)
from tests.catalog.factories import coupon, plan
from tests.subscriptions.billrun_world import FIRST_DUE, ONE_LATE, PERIOD_TOTAL, THREE_LATE, seed


def subscribe(customer, plan_row, **fields):
    fields.setdefault("status", Status.LIVE)
    fields.setdefault("start_date", dt.date(2026, 1, 1))
    if fields["status"] == Status.LIVE:
        fields.setdefault("current_term_start", dt.date(2026, 1, 1))
        fields.setdefault("current_term_end", FIRST_DUE)
        fields.setdefault("next_billing_on", FIRST_DUE)
        fields.setdefault("cycles_billed", 1)
    return Subscription.objects.create(
        customer=customer,
        plan=plan_row,
        currency=plan_row.currency,
        number=f"SUB-{Subscription.objects.count() + 1:05d}",
        **fields,
    )


def test_three_periods_late_bills_three_invoices_with_exact_amounts_and_a_rerun_bills_none(org):
    seed(org, 2)
    report = run_bill_run(THREE_LATE)
    assert (report.renewed, report.invoices, report.periods, report.failed) == (2, 6, 6, 0)
    assert dict(report.amounts) == {"USD": 6 * PERIOD_TOTAL}
    for subscription in Subscription.objects.all():
        periods = list(BillingPeriod.objects.filter(subscription=subscription).order_by("start"))
        assert [(p.start, p.end) for p in periods] == [
            (dt.date(2026, 2, 1), dt.date(2026, 3, 1)),
            (dt.date(2026, 3, 1), dt.date(2026, 4, 1)),
            (dt.date(2026, 4, 1), dt.date(2026, 5, 1)),
        ]
        invoices = [p.invoice for p in periods]
        assert [i.total_minor for i in invoices] == [4950, 4950, 4950]
        assert [i.issue_date for i in invoices] == [p.start for p in periods]
        lines = list(InvoiceLine.objects.filter(invoice=invoices[0]).order_by("position"))
        assert [(ln.unit_price_minor, ln.quantity, ln.discount_minor, ln.total_minor) for ln in lines] == [
            (5000, Decimal(1), 500, 4500),
            (250, Decimal(2), 50, 450),
        ]
        assert (lines[0].period_start, lines[0].period_end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
        subscription.refresh_from_db()
        assert (subscription.next_billing_on, subscription.cycles_billed) == (dt.date(2026, 5, 1), 4)
        assert (subscription.current_term_start, subscription.current_term_end) == (
            dt.date(2026, 4, 1),
            dt.date(2026, 5, 1),
        )
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [f"INV-0000{n}" for n in range(1, 7)]
    assert AuditEvent.objects.filter(action="subscription.renewed").count() == 2
    assert OutboxEvent.objects.filter(topic="invoice.finalized").count() == 6
    assert ledger_violations() == []

    again = run_bill_run(THREE_LATE)
    assert (again.renewed, again.invoices) == (0, 0)
    assert Invoice.objects.count() == 6 and BillingPeriod.objects.count() == 6
    later = run_bill_run(THREE_LATE + dt.timedelta(days=20))  # 5 May: May is due
    assert (later.renewed, later.invoices) == (2, 2)
    assert ledger_violations() == []


def test_the_due_date_is_the_organizations_local_date(org):
    seed(org, 1)
    # 1 February 03:00 UTC is still 31 January in Chicago: nothing is due yet.
    assert run_bill_run(dt.datetime(2026, 2, 1, 3, 0, tzinfo=dt.UTC)).invoices == 0
    assert run_bill_run(dt.datetime(2026, 2, 1, 7, 0, tzinfo=dt.UTC)).invoices == 1


def test_a_coupon_for_two_cycles_discounts_two_periods_then_ends(org, customer):
    monthly = plan(org, "solo", price_minor=2000)
    deal = coupon(
        org, name="Two months 25%", codes=(), percent=Decimal("25"), duration="repeating", duration_cycles=2
    )
    subscription = subscribe(customer, monthly)
    CouponRedemption.objects.create(subscription=subscription, coupon=deal, cycles_left=2)
    run_bill_run(THREE_LATE)
    totals = [p.invoice.total_minor for p in BillingPeriod.objects.order_by("start")]
    assert totals == [1500, 1500, 2000]
    redemption = CouponRedemption.objects.get()
    assert (redemption.cycles_left, redemption.status) == (0, "ended")
    assert ledger_violations() == []


def test_tiered_and_volume_plans_are_priced_by_the_catalog(org, customer, outsider_customer):
    tiered = plan(
        org, "graduated", pricing_model="tiered", price_minor=0, tiers=[(10, "1.00", 0), (None, "0.50", 500)]
    )
    volume = plan(
        org, "volume", pricing_model="volume", price_minor=0, tiers=[(10, "1.00", 0), (None, "0.50", 500)]
    )
    subscribe(customer, tiered, quantity=25)
    subscribe(outsider_customer, volume, quantity=25)
    run_bill_run(ONE_LATE)
    by_plan = {i.memo: i for i in Invoice.objects.all()}
    # graduated: 10 × 1.00 + 15 × 0.50 + 5.00 fee = 22.50; volume: 25 × 0.50 + 5.00 fee = 17.50
    assert by_plan["Subscription SUB-00001"].total_minor == 2250
    assert by_plan["Subscription SUB-00002"].total_minor == 1750
    assert ledger_violations() == []


def test_a_future_subscription_starts_a_trial_then_bills_from_its_end_with_the_setup_fee(org, customer):
    trial_plan = plan(org, "trial", price_minor=3000, trial_days=14, setup_fee_minor=1000)
    subscription = subscribe(
        customer,
        trial_plan,
        status=Status.FUTURE,
        start_date=dt.date(2026, 2, 1),
        cycles_billed=0,
        next_billing_on=dt.date(2026, 2, 1),
    )
    run_bill_run(dt.datetime(2026, 2, 5, 12, tzinfo=dt.UTC))
    subscription.refresh_from_db()
    assert (subscription.status, subscription.trial_end, subscription.next_billing_on) == (
        Status.IN_TRIAL,
        dt.date(2026, 2, 15),
        dt.date(2026, 2, 15),
    )
    assert Invoice.objects.count() == 0
    run_bill_run(dt.datetime(2026, 2, 15, 12, tzinfo=dt.UTC))
    subscription.refresh_from_db()
    assert subscription.status == Status.LIVE
    [invoice] = Invoice.objects.all()
    assert invoice.total_minor == 4000  # the first period and the setup fee
    assert (subscription.current_term_start, subscription.next_billing_on) == (
        dt.date(2026, 2, 15),
        dt.date(2026, 3, 15),
    )


def test_non_renewing_is_cancelled_at_term_end_and_finished_cycles_expire(
    org, customer, outsider_customer, mailbox, django_capture_on_commit_callbacks
):
    monthly = plan(org, "monthly", price_minor=1000)
    leaving = subscribe(customer, monthly, status=Status.LIVE)
    Subscription.objects.filter(pk=leaving.pk).update(status=Status.NON_RENEWING)
    finite = subscribe(outsider_customer, monthly, billing_cycles=2)
    with django_capture_on_commit_callbacks(execute=True):
        run_bill_run(THREE_LATE)
    leaving.refresh_from_db()
    finite.refresh_from_db()
    assert (leaving.status, leaving.cancelled_on, leaving.next_billing_on) == (
        Status.CANCELLED,
        FIRST_DUE,
        None,
    )
    assert not BillingPeriod.objects.filter(subscription=leaving).exists()
    # billed January (before) and February: two cycles, then it expires on 1 March
    assert (finite.status, finite.cycles_billed) == (Status.EXPIRED, 2)
    assert BillingPeriod.objects.filter(subscription=finite).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        run_bill_run(THREE_LATE)
    cancelled = [m for m in mailbox.messages if "cancelled" in m["Subject"]]
    assert len(cancelled) == 1 and leaving.number in cancelled[0]["Subject"]


def test_a_scheduled_quantity_change_applies_at_the_renewal_it_falls_on(org, customer):
    seat = plan(org, "seat", pricing_model="per_unit", unit_price=Decimal("7.00"), price_minor=0)
    subscription = subscribe(customer, seat, quantity=3)
    change = ScheduledChange.objects.create(
        subscription=subscription, kind="change", effective_on=dt.date(2026, 3, 1), payload={"quantity": 5}
    )
    run_bill_run(THREE_LATE)
    totals = [p.invoice.total_minor for p in BillingPeriod.objects.order_by("start")]
    assert totals == [2100, 3500, 3500]
    change.refresh_from_db()
    assert change.status == "applied"
    subscription.refresh_from_db()
    assert subscription.quantity == 5


def test_a_scheduled_pause_stops_billing_until_the_resume_date(org, customer):
    monthly = plan(org, "pausable", price_minor=1000)
    subscription = subscribe(customer, monthly)
    ScheduledChange.objects.create(
        subscription=subscription,
        kind="pause",
        effective_on=dt.date(2026, 3, 1),
        payload={"resume_on": "2026-04-10"},
    )
    run_bill_run(THREE_LATE)
    subscription.refresh_from_db()
    starts = list(BillingPeriod.objects.order_by("start").values_list("start", flat=True))
    assert starts == [
        dt.date(2026, 2, 1),
        dt.date(2026, 4, 10),
    ]  # Feb; paused; a new term from the resume date
    assert (subscription.status, subscription.next_billing_on) == (Status.LIVE, dt.date(2026, 5, 10))


def test_the_command_prints_a_summary(org, capsys):
    seed(org, 3)
    call_command("billrun", "--at", THREE_LATE.isoformat(), "--batch-size", "2")
    out = capsys.readouterr().out
    assert "renewed 3, invoices 9 ($445.50)" in out
    assert "failed 0" in out and "renewals/s" in out
    assert Invoice.objects.count() == 9


def test_upcoming_renewal_and_trial_ending_are_emailed_once_each(
    org, customer, outsider_customer, mailbox, django_capture_on_commit_callbacks
):
    from portico.subscriptions.notices import send_notices

    monthly = plan(org, "noticed", price_minor=1000)
    renewing = subscribe(customer, monthly, next_billing_on=dt.date(2026, 2, 20))
    trialing = subscribe(
        outsider_customer,
        monthly,
        status=Status.IN_TRIAL,
        trial_start=dt.date(2026, 2, 2),
        trial_end=dt.date(2026, 2, 16),
        next_billing_on=dt.date(2026, 2, 16),
    )
    early = dt.datetime(
        2026, 2, 10, 15, tzinfo=dt.UTC
    )  # renewal in 10 days (notice at 7), trial end in 6 (at 3)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_notices(early) == 0
    for day in (13, 14, 15):  # the trial notice is due from the 13th, the renewal's from the 13th
        with django_capture_on_commit_callbacks(execute=True):
            send_notices(dt.datetime(2026, 2, day, 15, tzinfo=dt.UTC))
    subjects = sorted(m["Subject"] for m in mailbox.messages)
    assert subjects == [
        f"Your subscription {renewing.number} with {org.name} renews soon",
        f"Your trial of {trialing.number} with {org.name} ends soon",
    ]
