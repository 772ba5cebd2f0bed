"""The invoice page and its print view: locale dates, the seller's details, a Print button."""

import re

from tests.billing.factories import open_invoice


def test_the_print_view_has_a_print_button_that_needs_javascript_and_a_hint_without_it(
    portal_client, customer, clock
):
    invoice = open_invoice(customer, 10000)
    html = portal_client.get(f"/portal/invoices/{invoice.number}/print/").content.decode()
    button = re.search(r"<button[^>]*data-print-button[^>]*>Print</button>", html).group(0)
    assert " hidden" in button  # shown by print.js only where scripts run
    assert "use your browser&#x27;s Print command" in html or "use your browser's Print command" in html
    assert 'class="print-actions no-print"' in html  # the buttons are not printed
    assert re.search(r'<script src="/static/portico/print\.js" defer></script>', html)
    assert '<link rel="icon"' in html


def test_invoice_dates_on_the_page_are_in_the_organizations_format(portal_client, customer, clock):
    clock.set("2026-12-01T15:00:00+00:00")
    invoice = open_invoice(customer, 10000)
    for path in (f"/portal/invoices/{invoice.number}/", f"/portal/invoices/{invoice.number}/print/"):
        html = re.sub(r"\s+", " ", portal_client.get(path).content.decode())
        assert "Issue date</dt><dd>Dec 1, 2026</dd>" in html
        assert "Due date</dt><dd>Dec 31, 2026</dd>" in html
        assert "Dec. 1" not in html and "December 1, 2026" not in html
