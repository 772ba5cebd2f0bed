"""Console edits of customers and contacts go through the same services as the portal's: the
currency lock, the last-admin guard, the audit, ending sessions and the notices."""

from __future__ import annotations

import datetime as dt

import pytest

from portico.accounts.models import CustomerSso
from portico.billing import services as ledger
from portico.billing.models import Invoice, Payment
from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.core.money import Money
from portico.customers import services as customer_services
from portico.customers.errors import CurrencyLocked
from portico.customers.models import ContactPerson, Customer, PortalRole
from portico.payments.models import PaymentAttempt
from tests.billing.factories import draft_invoice, line
from tests.conftest import tenant_client
from tests.factories import ContactFactory, portal_user, staff_user

STAFF_BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"
ACTOR = Actor.system("tests")


@pytest.fixture
def staff_client(org):
    client = tenant_client(org)
    client.force_login(staff_user(org), backend=STAFF_BACKEND)
    return client


CUSTOMER_FIELDS = [
    "display_name",
    "company_name",
    "email",
    "phone",
    "currency",
    "payment_terms_days",
    "tax_id",
    "notes",
    *[
        f"{kind}_{p}"
        for kind in ("billing", "shipping")
        for p in ("line1", "line2", "city", "region", "postal_code", "country")
    ],
]
CONTACT_FIELDS = ["first_name", "last_name", "email", "phone"]


def customer_form(customer: Customer, contacts: dict | None = None, **changes) -> dict:
    """The customer's change form as the console shows it, with `changes` typed in; `contacts`
    maps a contact to the changes typed into its row of the contacts table."""
    data = {field: getattr(customer, field) for field in CUSTOMER_FIELDS}
    if customer.is_active:
        data["is_active"] = "on"
    rows = list(
        ContactPerson.all_tenants.filter(customer=customer).order_by(
            "-is_primary", "first_name", "last_name", "id"
        )
    )
    data.update({"contacts-TOTAL_FORMS": str(len(rows)), "contacts-INITIAL_FORMS": str(len(rows))})
    # the saved payment methods are shown read only: their inline posts only its management form
    data.update({"payment_methods-TOTAL_FORMS": "0", "payment_methods-INITIAL_FORMS": "0"})
    # the customer's single sign-on rules: one row once set, none before
    rules = CustomerSso.all_tenants.filter(customer=customer).first()
    data.update({"sso-TOTAL_FORMS": "1" if rules else "0", "sso-INITIAL_FORMS": "1" if rules else "0"})
    if rules is not None:
        data.update(
            {"sso-0-id": rules.pk, "sso-0-customer": customer.pk, "sso-0-email_domains": rules.email_domains}
        )
        data.update({f"sso-0-{f}": "on" for f in ("sso_required", "sso_second_factor") if getattr(rules, f)})
    for i, contact in enumerate(rows):
        row = {field: getattr(contact, field) for field in CONTACT_FIELDS}
        row.update(id=contact.pk, customer=customer.pk, portal_role=contact.portal_role)
        row.update({"is_primary": contact.is_primary, "has_portal_access": contact.has_portal_access})
        row.update((contacts or {}).get(contact, {}))
        for field, value in row.items():
            if value is True:
                data[f"contacts-{i}-{field}"] = "on"
            elif value is not False:
                data[f"contacts-{i}-{field}"] = value
    data.update(changes)
    return {key: "" if value is None else value for key, value in data.items()}


def contact_form(contact: ContactPerson, **changes) -> dict:
    data = {field: getattr(contact, field) for field in CONTACT_FIELDS}
    data.update(portal_role=contact.portal_role, is_primary=contact.is_primary)
    data["has_portal_access"] = contact.has_portal_access
    data.update(changes)
    return {k: ("on" if v is True else v) for k, v in data.items() if v is not False}


def _payment_attempt(customer):
    from portico.core import clock

    return PaymentAttempt.all_tenants.create(
        organization=customer.organization,
        customer=customer,
        form_token="t",
        currency=customer.currency,
        amount_minor=100,
        gateway="test",
        created_at=clock.now(),
    )


DOCUMENTS = {
    "draft invoice": lambda c: draft_invoice(c, 1000),
    "credit note": lambda c: ledger.create_credit_note(
        customer=c, lines=[line(500, c.currency)], actor=ACTOR
    ),
    "payment": lambda c: ledger.record_payment(
        customer=c,
        amount=Money(2000, c.currency),
        allocations=[],
        actor=ACTOR,
        method=Payment.Method.BANK_TRANSFER,
        received_on=dt.date(2026, 3, 10),
    ),
    "card payment in progress": _payment_attempt,
}


# -- the currency ---------------------------------------------------------------------------------


@pytest.mark.parametrize("document", DOCUMENTS)
def test_a_customers_currency_cannot_change_in_the_console_once_a_document_exists(
    org, customer, staff_client, clock, document
):
    DOCUMENTS[document](customer)
    response = staff_client.post(
        f"/console/customers/customer/{customer.pk}/change/", customer_form(customer, currency="EUR")
    )
    assert response.status_code == 200
    assert "The currency cannot be changed once the customer has invoices" in response.content.decode()
    customer.refresh_from_db()
    assert customer.currency == "USD"


def test_the_service_refuses_a_currency_change_once_a_document_exists(org, customer, clock):
    draft_invoice(customer, 1000)
    with pytest.raises(CurrencyLocked):
        customer_services.update_company(
            customer=customer, data={"currency": "EUR", "tax_id": "NEW"}, actor=Actor(kind="staff")
        )
    customer.refresh_from_db()
    assert (customer.currency, customer.tax_id) == ("USD", "")
    assert not AuditEvent.all_tenants.filter(action="customer.details_changed").exists()


