"""The pay pages offer the customer's saved cards first, and a new card they may save."""

from __future__ import annotations

import re

from portico.billing.models import Invoice, Payment
from portico.payments.models import PaymentAttempt, PaymentMethod
from tests.billing.factories import open_invoice
from tests.portal.crawl import saved_card
from tests.portal.test_payment_methods import CARD


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def test_the_default_card_is_chosen_and_an_expired_one_cannot_be(portal_client, customer, clock):
    invoice = open_invoice(customer, 10000)
    default = saved_card(customer)
    expired = saved_card(customer, "5555 5555 5555 4444")
    PaymentMethod.objects.filter(pk=expired.pk).update(exp_month=1, exp_year=2026)
    html = portal_client.get(f"/portal/invoices/{invoice.number}/pay/").content.decode()
    assert f'value="{default.public_id}" id="pay-with-{default.public_id}" checked' in html
    assert f'value="{expired.public_id}" id="pay-with-{expired.public_id}" disabled' in html
    assert html.index(f"pay-with-{default.public_id}") < html.index("pay-with-new")  # saved cards first


def test_bulk_pay_with_the_saved_default_card(portal_client, customer, clock):
    first, second = open_invoice(customer, 10000), open_invoice(customer, 5000)
    method = saved_card(customer)
    numbers = [first.number, second.number]
    html = portal_client.get("/portal/pay/", {"invoices": numbers}).content.decode()
    response = portal_client.post(
        "/portal/pay/",
        {
            "invoices": numbers,
            "form_token": form_token(html),
            "expected_total": "15000",
            "pay_with": method.public_id,
        },
    )
    assert response.status_code == 302, text(response)[:1500]
    payment = Payment.objects.get(channel="online")
    assert payment.amount_minor == 15000 and payment.card_last4 == "4242"
    assert PaymentAttempt.objects.get().payment_method_id == method.pk
    assert all(i.balance_minor == 0 for i in Invoice.objects.filter(pk__in=[first.pk, second.pk]))


def test_pay_everything_due_offers_the_saved_card(portal_client, customer, clock):
    open_invoice(customer, 10000)
    method = saved_card(customer)
    html = portal_client.get("/portal/pay/?all=due").content.decode()
    assert f'id="pay-with-{method.public_id}" checked' in html and "Save this card for next time" in html


def test_a_new_card_is_saved_only_when_asked(portal_client, customer, clock):
    first, second = open_invoice(customer, 10000), open_invoice(customer, 10000)
    for invoice, save in ((first, {}), (second, {"save_card": "on"})):
        html = portal_client.get(f"/portal/invoices/{invoice.number}/pay/").content.decode()
        data = {"form_token": form_token(html), "amount": "100.00", "pay_with": "new", **CARD, **save}
        if save:
            data["number"] = "5555 5555 5555 4444"
        assert portal_client.post(f"/portal/invoices/{invoice.number}/pay/", data).status_code == 302
    saved = PaymentMethod.objects.get()
    assert saved.last4 == "4444" and saved.is_default


def test_a_declining_saved_card_is_explained_and_nothing_is_paid(portal_client, customer, clock):
    invoice = open_invoice(customer, 10000)
    method = saved_card(customer, "4000 0000 0000 0341")  # attaches, but fails when charged
    html = portal_client.get(f"/portal/invoices/{invoice.number}/pay/").content.decode()
    response = portal_client.post(
        f"/portal/invoices/{invoice.number}/pay/",
        {"form_token": form_token(html), "pay_with": method.public_id},
    )
    assert response.status_code == 400 and "declined" in text(response)
    assert not Payment.objects.exists()


def test_someone_elses_or_an_expired_card_cannot_pay(portal_client, customer, outsider_customer, clock):
    invoice = open_invoice(customer, 10000)
    theirs = saved_card(outsider_customer)
    mine = saved_card(customer, "5555 5555 5555 4444")
    PaymentMethod.objects.filter(pk=mine.pk).update(exp_month=1, exp_year=2026)
    for method_id, message in (
        (theirs.public_id, "Choose one of your saved cards"),
        (mine.public_id, "has expired"),
    ):
        html = portal_client.get(f"/portal/invoices/{invoice.number}/pay/").content.decode()
        response = portal_client.post(
            f"/portal/invoices/{invoice.number}/pay/", {"form_token": form_token(html), "pay_with": method_id}
        )
        assert response.status_code == 400 and message in text(response)
    assert not PaymentAttempt.objects.exists()
