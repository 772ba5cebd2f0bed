"""The console's autocomplete answers with the organization's rows that the form would accept, and
only for the fields that offer a search."""

import pytest

from portico.billing import services
from portico.billing.models import BillingSettings
from tests.billing.factories import ACTOR, draft_invoice, open_invoice
from tests.conftest import tenant_client
from tests.factories import CustomerFactory, staff_user


@pytest.fixture
def staff(org):
    client = tenant_client(org)
    client.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    return client


def search(client, model: str, field: str, term: str = ""):
    return client.get(
        "/console/autocomplete/",
        {"app_label": "billing", "model_name": model, "field_name": field, "term": term},
    )


def texts(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["text"] for row in response.json()["results"]]


def test_searching_another_organizations_customer_finds_nothing(org, other_org, customer, staff):
    CustomerFactory(organization=other_org, display_name="Acme Northwind Branch")
    CustomerFactory(organization=other_org, display_name="Zephyr Ltd")

    assert texts(search(staff, "invoice", "customer", "Zephyr")) == []
    assert texts(search(staff, "invoice", "customer", "Acme")) == ["Acme Interiors"]
    assert texts(search(staff, "invoice", "customer")) == ["Acme Interiors"]


def test_another_organizations_staff_cannot_search_this_one(org, other_org, customer):
    client = tenant_client(org)
    client.force_login(
        staff_user(other_org, email="staff@northwind.example"),
        backend="portico.accounts.backends.TenantAuthenticationBackend",
    )
    response = search(client, "invoice", "customer", "Acme")
    assert response.status_code in (302, 403)
    assert b"Acme" not in response.content


def test_a_new_document_offers_only_active_customers(org, customer, staff):
    CustomerFactory(organization=org, display_name="Acme Closed Account", is_active=False)

    assert texts(search(staff, "invoice", "customer", "Acme")) == ["Acme Interiors"]
    assert texts(search(staff, "creditnote", "customer", "Acme")) == ["Acme Interiors"]
    assert texts(search(staff, "payment", "customer", "Acme")) == ["Acme Interiors"]


def test_a_credit_note_offers_only_issued_invoices_that_are_not_void(org, other_org, customer, staff):
    issued = open_invoice(customer, 5000)
    voided = services.void_invoice(invoice=open_invoice(customer, 4000), actor=ACTOR)
    draft_invoice(customer, 3000)
    BillingSettings.all_tenants.create(organization=other_org, invoice_prefix="NW-")
    theirs = open_invoice(CustomerFactory(organization=other_org, currency="USD"), 2000)

    assert texts(search(staff, "creditnote", "invoice")) == [issued.number]
    assert texts(search(staff, "creditnote", "invoice", voided.number)) == []
    assert texts(search(staff, "creditnote", "invoice", theirs.number)) == []
    assert texts(search(staff, "creditnote", "invoice", "NW-")) == []


def test_a_field_that_offers_no_search_is_refused(org, customer, staff):
    # Refunds have a customer key, but no console form searches customers for one.
    assert search(staff, "refund", "customer", "Acme").status_code == 403
    assert search(staff, "invoice", "organization").status_code == 403


def test_credit_and_payment_forms_list_the_invoices_due_first_and_accept_any_open_one(
    org, customer, staff, monkeypatch
):
    from portico.console import ledger_common as billing_admin
    from portico.core.money import Money
    from tests.billing.factories import credit_note, pay

    monkeypatch.setattr(billing_admin, "LISTED_INVOICES", 2)
    first, second, third = (open_invoice(customer, 1000 * n) for n in (1, 2, 3))
    note = credit_note(customer, 1500)
    page = staff.get(f"/console/billing/creditnote/{note.pk}/apply/").content.decode()
    assert first.number in page and second.number in page and third.number not in page

    response = staff.post(
        f"/console/billing/creditnote/{note.pk}/apply/", {"invoice": third.pk, "amount": "15"}
    )
    assert response.status_code == 302
    third.refresh_from_db()
    assert third.balance == Money(1500, "USD")

    payment = pay(customer, 500)
    page = staff.get(f"/console/billing/payment/{payment.pk}/allocate/").content.decode()
    assert f'name="invoice_{first.pk}"' in page and f'name="invoice_{third.pk}"' not in page
    assert "Only the 2 invoices due first are listed" in page


def test_the_customer_chooser_of_a_payment_searches_instead_of_listing_everyone(org, customer, staff):
    CustomerFactory(organization=org, display_name="Bluebird Cafe")
    page = staff.get("/console/billing/invoice/record-payment/").content.decode()
    assert 'data-ajax--url="/console/autocomplete/"' in page and 'data-model-name="payment"' in page
    assert "admin/js/autocomplete.js" in page
    assert "Acme Interiors" not in page and "Bluebird Cafe" not in page
