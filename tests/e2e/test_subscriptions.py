"""Subscriptions in a real browser (axe-clean): an upgrade previewed and confirmed; a cancellation at
the term end, then undone.

The subscription starts today: 3 seats of starter ($10.00/seat/month) and 2 × storage ($2.50). An
upgrade to pro ($20.00/seat) on the term's first day credits the whole $30.00 and charges $60.00:
$30.00 now; the next invoice is 3 × $20.00 + $5.00 = $65.00.
"""

from __future__ import annotations

import pytest

from portico.billing.models import Invoice
from portico.subscriptions.models import Subscription
from tests.e2e.conftest import axe_check, sign_in
from tests.factories import PASSWORD, ContactFactory, CustomerFactory, portal_user
from tests.subscriptions.factories import subscribe, world

pytestmark = pytest.mark.e2e


def signed_in_with_a_subscription(page, tenant_url, org):
    customer = CustomerFactory(organization=org, display_name="Acme Interiors")
    contact = ContactFactory(
        customer=customer, email="maria@acme.example", first_name="Maria", is_primary=True
    )
    portal_user(contact)
    w = world(org)
    sub = subscribe(customer, w.starter, quantity=3, addons=[(w.storage, 2)])
    sign_in(page, tenant_url(org, "/portal/account/login/"), "maria@acme.example", PASSWORD)
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    return sub, w


def test_upgrade_with_its_preview_then_confirm(page, tenant_url, org):
    sub, w = signed_in_with_a_subscription(page, tenant_url, org)
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Subscriptions").click()
    page.get_by_role("heading", name="Subscriptions", exact=True).wait_for()
    axe_check(page)
    page.get_by_role("link", name=sub.number).click()
    page.get_by_role("heading", name=f"Subscription {sub.number}").wait_for()
    axe_check(page)
    page.get_by_role("link", name="Change plan or quantity").click()
    page.get_by_label("Plan").select_option(label="Pro")
    page.get_by_role("button", name="See the price").click()
    page.get_by_role("heading", name="What this change costs").wait_for()
    assert page.locator(".charged-now").inner_text() == "$30.00"
    assert page.locator(".next-invoice").inner_text() == "$65.00"
    axe_check(page)
    page.get_by_role("button", name="Confirm: Pro × 3").click()
    page.get_by_text("Your subscription was changed.").wait_for()
    assert Subscription.all_tenants.get(pk=sub.pk).plan_id == w.pro.pk
    assert Invoice.all_tenants.order_by("-id").first().total.minor == 6000


def test_cancel_at_term_end_then_undo(page, tenant_url, org):
    sub, _w = signed_in_with_a_subscription(page, tenant_url, org)
    page.goto(tenant_url(org, f"/portal/subscriptions/{sub.number}/"))
    page.get_by_role("link", name="Cancel subscription").click()
    page.get_by_role("heading", name=f"Cancel {sub.number}").wait_for()
    axe_check(page)
    page.get_by_label("At the end of the current term").check()
    page.get_by_label("Why are you cancelling?").select_option("Too expensive")
    page.get_by_role("button", name="Cancel subscription").click()
    page.get_by_text("Your subscription will end at the end of the current term.").wait_for()
    assert Subscription.all_tenants.get(pk=sub.pk).status == "non_renewing"
    page.get_by_role("button", name="Cancel the scheduled “Cancel at term end”").wait_for()
    axe_check(page)
    page.get_by_role("link", name="Keep my subscription").click()
    page.get_by_role("button", name="Keep your subscription").click()
    page.get_by_text("Your subscription will renew as before.").wait_for()
    assert Subscription.all_tenants.get(pk=sub.pk).status == "live"
