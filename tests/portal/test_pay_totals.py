"""The pay page says what "pay all due" will charge and totals the selection (issue 8, item 11)."""

import re

from portico.billing.models import Payment
from tests.billing.factories import open_invoice, pay
from tests.payments.test_reconcile import CrashBeforeCharge, interrupted
from tests.portal.test_ledger_pages import CARD, form_token, text


def test_the_pay_page_says_what_pay_all_due_will_charge(portal_client, customer, clock):
    first, second = open_invoice(customer, 10000), open_invoice(customer, 25050)
    pay(customer, 5000, (second, 5000))
    page = text(portal_client.get("/portal/pay/"))
    assert "Pay all due invoices: $300.50" in page
    assert re.search(r"Total due</th><td class=\"num\"><strong>\$300.50</strong>", page)
    # each choice carries its amount in minor units for the live total; the script only enhances
    assert f'value="{first.number}" id="pay-{first.number}" data-minor="10000" data-currency="USD"' in page
    assert f'value="{second.number}" id="pay-{second.number}" data-minor="20050"' in page
    assert 'id="selection-row" hidden' in page and "portal/selection_total.js" in page


def test_pay_all_due_charges_what_the_page_announced(portal_client, customer, clock):
    open_invoice(customer, 10000)
    open_invoice(customer, 4999)
    checkout = portal_client.get("/portal/pay/", {"all": "due"})
    html = checkout.content.decode()
    assert "Pay $149.99" in html
    numbers = re.findall(r'name="invoices" value="([^"]+)"', html)
    response = portal_client.post(
        "/portal/pay/",
        {"invoices": numbers, "form_token": form_token(html), "expected_total": "14999", **CARD},
    )
    assert response.status_code == 302
    assert Payment.objects.get(channel="online").amount_minor == 14999


def test_pay_all_due_leaves_out_an_invoice_another_checkout_is_paying(portal_client, customer, clock):
    busy, free = open_invoice(customer, 10000), open_invoice(customer, 4000)
    interrupted(customer, [busy], CrashBeforeCharge(), form_token="other-tab")
    page = text(portal_client.get("/portal/pay/"))
    assert "Pay all due invoices: $40.00" in page and "Payment in progress" in page
    checkout = portal_client.get("/portal/pay/", {"all": "due"}).content.decode()
    assert re.findall(r'name="invoices" value="([^"]+)"', checkout) == [free.number]
