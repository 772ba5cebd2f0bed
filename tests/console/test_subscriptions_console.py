"""Subscriptions in the console: creating one, every action through its confirmation page (GET says
what will happen and changes nothing; POST calls the service), the role matrix, another
organization's subscription answering 404, and hostile values answering form errors."""

from __future__ import annotations

import datetime as dt

import pytest

from portico.accounts.models import StaffRole
from portico.billing.models import CreditNote, Invoice
from portico.core.models import AuditEvent
from portico.subscriptions.models import (
    BillingPeriod,
    CouponRedemption,
    ScheduledChange,
    Subscription,
    SubscriptionSettings,
)
from tests.conftest import tenant_client
from tests.console.subscriptions_world import subscription_world
from tests.factories import CustomerFactory, staff_user
from tests.subscriptions.factories import card

BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"
BASE = "/console/subscriptions/subscription/"


def _client(org, role):
    client = tenant_client(org)
    client.force_login(staff_user(org, email=f"{role}@renotech.example", role=role), backend=BACKEND)
    return client


@pytest.fixture
def staff(org):
    return {role: _client(org, role) for role in StaffRole}


@pytest.fixture
def subs(org, clock, customer):
    return subscription_world(org, customer)


def fresh(sub) -> Subscription:
    return Subscription.all_tenants.get(pk=sub.pk)


def confirm(client, url, data=None):
    """GET the confirmation page (200, nothing written), then POST it."""
    invoices, audits = Invoice.all_tenants.count(), AuditEvent.all_tenants.count()
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    assert "Confirm" in page.content.decode() or "Yes," in page.content.decode()
    assert (Invoice.all_tenants.count(), AuditEvent.all_tenants.count()) == (invoices, audits)
    return client.post(url, data or {})


# -- list and page ------------------------------------------------------------------------------------


def test_the_list_filters_by_status_and_the_page_shows_periods_changes_and_coupon(org, subs, staff):
    owner = staff[StaffRole.OWNER]
    page = owner.get(BASE).content.decode()
    for key in ("live", "non_renewing", "paused", "trial_sub", "future"):
        assert subs[key].number in page
    paused = owner.get(BASE + "?status__exact=paused").content.decode()
    assert subs["paused"].number in paused and subs["live"].number not in paused
    detail = owner.get(f"{BASE}{subs['non_renewing'].pk}/change/").content.decode()
    period = BillingPeriod.all_tenants.get(subscription=subs["non_renewing"])
    assert f"/console/billing/invoice/{period.invoice_id}/change/" in detail  # the invoice link
    assert "Cancel this change" in detail  # the pending scheduled cancel
    # the tools the state allows
    assert f"{subs['non_renewing'].pk}/undo-cancel/" in detail and "/pause/" not in detail
    live = owner.get(f"{BASE}{subs['live'].pk}/change/").content.decode()
    assert "Ten off" in live and "Seat Storage" in live and "Dunning" in live


