"""A customer with unused credit beside an overdue invoice applies it, and sees the pay page total
what they tick (the demo's Acme Interiors: $1,158.75 of credit)."""

from portico.billing.models import CreditApplication, Invoice
from portico.demo.loader import load_demo
from portico.payments.services import payable_amounts
from tests.e2e.conftest import axe_check, screenshot, sign_in


def test_apply_credit_to_an_overdue_invoice_and_total_the_pay_selection(page, tenant_url):
    demo = load_demo()
    acme = demo.customers["acme"]
    sign_in(page, tenant_url(demo.renotech, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()

    # The pay page: what "pay all due" charges, and a live total of the ticked invoices.
    page.goto(tenant_url(demo.renotech, "/portal/pay/"))
    page.get_by_role("heading", name="Pay invoices").wait_for()
    axe_check(page)
    outstanding = list(
        Invoice.all_tenants.filter(customer=acme, status__in=["open", "partially_paid"]).order_by(
            "due_date", "id"
        )
    )
    payable = payable_amounts(outstanding)
    (first, first_amount), (second, second_amount) = payable[:2]
    selected = page.locator("#selection-total")
    assert selected.is_visible() and selected.inner_text() == "$0.00"
    page.get_by_label(f"Invoice {first.number}", exact=True).check()
    page.get_by_label(f"Invoice {second.number}", exact=True).check()
    assert selected.inner_text() == (first_amount + second_amount).format(demo.renotech.locale)
    screenshot(page, "ledger-pay-selection")

    # Apply the oldest credit note to the most overdue invoice.
    page.get_by_role("link", name="Apply it to your invoices").click()
    page.get_by_role("heading", name="Apply credit to invoices").wait_for()
    axe_check(page)
    page.get_by_label(f"Invoice {first.number}", exact=True).check()
    page.get_by_label(f"Amount to apply to invoice {first.number}").fill("100.00")
    screenshot(page, "ledger-apply-credit")
    page.get_by_role("button", name="Apply credit").click()
    page.get_by_role("heading", name="Credits").wait_for()
    assert page.get_by_text("$100.00 of credit").first.is_visible()
    axe_check(page)
    application = CreditApplication.all_tenants.get(invoice=first, amount_minor=10000)
    assert application.credit_note.customer_id == acme.pk
