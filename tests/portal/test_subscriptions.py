"""Subscriptions in the portal: the list and a subscription's page, and every self-service action with
its preview (amounts hand-computed, written as literals) and its server-side gates.

The subscription: 3 seats of starter ($10.00/seat/month) and 2 × storage ($2.50/unit/month), started
on 10 Mar 2026 (term 10 Mar – 9 Apr, 31 days): $35.00 a month. Changes on 20 Mar leave 21 of 31 days.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from portico.billing.models import CreditNote, Invoice
from portico.core import tenancy
from portico.core.models import AuditEvent
from portico.payments.models import new_form_token
from portico.portal import services as portal_services
from portico.subscriptions import services
from portico.subscriptions.models import ScheduledChange, Subscription, SubscriptionSettings
from tests.factories import CustomerFactory
from tests.portal.crawl import portal_routes
from tests.portal.test_hostile_input import HOSTILE
from tests.subscriptions.factories import ACTOR, card, snapshot, subscribe, world


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def w(org):
    return world(org)


@pytest.fixture
def sub(customer, w, clock):
    return subscribe(customer, w.starter, quantity=3, addons=[(w.storage, 2)])


def later(clock):
    clock.set("2026-03-20T15:00:00+00:00")


def url(name, sub, **query):
    path = reverse(f"portal:{name}", kwargs={"number": sub.number})
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return path


def once(data=None) -> dict:
    """The data of a confirmation form, with the fresh one-time token its page carries."""
    return {**(data or {}), "form_token": new_form_token()}


def fresh(sub) -> Subscription:
    return Subscription.all_tenants.get(pk=sub.pk)


def settings_of(org) -> SubscriptionSettings:
    return services.subscription_settings(org)


# -- list and detail ---------------------------------------------------------------------------------------


def test_the_list_shows_plan_addons_coupon_price_status_term_and_next_invoice(
    portal_client, sub, w, customer
):
    services.redeem_coupon(subscription=sub, code="LAUNCH20", actor=ACTOR)
    ended = subscribe(customer, w.pro, quantity=1)
    services.cancel(subscription=ended, actor=ACTOR)
    page = text(portal_client.get("/portal/subscriptions/"))
    active, past = page.split('id="past-heading"')
    assert sub.number in active and ended.number in past
    assert "Starter × 3" in active
    assert "Storage × 2" in active
    assert "Launch 20% off" in active
    assert "$28.00" in active  # 35.00 less 20 %, per term and on the next invoice
    assert "Mar 10, 2026 – Apr 9, 2026" in active
    assert "Apr 10, 2026: $28.00" in active
    assert "Live" in active and "Cancelled" in past


def test_the_detail_shows_items_scheduled_changes_invoices_and_timeline(portal_client, sub, w):
    services.change_plan(subscription=sub, plan=w.starter, quantity=1, actor=ACTOR)  # a downgrade: scheduled
    response = portal_client.get(url("subscription", sub))
    page = text(response)
    assert response.status_code == 200
    assert "Plan or quantity change on Apr 10, 2026" in page
    first = Invoice.all_tenants.get(billing_periods__subscription=sub)
    assert reverse("portal:invoice", kwargs={"number": first.number}) in page
    assert "$60.00" in page  # the first invoice: 35.00 and the 25.00 setup fee
    assert "Created" in page and "Change scheduled" in page


def _many(customer, w, n):
    for _ in range(n):
        s = subscribe(customer, w.starter, quantity=2, addons=[(w.storage, 1)])
        services.redeem_coupon(subscription=s, code="ONCE5", actor=ACTOR)


@pytest.mark.parametrize("n", [1, 6])
def test_the_list_costs_the_same_queries_for_1_or_6_subscriptions(
    portal_client, customer, w, clock, n, django_assert_max_num_queries
):
    _many(customer, w, n)
    portal_client.get("/portal/subscriptions/")  # warm the session and the settings
    with django_assert_max_num_queries(13):  # 12, and the menu's web tabs: one query
        response = portal_client.get("/portal/subscriptions/")
    assert response.status_code == 200
    assert text(response).count("Five off") == n


@pytest.mark.parametrize("renewals", [0, 5])
def test_the_detail_costs_the_same_queries_for_1_or_6_invoices(
    portal_client, sub, clock, renewals, django_assert_max_num_queries
):
    start = sub.current_term_start
    for _ in range(renewals):
        sub = fresh(sub)
        services.renew(sub, sub.current_term_end, actor=ACTOR)
    portal_client.get(url("subscription", sub))
    # its invoices and its credit notes: one query each; the menu's web tabs: one
    with django_assert_max_num_queries(15):
        response = portal_client.get(url("subscription", sub))
    assert response.status_code == 200
    assert start is not None
    assert Invoice.all_tenants.filter(billing_periods__subscription=sub).count() == renewals + 1


# -- change plan / quantity --------------------------------------------------------------------------------


def test_upgrade_shows_its_preview_then_applies_it(portal_client, sub, w, clock):
    later(clock)
    page = text(portal_client.get(url("subscription_change", sub, plan="pro", quantity=3)))
    # credit 30.00 × 21/31 = 20.32; charge 60.00 × 21/31 = 40.65; due now 20.33
    assert "$40.65" in page and "-$20.32" in page.replace("−", "-")
    assert re.search(r"Charged now: <strong[^>]*>\$20\.33<", page)
    assert re.search(r"Next invoice on Apr 10, 2026: <strong[^>]*>\$65\.00<", page)  # 60.00 + 5.00
    assert fresh(sub).plan_id == w.starter.pk  # a preview changes nothing
    response = portal_client.post(url("subscription_change", sub), once({"plan": "pro", "quantity": "3"}))
    assert response.status_code == 302
    assert fresh(sub).plan_id == w.pro.pk
    invoice = Invoice.all_tenants.order_by("-id").first()
    assert invoice.total.minor == 4065
    assert invoice.balance.minor == 2033  # the credit note of 20.32 applied to it


def test_quantity_up_shows_its_preview_then_applies_it(portal_client, sub, w, clock):
    later(clock)
    page = text(portal_client.get(url("subscription_change", sub, plan="starter", quantity=5)))
    # credit 30.00 × 21/31 = 20.32; charge 50.00 × 21/31 = 33.87; due now 13.55
    assert re.search(r"Charged now: <strong[^>]*>\$13\.55<", page)
    assert re.search(r"Next invoice on Apr 10, 2026: <strong[^>]*>\$55\.00<", page)
    portal_client.post(url("subscription_change", sub), once({"plan": "starter", "quantity": "5"}))
    assert fresh(sub).quantity == 5


def test_a_downgrade_is_scheduled_for_the_term_end(portal_client, sub, w, clock):
    sub = services.change_plan(subscription=sub, plan=w.pro, actor=ACTOR)
    later(clock)
    page = text(portal_client.get(url("subscription_change", sub, plan="starter", quantity=3)))
    assert "takes effect at the end of your current term, on Apr 10, 2026; nothing is charged now" in page
    invoices = Invoice.all_tenants.count()
    portal_client.post(url("subscription_change", sub), once({"plan": "starter", "quantity": "3"}))
    assert fresh(sub).plan_id == w.pro.pk
    assert Invoice.all_tenants.count() == invoices
    change = ScheduledChange.all_tenants.get(subscription=sub, status="pending")
    assert change.payload == {"plan_id": w.starter.pk, "quantity": 3}
    # cancelled from the subscription's page
    response = portal_client.post(url("subscription_scheduled", sub), {"change": str(change.pk)})
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == "cancelled"


@pytest.mark.parametrize("quantity", ["0", "51", "-1", "abc", *HOSTILE[:6]])
def test_hostile_quantities_answer_400_with_a_message(portal_client, sub, quantity):
    before = snapshot(sub)
    response = portal_client.post(
        url("subscription_change", sub), once({"plan": "starter", "quantity": quantity})
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="errorlist' in body or "NUL character" in body
    assert snapshot(sub) == before


def test_a_plan_of_another_family_is_refused(portal_client, sub, org):
    from tests.catalog.factories import plan, product

    other = plan(org, "solo", product_row=product(org, name="Solo"))
    before = snapshot(sub)
    response = portal_client.post(
        url("subscription_change", sub), once({"plan": other.code, "quantity": "1"})
    )
    assert response.status_code == 400
    assert "Select a valid choice" in text(response)
    assert snapshot(sub) == before


# -- cancel, undo ------------------------------------------------------------------------------------------


def test_cancel_now_shows_the_credit_and_cancels(portal_client, sub, clock):
    later(clock)
    page = text(portal_client.get(url("subscription_cancel", sub)))
    # 30.00 × 21/31 = 20.32 and 5.00 × 21/31 = 3.39
    assert re.search(r'class="cancel-credit">\$23\.71<', page)
    response = portal_client.post(
        url("subscription_cancel", sub), once({"when": "now", "reason": "Too expensive", "comment": "Sorry"})
    )
    assert response.status_code == 302
    sub = fresh(sub)
    assert (sub.status, sub.cancel_reason, sub.cancel_comment) == ("cancelled", "Too expensive", "Sorry")
    assert CreditNote.all_tenants.get().total.minor == 2371


def test_cancel_at_term_end_and_undo(portal_client, sub, clock):
    response = portal_client.post(
        url("subscription_cancel", sub), once({"when": "term_end", "reason": "Other"})
    )
    assert response.status_code == 302
    assert fresh(sub).status == "non_renewing"
    assert "Ends on" in text(portal_client.get(url("subscription", sub)))
    assert portal_client.get(url("subscription_undo_cancel", sub)).status_code == 200
    assert portal_client.post(url("subscription_undo_cancel", sub)).status_code == 302
    assert fresh(sub).status == "live"
    assert not ScheduledChange.all_tenants.filter(subscription=sub, status="pending").exists()


@pytest.mark.parametrize("reason", ["", "Not a listed reason", "x" * 5000])
def test_a_reason_not_offered_is_refused(portal_client, sub, reason):
    before = snapshot(sub)
    response = portal_client.post(url("subscription_cancel", sub), once({"when": "now", "reason": reason}))
    assert response.status_code == 400
    assert snapshot(sub) == before


# -- pause, resume -----------------------------------------------------------------------------------------


def test_pause_then_resume_with_the_invoice_previewed(portal_client, sub, clock):
    later(clock)
    assert portal_client.post(url("subscription_pause", sub), {"when": "now"}).status_code == 302
    assert fresh(sub).status == "paused"
    clock.set("2026-03-25T15:00:00+00:00")
    page = text(portal_client.get(url("subscription_resume", sub)))
    assert re.search(r"Invoiced now for Mar 25, 2026 – Apr 24, 2026: <strong[^>]*>\$35\.00<", page)
    assert portal_client.post(url("subscription_resume", sub), once()).status_code == 302
    assert fresh(sub).status == "live"
    assert Invoice.all_tenants.order_by("-id").first().total.minor == 3500


def test_a_resume_date_before_the_pause_is_refused(portal_client, sub, clock):
    before = snapshot(sub)
    response = portal_client.post(url("subscription_pause", sub), {"when": "now", "resume_on": "2026-03-01"})
    assert response.status_code == 400
    assert "Choose a resume date after the pause starts." in text(response)
    assert snapshot(sub) == before


# -- coupon, auto-charge -----------------------------------------------------------------------------------


def test_redeem_a_coupon_with_the_next_invoice_previewed(portal_client, sub):
    page = text(portal_client.post(url("subscription_coupon", sub), {"code": "launch20"}))
    assert re.search(r'class="with-coupon">\$28\.00<', page)  # 35.00 less 20 %
    assert not sub.redemptions.exists()
    response = portal_client.post(url("subscription_coupon", sub), {"code": "launch20", "confirm": "1"})
    assert response.status_code == 302
    assert sub.redemptions.get().coupon.name == "Launch 20% off"


@pytest.mark.parametrize("code", ["NOPE", "x" * 100, "\x00"])
def test_a_code_refused_says_why(portal_client, sub, code):
    before = snapshot(sub)
    response = portal_client.post(url("subscription_coupon", sub), {"code": code})
    assert response.status_code == 400
    assert snapshot(sub) == before


def test_auto_charge_needs_a_saved_card_then_turns_on_and_off(portal_client, sub, customer):
    page = text(portal_client.get(url("subscription_auto_charge", sub)))
    assert "/portal/payment-methods/" in page
    response = portal_client.post(url("subscription_auto_charge", sub), {"enabled": "on"})
    assert response.status_code == 400
    assert "Save a card first" in text(response)
    assert fresh(sub).auto_charge is False
    card(customer)
    assert portal_client.post(url("subscription_auto_charge", sub), {"enabled": "on"}).status_code == 302
    assert fresh(sub).auto_charge is True
    assert portal_client.post(url("subscription_auto_charge", sub), {"enabled": "off"}).status_code == 302
    assert fresh(sub).auto_charge is False


# -- gates -------------------------------------------------------------------------------------------------

ACTIONS = [
    ("subscription_change", "change_plan", {"plan": "pro", "quantity": "3"}),
    ("subscription_cancel", "cancel", {"when": "now", "reason": "Other"}),
    ("subscription_pause", "pause", {"when": "now"}),
    ("subscription_coupon", "redeem_coupon", {"code": "LAUNCH20", "confirm": "1"}),
    ("subscription_auto_charge", "auto_charge", {"enabled": "on"}),
    ("subscription_resume", "resume", {}),
    ("subscription_undo_cancel", "undo_cancel", {}),
    ("subscription_reactivate", "reactivate", {}),
    ("subscription_convert", "convert_trial", {}),
    ("subscription_extend", "extend_trial", {"days": "3"}),
    ("subscription_addon", "add_addon", {"addon": "support", "quantity": "1"}),
    ("subscription_remove_addon", "remove_addon", {"addon": "storage"}),
]


def test_the_gate_list_names_every_declared_subscription_action():
    from portico.subscriptions.capabilities import ACTION_LABELS

    # change_quantity is switched off with change_plan in the change page's row (both are its
    # actions); cancel_trial is the cancel page's action on a trial, walked with "cancel"
    assert set(ACTION_LABELS) - {action for _name, action, _data in ACTIONS} == {
        "change_quantity",
        "cancel_trial",
    }


@pytest.mark.parametrize(("name", "action", "data"), ACTIONS)
def test_a_disabled_action_answers_403_and_changes_nothing(
    portal_client, org, sub, customer, name, action, data
):
    card(customer)
    off = {action, "change_quantity"} if action == "change_plan" else {action}
    portal_services.set_portal_preferences(
        organization=org, disabled=[f"subscriptions.{a}" for a in off], enabled=[], actor=ACTOR
    )
    # "cancel" is also the group that gates the cancel pages: switched off, they are not there at all
    refused = 404 if action == "cancel" else 403
    before = snapshot(sub)
    assert portal_client.get(url(name, sub)).status_code == refused
    assert portal_client.post(url(name, sub), data).status_code == refused
    assert snapshot(sub) == before
    assert url(name, sub) not in portal_client.get(url("subscription", sub)).content.decode()


@pytest.mark.parametrize(("name", "action", "data"), ACTIONS)
def test_a_viewer_sees_but_cannot_act(viewer_client, sub, customer, name, action, data):
    card(customer)
    page = viewer_client.get(url("subscription", sub))
    assert page.status_code == 200 and sub.number in page.content.decode()
    before = snapshot(sub)
    assert viewer_client.get(url(name, sub)).status_code == 403
    assert viewer_client.post(url(name, sub), data).status_code == 403
    assert snapshot(sub) == before
    assert url(name, sub) not in page.content.decode()


def subscription_routes():
    return [(name, route) for name, route in portal_routes() if "subscriptions/<str:number>" in route]


def test_every_subscription_route_is_walked():
    assert len(subscription_routes()) >= 8


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_customers_or_organizations_subscription_is_not_found(
    portal_client, org, other_org, outsider_customer, w, method
):
    theirs = subscribe(outsider_customer, w.starter)
    with tenancy.tenant(other_org):
        elsewhere_customer = CustomerFactory(organization=other_org)
        other_world = world(other_org)
        elsewhere = subscribe(elsewhere_customer, other_world.starter)
    for number in (theirs.number, elsewhere.number, "SUB-99999", "x" * 300):
        for name, _route in subscription_routes():
            path = reverse(name, kwargs={"number": number})
            response = getattr(portal_client, method)(path, {})
            expected = (
                405 if (name, method) == ("portal:subscription", "post") else 404
            )  # the page is GET only
            assert response.status_code == expected, (name, number, method)
    assert (
        AuditEvent.all_tenants.filter(action__startswith="subscription.", customer=outsider_customer).count()
        == 1
    )


# -- trials and reactivation -------------------------------------------------------------------------------


@pytest.fixture
def trial(customer, w, clock):
    """3 seats of trial ($8.00/seat, 14 days, $10.00 setup fee) and 2 × storage: in trial until 24 Mar."""
    return subscribe(customer, w.trial, quantity=3, addons=[(w.storage, 2)])


def test_convert_a_trial_now_shows_the_invoice_then_charges_it(portal_client, trial):
    assert fresh(trial).status == "in_trial"
    page = text(portal_client.get(url("subscription_convert", trial)))
    # 3 × 8.00 + 2 × 2.50 = 29.00 for 10 Mar – 9 Apr, and the 10.00 setup fee
    assert re.search(r"Invoiced now for Mar 10, 2026 – Apr 9, 2026: <strong[^>]*>\$29\.00<", page)
    assert re.search(r'class="invoice-total">\$39\.00<', page)
    assert portal_client.post(url("subscription_convert", trial), once()).status_code == 302
    assert fresh(trial).status == "live"
    assert Invoice.all_tenants.order_by("-id").first().total.minor == 3900


def test_extend_a_trial_up_to_the_maximum(portal_client, trial):
    assert "by 30 more days at most" in text(portal_client.get(url("subscription_extend", trial)))
    assert portal_client.post(url("subscription_extend", trial), {"days": "20"}).status_code == 302
    assert str(fresh(trial).trial_end) == "2026-04-13"
    before = snapshot(trial)
    response = portal_client.post(url("subscription_extend", trial), {"days": "11"})
    assert response.status_code == 400
    assert "The trial can be extended by 10 more days at most." in text(response)
    assert snapshot(trial) == before
    for hostile in ["0", "-3", "abc", "9" * 50]:
        assert portal_client.post(url("subscription_extend", trial), {"days": hostile}).status_code == 400
    assert snapshot(trial) == before


def test_cancel_a_trial(portal_client, trial):
    response = portal_client.post(url("subscription_cancel", trial), once({"when": "now", "reason": "Other"}))
    assert response.status_code == 302
    assert fresh(trial).status == "cancelled"
    assert not Invoice.all_tenants.filter(billing_periods__subscription=trial).exists()


def test_reactivate_within_the_paid_term_invoices_nothing(portal_client, sub, clock):
    later(clock)
    services.cancel(subscription=sub, actor=ACTOR, credit=False)
    page = text(portal_client.get(url("subscription_reactivate", sub)))
    assert "nothing is invoiced now; the next invoice is on Apr 10, 2026" in page
    invoices = Invoice.all_tenants.count()
    assert portal_client.post(url("subscription_reactivate", sub), once()).status_code == 302
    assert fresh(sub).status == "live"
    assert Invoice.all_tenants.count() == invoices


def test_reactivate_within_the_term_after_a_credited_cancellation_shows_the_days_charged_again(
    portal_client, sub, clock
):
    # $30.00 + $5.00 a month, 10 Mar – 10 Apr (31 days); cancelled on 20 Mar with 21 days credited:
    # 30.00 × 21/31 = 20.32 and 5.00 × 21/31 = 3.39. Reactivated that day, the same days come back.
    later(clock)
    services.cancel(subscription=sub, actor=ACTOR, credit=True)
    page = text(portal_client.get(url("subscription_reactivate", sub)))
    assert re.search(r"Invoiced now for Mar 20, 2026 – Apr 9, 2026: <strong[^>]*>\$23\.71<", page)
    assert portal_client.post(url("subscription_reactivate", sub), once()).status_code == 302
    assert Invoice.all_tenants.order_by("-id").first().total.minor == 2371


def test_reactivate_after_the_term_starts_a_new_invoiced_one(portal_client, sub, clock):
    later(clock)
    services.cancel(subscription=sub, actor=ACTOR, credit=False)
    clock.set("2026-04-15T15:00:00+00:00")
    page = text(portal_client.get(url("subscription_reactivate", sub)))
    assert re.search(r"Invoiced now for Apr 15, 2026 – May 14, 2026: <strong[^>]*>\$35\.00<", page)
    assert portal_client.post(url("subscription_reactivate", sub), once()).status_code == 302
    assert Invoice.all_tenants.order_by("-id").first().total.minor == 3500


def test_an_action_its_status_refuses_says_why_and_changes_nothing(portal_client, sub):
    services.cancel(subscription=sub, actor=ACTOR, credit=False)
    before = snapshot(sub)
    response = portal_client.get(url("subscription_pause", sub), follow=True)
    assert "This subscription is cancelled, so it cannot be paused." in text(response)
    response = portal_client.post(url("subscription_change", sub), once({"plan": "pro", "quantity": "3"}))
    assert response.status_code == 400
    assert "This subscription is cancelled, so it cannot be moved to another plan." in text(response)
    assert snapshot(sub) == before


def test_add_a_recurring_addon_with_its_prorated_preview(portal_client, sub, w, clock):
    later(clock)
    page = text(portal_client.get(url("subscription_addon", sub, addon="support", quantity=1)))
    # 15.00 × 21/31 = 10.16 now; the next invoice 30.00 + 5.00 + 15.00 = 50.00
    assert re.search(r"Charged now: <strong[^>]*>\$10\.16<", page)
    assert re.search(r"Next invoice on Apr 10, 2026: <strong[^>]*>\$50\.00<", page)
    assert not sub.items.filter(addon=w.support).exists()
    response = portal_client.post(url("subscription_addon", sub), once({"addon": "support", "quantity": "1"}))
    assert response.status_code == 302
    assert sub.items.get(addon=w.support).quantity == 1
    assert Invoice.all_tenants.order_by("-id").first().total.minor == 1016


@pytest.mark.parametrize(
    "data",
    [{"addon": "storage", "quantity": "1"}, {"addon": "onboarding"}, {"addon": "support", "quantity": "0"}],
)
def test_an_addon_already_there_or_not_recurring_or_a_bad_quantity_is_refused(portal_client, sub, data):
    before = snapshot(sub)
    assert portal_client.post(url("subscription_addon", sub), data).status_code == 400
    assert snapshot(sub) == before


# -- the retention offer -----------------------------------------------------------------------------------


@pytest.fixture
def stay10(org):
    """The organization's retention offer: 10 % off the next 3 invoices (35.00 → 31.50)."""
    from decimal import Decimal

    from tests.catalog.factories import coupon

    row = coupon(
        org, "Stay 10% off", codes=(), percent=Decimal("10"), duration="repeating", duration_cycles=3
    )
    settings = settings_of(org)
    settings.retention_coupon = row
    settings.save()
    return row


