"""Pay any amount: the customer types an amount; it pays their open invoices oldest first and the
rest is kept as an advance (invoiceninja#2774)."""

from __future__ import annotations

import re

import pytest

from portico.billing.models import Invoice, Payment
from portico.payments.models import PaymentAttempt
from tests.billing.factories import open_invoice
from tests.portal.crawl import saved_card
from tests.portal.test_hostile_input import HOSTILE
from tests.portal.test_payment_methods import CARD

URL = "/portal/pay/amount/"


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def three_invoices(customer, clock):
    """Issued a week apart: $100 (the oldest), $200, $300."""
    clock.set("2026-01-05T15:00:00+00:00")
    oldest = open_invoice(customer, 10000)
    clock.advance(days=7)
    middle = open_invoice(customer, 20000)
    clock.advance(days=7)
    newest = open_invoice(customer, 30000)
    clock.set("2026-03-10T15:00:00+00:00")
    return oldest, middle, newest


def balances(*invoices) -> list[int]:
    return [Invoice.objects.get(pk=i.pk).balance_minor for i in invoices]


def test_an_amount_pays_the_oldest_invoices_first_and_says_how(portal_client, three_invoices):
    oldest, middle, newest = three_invoices
    page = portal_client.get(URL)
    html = text(page)
    assert page.status_code == 200 and "Total due" in html and "$600.00" in html
    assert html.index(oldest.number) < html.index(middle.number) < html.index(newest.number)
    response = portal_client.post(URL, {"form_token": form_token(html), "amount": "250.00", **CARD})
    assert response.status_code == 302, text(response)[:2000]
    assert balances(oldest, middle, newest) == [0, 5000, 30000]
    payment = Payment.objects.get(channel="online")
    assert payment.amount_minor == 25000 and payment.unused_minor == 0
    result = text(portal_client.get(response["Location"]))
    assert f"payment {payment.number} of $250.00 was received" in result
    assert f"$100.00 to invoice {oldest.number}; $150.00 to invoice {middle.number}." in result


def test_more_than_is_due_pays_everything_and_keeps_the_rest_as_an_advance(portal_client, three_invoices):
    html = portal_client.get(URL).content.decode()
    response = portal_client.post(URL, {"form_token": form_token(html), "amount": "1,000", **CARD})
    assert response.status_code == 302
    assert balances(*three_invoices) == [0, 0, 0]
    payment = Payment.objects.get(channel="online")
    assert payment.amount_minor == 100000 and payment.unused_minor == 40000
    assert "$400.00 kept as an advance for future invoices" in text(portal_client.get(response["Location"]))


def test_pay_any_amount_with_a_saved_card(portal_client, customer, three_invoices):
    method = saved_card(customer)
    html = portal_client.get(URL).content.decode()
    assert f'value="{method.public_id}" id="pay-with-{method.public_id}" checked' in html
    response = portal_client.post(
        URL, {"form_token": form_token(html), "amount": "100", "pay_with": method.public_id}
    )
    assert response.status_code == 302
    attempt = PaymentAttempt.objects.get()
    assert attempt.payment_method_id == method.pk and attempt.payment.card_last4 == "4242"
    assert balances(*three_invoices) == [0, 20000, 30000]


def test_the_same_form_twice_pays_once(portal_client, three_invoices):
    html = portal_client.get(URL).content.decode()
    data = {"form_token": form_token(html), "amount": "50", **CARD}
    first, second = portal_client.post(URL, data), portal_client.post(URL, data)
    assert first.status_code == second.status_code == 302
    assert Payment.objects.count() == 1 and PaymentAttempt.objects.count() == 1
    assert "your card was not charged again" in text(portal_client.get(second["Location"]))


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Enter"),
        ("abc", ""),
        ("-5", ""),
        ("0", "greater than zero"),
        ("0.001", ""),
        ("NaN", ""),
        ("1e999999", ""),
        ("99999999999999999999999", ""),
        ("6001", "more than ten times what is due"),
    ],
)
def test_a_bad_amount_is_a_clear_form_error_and_charges_nothing(
    portal_client, three_invoices, amount, message
):
    html = portal_client.get(URL).content.decode()
    response = portal_client.post(URL, {"form_token": form_token(html), "amount": amount, **CARD})
    assert response.status_code == 400
    page = text(response)
    assert 'id="amount-error"' in page and message in page.split('id="amount-error"')[1][:300]
    assert not PaymentAttempt.objects.exists() and balances(*three_invoices) == [10000, 20000, 30000]


def test_hostile_values_in_every_field_never_make_a_server_error(portal_client, three_invoices):
    portal_client.raise_request_exception = False
    fields = ["amount", "form_token", "pay_with", "save_card", *CARD]
    for field in fields:
        for value in HOSTILE:
            html = portal_client.get(URL).content.decode()
            data = {"form_token": form_token(html), "amount": "10", **CARD, field: value}
            response = portal_client.post(URL, data)
            assert response.status_code < 500, (field, value, response.status_code)
            if response.status_code == 302:
                continue  # a value this field may have (a name, a checkbox, a 10 paid)
            assert response.status_code == 400, (field, value)


def test_nothing_due_is_explained(portal_client, customer, clock):
    html = portal_client.get(URL).content.decode()
    assert "Nothing is due right now" in html
    response = portal_client.post(URL, {"form_token": form_token(html), "amount": "10", **CARD})
    assert response.status_code == 400 and "Nothing is due in USD on your account right now." in text(
        response
    )
    assert not PaymentAttempt.objects.exists()


def test_pay_any_amount_is_linked_from_the_dashboard_and_the_invoices(portal_client, three_invoices):
    assert URL in portal_client.get("/portal/").content.decode()
    assert URL in portal_client.get("/portal/invoices/").content.decode()
