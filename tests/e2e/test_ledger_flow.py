"""A customer finds an invoice, downloads it, pays three invoices at once and sees the result."""

import datetime as dt
import subprocess

from portico.billing import services
from portico.billing.models import Payment
from portico.core import clock
from portico.demo.loader import load_demo
from tests.billing.factories import ACTOR, taxed
from tests.e2e.conftest import axe_check, screenshot, sign_in


def issue(customer, description, minor, days_ago):
    draft = services.create_invoice(
        customer=customer, lines=[taxed(minor, "0", description=description)], actor=ACTOR
    )
    today = clock.today(customer.organization.time_zone)
    return services.finalize_invoice(
        invoice=draft, actor=ACTOR, issue_date=today - dt.timedelta(days=days_ago)
    )


def test_filter_open_download_and_bulk_pay_three_invoices(page, tenant_url):
    demo = load_demo()
    acme = demo.customers["acme"]
    overdue = [issue(acme, f"Overdue renovation phase {n}", 10000 * n, 60 + n) for n in (1, 2)]
    due = issue(acme, "Lighting consultation", 4500, 1)
    paid_before = set(Payment.all_tenants.filter(customer=acme).values_list("pk", flat=True))

    sign_in(page, tenant_url(demo.renotech, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    axe_check(page)
    screenshot(page, "ledger-dashboard")

    # Filter the invoice list down to what is overdue.
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Invoices").click()
    page.get_by_role("heading", name="Invoices", exact=True).wait_for()
    axe_check(page)
    page.get_by_label("Show").select_option("overdue")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/portal/invoices/?*status=overdue*")
    for invoice in overdue:
        assert page.get_by_role("link", name=invoice.number, exact=True).is_visible()
    assert page.get_by_role("link", name=due.number, exact=True).count() == 0
    assert page.get_by_text("Overdue (31 days)").first.is_visible()
    axe_check(page)
    screenshot(page, "ledger-invoices-overdue")

    # Open one and download its PDF.
    page.get_by_role("link", name=overdue[0].number, exact=True).click()
    page.get_by_role("heading", name=f"Invoice {overdue[0].number}").wait_for()
    assert page.get_by_text("Overdue renovation phase 1").is_visible()
    axe_check(page)
    screenshot(page, "ledger-invoice-detail")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    pdf = download_info.value.path().read_bytes()
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert overdue[0].number in text and "Overdue renovation phase 1" in text and "$100.00" in text

    # Bulk-pay three invoices with the 4242 test card.
    page.get_by_role("link", name="All invoices").first.click()
    page.get_by_role("link", name="Pay several invoices").click()
    page.get_by_role("heading", name="Pay invoices").wait_for()
    axe_check(page)
    for invoice in (*overdue, due):
        page.get_by_label(f"Invoice {invoice.number}", exact=True).check()
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_role("heading", name="Pay $345.00").wait_for()
    axe_check(page)
    page.get_by_label("Name on card").fill("Maria Lopez")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry month").fill("12")
    page.get_by_label("Expiry year").fill(str(clock.now().year + 3))
    page.get_by_label("Security code (CVC)").fill("123")
    screenshot(page, "ledger-pay")
    page.get_by_role("button", name="Pay $345.00").click()

    # The payment, how it was allocated, and the new balance.
    page.get_by_role("heading", name="Payments").wait_for()
    payment = Payment.all_tenants.exclude(pk__in=paid_before).get(customer=acme)
    assert payment.amount_minor == 34500 and payment.allocations.count() == 3
    assert page.get_by_text(f"payment {payment.number} of $345.00 was received").is_visible()
    row = page.locator(f"#payment-{payment.number}")
    for invoice in (*overdue, due):
        assert row.get_by_role("link", name=invoice.number).is_visible()
    axe_check(page)
    screenshot(page, "ledger-payments")

    page.get_by_role("link", name=overdue[1].number).first.click()
    assert page.get_by_text("Paid", exact=True).first.is_visible()
    assert page.get_by_role("row", name="Balance due $0.00").is_visible()
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Overview").click()
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    axe_check(page)


def test_credits_and_a_statement_of_the_demo_account_read_well(page, tenant_url):
    demo = load_demo()
    sign_in(page, tenant_url(demo.renotech, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    nav = page.get_by_role("navigation", name="Portal")

    nav.get_by_role("link", name="Credits").click()
    page.get_by_role("heading", name="Credit notes").wait_for()
    axe_check(page)
    screenshot(page, "ledger-credits")

    nav.get_by_role("link", name="Statements").click()
    page.get_by_label("Period", exact=True).select_option("this_year")
    page.get_by_role("button", name="Show statement").click()
    page.get_by_role("heading", name="Account statement").wait_for()
    assert page.get_by_role("row", name="Closing balance").is_visible()
    axe_check(page)
    screenshot(page, "ledger-statement")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    csv = download_info.value.path().read_text()
    assert csv.splitlines()[0].startswith("Date,Type,Reference") and ",closing," in csv.splitlines()[-1]

    page.get_by_label("Period", exact=True).select_option("custom")
    page.get_by_label("From", exact=True).fill("2026-03-01")
    page.get_by_label("To", exact=True).fill("2026-02-01")
    page.get_by_role("button", name="Show statement").click()
    page.get_by_text("The end date must be on or after the start date.").wait_for()
    axe_check(page)