def test_the_retention_offer_is_shown_once_before_the_cancel_form(portal_client, sub, stay10):
    page = text(portal_client.get(url("subscription_cancel", sub)))
    assert "An offer for you: Stay 10% off" in page
    assert re.search(r'class="with-offer">\$31\.50<', page)
    assert re.search(r'class="offer-saves">\$3\.50<', page)
    assert "Why are you cancelling?" not in page
    assert fresh(sub).retention_offered_at is not None
    assert AuditEvent.all_tenants.filter(action="subscription.retention_offered").count() == 1
    again = text(portal_client.get(url("subscription_cancel", sub)))  # declined: on to the cancel form
    assert "An offer for you" not in again and "Why are you cancelling?" in again
    assert AuditEvent.all_tenants.filter(action="subscription.retention_offered").count() == 1
    response = portal_client.post(url("subscription_cancel", sub), once({"when": "now", "reason": "Other"}))
    assert response.status_code == 302
    assert fresh(sub).status == "cancelled"
    assert not sub.redemptions.exists()


def test_accepting_the_retention_offer_redeems_its_coupon_and_cancels_nothing(portal_client, sub, stay10):
    portal_client.get(url("subscription_cancel", sub))
    response = portal_client.post(url("subscription_retention", sub), once(), follow=True)
    assert "Stay 10% off was applied: your subscription goes on." in text(response)
    assert fresh(sub).status == "live"
    redemption = sub.redemptions.get()
    assert (redemption.coupon_id, redemption.code_id, redemption.cycles_left) == (stay10.pk, None, 3)
    stay10.refresh_from_db()
    assert stay10.times_redeemed == 1
    assert "Apr 10, 2026: $31.50" in text(portal_client.get(url("subscription", sub)))
    assert AuditEvent.all_tenants.filter(action="subscription.retention_accepted").count() == 1
    before = snapshot(sub)  # accepted once: a second acceptance is refused
    assert portal_client.post(url("subscription_retention", sub), once()).status_code == 400
    assert snapshot(sub) == before