def test_the_customer_autocomplete_offers_active_customers_of_the_organization(org, other_org, subs, staff):
    CustomerFactory(organization=org, display_name="Acme Closed", is_active=False)
    CustomerFactory(organization=other_org, display_name="Acme Abroad")
    response = staff[StaffRole.FINANCE].get(
        "/console/autocomplete/",
        {
            "term": "Acme",
            "app_label": "subscriptions",
            "model_name": "subscription",
            "field_name": "customer",
        },
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Acme Interiors"]


# -- create -------------------------------------------------------------------------------------------


def _create(client, subs, **fields):
    data = {
        "customer": subs["customer"].pk,
        "plan": subs["starter"].pk,
        "quantity": "2",
        "addons": [subs["storage"].pk],
        "coupon_code": "",
        "start": "now",
        "start_date": "",
    }
    data.update(fields)
    return client.post(f"{BASE}add/", data)


def test_finance_creates_subscriptions_now_in_trial_later_and_backdated(org, subs, staff, clock):
    finance = staff[StaffRole.FINANCE]
    assert finance.get(f"{BASE}add/").status_code == 200
    before = set(Subscription.all_tenants.values_list("pk", flat=True))
    assert _create(finance, subs, coupon_code="seats10").status_code == 302
    assert _create(finance, subs, plan=subs["trial"].pk, start="trial", addons=[]).status_code == 302
    assert _create(finance, subs, start="future", start_date="2026-04-01").status_code == 302
    assert _create(finance, subs, start="backdated", start_date="2026-03-01").status_code == 302
    new = list(Subscription.all_tenants.exclude(pk__in=before).order_by("pk"))
    assert [s.status for s in new] == ["live", "in_trial", "future", "live"]
    assert CouponRedemption.all_tenants.filter(subscription=new[0]).exists()
    backdated = new[3]
    assert (backdated.start_date, backdated.current_term_start, backdated.current_term_end) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 1),
        dt.date(2026, 4, 1),
    )
    period = BillingPeriod.all_tenants.get(subscription=backdated)
    assert (period.start, period.end) == (dt.date(2026, 3, 1), dt.date(2026, 4, 1))
    assert period.invoice.total_minor == 2 * 1000 + 250  # two seats and one storage unit, a whole term
    event = AuditEvent.all_tenants.get(action="subscription.created", object_id=str(backdated.pk))
    assert event.data["backdated_to"] == "2026-03-01"
    assert event.actor_label == "finance@renotech.example (finance)"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-3"}, "quantity"),
        ({"quantity": "99999999999999999999"}, "quantity"),
        ({"quantity": "51"}, None),  # above the plan's maximum: the service's refusal
        ({"plan": "999999"}, "plan"),
        ({"customer": "abc"}, "customer"),
        ({"coupon_code": "NOPE"}, None),
        ({"coupon_code": "x" * 500}, "coupon_code"),
        ({"start": "future", "start_date": ""}, "start_date"),
        ({"start": "future", "start_date": "2026-03-01"}, None),  # in the past
        ({"start": "backdated", "start_date": "2025-01-01"}, None),  # beyond one term
        ({"start": "backdated", "start_date": "2026-13-45"}, "start_date"),
        ({"start": "whenever"}, "start"),
        ({"auto_charge": "on"}, None),  # no saved card
    ],
)
def test_hostile_values_on_the_create_form_are_form_errors(org, subs, staff, fields, field):
    before = (Subscription.all_tenants.count(), Invoice.all_tenants.count())
    response = _create(staff[StaffRole.OWNER], subs, **fields)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors
    if field:
        assert field in form.errors, form.errors
    assert (Subscription.all_tenants.count(), Invoice.all_tenants.count()) == before


def test_another_customers_currency_plan_is_refused(org, subs, staff):
    euro = CustomerFactory(organization=org, display_name="Euro client", currency="EUR")
    response = _create(staff[StaffRole.OWNER], subs, customer=euro.pk)
    assert response.status_code == 200 and response.context["form"].errors


# -- actions ------------------------------------------------------------------------------------------


