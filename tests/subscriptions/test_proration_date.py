"""Stripe's `proration_date` in the services: a change takes effect on a chosen local date inside the
current period and is prorated from its start (DESIGN.md "Proration"); a date outside the period is
refused before anything is written. Amounts by hand: 3 starter seats ($30.00) and 2 storage units
($5.00) for 10 March – 10 April 2026 (31 days), the clock on 20 March."""

from __future__ import annotations

import datetime as dt

import pytest

from portico.billing.models import CreditNote, Invoice
from portico.subscriptions import services
from portico.subscriptions.errors import ProrationDateOutsidePeriod
from tests.catalog.factories import plan
from tests.subscriptions.factories import ACTOR, snapshot, subscribe, world

D = dt.date


@pytest.fixture
def w(org):
    return world(org)


@pytest.fixture
def live(customer, clock, w):
    sub = subscribe(customer, w.starter, quantity=3, addons=[(w.storage, 2)])
    clock.set("2026-03-20T15:00:00+00:00")
    return sub


def _latest_invoice():
    return Invoice.all_tenants.order_by("-id").first()


def test_an_upgrade_is_prorated_from_the_proration_date(live, w):
    services.change_plan(subscription=live, plan=w.pro, actor=ACTOR, proration_date=D(2026, 3, 12))
    # 29 days of 31 left: pro $60 × 29/31 = 56.129… → $56.13; starter $30 × 29/31 = 28.064… → $28.06
    invoice = _latest_invoice()
    [line] = invoice.lines.all()
    assert (line.total_minor, line.period_start, line.period_end) == (5613, D(2026, 3, 12), D(2026, 4, 9))
    assert CreditNote.all_tenants.get().total_minor == 2806


def test_a_date_later_in_the_period_charges_fewer_days(live, w):
    services.change_quantity(subscription=live, quantity=5, actor=ACTOR, proration_date=D(2026, 4, 9))
    # the last day: 1 day of 31 — 5 × $10 × 1/31 = 1.612… → $1.61; $30 × 1/31 = 0.967… → $0.97
    assert _latest_invoice().total_minor == 161
    assert CreditNote.all_tenants.get().total_minor == 97


def test_addons_added_and_removed_are_prorated_from_the_proration_date(live, w):
    services.add_addon(subscription=live, addon=w.support, actor=ACTOR, proration_date=D(2026, 3, 25))
    assert _latest_invoice().total_minor == 774  # $15.00 × 16/31 = 7.741… → $7.74
    services.remove_addon(subscription=live, addon=w.storage, actor=ACTOR, proration_date=D(2026, 3, 25))
    assert CreditNote.all_tenants.get().total_minor == 258  # $5.00 × 16/31 = 2.580… → $2.58


def test_an_interval_change_starts_the_new_term_on_the_proration_date(customer, clock, w, org):
    yearly = plan(
        org, "starter-yearly", product_row=w.family, pricing_model="per_unit", price_minor=0,
        unit_price="100.00", interval_unit="year", position=3,
    )  # fmt: skip
    sub = subscribe(customer, w.starter, quantity=3)  # $30.00 for 10 March – 10 April
    clock.set("2026-03-20T15:00:00+00:00")
    services.change_plan(subscription=sub, plan=yearly, actor=ACTOR, proration_date=D(2026, 3, 15))
    sub.refresh_from_db()
    assert (sub.current_term_start, sub.current_term_end) == (D(2026, 3, 15), D(2027, 3, 15))
    # the year: 3 × $100 = $300.00; the unused 26 of 31 days credited: $30 × 26/31 = 25.161… → $25.16
    assert _latest_invoice().total_minor == 30000
    assert CreditNote.all_tenants.get().total_minor == 2516


@pytest.mark.parametrize("day", [D(2026, 3, 9), D(2026, 4, 10), D(2025, 3, 20)])
def test_a_proration_date_outside_the_current_period_is_refused_and_changes_nothing(live, w, day):
    before = snapshot(live)
    for call in (
        lambda: services.change_plan(subscription=live, plan=w.pro, actor=ACTOR, proration_date=day),
        lambda: services.add_addon(subscription=live, addon=w.support, actor=ACTOR, proration_date=day),
        lambda: services.remove_addon(subscription=live, addon=w.storage, actor=ACTOR, proration_date=day),
    ):
        with pytest.raises(ProrationDateOutsidePeriod) as refused:
            call()
        assert refused.value.field == "proration_date"
    assert snapshot(live) == before


def test_without_a_proration_date_the_change_takes_effect_today(live, w):
    services.change_plan(subscription=live, plan=w.pro, actor=ACTOR)
    assert _latest_invoice().lines.get().period_start == D(2026, 3, 20)
    assert _latest_invoice().total_minor == 4065  # 21 days of 31