def _expire(coupon):
    import datetime as dt

    coupon.valid_until = dt.date(2026, 3, 9)
    coupon.save()


def _use_up(coupon):
    coupon.max_redemptions, coupon.times_redeemed = 1, 1
    coupon.save()


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        (_expire, "That coupon code has expired."),
        (_use_up, "That coupon code has already been used as many times as it allows."),
        ("pro_only", "That coupon code cannot be used for this plan."),
    ],
)
def test_a_retention_offer_refused_says_why_and_lets_the_customer_cancel(
    portal_client, sub, stay10, w, spoil, why
):
    portal_client.get(url("subscription_cancel", sub))
    if spoil == "pro_only":
        stay10.plans.set([w.pro])
    else:
        spoil(stay10)
    before = snapshot(sub)
    response = portal_client.post(url("subscription_retention", sub), once())
    assert response.status_code == 400
    page = text(response)
    assert f"This offer can no longer be accepted: {why}" in page
    assert "Why are you cancelling?" in page  # the cancel form, to go on cancelling
    assert snapshot(sub) == before
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    data = {"when": "now", "reason": "Other", "form_token": token}
    assert portal_client.post(url("subscription_cancel", sub), data).status_code == 302
    assert fresh(sub).status == "cancelled"


def test_no_retention_offer_without_a_coupon_chosen_or_with_a_coupon_already_active(portal_client, sub, org):
    assert "Why are you cancelling?" in text(portal_client.get(url("subscription_cancel", sub)))
    assert fresh(sub).retention_offered_at is None
    before = snapshot(sub)
    assert portal_client.post(url("subscription_retention", sub), once()).status_code == 400  # never offered
    assert snapshot(sub) == before
    from tests.catalog.factories import coupon

    settings = settings_of(org)
    settings.retention_coupon = coupon(org, "Stay", codes=())
    settings.save()
    services.redeem_coupon(subscription=sub, code="ONCE5", actor=ACTOR)
    assert "Why are you cancelling?" in text(portal_client.get(url("subscription_cancel", sub)))
    assert fresh(sub).retention_offered_at is None