def test_each_action_through_its_confirmation(org, subs, staff, clock):
    finance = staff[StaffRole.FINANCE]
    live, trial, paused = subs["live"], subs["trial_sub"], subs["paused"]

    # change plan (an upgrade: applies now, prorated) and quantity
    # (the confirmation of a change is its preview: the GET with the form's values)
    data = {"plan": subs["pro"].pk, "quantity": "3", "timing": ""}
    url = f"{BASE}{live.pk}/change-plan/"
    response = confirm(finance, f"{url}?plan={subs['pro'].pk}&quantity=3&timing=", data)
    assert response.status_code == 302
    assert fresh(live).plan_id == subs["pro"].pk
    url = f"{BASE}{live.pk}/change-quantity/"
    assert (
        confirm(finance, f"{url}?quantity=5&timing=now", {"quantity": "5", "timing": "now"}).status_code
        == 302
    )
    assert fresh(live).quantity == 5

    # price override (staff only), then back to the plan's price
    assert confirm(finance, f"{BASE}{live.pk}/override-price/", {"price": "42.50"}).status_code == 302
    assert fresh(live).price_override_minor == 4250
    assert finance.post(f"{BASE}{live.pk}/override-price/", {"price": ""}).status_code == 302
    assert fresh(live).price_override_minor is None

    # auto-charge needs a saved card: refused (a form error) first, then on
    response = finance.post(f"{BASE}{live.pk}/auto-charge/", {"enabled": "on"})
    assert response.status_code == 200 and response.context["form"].errors
    card(subs["customer"])
    assert confirm(finance, f"{BASE}{live.pk}/auto-charge/", {"enabled": "on"}).status_code == 302
    assert fresh(live).auto_charge is True

    # cancel at term end, undo, cancel at term end again and cancel the scheduled change
    url = f"{BASE}{live.pk}/cancel/"
    assert confirm(finance, url, {"when": "term_end", "reason": "Too expensive"}).status_code == 302
    assert fresh(live).status == "non_renewing"
    assert confirm(finance, f"{BASE}{live.pk}/undo-cancel/").status_code == 302
    assert fresh(live).status == "live"
    finance.post(url, {"when": "term_end"})
    change = ScheduledChange.all_tenants.get(subscription=live, status="pending", kind="cancel")
    assert confirm(finance, f"{BASE}{live.pk}/changes/{change.pk}/cancel/").status_code == 302
    assert fresh(live).status == "live"

    # pause and resume; cancel now with a credit; reactivate
    assert confirm(finance, f"{BASE}{live.pk}/pause/", {"when": "now"}).status_code == 302
    assert fresh(live).status == "paused"
    assert confirm(finance, f"{BASE}{live.pk}/resume/").status_code == 302
    assert fresh(live).status == "live"
    notes = CreditNote.all_tenants.count()
    assert confirm(finance, url, {"when": "now", "reason": "Other", "credit": "on"}).status_code == 302
    assert fresh(live).status == "cancelled" and CreditNote.all_tenants.count() == notes + 1
    assert confirm(finance, f"{BASE}{live.pk}/reactivate/").status_code == 302
    assert fresh(live).status == "live"

    # a trial: extended, then ended now
    end = fresh(trial).trial_end
    assert confirm(finance, f"{BASE}{trial.pk}/extend-trial/", {"days": "7"}).status_code == 302
    assert fresh(trial).trial_end == end + dt.timedelta(days=7)
    assert confirm(finance, f"{BASE}{trial.pk}/convert-trial/").status_code == 302
    assert fresh(trial).status == "live"

    # an action the state does not allow: the refusal on the page, nothing changes
    response = finance.post(f"{BASE}{paused.pk}/undo-cancel/")
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert fresh(paused).status == "paused"

    actions = set(
        AuditEvent.all_tenants.filter(action__startswith="subscription.").values_list("action", flat=True)
    )
    assert {
        "subscription.price_overridden",
        "subscription.auto_charge_changed",
        "subscription.cancel_undone",
        "subscription.resumed",
        "subscription.trial_converted",
    } <= actions


@pytest.mark.parametrize(
    "path, data",
    [
        ("change-quantity/", {"quantity": "0", "timing": ""}),
        ("change-quantity/", {"quantity": "abc", "timing": ""}),
        ("change-quantity/", {"quantity": "1000", "timing": ""}),  # above the plan's maximum
        ("change-plan/", {"plan": "999999", "quantity": "1"}),
        ("override-price/", {"price": "-5.00"}),
        ("override-price/", {"price": "12.345"}),
        ("override-price/", {"price": "<script>"}),
        ("pause/", {"when": "now", "resume_on": "2020-01-01"}),
        ("pause/", {"when": "sometime"}),
        ("cancel/", {"when": "now", "reason": "Because I said so"}),
        ("redeem-coupon/", {"code": "NOT-A-CODE"}),
    ],
)
def test_hostile_values_on_actions_are_form_errors(org, subs, staff, path, data):
    sub = subs["non_renewing"] if path.startswith("redeem") else subs["live"]  # without a coupon
    before = (Subscription.all_tenants.filter(pk=sub.pk).values().get(), Invoice.all_tenants.count())
    response = staff[StaffRole.OWNER].post(f"{BASE}{sub.pk}/{path}", data)
    assert response.status_code == 200
    assert response.context["form"].errors
    after = (Subscription.all_tenants.filter(pk=sub.pk).values().get(), Invoice.all_tenants.count())
    assert after == before


