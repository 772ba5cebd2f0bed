"""Subscriptions in the console, what staff see before and after they act: a change of plan or
quantity previews what is charged now, credited now and on the next invoice (from
`services.preview_change`) before the confirming POST; the create form takes a quantity per addon;
the subscription's page lists its invoices and credit notes (linked rows) and its dunning state; a
trial is cancelled as the portal cancels it. Another organization's subscription answers 404, a role
without rights 403, hostile values form errors — nothing written.

The subscriptions world (`subscription_world`): March 10, 2026; "live" is 3 seats of Starter ($10 a
seat) and 2 units of storage ($2.50) since today, its term March 10 → April 10, its coupon (10 %,
once) used by the first invoice."""

from __future__ import annotations

import pytest

from portico.accounts.models import StaffRole
from portico.billing.models import CreditNote, Invoice
from portico.core.models import AuditEvent
from portico.subscriptions import dunning
from portico.subscriptions.models import Subscription, SubscriptionItem
from tests.console.subscriptions_world import subscription_world
from tests.console.test_subscriptions_console import BASE, _client, _create, fresh


@pytest.fixture
def staff(org):
    return {role: _client(org, role) for role in StaffRole}


@pytest.fixture
def subs(org, clock, customer):
    return subscription_world(org, customer)


def _written():
    return (
        Invoice.all_tenants.count(),
        CreditNote.all_tenants.count(),
        AuditEvent.all_tenants.count(),
        list(Subscription.all_tenants.order_by("pk").values_list("plan_id", "quantity", "status")),
    )


def _strong(page: str, css: str) -> str:
    start = page.index(f'<strong class="{css}">') + len(f'<strong class="{css}">')
    return page[start : page.index("</strong>", start)]


# -- the change preview -------------------------------------------------------------------------------


def test_an_upgrade_shows_what_is_charged_now_and_next_before_staff_confirm(org, subs, staff):
    finance, live = staff[StaffRole.FINANCE], subs["live"]
    url = f"{BASE}{live.pk}/change-plan/"
    before = _written()
    form = finance.get(url)
    assert form.status_code == 200 and form.context_data["method"] == "get"
    page = finance.get(url, {"plan": subs["pro"].pk, "quantity": "3", "timing": ""}).content.decode()
    assert _written() == before  # a preview writes nothing
    # the whole term is left: Starter's term as paid ($30.00 less the once-only 10 %: $27.00)
    # credited, Pro's $60.00 charged (the coupon is used up), on one invoice
    assert _strong(page, "charged-now") == "$33.00"
    assert _strong(page, "credited-now") == "$0.00"
    assert _strong(page, "next-invoice") == "$65.00"  # Pro 3 × $20 + storage 2 × $2.50, April 10
    assert "Next invoice on 2026-04-10" in page or "Next invoice on April 10, 2026" in page
    assert "Confirm: Change plan" in page and 'name="plan"' in page
    assert finance.post(url, {"plan": subs["pro"].pk, "quantity": "3", "timing": ""}).status_code == 302
    assert (fresh(live).plan_id, fresh(live).quantity) == (subs["pro"].pk, 3)
    invoice = Invoice.all_tenants.filter(customer=live.customer).order_by("-pk").first()
    assert invoice.total_minor == 6000 and invoice.balance_minor == 3300  # the credit note applied


def test_fewer_seats_now_show_the_credit_and_the_smaller_next_invoice(org, subs, staff):
    finance, live = staff[StaffRole.FINANCE], subs["live"]
    url = f"{BASE}{live.pk}/change-quantity/"
    page = finance.get(url, {"quantity": "1", "timing": "now"}).content.decode()
    assert _strong(page, "charged-now") == "$0.00"
    # the term's 3 seats as paid ($27.00 after the once-only 10 %) credited, 1 seat at $10 charged
    assert _strong(page, "credited-now") == "$17.00"
    assert _strong(page, "next-invoice") == "$15.00"  # 1 × $10 + 2 × $2.50
    notes = CreditNote.all_tenants.count()
    assert finance.post(url, {"quantity": "1", "timing": "now"}).status_code == 302
    note = CreditNote.all_tenants.order_by("-pk").first()
    assert CreditNote.all_tenants.count() == notes + 1
    # the credit note credits the 3 seats as paid ($27.00); $10.00 of it pays the 1 seat left
    assert (note.total_minor, note.remaining_minor) == (2700, 1700)