def test_the_offer_service_offers_once(sub, stay10):
    assert services.offer_retention(subscription=sub, actor=ACTOR) == stay10
    assert services.offer_retention(subscription=sub, actor=ACTOR) is None
    assert services.retention_offer(fresh(sub)) is None


# -- removing an addon -------------------------------------------------------------------------------------


def test_remove_an_addon_shows_the_credit_then_credits_it(portal_client, sub, w, clock):
    later(clock)
    page = text(portal_client.get(url("subscription_remove_addon", sub, addon="storage")))
    # 2 × 2.50 = 5.00 × 21/31 = 3.39 credited now; the next invoice 3 × 10.00 = 30.00
    assert re.search(r'class="credited-now">\$3\.39<', page)
    assert re.search(r"Next invoice on Apr 10, 2026: <strong[^>]*>\$30\.00<", page)
    assert sub.items.filter(addon=w.storage).exists()  # a preview changes nothing
    response = portal_client.post(url("subscription_remove_addon", sub), once({"addon": "storage"}))
    assert response.status_code == 302
    assert not sub.items.exists()
    assert CreditNote.all_tenants.get().total.minor == 339
    assert AuditEvent.all_tenants.filter(action="subscription.addon_removed").count() == 1


def test_removing_an_addon_in_next_renewal_mode_credits_the_renewal_invoice(portal_client, org, sub, clock):
    row = settings_of(org)
    row.proration_mode = "next_renewal"
    row.save()
    later(clock)
    page = text(portal_client.get(url("subscription_remove_addon", sub, addon="storage")))
    assert re.search(r"Next invoice on Apr 10, 2026: <strong[^>]*>\$26\.61<", page)  # 30.00 − 3.39
    portal_client.post(url("subscription_remove_addon", sub), once({"addon": "storage"}))
    assert not CreditNote.all_tenants.exists()  # nothing now: deferred to the renewal
    renewal = services.renew(fresh(sub), fresh(sub).current_term_end, actor=ACTOR)
    renewal.refresh_from_db()
    assert (renewal.total.minor, renewal.balance.minor) == (3000, 2661)


