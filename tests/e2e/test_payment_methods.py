"""Saved cards in a real browser: a card added through (localstripe's) Stripe.js pays two invoices;
a declining test card is explained; "pay any amount" pays the oldest first; the page fits a phone."""

from __future__ import annotations

import datetime as dt

from portico.billing import services
from portico.billing.models import Invoice, Payment
from portico.core import clock
from portico.payments.models import PaymentMethod
from tests.billing.factories import ACTOR, taxed
from tests.e2e.conftest import PHONE, axe_check, screenshot, sign_in
from tests.factories import PASSWORD, ContactFactory, CustomerFactory, portal_user
from tests.portal.crawl import saved_card

YEAR = str(dt.date.today().year + 3)


def issue(customer, description, minor, days_ago):
    draft = services.create_invoice(
        customer=customer, lines=[taxed(minor, "0", description=description)], actor=ACTOR
    )
    today = clock.today(customer.organization.time_zone)
    return services.finalize_invoice(
        invoice=draft, actor=ACTOR, issue_date=today - dt.timedelta(days=days_ago)
    )


def customer_signed_in(page, tenant_url, org):
    customer = CustomerFactory(organization=org, display_name="Acme Interiors")
    contact = ContactFactory(
        customer=customer, email="maria@acme.example", first_name="Maria", is_primary=True
    )
    portal_user(contact)
    sign_in(page, tenant_url(org, "/portal/account/login/"), "maria@acme.example", PASSWORD)
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    return customer


def balances(*invoices) -> list[int]:
    return [Invoice.all_tenants.get(pk=i.pk).balance_minor for i in invoices]


def test_a_card_added_through_stripe_js_pays_two_invoices(page, tenant_url, stripe_org):
    customer = customer_signed_in(page, tenant_url, stripe_org)
    invoices = [issue(customer, "Design review", 12000, 20), issue(customer, "Site visit", 8000, 5)]
    errors = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)

    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Payment methods").click()
    page.get_by_role("heading", name="Payment methods").wait_for()
    axe_check(page)
    page.get_by_role("link", name="Add a card").click()
    page.get_by_label("Password").fill(PASSWORD)  # adding a card asks for the password again
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Add a card").wait_for()
    card = page.locator("#card-element")
    card.get_by_placeholder("number").wait_for()  # mounted by Stripe.js (localstripe's)
    axe_check(page, exclude=("#card-element",))  # localstripe's stand-in fields are not ours
    page.get_by_label("Name on card").fill("Maria Lopez")
    card.get_by_placeholder("number").fill("4242424242424242")
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill(YEAR[-2:])
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("60601")
    page.get_by_role("button", name="Save card").click()
    page.get_by_text("•••• 4242").first.wait_for()
    page.get_by_text("was saved").wait_for()
    method = PaymentMethod.all_tenants.get(customer=customer)
    assert method.token.startswith("pm_") and method.last4 == "4242" and method.is_default
    axe_check(page)
    screenshot(page, "payment-methods-list")

    page.goto(tenant_url(stripe_org, "/portal/pay/?all=due"))
    page.get_by_role("heading", name="Pay $200.00").wait_for()
    assert page.get_by_label("Visa •••• 4242", exact=False).is_checked()
    axe_check(page, exclude=("#card-element",))
    page.get_by_role("button", name="Pay $200.00").click()
    page.get_by_role("heading", name="Payments").wait_for()
    assert balances(*invoices) == [0, 0]
    payment = Payment.all_tenants.get(customer=customer)
    assert payment.amount_minor == 20000 and payment.gateway == "stripe"
    assert payment.gateway_reference.startswith("pi_")
    assert not errors, errors


def test_a_declining_test_card_shows_the_reason_and_leaves_the_invoices_unpaid(page, tenant_url, org):
    customer = customer_signed_in(page, tenant_url, org)
    invoices = [issue(customer, "Design review", 12000, 20), issue(customer, "Site visit", 8000, 5)]
    page.goto(tenant_url(org, "/portal/pay/?all=due"))
    page.get_by_role("heading", name="Pay $200.00").wait_for()
    page.get_by_label("Name on card").fill("Maria Lopez")
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_label("Expiry month").fill("12")
    page.get_by_label("Expiry year").fill(YEAR)
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name="Pay $200.00").click()
    page.get_by_text("Your card was declined. Please use another card or contact your bank.").wait_for()
    axe_check(page)
    assert balances(*invoices) == [12000, 8000]
    assert not Payment.all_tenants.filter(customer=customer).exists()
    assert "4000 0000 0000 0002" not in page.content()


def test_pay_any_amount_pays_the_oldest_invoice_first(page, tenant_url, org):
    customer = customer_signed_in(page, tenant_url, org)
    newest = issue(customer, "Site visit", 8000, 5)
    oldest = issue(customer, "Design review", 12000, 40)
    saved_card(customer)
    page.reload()
    page.get_by_role("link", name="Pay any amount").click()
    page.get_by_role("heading", name="Pay any amount").wait_for()
    axe_check(page)
    page.get_by_label("Amount to pay").fill("150.00")
    page.get_by_role("button", name="Pay now").click()
    page.get_by_role("heading", name="Payments").wait_for()
    page.get_by_text(f"$120.00 to invoice {oldest.number}; $30.00 to invoice {newest.number}.").wait_for()
    assert balances(oldest, newest) == [0, 5000]
    axe_check(page)


def test_the_payment_methods_page_fits_a_phone(browser, tenant_url, org):
    context = browser.new_context(viewport=PHONE, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    customer = customer_signed_in(page, tenant_url, org)
    saved_card(customer)
    soon = saved_card(customer, "5555 5555 5555 4444")
    PaymentMethod.all_tenants.filter(pk=soon.pk).update(
        exp_year=clock.today().year, exp_month=clock.today().month
    )
    page.goto(tenant_url(org, "/portal/payment-methods/"))
    page.get_by_text("Expires soon").wait_for()
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    axe_check(page)
    context.close()
