"""Staff-only changes (`subscriptions.staff`): a price override billed from the next invoice, and a
subscription backdated within its first term (that term invoiced now in full)."""

from __future__ import annotations

import datetime as dt

import pytest

from portico.billing.models import Invoice
from portico.core.audit import AuditEvent
from portico.core.money import Money
from portico.subscriptions import errors, services, staff
from portico.subscriptions.models import BillingPeriod, Subscription
from tests.subscriptions.factories import ACTOR, in_state, snapshot, world


@pytest.fixture
def w(org, clock):
    return world(org)


def test_a_price_override_bills_the_next_renewal_and_nothing_already_billed(org, customer, w, clock):
    sub = in_state("live", customer, w)  # 3 seats of starter ($30) and 2 storage ($5)
    first = BillingPeriod.all_tenants.get(subscription=sub).invoice
    total = first.total_minor
    staff.set_price_override(subscription=sub, price=Money(1234, "USD"), actor=ACTOR)
    first.refresh_from_db()
    assert first.total_minor == total
    sub = Subscription.all_tenants.get(pk=sub.pk)
    invoice = services.renew(sub, sub.current_term_end)
    assert invoice.total_minor == 1234 + 500  # the override (flat, whatever the seats) and the addon
    event = AuditEvent.all_tenants.get(action="subscription.price_overridden")
    assert (event.data["before"], event.data["after"]) == (None, 1234)
    staff.set_price_override(subscription=sub, price=None, actor=ACTOR)
    assert Subscription.all_tenants.get(pk=sub.pk).price_override_minor is None


@pytest.mark.parametrize("price", [Money(-1, "USD"), Money(1000, "EUR")])
def test_a_negative_or_foreign_override_is_refused_and_changes_nothing(org, customer, w, price):
    sub = in_state("live", customer, w)
    before = snapshot(sub)
    with pytest.raises(staff.PriceOverrideRefused):
        staff.set_price_override(subscription=sub, price=price, actor=ACTOR)
    assert snapshot(sub) == before


def test_an_ended_subscription_takes_no_override(org, customer, w):
    sub = in_state("cancelled", customer, w)
    with pytest.raises(errors.TransitionRefused):
        staff.set_price_override(subscription=sub, price=Money(100, "USD"), actor=ACTOR)


def test_a_backdated_subscription_bills_its_whole_first_term_now(org, customer, w, clock):
    sub = staff.create_backdated_subscription(
        customer=customer, plan=w.starter, start_date=dt.date(2026, 2, 20), actor=ACTOR, quantity=2,
        addons=[(w.storage, 1), (w.onboarding, 1)], coupon_code="ONCE5",
    )  # fmt: skip
    assert sub.status == "live"
    assert (sub.current_term_start, sub.current_term_end, sub.next_billing_on) == (
        dt.date(2026, 2, 20),
        dt.date(2026, 3, 20),
        dt.date(2026, 3, 20),
    )
    period = BillingPeriod.all_tenants.get(subscription=sub)
    # 2 seats $20 + storage $2.50 - $5 coupon + setup $25 + onboarding $100
    assert period.invoice.total_minor == 2000 + 250 - 500 + 2500 + 10000
    assert period.invoice.source == Invoice.Source.SUBSCRIPTION


@pytest.mark.parametrize("start", [dt.date(2026, 3, 10), dt.date(2026, 4, 1), dt.date(2026, 2, 10)])
def test_a_backdate_today_later_or_beyond_one_term_is_refused(org, customer, w, clock, start):
    count = Subscription.all_tenants.count()
    with pytest.raises(errors.InvalidDate):
        staff.create_backdated_subscription(customer=customer, plan=w.starter, start_date=start, actor=ACTOR)
    assert Subscription.all_tenants.count() == count