def test_removing_an_addon_without_proration_credits_nothing(portal_client, org, sub, clock):
    row = settings_of(org)
    row.proration_mode = "none"
    row.save()
    later(clock)
    portal_client.post(url("subscription_remove_addon", sub), once({"addon": "storage"}))
    assert not sub.items.exists()
    assert not CreditNote.all_tenants.exists() and fresh(sub).deferred_lines == []


def test_an_addon_the_subscription_does_not_have_cannot_be_removed(portal_client, sub):
    before = snapshot(sub)
    response = portal_client.post(url("subscription_remove_addon", sub), once({"addon": "support"}))
    assert response.status_code == 400
    assert snapshot(sub) == before


# -- downgrade timing chosen by the customer ---------------------------------------------------------------


@pytest.fixture
def on_pro(org, sub, w, clock):
    """Upgraded to pro on the term's first day, then on 20 Mar (21 of 31 days left)."""
    sub = services.change_plan(subscription=sub, plan=w.pro, actor=ACTOR)
    later(clock)
    return sub


def chooses(org, timing="customer_chooses"):
    row = settings_of(org)
    row.downgrade_timing = timing
    row.save()


def test_the_customer_may_choose_a_downgrade_now(portal_client, org, on_pro, w):
    chooses(org)
    assert "A downgrade takes effect (upgrades apply now)" in text(
        portal_client.get(url("subscription_change", on_pro))
    )
    page = text(portal_client.get(url("subscription_change", on_pro, plan="starter", quantity=3, when="now")))
    # credit 60.00 × 21/31 = 40.65; charge 30.00 × 21/31 = 20.32: 20.33 left as credit
    assert re.search(r'class="credited-now">\$20\.33<', page)
    response = portal_client.post(
        url("subscription_change", on_pro), once({"plan": "starter", "quantity": "3", "when": "now"})
    )
    assert response.status_code == 302
    assert fresh(on_pro).plan_id == w.starter.pk
    assert Invoice.all_tenants.order_by("-id").first().total.minor == 2032
    assert CreditNote.all_tenants.order_by("-id").first().total.minor == 4065