# -- roles --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [StaffRole.SUPPORT, StaffRole.READ_ONLY])
def test_support_and_read_only_read_subscriptions_and_may_not_change_them(org, subs, staff, role):
    client = staff[role]
    live = subs["live"]
    assert client.get(BASE).status_code == 200
    page = client.get(f"{BASE}{live.pk}/change/")
    assert page.status_code == 200 and "Change plan" not in page.content.decode()
    assert client.get(f"{BASE}add/").status_code == 403
    for path, data in [
        ("cancel/", {"when": "now"}),
        ("pause/", {"when": "now"}),
        ("override-price/", {"price": "1.00"}),
        ("change-quantity/", {"quantity": "4"}),
    ]:
        assert client.get(f"{BASE}{live.pk}/{path}").status_code == 403
        assert client.post(f"{BASE}{live.pk}/{path}", data).status_code == 403
    assert fresh(live).status == "live" and fresh(live).quantity == 3
    assert _create(client, subs).status_code == 403


@pytest.mark.parametrize("role", [StaffRole.OWNER, StaffRole.ADMINISTRATOR, StaffRole.FINANCE])
def test_finance_owners_and_administrators_manage_subscriptions(org, subs, staff, role):
    live = subs["live"]
    assert staff[role].post(f"{BASE}{live.pk}/change-quantity/", {"quantity": "4"}).status_code == 302
    assert fresh(live).quantity == 4


def test_settings_owners_and_administrators_change_them_others_read(org, subs, staff):
    row = SubscriptionSettings.all_tenants.get(organization=org)
    url = f"/console/subscriptions/subscriptionsettings/{row.pk}/change/"
    data = {
        "proration_mode": "next_renewal",
        "downgrade_timing": "now",
        "max_trial_extension_days": "10",
        "credit_on_immediate_cancel": "on",
        "cancellation_reasons": "Too expensive\nMoving away\n",
        "retention_coupon": subs["coupon"].pk,
        "dunning_retry_days": "2, 4, 8",
        "dunning_final_action": "cancel",
        "renewal_notice_days": "5",
        "trial_ending_notice_days": "2",
    }
    for role in (StaffRole.FINANCE, StaffRole.SUPPORT, StaffRole.READ_ONLY):
        assert staff[role].get(url).status_code == 200
        assert staff[role].post(url, data).status_code == 403
    for bad in (
        {"dunning_retry_days": "5, 3"},
        {"dunning_retry_days": "one"},
        {"dunning_retry_days": "0"},
        {"renewal_notice_days": "-1"},
        {"renewal_notice_days": "9999"},
        {"proration_mode": "whatever"},
        {"max_trial_extension_days": "99999"},
    ):
        response = staff[StaffRole.OWNER].post(url, {**data, **bad})
        assert response.status_code == 200 and response.context["adminform"].form.errors, bad
    assert staff[StaffRole.ADMINISTRATOR].post(url, data).status_code == 302
    row.refresh_from_db()
    assert (row.proration_mode, row.dunning_retry_days, row.cancellation_reasons) == (
        "next_renewal",
        [2, 4, 8],
        ["Too expensive", "Moving away"],
    )
    assert row.retention_coupon_id == subs["coupon"].pk
    assert AuditEvent.all_tenants.filter(action="subscription_settings.changed").exists()


# -- tenancy ------------------------------------------------------------------------------------------


def test_another_organizations_subscription_answers_404(org, other_org, subs, staff, clock):
    theirs = subscription_world(other_org)
    owner = staff[StaffRole.OWNER]
    sub = theirs["live"]
    before = Subscription.all_tenants.filter(pk=sub.pk).values().get()
    assert owner.get(f"{BASE}{sub.pk}/change/").status_code == 404
    for path in ("cancel/", "pause/", "override-price/", "change-plan/", "resume/"):
        assert owner.get(f"{BASE}{sub.pk}/{path}").status_code == 404
        assert owner.post(f"{BASE}{sub.pk}/{path}", {"when": "now", "price": "1.00"}).status_code == 404
    change = ScheduledChange.all_tenants.get(subscription=theirs["non_renewing"])
    url = f"{BASE}{subs['live'].pk}/changes/{change.pk}/cancel/"  # our subscription, their change
    assert owner.post(url).status_code == 404
    assert Subscription.all_tenants.filter(pk=sub.pk).values().get() == before
    assert ScheduledChange.all_tenants.get(pk=change.pk).status == "pending"
    assert "Subscriber" not in owner.get(BASE).content.decode()  # their customer's name
