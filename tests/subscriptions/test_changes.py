"""Mid-term changes booked through the ledger with `subscriptions.proration` (issue 11, items 2–3):
charges on an invoice, credits on a credit note applied to it, or both deferred to the renewal.
Amounts by hand: a term of 31 days (10 March – 10 April 2026), the change on 20 March, 21 days left."""

from __future__ import annotations

import datetime as dt

import pytest

from portico.billing.models import CreditNote, Invoice
from portico.core.errors import DomainError
from portico.core.models import OutboxEvent
from portico.subscriptions import services
from portico.subscriptions.errors import AlreadyScheduled
from portico.subscriptions.models import ScheduledChange, SubscriptionSettings
from tests.catalog.factories import addon, plan
from tests.subscriptions.factories import ACTOR, card, subscribe, world

D = dt.date


@pytest.fixture
def w(org):
    return world(org)


@pytest.fixture
def live(customer, clock, w):
    sub = subscribe(customer, w.starter, quantity=3, addons=[(w.storage, 2)])  # $30 + $5 a month
    clock.set("2026-03-20T15:00:00+00:00")
    return sub


def issued_after_the_first(sub):
    return list(Invoice.all_tenants.filter(customer=sub.customer).order_by("id"))[1:]


def test_an_upgrade_charges_the_remaining_days_and_credits_the_unused_ones(live, w):
    services.change_plan(subscription=live, plan=w.pro, actor=ACTOR)
    [invoice] = issued_after_the_first(live)
    [credit] = CreditNote.all_tenants.all()
    # pro 3 × $20 = $60.00 × 21/31 = 40.645… → $40.65; starter $30.00 × 21/31 = 20.322… → $20.32
    assert [line.total_minor for line in invoice.lines.all()] == [4065]
    assert credit.total_minor == 2032
    invoice.refresh_from_db()
    assert (invoice.credited_minor, invoice.balance_minor) == (2032, 2033)
    live.refresh_from_db()
    assert (live.plan_id, live.current_term_end) == (w.pro.pk, D(2026, 4, 10))  # the term is kept


def test_a_downgrade_now_leaves_the_difference_as_customer_credit(live, w, org):
    services.change_quantity(subscription=live, quantity=1, actor=ACTOR, at_term_end=False)
    [invoice] = issued_after_the_first(live)
    [credit] = CreditNote.all_tenants.all()
    # charge 1 × $10 × 21/31 = 6.774… → $6.77; credit $30 × 21/31 → $20.32, $6.77 of it applied
    assert (invoice.total_minor, credit.total_minor) == (677, 2032)
    credit.refresh_from_db()
    assert credit.remaining_minor == 2032 - 677


def test_an_addon_bought_mid_term_is_charged_for_the_days_left(live, w):
    services.add_addon(subscription=live, addon=w.support, actor=ACTOR)
    [invoice] = issued_after_the_first(live)
    assert invoice.total_minor == 1016  # $15.00 × 21/31 = 10.161… → $10.16
    services.add_addon(subscription=live, addon=w.onboarding, actor=ACTOR)
    assert issued_after_the_first(live)[-1].total_minor == 10000  # one-time: in full


def test_cancelling_now_credits_the_unused_part_of_the_plan_and_addons(live, w):
    services.cancel(subscription=live, actor=ACTOR)
    [credit] = CreditNote.all_tenants.all()
    # $30.00 × 21/31 → $20.32 and $5.00 × 21/31 = 3.387… → $3.39
    assert sorted(line.total_minor for line in credit.lines.all()) == [339, 2032]
    assert (credit.total_minor, credit.remaining_minor) == (2371, 2371)  # credit, never a refund