def test_a_downgrade_at_term_end_says_nothing_is_charged_now(org, subs, staff):
    live = subs["live"]
    page = (
        staff[StaffRole.OWNER]
        .get(f"{BASE}{live.pk}/change-quantity/", {"quantity": "1", "timing": "term_end"})
        .content.decode()
    )
    assert "takes effect at the end of the term, on 2026-04-10" in page or "April 10, 2026" in page
    assert "charged-now" not in page


@pytest.mark.parametrize(
    "path, query, field",
    [
        ("change-quantity/", {"quantity": "abc", "timing": ""}, "quantity"),
        ("change-quantity/", {"quantity": "0", "timing": ""}, "quantity"),
        ("change-quantity/", {"quantity": "99999999999999999999", "timing": ""}, "quantity"),
        ("change-quantity/", {"quantity": "51", "timing": ""}, None),  # above the plan's maximum
        ("change-quantity/", {"quantity": "2", "timing": "whenever"}, "timing"),
        ("change-plan/", {"plan": "999999", "quantity": "1", "timing": ""}, "plan"),
        ("change-plan/", {"plan": "<script>", "quantity": "1", "timing": ""}, "plan"),
    ],
)
def test_hostile_preview_values_are_form_errors(org, subs, staff, path, query, field):
    before = _written()
    response = staff[StaffRole.OWNER].get(f"{BASE}{subs['live'].pk}/{path}", query)
    assert response.status_code == 200
    errors = response.context_data["form"].errors
    assert errors and (field is None or field in errors), errors
    assert _written() == before


def test_a_preview_of_another_organizations_subscription_answers_404(org, other_org, subs, staff, clock):
    theirs = subscription_world(other_org)["live"]
    owner = staff[StaffRole.OWNER]
    for path in ("change-plan/", "change-quantity/", "cancel-trial/"):
        assert owner.get(f"{BASE}{theirs.pk}/{path}", {"quantity": "2", "timing": ""}).status_code == 404
        assert owner.post(f"{BASE}{theirs.pk}/{path}", {"quantity": "2", "timing": ""}).status_code == 404
    assert fresh(theirs).quantity == 3


@pytest.mark.parametrize("role", [StaffRole.SUPPORT, StaffRole.READ_ONLY])
def test_support_and_read_only_get_no_preview_and_no_trial_cancel(org, subs, staff, role):
    client, live, trial = staff[role], subs["live"], subs["trial_sub"]
    assert client.get(f"{BASE}{live.pk}/change-quantity/", {"quantity": "1", "timing": ""}).status_code == 403
    assert client.get(f"{BASE}{trial.pk}/cancel-trial/").status_code == 403
    assert client.post(f"{BASE}{trial.pk}/cancel-trial/", {"reason": ""}).status_code == 403
    assert fresh(trial).status == "in_trial"


# -- addon quantities on create -------------------------------------------------------------------------


def test_the_create_form_takes_a_quantity_per_addon(org, subs, staff):
    storage = subs["storage"]
    response = _create(staff[StaffRole.FINANCE], subs, **{f"addon_quantity_{storage.pk}": "4"})
    assert response.status_code == 302
    sub = Subscription.all_tenants.order_by("-pk").first()
    assert SubscriptionItem.all_tenants.get(subscription=sub).quantity == 4
    first = sub.periods.get().invoice
    assert first.total_minor == 2 * 1000 + 4 * 250  # two seats and four storage units
    # left empty: one
    assert _create(staff[StaffRole.FINANCE], subs).status_code == 302
    sub = Subscription.all_tenants.order_by("-pk").first()
    assert SubscriptionItem.all_tenants.get(subscription=sub).quantity == 1


