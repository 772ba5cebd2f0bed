"""Amounts typed on the portal's pay page are read in the organization's locale, by `Money.parse`."""

import re

import pytest

from portico.billing.models import Payment
from portico.payments.models import PaymentAttempt
from tests.billing.factories import credit_note, open_invoice
from tests.conftest import tenant_client
from tests.factories import ContactFactory, CustomerFactory, OrganizationFactory, portal_user
from tests.portal.test_ledger_pages import CARD, form_token


@pytest.fixture
def german_client(db):
    organization = OrganizationFactory(
        name="Werkstatt Berlin", slug="berlin", base_currency="EUR", locale="de_DE", time_zone="Europe/Berlin"
    )
    customer = CustomerFactory(organization=organization, display_name="Kunde GmbH")
    contact = ContactFactory(customer=customer, email="anna@kunde.example", is_primary=True)
    client = tenant_client(organization)
    client.force_login(portal_user(contact), backend="portico.accounts.backends.TenantAuthenticationBackend")
    client.customer = customer
    return client


def pay_page(client, invoice):
    return client.get(f"/portal/invoices/{invoice.number}/pay/").content.decode()


def test_a_german_customer_pays_125_comma_50_and_125_euros_50_are_paid(german_client):
    invoice = open_invoice(german_client.customer, 20000)
    html = pay_page(german_client, invoice)
    assert 'value="200,00"' in html  # the balance is offered as a German would type it
    response = german_client.post(
        f"/portal/invoices/{invoice.number}/pay/",
        {"form_token": form_token(html), "amount": "125,50", **CARD},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Payment.all_tenants.get().amount_minor == 12550
    invoice.refresh_from_db()
    assert invoice.balance_minor == 20000 - 12550


def test_the_offered_balance_pays_the_whole_invoice_in_de_de(german_client):
    invoice = open_invoice(german_client.customer, 123456)
    html = pay_page(german_client, invoice)
    amount = re.search(r'name="amount" id="id_amount" value="([^"]+)"', html).group(1)
    assert amount == "1.234,56"
    response = german_client.post(
        f"/portal/invoices/{invoice.number}/pay/", {"form_token": form_token(html), "amount": amount, **CARD}
    )
    assert response.status_code == 302
    assert Payment.all_tenants.get().amount_minor == 123456


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12,3,4", "Enter an amount like 1.234,56."),
        ("1,234", "Too many decimal places for EUR"),
        ("125.50", "Enter an amount like 1.234,56."),  # in de_DE the dot groups thousands
        ("-5", "Enter an amount that is not negative."),
    ],
)
def test_an_ambiguous_or_malformed_amount_is_refused_on_the_page_and_nothing_is_charged(
    german_client, typed, message
):
    invoice = open_invoice(german_client.customer, 20000)
    html = pay_page(german_client, invoice)
    response = german_client.post(
        f"/portal/invoices/{invoice.number}/pay/", {"form_token": form_token(html), "amount": typed, **CARD}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PaymentAttempt.all_tenants.exists() and not Payment.all_tenants.exists()


@pytest.mark.parametrize("typed", ["Infinity", "-Infinity", "1e999999999", "NaN", "²", "9" * 30])
def test_hostile_pay_amounts_are_a_form_error_not_a_server_error(portal_client, customer, typed):
    invoice = open_invoice(customer, 10000)
    html = portal_client.get(f"/portal/invoices/{invoice.number}/pay/").content.decode()
    response = portal_client.post(
        f"/portal/invoices/{invoice.number}/pay/", {"form_token": form_token(html), "amount": typed, **CARD}
    )
    assert response.status_code == 400
    assert 'id="amount-error"' in response.content.decode()
    assert not PaymentAttempt.all_tenants.exists()


@pytest.mark.parametrize("expected_total", ["²", "١٢", "9" * 5000, "-1", "1e9"])
def test_a_tampered_expected_total_is_ignored_not_a_server_error(portal_client, customer, expected_total):
    first, second = open_invoice(customer, 10000), open_invoice(customer, 5000)
    html = portal_client.get(
        f"/portal/pay/?invoices={first.number}&invoices={second.number}"
    ).content.decode()
    response = portal_client.post(
        "/portal/pay/",
        {
            "form_token": form_token(html),
            "invoices": [first.number, second.number],
            "expected_total": expected_total,
            **CARD,
        },
    )
    assert response.status_code < 500
    assert Payment.all_tenants.get().amount_minor == 15000


def test_a_german_customer_applies_125_comma_50_of_credit(german_client):
    invoice = open_invoice(german_client.customer, 20000)
    note = credit_note(german_client.customer, 30000)
    key = f"credit_note:{note.number}"
    html = german_client.get("/portal/credits/apply/", {"credit": key}).content.decode()
    response = german_client.post(
        "/portal/credits/apply/",
        {
            "form_token": form_token(html),
            "credit": key,
            "invoices": [invoice.number],
            f"amount_{invoice.number}": "125,50",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    invoice.refresh_from_db()
    note.refresh_from_db()
    assert (invoice.balance_minor, note.remaining_minor) == (20000 - 12550, 30000 - 12550)
