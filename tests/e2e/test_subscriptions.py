"""Subscriptions in a real browser (axe-clean): an upgrade previewed and confirmed; a cancellation at
the term end, then undone; a pause and a resume that invoices the new term; a coupon code refused,
then one redeemed; the retention offer, shown once before cancelling.

The subscription starts today: 3 seats of starter ($10.00/seat/month) and 2 × storage ($2.50). An
upgrade to pro ($20.00/seat) on the term's first day credits the whole $30.00 and charges $60.00:
$30.00 now; the next invoice is 3 × $20.00 + $5.00 = $65.00. The flows that move in time start on
10 Mar 2026 (the `clock` fixture: the live server runs in this process and reads the same clock).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from portico.billing.models import Invoice
from portico.subscriptions import services
from portico.subscriptions.models import Subscription
from tests.catalog.factories import coupon
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


def test_pause_then_resume_invoices_the_new_term(page, tenant_url, org, clock):
    sub, _w = signed_in_with_a_subscription(page, tenant_url, org)
    clock.set("2026-03-20T15:00:00+00:00")
    page.goto(tenant_url(org, f"/portal/subscriptions/{sub.number}/"))
    page.get_by_role("link", name="Pause", exact=True).click()
    page.get_by_role("heading", name=f"Pause {sub.number}").wait_for()
    axe_check(page)
    page.get_by_label("Now").check()
    page.get_by_role("button", name="Pause subscription").click()
    page.get_by_text("Your subscription is paused.").wait_for()
    assert page.locator(".sub-status").inner_text() == "Paused"
    axe_check(page)
    clock.set("2026-03-25T15:00:00+00:00")
    page.get_by_role("link", name="Resume").click()
    page.get_by_role("heading", name="Resume your subscription").wait_for()
    assert page.get_by_text("Invoiced now for Mar 25, 2026 – Apr 24, 2026").is_visible()
    assert page.locator(".charged-now").inner_text() == "$35.00"
    axe_check(page)
    page.get_by_role("button", name="Resume your subscription").click()
    page.get_by_text("Your subscription is running again.").wait_for()
    assert page.locator(".sub-status").inner_text() == "Live"
    invoice = Invoice.all_tenants.order_by("-id").first()
    assert invoice.total.minor == 3500
    row = page.get_by_role("row", name=invoice.number)
    assert "Mar 25, 2026" in row.inner_text() and "$35.00" in row.inner_text()  # the new term's invoice
    axe_check(page)


def test_redeem_a_coupon_a_refused_code_says_why(page, tenant_url, org):
    sub, _w = signed_in_with_a_subscription(page, tenant_url, org)
    page.goto(tenant_url(org, f"/portal/subscriptions/{sub.number}/"))
    page.get_by_role("link", name="Redeem a coupon").click()
    page.get_by_role("heading", name="Redeem a coupon").wait_for()
    assert page.locator(".next-invoice").inner_text() == "$35.00"
    axe_check(page)
    page.get_by_label("Coupon code").fill("NOPE")
    page.get_by_role("button", name="Check the code").click()
    page.get_by_text("That coupon code does not exist. Check its spelling.").wait_for()
    axe_check(page)
    page.get_by_label("Coupon code").fill("launch20")
    page.get_by_role("button", name="Check the code").click()
    page.get_by_role("heading", name="Launch 20% off").wait_for()
    assert page.locator(".with-coupon").inner_text() == "$28.00"  # 35.00 less 20 %
    axe_check(page)
    page.get_by_role("button", name="Apply the coupon").click()
    page.get_by_text("The coupon was applied to your subscription.").wait_for()
    assert "Launch 20% off" in page.locator(".sub-summary").inner_text()
    assert page.locator(".sub-next").inner_text().endswith("$28.00")
    axe_check(page)
    assert Subscription.all_tenants.get(pk=sub.pk).redemptions.get().coupon.name == "Launch 20% off"


def test_the_retention_offer_is_shown_once_before_cancelling(page, tenant_url, org):
    sub, _w = signed_in_with_a_subscription(page, tenant_url, org)
    settings = services.subscription_settings(org)
    settings.retention_coupon = coupon(org, "Stay 10% off", codes=(), percent=Decimal("10"))
    settings.save()
    page.goto(tenant_url(org, f"/portal/subscriptions/{sub.number}/"))
    page.get_by_role("link", name="Cancel subscription").click()
    page.get_by_role("heading", name="Before you cancel").wait_for()
    page.get_by_role("heading", name="An offer for you: Stay 10% off").wait_for()
    assert page.locator(".with-offer").inner_text() == "$31.50"  # 35.00 less 10 %
    assert page.locator(".offer-saves").inner_text() == "$3.50"
    axe_check(page)
    page.get_by_role("link", name="No thanks, continue to cancel").click()
    page.get_by_role("heading", name=f"Cancel {sub.number}").wait_for()
    axe_check(page)
    page.goto(tenant_url(org, f"/portal/subscriptions/{sub.number}/"))
    page.get_by_role("link", name="Cancel subscription").click()
    page.get_by_role("heading", name=f"Cancel {sub.number}").wait_for()  # shown once: straight to the form
    assert page.get_by_text("An offer for you").count() == 0
    page.get_by_label("Now").check()
    page.get_by_label("Why are you cancelling?").select_option("Too expensive")
    page.get_by_role("button", name="Cancel subscription").click()
    page.get_by_text("Your subscription was cancelled.").wait_for()
    assert Subscription.all_tenants.get(pk=sub.pk).status == "cancelled"


def test_the_retention_offer_accepted_keeps_the_subscription_with_its_coupon(page, tenant_url, org):
    sub, _w = signed_in_with_a_subscription(page, tenant_url, org)
    settings = services.subscription_settings(org)
    settings.retention_coupon = coupon(org, "Stay 10% off", codes=(), percent=Decimal("10"))
    settings.save()
    page.goto(tenant_url(org, f"/portal/subscriptions/{sub.number}/cancel/"))
    page.get_by_role("button", name="Accept the offer and keep my subscription").click()
    page.get_by_text("Stay 10% off was applied: your subscription goes on.").wait_for()
    assert page.locator(".sub-next").inner_text().endswith("$31.50")
    axe_check(page)
    assert Subscription.all_tenants.get(pk=sub.pk).status == "live"