@pytest.mark.parametrize("value", ["0", "-1", "abc", "10001", "99999999999999999999", "1.5", "<b>"])
def test_hostile_addon_quantities_on_create_are_form_errors(org, subs, staff, value):
    storage = subs["storage"]
    before = (
        Subscription.all_tenants.count(),
        Invoice.all_tenants.count(),
        SubscriptionItem.all_tenants.count(),
    )
    response = _create(staff[StaffRole.OWNER], subs, **{f"addon_quantity_{storage.pk}": value})
    assert response.status_code == 200
    assert f"addon_quantity_{storage.pk}" in response.context["form"].errors
    after = (
        Subscription.all_tenants.count(),
        Invoice.all_tenants.count(),
        SubscriptionItem.all_tenants.count(),
    )
    assert after == before


# -- the subscription's page ------------------------------------------------------------------------------


def test_the_page_lists_the_subscriptions_invoices_and_credit_notes_and_no_others(org, subs, staff, customer):
    finance, live = staff[StaffRole.FINANCE], subs["live"]
    finance.post(f"{BASE}{live.pk}/change-quantity/", {"quantity": "1", "timing": "now"})  # a credit note
    finance.post(f"{BASE}{live.pk}/change-quantity/", {"quantity": "4", "timing": "now"})  # an invoice
    from tests.billing.factories import open_invoice

    manual = open_invoice(customer, 999)
    Invoice.all_tenants.filter(pk=manual.pk).update(memo=f"Subscription {live.number}")
    page = finance.get(f"{BASE}{live.pk}/change/").content.decode()
    periods = list(live.periods.values_list("invoice_id", flat=True))
    notes = list(CreditNote.all_tenants.filter(subscription_link__subscription=live))
    invoices = list(Invoice.all_tenants.filter(subscription_link__subscription=live))
    # each change: the old seats credited, the new ones charged; and the first term's invoice
    assert len(notes) == 2 and len(invoices) == 3
    for pk in [*periods, *(i.pk for i in invoices)]:
        assert f"/console/billing/invoice/{pk}/change/" in page
    for note in notes:
        assert f"/console/billing/creditnote/{note.pk}/change/" in page
    assert f"/console/billing/invoice/{manual.pk}/change/" not in page  # the same memo is not a link


def test_the_page_shows_the_dunning_state(org, subs, staff):
    live = subs["live"]
    invoice = live.periods.get().invoice
    page = staff[StaffRole.SUPPORT].get(f"{BASE}{live.pk}/change/").content.decode()
    assert "No failed charge." in page
    dunning.start_dunning(live, invoice, failed_on=fresh(live).current_term_start)
    page = staff[StaffRole.SUPPORT].get(f"{BASE}{live.pk}/change/").content.decode()
    assert "0 of 3 retries failed; next retry on 2026-03-11" in page or "March 11, 2026" in page
    assert "Mark the subscription unpaid" in page and invoice.number in page


def test_a_trial_is_cancelled_with_the_portals_action(org, subs, staff):
    finance, trial = staff[StaffRole.FINANCE], subs["trial_sub"]
    page = finance.get(f"{BASE}{trial.pk}/change/").content.decode()
    assert f"{trial.pk}/cancel-trial/" in page and f"{trial.pk}/cancel/" not in page
    before = Invoice.all_tenants.count()
    assert finance.get(f"{BASE}{trial.pk}/cancel-trial/").status_code == 200
    response = finance.post(f"{BASE}{trial.pk}/cancel-trial/", {"reason": "Too expensive", "comment": ""})
    assert response.status_code == 302
    assert (fresh(trial).status, fresh(trial).cancel_reason) == ("cancelled", "Too expensive")
    assert Invoice.all_tenants.count() == before
    assert AuditEvent.all_tenants.filter(
        action="subscription.trial_cancelled", object_id=str(trial.pk)
    ).exists()
    # on a live subscription the state machine refuses it: a form error, nothing changes
    live = subs["live"]
    response = finance.post(f"{BASE}{live.pk}/cancel-trial/", {"reason": ""})
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert fresh(live).status == "live"