def test_with_next_renewal_proration_the_lines_wait_for_the_renewal_invoice(live, w, org):
    SubscriptionSettings.all_tenants.filter(organization=org).update(proration_mode="next_renewal")
    org.refresh_from_db()
    services.change_plan(subscription=live, plan=w.pro, actor=ACTOR)
    assert issued_after_the_first(live) == [] and CreditNote.all_tenants.count() == 0
    renewal = services.renew(live, D(2026, 4, 10))
    # pro $60.00 + storage $5.00 for the new period, + $40.65 for the upgrade's days; − $20.32 credit
    assert sorted(line.total_minor for line in renewal.lines.all()) == [500, 4065, 6000]
    renewal.refresh_from_db()
    assert (renewal.total_minor, renewal.credited_minor, renewal.balance_minor) == (10565, 2032, 8533)
    live.refresh_from_db()
    assert live.deferred_lines == []


def test_a_change_in_a_trial_charges_nothing(customer, clock, w):
    sub = subscribe(customer, w.trial, quantity=3)
    services.change_quantity(subscription=sub, quantity=10, actor=ACTOR)
    sub.refresh_from_db()
    assert (sub.status, sub.quantity, sub.trial_end) == ("in_trial", 10, D(2026, 3, 24))
    assert Invoice.all_tenants.count() == 0


def test_the_preview_shows_what_the_change_then_books(live, w):
    preview = services.preview_change(subscription=live, plan=w.pro)
    assert (preview.invoice.total.minor, preview.credit_note.total.minor) == (4065, 2032)
    assert (preview.charged_now.minor, preview.next_invoice_on) == (2033, D(2026, 4, 10))
    assert preview.next_invoice.total.minor == 6500  # pro $60.00 + storage $5.00
    services.change_plan(subscription=live, plan=w.pro, actor=ACTOR)
    [invoice] = issued_after_the_first(live)
    invoice.refresh_from_db()
    assert invoice.balance_minor == preview.charged_now.minor
    assert services.preview_change(subscription=live, plan=w.starter) is None  # a downgrade: at term end


def test_an_auto_charging_subscription_is_charged_to_the_default_card(
    customer, clock, w, django_capture_on_commit_callbacks
):
    card(customer)
    with django_capture_on_commit_callbacks(execute=True):
        sub = subscribe(customer, w.starter, quantity=3, auto_charge=True)
    [invoice] = Invoice.all_tenants.filter(customer=sub.customer)
    assert (invoice.total_minor, invoice.status, invoice.balance_minor) == (5500, "paid", 0)


def test_the_transitions_emit_the_events_emails_hang_on(live, w):
    services.pause(subscription=live, actor=ACTOR)
    services.resume(subscription=live, actor=ACTOR)
    services.cancel(subscription=live, actor=ACTOR, at_term_end=True)
    services.undo_cancel(subscription=live, actor=ACTOR)
    services.cancel(subscription=live, actor=ACTOR)
    topics = list(
        OutboxEvent.all_tenants.filter(topic__startswith="subscription.")
        .order_by("id")
        .values_list("topic", flat=True)
    )
    assert topics == [
        "subscription.created",
        "subscription.paused",
        "subscription.resumed",
        "subscription.cancel_scheduled",
        "subscription.cancelled",
    ]
    assert (
        OutboxEvent.all_tenants.filter(topic="subscription.cancelled").get().payload["number"] == "SUB-00001"
    )


def test_a_scheduled_cancel_or_pause_is_stored_and_cancelling_it_restores_the_subscription(live, w):
    services.pause(subscription=live, actor=ACTOR, at_term_end=True, resume_on=D(2026, 5, 1))
    pause = ScheduledChange.all_tenants.get(kind="pause")
    assert (pause.effective_on, pause.payload, pause.status) == (
        D(2026, 4, 10),
        {"resume_on": "2026-05-01"},
        "pending",
    )
    with pytest.raises(AlreadyScheduled):
        services.pause(subscription=live, actor=ACTOR, at_term_end=True)
    services.cancel_scheduled_change(change=pause, actor=ACTOR)
    services.cancel(subscription=live, actor=ACTOR, at_term_end=True)
    cancel = ScheduledChange.all_tenants.get(kind="cancel", status="pending")
    services.cancel_scheduled_change(change=cancel, actor=ACTOR)
    live.refresh_from_db()
    assert live.status == "live"


