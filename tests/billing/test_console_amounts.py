"""Amounts typed by staff in the console are read in the organization's locale, by `Money.parse`."""

import pytest

from portico.billing.models import Invoice, InvoiceLine, Payment
from tests.billing.factories import open_invoice
from tests.billing.test_console import lines_post
from tests.conftest import tenant_client
from tests.factories import CustomerFactory, OrganizationFactory, staff_user


@pytest.fixture
def berlin(db):
    return OrganizationFactory(
        name="Werkstatt Berlin", slug="berlin", base_currency="EUR", locale="de_DE", time_zone="Europe/Berlin"
    )


@pytest.fixture
def kunde(berlin):
    return CustomerFactory(organization=berlin, display_name="Kunde GmbH")


@pytest.fixture
def staff(berlin):
    client = tenant_client(berlin)
    client.force_login(staff_user(berlin), backend="portico.accounts.backends.TenantAuthenticationBackend")
    return client


def record_payment(staff, kunde, invoice, amount, allocated):
    return staff.post(
        "/console/billing/invoice/record-payment/",
        {
            "customer": kunde.pk,
            "idempotency_key": f"k-{amount}-{allocated}",
            "amount": amount,
            "method": "bank_transfer",
            "received_on": "2026-03-10",
            f"invoice_{invoice.pk}": allocated,
        },
    )


def test_staff_in_a_german_organization_record_1_234_comma_56(kunde, staff):
    invoice = open_invoice(kunde, 200000)
    response = record_payment(staff, kunde, invoice, "1.234,56", "1.000,00")
    assert response.status_code == 302, response.content.decode()[:3000]
    payment = Payment.all_tenants.get()
    assert (payment.amount_minor, payment.unused_minor) == (123456, 23456)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("12,3,4", "Enter an amount like 1.234,56."),
        ("1,234", "Too many decimal places for EUR"),
        ("-5", "not negative"),
    ],
)
def test_a_malformed_console_amount_is_a_form_error_and_records_nothing(kunde, staff, amount, message):
    invoice = open_invoice(kunde, 200000)
    response = record_payment(staff, kunde, invoice, amount, "")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Payment.all_tenants.exists()


def test_a_draft_line_price_is_typed_and_shown_in_the_organizations_locale(kunde, staff):
    response = staff.post(
        "/console/billing/invoice/add/",
        {
            "customer": kunde.pk,
            "source": "one_time",
            "payment_terms_days": "",
            "purchase_order": "",
            "memo": "",
        },
    )
    assert response.status_code == 302
    invoice = Invoice.all_tenants.get()
    response = staff.post(
        f"/console/billing/invoice/{invoice.pk}/change/",
        {
            "payment_terms_days": "14",
            "purchase_order": "",
            "memo": "",
            **lines_post(
                {
                    "description": "Beratung",
                    "quantity": "1",
                    "unit_price": "1.999,50",
                    "discount_percent": "0",
                }
            ),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert InvoiceLine.objects.get().unit_price_minor == 199950
    page = staff.get(f"/console/billing/invoice/{invoice.pk}/change/").content.decode()
    assert 'value="1.999,50"' in page
