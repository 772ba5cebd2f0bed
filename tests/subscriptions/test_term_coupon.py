"""A term's unused part is credited as the term was paid (issue 11: "credit for the unused part of
what was paid"): with the coupon that discounted it, whatever has become of that coupon since — used
up, or another redeemed mid-term (which applies from the next invoice only). Amounts by hand: a
31-day term (10 March – 10 April 2026) of 3 seats × $10.00, cancelled on 20 March, 21 days unused."""

from __future__ import annotations

import datetime as dt

from portico.billing.models import CreditNote
from portico.subscriptions import previews, services
from portico.subscriptions.billrun import run_bill_run
from portico.subscriptions.models import CouponRedemption, Subscription
from tests.subscriptions.billrun_world import ONE_LATE, seed
from tests.subscriptions.factories import ACTOR, subscribe, world


def credited(customer) -> int:
    return sum(c.total_minor for c in CreditNote.all_tenants.filter(customer=customer))


def test_a_once_coupon_used_up_still_prices_the_credit_of_the_term_it_discounted(org, customer, clock):
    w = world(org)
    sub = subscribe(customer, w.starter, quantity=3, coupon_code="ONCE5")  # $30.00 − $5.00 = $25.00
    assert CouponRedemption.objects.get(subscription=sub).status == "ended"  # used up by this term
    clock.set("2026-03-20T15:00:00+00:00")
    # 25.00 × 21/31 = 16.935… → $16.94 (not 30.00 × 21/31 = $20.32: the term was not paid that)
    preview = previews.cancel_credit(Subscription.objects.get(pk=sub.pk), dt.date(2026, 3, 20))
    assert preview.total.minor == 1694
    services.cancel(subscription=sub, actor=ACTOR, credit=True)
    assert credited(customer) == 1694


def test_a_coupon_redeemed_mid_term_does_not_lower_the_credit_of_a_term_paid_in_full(org, customer, clock):
    w = world(org)
    sub = subscribe(customer, w.starter, quantity=3)  # $30.00, no coupon
    clock.set("2026-03-15T15:00:00+00:00")
    services.redeem_coupon(subscription=sub, code="LAUNCH20", actor=ACTOR)  # from the next invoice
    clock.set("2026-03-20T15:00:00+00:00")
    # 30.00 × 21/31 = 20.322… → $20.32 (not 24.00 × 21/31 = $16.26)
    services.cancel(subscription=sub, actor=ACTOR, credit=True)
    assert credited(customer) == 2032


def test_an_upgrade_credits_the_old_plan_as_paid_and_charges_the_new_one_as_it_will_be(org, customer, clock):
    w = world(org)
    sub = subscribe(customer, w.starter, quantity=3, coupon_code="ONCE5")  # paid $25.00
    clock.set("2026-03-20T15:00:00+00:00")
    preview = services.preview_change(subscription=sub, plan=w.pro)
    # credit 25.00 × 21/31 = $16.94; charge 3 × $20.00 × 21/31 = 40.645… → $40.65 (the coupon is used up)
    assert (preview.credit_note.total.minor, preview.invoice.total.minor) == (1694, 4065)
    services.change_plan(subscription=sub, plan=w.pro, actor=ACTOR)
    assert credited(customer) == 1694


def test_the_bill_run_records_the_redemption_each_term_is_paid_with(org, clock):
    clock.set(ONE_LATE)
    seed(org, 2)
    run_bill_run(ONE_LATE)
    for sub in Subscription.objects.all():
        active = CouponRedemption.objects.get(subscription=sub)
        assert sub.term_redemption_id == active.pk
