"""A British customer reads an invoice in the British way, with the seller's details, and prints it."""

from portico.billing import services
from portico.core.formatting import format_local_date
from portico.demo.loader import load_demo
from tests.billing.factories import ACTOR, taxed
from tests.e2e.conftest import DESKTOP, axe_check, screenshot, sign_in


def issue(customer):
    draft = services.create_invoice(
        customer=customer,
        lines=[taxed(45000, "20", currency="GBP", description="Brand workshop")],
        actor=ACTOR,
    )
    return services.finalize_invoice(invoice=draft, actor=ACTOR)


def test_invoice_page_and_print_view_in_the_organizations_locale_with_a_print_button(page, tenant_url):
    demo = load_demo()
    invoice = issue(demo.customers["nw-acme"])
    issued, due = (format_local_date(d, "en_GB") for d in (invoice.issue_date, invoice.due_date))
    page.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; };")

    sign_in(
        page, tenant_url(demo.northwind, "/portal/account/login/"), "maria@acme.example", "northwind-demo"
    )
    page.get_by_role("heading", name="Welcome, Acme Interiors (Northwind)").wait_for()
    page.goto(tenant_url(demo.northwind, f"/portal/invoices/{invoice.number}/"))
    page.get_by_role("heading", name=f"Invoice {invoice.number}").wait_for()
    facts = page.locator(".doc-facts")
    assert (
        facts.get_by_text(issued, exact=True).is_visible() and facts.get_by_text(due, exact=True).is_visible()
    )
    seller = page.get_by_role("region", name="From").or_(page.locator(".doc-parties section").first)
    for text in ("Northwind Studio", "14 Canal Street", "Manchester", "M1 3HU", "VAT GB 123 4567 89"):
        assert text in seller.first.inner_text(), text
    assert "Manchester\nM3 4EN" in page.locator(".doc-parties section").nth(1).inner_text()
    axe_check(page)
    screenshot(page, "invoice-detail-en-gb")

    page.get_by_role("link", name="Print view").click()
    page.get_by_role("link", name="Back to the invoice").wait_for()
    button = page.get_by_role("button", name="Print")
    button.wait_for(state="visible")  # print.js is deferred: it may run after the link is already there
    assert not page.get_by_text("use your browser's Print command").is_visible()
    assert page.get_by_text(issued, exact=True).first.is_visible()
    axe_check(page)
    screenshot(page, "invoice-print-view")
    button.click()
    assert page.evaluate("window.printed") == 1
    page.emulate_media(media="print")
    assert not button.is_visible() and not page.get_by_role("link", name="Back to the invoice").is_visible()
    assert page.get_by_text("Brand workshop").is_visible()


def test_without_javascript_the_print_view_says_how_to_print(browser, live, tenant_url):
    demo = load_demo()
    invoice = issue(demo.customers["nw-acme"])
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    try:
        sign_in(
            page, tenant_url(demo.northwind, "/portal/account/login/"), "maria@acme.example", "northwind-demo"
        )
        page.goto(tenant_url(demo.northwind, f"/portal/invoices/{invoice.number}/print/"))
        page.get_by_role("link", name="Back to the invoice").wait_for()
        assert page.get_by_text("use your browser's Print command").is_visible()
        assert page.get_by_role("button", name="Print").count() == 0  # hidden: it would do nothing
    finally:
        context.close()
