"""What the transitions invoice (issue 11, item 2): create, convert, resume and reactivate issue the
invoice of a new term through the ledger, with amounts computed by hand below; billing periods are
stored rows the database forbids billing twice; a saved card an auto-charging subscription needs
cannot be removed."""

from __future__ import annotations

import datetime as dt

import pytest

from portico.billing.models import CreditNote, Invoice
from portico.catalog.models import Coupon, CouponCode
from portico.core.errors import DomainError
from portico.payments.methods import MethodInUse, remove_method
from portico.payments.models import PaymentMethod
from portico.subscriptions import services
from portico.subscriptions.models import BillingPeriod, CouponRedemption, ScheduledChange, Subscription
from tests.catalog.factories import plan
from tests.subscriptions.factories import ACTOR, card, subscribe, world

D = dt.date


@pytest.fixture
def w(org):
    return world(org)


def lines_of(invoice: Invoice) -> list[tuple]:
    return [
        (
            line.quantity,
            line.unit_price_minor,
            line.discount_minor,
            line.total_minor,
            line.period_start,
            line.period_end,
        )
        for line in invoice.lines.order_by("position", "id")
    ]


def invoices_of(sub: Subscription) -> list[Invoice]:
    return list(Invoice.all_tenants.filter(customer=sub.customer).order_by("id"))


def test_a_live_subscription_is_invoiced_for_its_first_term_with_setup_fee_addons_and_coupon(
    org, customer, clock, w
):
    sub = subscribe(
        customer, w.starter, quantity=3, addons=[(w.storage, 2), (w.onboarding, 1)], coupon_code=" launch20 "
    )
    assert sub.number == "SUB-00001"
    assert (sub.status, sub.current_term_start, sub.current_term_end, sub.next_billing_on) == (
        "live", D(2026, 3, 10), D(2026, 4, 10), D(2026, 4, 10),
    )  # fmt: skip
    [invoice] = invoices_of(sub)
    assert (invoice.status, invoice.source, invoice.number) == ("open", "subscription", "INV-00001")
    # 3 seats × $10.00 − 20 % = $24.00; storage 2 × $2.50 − 20 % = $4.00; setup $25.00 (no coupon);
    # onboarding once $100.00 (no coupon: one-time addons are not recurring lines)
    assert lines_of(invoice) == [
        (3, 1000, 600, 2400, D(2026, 3, 10), D(2026, 4, 9)),
        (2, 250, 100, 400, D(2026, 3, 10), D(2026, 4, 9)),
        (1, 2500, 0, 2500, None, None),
        (1, 10000, 0, 10000, None, None),
    ]
    assert (invoice.subtotal_minor, invoice.discount_minor, invoice.total_minor) == (16000, 700, 15300)
    period = BillingPeriod.all_tenants.get(subscription=sub)
    assert (period.start, period.end, period.invoice_id) == (D(2026, 3, 10), D(2026, 4, 10), invoice.pk)
    redemption = CouponRedemption.all_tenants.get(subscription=sub)
    assert (redemption.cycles_left, redemption.status) == (1, "active")
    assert Coupon.all_tenants.get(pk=w.launch20.pk).times_redeemed == 1
    assert CouponCode.all_tenants.get(code="LAUNCH20").times_redeemed == 1


def test_a_fixed_coupon_once_then_renewals_bill_each_period_exactly_once(org, customer, clock, w):
    sub = subscribe(customer, w.starter, coupon_code="ONCE5")
    [first] = invoices_of(sub)
    # 1 seat $10.00 less $5.00 = $5.00, setup fee $25.00
    assert [line.total_minor for line in first.lines.order_by("position", "id")] == [500, 2500]
    assert first.total_minor == 3000
    assert CouponRedemption.all_tenants.get(subscription=sub).status == "ended"
    renewal = services.renew(sub, D(2026, 4, 10))
    assert renewal.total_minor == 1000  # the coupon was for once
    assert lines_of(renewal) == [(1, 1000, 0, 1000, D(2026, 4, 10), D(2026, 5, 9))]
    assert services.renew(sub, D(2026, 4, 10)) is None  # the period row already exists
    assert len(invoices_of(sub)) == 2
    sub.refresh_from_db()
    assert (sub.current_term_start, sub.current_term_end, sub.cycles_billed) == (
        D(2026, 4, 10), D(2026, 5, 10), 2,
    )  # fmt: skip