# -- every portal action in the console, each walked ------------------------------------------------------

# The portal's subscription pages (URL names) and the console actions that do the same for staff.
PORTAL_TO_CONSOLE = {
    "portal:subscription": None,  # the page itself: the console's subscription page
    "portal:subscription_change": ("change_plan", "change_quantity"),
    "portal:subscription_cancel": ("cancel", "cancel_trial"),
    "portal:subscription_undo_cancel": ("undo_cancel",),
    "portal:subscription_pause": ("pause",),
    "portal:subscription_resume": ("resume",),
    "portal:subscription_coupon": ("redeem_coupon",),
    "portal:subscription_auto_charge": ("auto_charge",),
    "portal:subscription_scheduled": ("cancel_change",),
    "portal:subscription_convert": ("convert_trial",),
    "portal:subscription_extend": ("extend_trial",),
    "portal:subscription_reactivate": ("reactivate",),
    "portal:subscription_addon": ("add_addon",),
    "portal:subscription_remove_addon": ("remove_addon",),
    # the retention offer is the customer's; staff apply the same coupon by redeeming it
    "portal:subscription_retention": ("redeem_coupon",),
}


def _console_actions() -> set[str]:
    from portico.console.admin_subscriptions import action_names

    return {*action_names(), "cancel_change"}


def test_every_portal_subscription_action_has_its_console_action():
    from portico.subscriptions.models import PORTAL_ACTIONS
    from tests.portal.crawl import portal_routes

    portal = {name for name, route in portal_routes() if "subscriptions/<str:number>" in route}
    assert portal == set(PORTAL_TO_CONSOLE), "a new portal page: say which console action it matches"
    mapped = {action for actions in PORTAL_TO_CONSOLE.values() if actions for action in actions}
    assert mapped <= _console_actions()
    assert set(PORTAL_ACTIONS) <= _console_actions()  # every action the settings can allow


def _action_urls(sub):
    from portico.console.admin_subscriptions import action_names

    return [f"{BASE}{sub.pk}/{name.replace('_', '-')}/" for name in action_names()]


def test_every_console_action_on_another_organizations_subscription_answers_404(
    org, other_org, subs, staff, clock
):
    theirs = subscription_world(other_org)
    owner = staff[StaffRole.OWNER]
    rows = {k: Subscription.all_tenants.filter(pk=theirs[k].pk).values().get() for k in ("live", "trial_sub")}
    for key in ("live", "trial_sub"):
        for url in _action_urls(theirs[key]):
            assert owner.get(url).status_code == 404, url
            assert owner.get(url, {"quantity": "2", "timing": ""}).status_code == 404, url
            assert owner.post(url, {"when": "now", "quantity": "2", "days": "3"}).status_code == 404, url
    assert {k: Subscription.all_tenants.filter(pk=theirs[k].pk).values().get() for k in rows} == rows


@pytest.mark.parametrize("role", [StaffRole.SUPPORT, StaffRole.READ_ONLY])
def test_every_console_action_answers_403_to_a_role_without_rights(org, subs, staff, role):
    client = staff[role]
    before = _written()
    for key in ("live", "trial_sub", "paused"):
        for url in _action_urls(subs[key]):
            assert client.get(url).status_code == 403, url
            assert client.post(url, {"when": "now", "quantity": "2", "days": "3"}).status_code == 403, url
    assert _written() == before


def test_the_page_shows_scheduled_changes_in_words(org, subs, staff):
    finance, live = staff[StaffRole.FINANCE], subs["live"]
    assert (
        finance.post(f"{BASE}{live.pk}/change-quantity/", {"quantity": "1", "timing": "term_end"}).status_code
        == 302
    )
    finance.post(f"{BASE}{live.pk}/pause/", {"when": "term_end", "resume_on": "2026-06-01"})
    page = finance.get(f"{BASE}{live.pk}/change/").content.decode()
    assert f"To {subs['starter'].name} × 1" in page
    assert "Paused until 2026-06-01" in page
    assert page.count("Cancel this change") == 2
    assert fresh(live).quantity == 3  # nothing applied before the term end