def test_a_new_customers_currency_can_still_change_and_the_change_is_audited(org, customer, staff_client):
    response = staff_client.post(
        f"/console/customers/customer/{customer.pk}/change/",
        customer_form(customer, currency="EUR", tax_id="EU123"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    customer.refresh_from_db()
    assert (customer.currency, customer.tax_id) == ("EUR", "EU123")
    event = AuditEvent.all_tenants.get(action="customer.details_changed")
    assert event.actor_kind == "staff" and event.data["changes"]["currency"] == {"from": "USD", "to": "EUR"}


def test_an_invoice_is_refused_for_a_customer_whose_currency_changed_meanwhile(org, customer):
    stale = Customer.all_tenants.get(pk=customer.pk)
    Customer.all_tenants.filter(pk=customer.pk).update(currency="EUR")
    from portico.billing.errors import CurrencyMismatch

    with pytest.raises(CurrencyMismatch):
        draft_invoice(stale, 1000)
    assert not Invoice.all_tenants.exists()


# -- portal access and roles ----------------------------------------------------------------------


@pytest.fixture
def acme(customer, contact):
    """Maria (the primary contact, admin, signed in) and Tom (billing, signed in) of Acme."""
    portal_user(contact)
    tom = ContactFactory(
        customer=customer, first_name="Tom", email="tom@acme.example", portal_role=PortalRole.BILLING
    )
    portal_user(tom)
    return {"maria": contact, "tom": tom}


def test_demoting_the_last_portal_admin_in_the_console_is_a_form_error(org, acme, staff_client):
    maria = acme["maria"]
    response = staff_client.post(
        f"/console/customers/contactperson/{maria.pk}/change/", contact_form(maria, portal_role="viewer")
    )
    assert response.status_code == 200
    assert "last portal admin with access" in response.content.decode()
    maria.refresh_from_db()
    assert maria.portal_role == PortalRole.ADMIN
    assert not AuditEvent.all_tenants.filter(action="access.role_changed").exists()


def test_turning_off_the_last_admins_access_while_others_keep_theirs_is_refused(org, acme, staff_client):
    maria = acme["maria"]
    response = staff_client.post(
        f"/console/customers/contactperson/{maria.pk}/change/", contact_form(maria, has_portal_access=False)
    )
    assert response.status_code == 200 and "last portal admin with access" in response.content.decode()
    maria.refresh_from_db()
    assert maria.has_portal_access


def test_turning_off_access_in_the_console_signs_out_audits_and_tells_the_contact(
    org, acme, staff_client, mailbox, django_capture_on_commit_callbacks
):
    tom = acme["tom"]
    tom_session = tenant_client(org)
    from tests.conftest import login

    assert login(tom_session, "tom@acme.example").status_code == 302
    assert tom_session.get("/portal/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/console/customers/contactperson/{tom.pk}/change/", contact_form(tom, has_portal_access=False)
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    tom.refresh_from_db()
    assert not tom.has_portal_access
    assert tom_session.get("/portal/").status_code == 302  # signed out
    assert AuditEvent.all_tenants.filter(action="access.revoked", actor_kind="staff").exists()
    [notice] = mailbox.to("tom@acme.example")
    assert "turned off" in notice["Subject"]


def test_a_role_change_in_the_console_is_audited(org, acme, staff_client):
    tom = acme["tom"]
    response = staff_client.post(
        f"/console/customers/contactperson/{tom.pk}/change/", contact_form(tom, portal_role="admin")
    )
    assert response.status_code == 302
    event = AuditEvent.all_tenants.get(action="access.role_changed")
    assert (event.actor_kind, event.data["previous"], event.data["role"]) == ("staff", "billing", "admin")


def test_the_customer_page_refuses_to_leave_the_customer_without_an_admin(org, customer, acme, staff_client):
    maria = acme["maria"]
    response = staff_client.post(
        f"/console/customers/customer/{customer.pk}/change/",
        customer_form(customer, contacts={maria: {"portal_role": "viewer"}}),
    )
    assert response.status_code == 200
    assert "At least one contact with portal access must be a portal admin" in response.content.decode()
    maria.refresh_from_db()
    assert maria.portal_role == PortalRole.ADMIN


def test_the_customer_page_hands_the_admin_role_over_in_one_save(org, customer, acme, staff_client):
    maria, tom = acme["maria"], acme["tom"]
    response = staff_client.post(
        f"/console/customers/customer/{customer.pk}/change/",
        customer_form(customer, contacts={maria: {"portal_role": "viewer"}, tom: {"portal_role": "admin"}}),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    maria.refresh_from_db()
    tom.refresh_from_db()
    assert (maria.portal_role, tom.portal_role) == (PortalRole.VIEWER, PortalRole.ADMIN)
    assert AuditEvent.all_tenants.filter(action="access.role_changed").count() == 2


def test_a_customers_contacts_can_all_lose_access_together(org, customer, acme, staff_client):
    """Offboarding a customer: with nobody left with access, no admin is needed."""
    response = staff_client.post(
        "/console/customers/contactperson/",
        {"action": "revoke_access", "_selected_action": [acme["maria"].pk, acme["tom"].pk]},
    )
    assert response.status_code == 302
    assert not ContactPerson.all_tenants.filter(customer=customer, has_portal_access=True).exists()