def test_a_future_subscription_and_a_trial_invoice_nothing(org, customer, clock, w):
    future = subscribe(customer, w.starter, start_date=D(2026, 3, 20))
    trial = subscribe(customer, w.trial, quantity=3)
    assert (future.status, future.next_billing_on) == ("future", D(2026, 3, 20))
    assert (trial.status, trial.trial_end, trial.next_billing_on) == (
        "in_trial",
        D(2026, 3, 24),
        D(2026, 3, 24),
    )
    assert invoices_of(future) == []
    with pytest.raises(DomainError, match="starts today or later"):
        subscribe(customer, w.starter, start_date=D(2026, 3, 9))


def test_converting_a_trial_invoices_the_first_term_from_today(org, customer, clock, w):
    sub = subscribe(customer, w.trial, quantity=3, addons=[(w.storage, 2)])
    clock.advance(days=3)
    sub = services.convert_trial_now(subscription=sub, actor=ACTOR)
    assert (sub.status, sub.trial_end, sub.current_term_start, sub.current_term_end) == (
        "live", D(2026, 3, 13), D(2026, 3, 13), D(2026, 4, 13),
    )  # fmt: skip
    [invoice] = invoices_of(sub)
    # 3 seats × $8.00 = $24.00; storage 2 × $2.50 = $5.00; setup $10.00
    assert lines_of(invoice) == [
        (3, 800, 0, 2400, D(2026, 3, 13), D(2026, 4, 12)),
        (2, 250, 0, 500, D(2026, 3, 13), D(2026, 4, 12)),
        (1, 1000, 0, 1000, None, None),
    ]
    assert invoice.total_minor == 3900


def test_resuming_starts_and_invoices_a_new_term_from_the_resume_date(org, customer, clock, w):
    sub = subscribe(customer, w.starter, quantity=3, addons=[(w.storage, 2)])
    sub = services.pause(subscription=sub, actor=ACTOR)
    assert (sub.status, sub.paused_on, sub.next_billing_on) == ("paused", D(2026, 3, 10), None)
    clock.advance(days=10)
    sub = services.resume(subscription=sub, actor=ACTOR)
    assert (sub.status, sub.current_term_start, sub.current_term_end, sub.anchor_day) == (
        "live", D(2026, 3, 20), D(2026, 4, 20), 20,
    )  # fmt: skip
    first, resumed = invoices_of(sub)
    assert lines_of(resumed) == [
        (3, 1000, 0, 3000, D(2026, 3, 20), D(2026, 4, 19)),
        (2, 250, 0, 500, D(2026, 3, 20), D(2026, 4, 19)),
    ]
    assert (first.total_minor, resumed.total_minor) == (6000, 3500)


def test_pausing_until_a_date_schedules_the_resume(org, customer, clock, w):
    sub = subscribe(customer, w.starter)
    with pytest.raises(DomainError, match="resume date after the pause"):
        services.pause(subscription=sub, actor=ACTOR, resume_on=D(2026, 3, 10))
    sub = services.pause(subscription=sub, actor=ACTOR, resume_on=D(2026, 4, 1))
    change = ScheduledChange.all_tenants.get(subscription=sub)
    assert (change.kind, change.effective_on, change.status) == ("resume", D(2026, 4, 1), "pending")
    assert sub.next_billing_on == D(2026, 4, 1)
    services.cancel_scheduled_change(change=change, actor=ACTOR)
    sub.refresh_from_db()
    assert (sub.status, sub.resume_on, sub.next_billing_on) == ("paused", None, None)


def test_reactivating_within_the_paid_term_keeps_it_and_invoices_nothing(org, customer, clock, w):
    sub = subscribe(customer, w.starter, quantity=3)
    sub = services.cancel(subscription=sub, actor=ACTOR, reason="Too expensive", credit=False)
    clock.advance(days=5)
    sub = services.reactivate(subscription=sub, actor=ACTOR)
    assert (sub.status, sub.current_term_end, sub.next_billing_on, sub.cancel_reason) == (
        "live", D(2026, 4, 10), D(2026, 4, 10), "",
    )  # fmt: skip
    assert len(invoices_of(sub)) == 1


def test_reactivating_a_term_credited_at_cancellation_charges_its_days_left_again(org, customer, clock, w):
    sub = subscribe(customer, w.starter, quantity=3)
    clock.set("2026-03-20T15:00:00+00:00")
    sub = services.cancel(subscription=sub, actor=ACTOR)  # credits 21/31 of $30.00 = $20.32
    assert CreditNote.all_tenants.get().total_minor == 2032
    clock.set("2026-03-25T15:00:00+00:00")
    sub = services.reactivate(subscription=sub, actor=ACTOR)
    assert (sub.status, sub.current_term_start, sub.current_term_end, sub.unused_credited) == (
        "live", D(2026, 3, 10), D(2026, 4, 10), False,
    )  # fmt: skip
    _first, again = invoices_of(sub)
    assert again.total_minor == 1548  # 16 days left: $30.00 × 16/31 = 15.483… → $15.48