# -- what the other confirmations say they will invoice or credit ------------------------------------------


def _rows(page) -> dict[str, str]:
    import re

    return dict(re.findall(r'<tr><th scope="row">([^<]*)</th><td>([^<]*)</td></tr>', page))


def test_resume_convert_reactivate_and_cancel_confirmations_show_their_amounts(org, subs, staff):
    finance = staff[StaffRole.FINANCE]
    before = _written()
    resume = _rows(finance.get(f"{BASE}{subs['paused'].pk}/resume/").content.decode())
    assert resume == {"Invoiced now": "$35.00", "The new term": "2026-03-10 – 2026-04-09"}
    convert = _rows(finance.get(f"{BASE}{subs['trial_sub'].pk}/convert-trial/").content.decode())
    assert convert["Invoiced now (the first term and the setup fee)"] == "$8.00"  # one seat at $8.00
    cancel = _rows(finance.get(f"{BASE}{subs['non_renewing'].pk}/cancel/").content.decode())
    assert cancel == {"Credited when cancelled now (with the credit)": "$35.00"}  # the whole term left
    assert _written() == before
    # cancelled now without a credit, then reactivated within the paid term: nothing invoiced
    live = subs["live"]
    finance.post(f"{BASE}{live.pk}/cancel/", {"when": "now", "reason": ""})
    assert fresh(live).status == "cancelled"
    reactivate = _rows(finance.get(f"{BASE}{live.pk}/reactivate/").content.decode())
    assert reactivate == {"Invoiced now": "Nothing: the paid term goes on"}
    invoices = Invoice.all_tenants.count()
    assert finance.post(f"{BASE}{live.pk}/reactivate/").status_code == 302
    assert fresh(live).status == "live" and Invoice.all_tenants.count() == invoices


def test_adding_an_addon_shows_its_cost_before_staff_confirm(org, subs, staff):
    from tests.catalog.factories import addon

    support = addon(org, "seat-support", pricing_model="flat", price_minor=1500)
    visit = addon(org, "setup-visit", charge_type="one_time", pricing_model="flat", price_minor=10000)
    finance, live, trial = staff[StaffRole.FINANCE], subs["live"], subs["trial_sub"]
    url = f"{BASE}{live.pk}/add-addon/"
    before = _written()
    assert finance.get(url).context_data["method"] == "get"
    page = finance.get(url, {"addon": support.pk, "quantity": "1"}).content.decode()
    assert _strong(page, "charged-now") == "$15.00"  # the whole term left
    assert _strong(page, "next-invoice") == "$50.00"  # 3 × $10 + 2 × $2.50 + $15
    assert "Adds Seat Support × 1." in page
    once = _rows(finance.get(url, {"addon": visit.pk, "quantity": "2"}).content.decode())
    assert once == {"Invoiced now (once)": "$100.00"}  # a flat price, whatever the quantity
    page = finance.get(
        f"{BASE}{trial.pk}/add-addon/", {"addon": support.pk, "quantity": "1"}
    ).content.decode()
    assert "Nothing is billed yet" in page
    bad = finance.get(url, {"addon": support.pk, "quantity": "0"})
    assert "quantity" in bad.context_data["form"].errors
    assert _written() == before
    assert finance.post(url, {"addon": support.pk, "quantity": "1"}).status_code == 302
    invoice = Invoice.all_tenants.filter(customer=live.customer).order_by("-pk").first()
    assert invoice.total_minor == 1500
    assert finance.post(url, {"addon": visit.pk, "quantity": "2"}).status_code == 302
    invoice = Invoice.all_tenants.filter(customer=live.customer).order_by("-pk").first()
    assert invoice.total_minor == 10000  # what the preview said