def test_the_customer_may_choose_a_downgrade_at_term_end(portal_client, org, on_pro, w):
    chooses(org)
    page = text(
        portal_client.get(url("subscription_change", on_pro, plan="starter", quantity=3, when="term_end"))
    )
    assert "takes effect at the end of your current term, on Apr 10, 2026" in page
    invoices = Invoice.all_tenants.count()
    data = once({"plan": "starter", "quantity": "3", "when": "term_end"})
    assert portal_client.post(url("subscription_change", on_pro), data).status_code == 302
    assert fresh(on_pro).plan_id == w.pro.pk and Invoice.all_tenants.count() == invoices
    change = ScheduledChange.all_tenants.get(subscription=on_pro, status="pending")
    assert change.payload == {"plan_id": w.starter.pk, "quantity": 3}


def test_an_upgrade_applies_now_whatever_the_customer_chose(portal_client, org, sub, w, clock):
    chooses(org)
    later(clock)
    data = once({"plan": "pro", "quantity": "3", "when": "term_end"})
    assert portal_client.post(url("subscription_change", sub), data).status_code == 302
    assert fresh(sub).plan_id == w.pro.pk
    assert Invoice.all_tenants.order_by("-id").first().total.minor == 4065


@pytest.mark.parametrize("fixed", ["now", "term_end"])
@pytest.mark.parametrize("chosen", ["now", "term_end"])
def test_a_timing_choice_is_refused_when_the_organization_fixed_it(portal_client, org, on_pro, fixed, chosen):
    chooses(org, fixed)
    assert "A downgrade takes effect" not in text(portal_client.get(url("subscription_change", on_pro)))
    before = snapshot(on_pro)
    data = once({"plan": "starter", "quantity": "3", "when": chosen})
    response = portal_client.post(url("subscription_change", on_pro), data)
    assert response.status_code == 400
    assert "Your provider decides when a downgrade takes effect; it cannot be chosen here." in text(response)
    assert snapshot(on_pro) == before
    with pytest.raises(services.errors.TimingFixed):
        services.change_plan(
            subscription=on_pro,
            plan=on_pro.plan.product.plans.get(code="starter"),
            timing=chosen,
            actor=ACTOR,
        )