def test_reactivating_after_the_paid_term_starts_and_invoices_a_new_one(org, customer, clock, w):
    sub = subscribe(customer, w.starter, quantity=3)
    sub = services.cancel(subscription=sub, actor=ACTOR)
    clock.set("2026-04-15T15:00:00+00:00")
    sub = services.reactivate(subscription=sub, actor=ACTOR)
    assert (sub.status, sub.current_term_start, sub.current_term_end) == (
        "live",
        D(2026, 4, 15),
        D(2026, 5, 15),
    )
    _first, again = invoices_of(sub)
    assert lines_of(again) == [(3, 1000, 0, 3000, D(2026, 4, 15), D(2026, 5, 14))]  # no setup fee again


def test_a_downgrade_waits_for_the_term_end_and_can_be_cancelled(org, customer, clock, w):
    sub = subscribe(customer, w.pro, quantity=3)
    sub = services.change_plan(subscription=sub, plan=w.starter, actor=ACTOR)
    assert (sub.plan_id, sub.quantity) == (w.pro.pk, 3)
    change = ScheduledChange.all_tenants.get(subscription=sub, status="pending")
    assert (change.kind, change.effective_on, change.payload) == (
        "change", D(2026, 4, 10), {"plan_id": w.starter.pk, "quantity": 3},
    )  # fmt: skip
    services.cancel_scheduled_change(change=change, actor=ACTOR)
    with pytest.raises(DomainError, match="already been applied or cancelled"):
        services.cancel_scheduled_change(change=change, actor=ACTOR)
    sub = services.change_quantity(subscription=sub, quantity=5, actor=ACTOR)  # an upgrade: now
    assert sub.quantity == 5
    with pytest.raises(DomainError, match="at most 50"):
        services.change_quantity(subscription=sub, quantity=51, actor=ACTOR)
    other = plan(org, "other-product-plan")
    with pytest.raises(DomainError, match="same product"):
        services.change_plan(subscription=sub, plan=other, actor=ACTOR)


def test_cancelling_at_term_end_then_undoing_it(org, customer, clock, w):
    sub = subscribe(customer, w.starter)
    with pytest.raises(DomainError, match="one of the reasons"):
        services.cancel(subscription=sub, actor=ACTOR, at_term_end=True, reason="Because")
    sub = services.cancel(subscription=sub, actor=ACTOR, at_term_end=True, reason="Missing features")
    assert sub.status == "non_renewing"
    assert ScheduledChange.all_tenants.get(subscription=sub).effective_on == D(2026, 4, 10)
    sub = services.undo_cancel(subscription=sub, actor=ACTOR)
    assert sub.status == "live"
    assert ScheduledChange.all_tenants.get(subscription=sub).status == "cancelled"


def test_a_second_coupon_and_a_bad_code_are_refused_with_the_reason(org, customer, clock, w):
    sub = subscribe(customer, w.starter)
    with pytest.raises(DomainError, match="does not exist"):
        services.redeem_coupon(subscription=sub, code="NOPE", actor=ACTOR)
    services.redeem_coupon(subscription=sub, code="LAUNCH20", actor=ACTOR)
    with pytest.raises(DomainError, match="already has a coupon"):
        services.redeem_coupon(subscription=sub, code="ONCE5", actor=ACTOR)
    assert Coupon.all_tenants.get(pk=w.once5.pk).times_redeemed == 0


def test_auto_charge_needs_a_card_and_keeps_the_last_card_from_being_removed(org, customer, clock, w):
    sub = subscribe(customer, w.starter)
    with pytest.raises(DomainError, match="Save a card first"):
        services.set_auto_charge(subscription=sub, enabled=True, actor=ACTOR)
    method = card(customer)
    services.set_auto_charge(subscription=sub, enabled=True, actor=ACTOR)
    with pytest.raises(MethodInUse, match="A subscription is paid automatically with this card"):
        remove_method(method=method, actor=ACTOR)
    assert PaymentMethod.all_tenants.get(pk=method.pk).status == "active"
    services.set_auto_charge(subscription=sub, enabled=False, actor=ACTOR)
    remove_method(method=method, actor=ACTOR)
    assert PaymentMethod.all_tenants.get(pk=method.pk).status != "active"


def test_a_cancelled_subscription_does_not_hold_the_card(org, customer, clock, w):
    method = card(customer)
    sub = subscribe(customer, w.starter, auto_charge=True)
    services.cancel(subscription=sub, actor=ACTOR)
    remove_method(method=method, actor=ACTOR)
    assert PaymentMethod.all_tenants.get(pk=method.pk).status != "active"