def test_an_interval_change_starts_a_new_term_now_and_credits_the_unused_one(customer, clock, w, org):
    yearly = plan(
        org, "starter-yearly", product_row=w.family, pricing_model="per_unit", price_minor=0,
        unit_price="100.00", interval_unit="year", position=3,
    )  # fmt: skip
    sub = subscribe(customer, w.starter, quantity=3, addons=[(w.storage, 2)])
    clock.set("2026-03-20T15:00:00+00:00")
    with pytest.raises(DomainError, match="Remove Storage first"):
        services.change_plan(subscription=sub, plan=yearly, actor=ACTOR)
    services.remove_addon(subscription=sub, addon=w.storage, actor=ACTOR)  # credits $3.39
    preview = services.preview_change(subscription=sub, plan=yearly)
    services.change_plan(subscription=sub, plan=yearly, actor=ACTOR)
    sub.refresh_from_db()
    assert (sub.current_term_start, sub.current_term_end, sub.anchor_day) == (
        D(2026, 3, 20),
        D(2027, 3, 20),
        20,
    )
    invoice = Invoice.all_tenants.order_by("id").last()
    # 3 seats × $100.00 for the year; the unused 21/31 of $30.00 → $20.32 credited on it
    assert lines_of(invoice) == [(3, 10000, 30000, D(2026, 3, 20), D(2027, 3, 19))]
    invoice.refresh_from_db()
    assert (invoice.total_minor, invoice.credited_minor, invoice.balance_minor) == (30000, 2032, 27968)
    assert (preview.invoice.total.minor, preview.credit_note.total.minor, preview.charged_now.minor) == (
        30000, 2032, 27968,
    )  # fmt: skip


def test_an_interval_change_on_the_terms_first_day_credits_the_whole_term_and_replaces_its_period(
    customer, clock, w, org
):
    from portico.subscriptions.history import documents_of
    from portico.subscriptions.models import BillingPeriod

    yearly = plan(
        org, "starter-yearly", product_row=w.family, pricing_model="per_unit", price_minor=0,
        unit_price="100.00", interval_unit="year", position=3,
    )  # fmt: skip
    sub = subscribe(customer, w.starter, quantity=3)  # $30.00 for 10 March – 10 April, billed today
    first = Invoice.all_tenants.get(customer=customer)
    services.change_plan(subscription=sub, plan=yearly, actor=ACTOR)  # the same day
    sub.refresh_from_db()
    assert (sub.current_term_start, sub.current_term_end) == (D(2026, 3, 10), D(2027, 3, 10))
    yearly_invoice = Invoice.all_tenants.order_by("id").last()
    # The month is wholly unused: $30.00 (31/31) credited on the year's $300.00.
    yearly_invoice.refresh_from_db()
    assert (yearly_invoice.total_minor, yearly_invoice.credited_minor, yearly_invoice.balance_minor) == (
        30000, 3000, 27000,
    )  # fmt: skip
    [period] = BillingPeriod.all_tenants.filter(subscription=sub)
    assert (period.start, period.end, period.invoice_id) == (
        D(2026, 3, 10),
        D(2027, 3, 10),
        yearly_invoice.pk,
    )
    documents = documents_of(sub)
    invoices, credit_notes = documents.invoices, documents.credit_notes
    assert {i.pk for i in invoices} == {first.pk, yearly_invoice.pk}
    assert [c.total_minor for c in credit_notes] == [3000]


def lines_of(invoice):
    return [
        (line.quantity, line.unit_price_minor, line.total_minor, line.period_start, line.period_end)
        for line in invoice.lines.order_by("position", "id")
    ]


def test_a_recurring_addon_bills_on_its_plans_interval(customer, clock, w, org):
    yearly_addon = addon(org, "archive", interval_unit="year")
    sub = subscribe(customer, w.starter)
    with pytest.raises(DomainError, match="another interval"):
        services.add_addon(subscription=sub, addon=yearly_addon, actor=ACTOR)