# -- one-time form tokens ----------------------------------------------------------------------------------


def token_of(response) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', response.content.decode()).group(1)


def second_client(org, portal_login):
    from tests.conftest import tenant_client

    client = tenant_client(org)
    client.force_login(portal_login, backend="portico.accounts.backends.TenantAuthenticationBackend")
    return client


def _later(sub, clock):
    later(clock)
    return sub


def _paused(sub, clock):
    later(clock)
    services.pause(subscription=sub, actor=ACTOR)
    clock.set("2026-03-25T15:00:00+00:00")
    return sub


def _cancelled(sub, clock):
    later(clock)
    services.cancel(subscription=sub, actor=ACTOR, credit=False)
    clock.set("2026-04-15T15:00:00+00:00")
    return sub


# (route, its confirmation page's query, the form, how to get there, what must happen once)
TOKEN_ACTIONS = [
    ("subscription_change", {"plan": "pro", "quantity": 3}, {"plan": "pro", "quantity": "3"}, _later, (1, 1)),
    ("subscription_addon", {"addon": "support", "quantity": 1}, {"addon": "support", "quantity": "1"}, _later, (1, 0)),
    ("subscription_resume", {}, {}, _paused, (1, 0)),
    ("subscription_reactivate", {}, {}, _cancelled, (1, 0)),
    ("subscription_cancel", {}, {"when": "now", "reason": "Other"}, _later, (0, 1)),
    ("subscription_remove_addon", {"addon": "storage"}, {"addon": "storage"}, _later, (0, 1)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "query", "data", "setup", "issued"), TOKEN_ACTIONS)
def test_a_form_posted_twice_acts_once_and_shows_the_first_result(
    portal_client, org, portal_login, sub, clock, name, query, data, setup, issued
):
    """A double click, two tabs, a replay: two clients post the same form (the same token)."""
    setup(sub, clock)
    other_tab = second_client(org, portal_login)  # signed in before (signing in is audited)
    form = portal_client.get(url(name, sub, **query))
    assert form.status_code == 200
    posted = {**data, "form_token": token_of(form)}
    invoices, credits = Invoice.all_tenants.count(), CreditNote.all_tenants.count()
    first = portal_client.post(url(name, sub), posted)
    assert first.status_code == 302
    after = snapshot(sub)
    assert (Invoice.all_tenants.count() - invoices, CreditNote.all_tenants.count() - credits) == issued
    second = other_tab.post(url(name, sub), posted, follow=True)
    assert second.status_code == 200
    page = text(second)
    assert "This form was already submitted; nothing more was changed." in page
    assert snapshot(sub) == after
    again = portal_client.post(url(name, sub), posted)  # and a third time, from the first tab
    assert again.status_code == 302 and snapshot(sub) == after


def test_the_repeat_shows_the_first_submissions_result(portal_client, sub, clock):
    _paused(sub, clock)
    posted = {"form_token": token_of(portal_client.get(url("subscription_resume", sub)))}
    portal_client.post(url("subscription_resume", sub), posted)
    page = text(portal_client.post(url("subscription_resume", sub), posted, follow=True))
    assert "Your subscription is running again." in page


def test_each_rendering_of_a_confirmation_form_carries_a_fresh_token(portal_client, sub, clock):
    later(clock)
    first = token_of(portal_client.get(url("subscription_cancel", sub)))
    second = token_of(portal_client.get(url("subscription_cancel", sub)))
    assert first != second and len(first) >= 16


@pytest.mark.parametrize("token", [None, "", "short", "x" * 65, "bad token with spaces", "é" * 20])
def test_a_missing_or_malformed_token_is_refused_and_changes_nothing(portal_client, sub, clock, token):
    later(clock)
    before = snapshot(sub)
    data = {"when": "now", "reason": "Other"}
    if token is not None:
        data["form_token"] = token
    response = portal_client.post(url("subscription_cancel", sub), data)
    assert response.status_code == 400
    assert "This form has expired; please reload the page and try again." in text(response)
    assert snapshot(sub) == before


def test_a_token_used_for_another_subscription_is_refused(portal_client, sub, customer, w, clock):
    other = subscribe(customer, w.starter, quantity=1)
    later(clock)
    token = token_of(portal_client.get(url("subscription_cancel", sub)))
    portal_client.post(
        url("subscription_cancel", sub), {"when": "now", "reason": "Other", "form_token": token}
    )
    before = snapshot(other)
    response = portal_client.post(
        url("subscription_cancel", other), {"when": "now", "reason": "Other", "form_token": token}
    )
    assert response.status_code == 400
    assert snapshot(other) == before


def test_converting_a_trial_posted_twice_invoices_once(portal_client, org, portal_login, trial):
    other_tab = second_client(org, portal_login)
    posted = {"form_token": token_of(portal_client.get(url("subscription_convert", trial)))}
    assert portal_client.post(url("subscription_convert", trial), posted).status_code == 302
    after = snapshot(trial)
    page = text(other_tab.post(url("subscription_convert", trial), posted, follow=True))
    assert "Your trial was converted: your subscription is live." in page
    assert snapshot(trial) == after
    assert Invoice.all_tenants.filter(billing_periods__subscription=trial).count() == 1


def test_the_retention_offer_accepted_twice_redeems_once(portal_client, sub, stay10):
    posted = {"form_token": token_of(portal_client.get(url("subscription_cancel", sub)))}
    portal_client.post(url("subscription_retention", sub), posted)
    after = snapshot(sub)
    page = text(portal_client.post(url("subscription_retention", sub), posted, follow=True))
    assert "This form was already submitted; nothing more was changed." in page
    assert "Stay 10% off was applied: your subscription goes on." in page
    assert snapshot(sub) == after
    stay10.refresh_from_db()
    assert stay10.times_redeemed == 1
