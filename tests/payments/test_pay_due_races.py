"""Ten "pay everything due" submissions from one customer at once, with a saved card, on PostgreSQL:
exactly one charge and one payment (issue 10, "PostgreSQL" tests).

Each submission is a separate request of its own tab: its own test client (session, CSRF cookie)
logged in as the customer's contact, its own GET of /portal/pay/?all=due for its own form and form
token, then all POST at once behind a barrier, choosing the saved card.
"""

import threading

import pytest
from django.db import connection

from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice, Payment
from portico.core.audit import Actor
from portico.core.tenancy import tenant
from portico.payments.gateways import CardDetails
from portico.payments.methods import save_method
from portico.payments.models import GatewayCharge, PaymentAttempt
from tests.billing.factories import open_invoice
from tests.conftest import tenant_client
from tests.factories import ContactFactory, CustomerFactory, OrganizationFactory, portal_user
from tests.payments.test_checkout_race import hidden_fields

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACTOR = Actor.system("tests")
URL = "/portal/pay/?all=due"


def submissions_at_once(organization, user, method, count: int) -> list:
    barrier = threading.Barrier(count)
    statuses: list = [None] * count
    tokens: list = [None] * count

    def tab(i):
        try:
            client = tenant_client(organization, enforce_csrf_checks=True)
            client.force_login(user, backend="portico.accounts.backends.TenantAuthenticationBackend")
            page = client.get(URL)
            assert page.status_code == 200, page.status_code
            data: dict[str, list[str]] = {}
            for name, value in hidden_fields(page.content.decode()):
                data.setdefault(name, []).append(value)
            tokens[i] = data["form_token"][0]
            data["pay_with"] = [method.public_id]
            barrier.wait(timeout=60)
            statuses[i] = client.post(URL, data).status_code
        except Exception as exc:  # reported in the assertions below
            statuses[i] = exc
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses, tokens


def test_ten_pay_everything_due_submissions_at_once_charge_the_saved_card_once(transactional_db):
    assert connection.vendor == "postgresql"
    organization = OrganizationFactory(slug="racing")
    with tenant(organization):
        customer = CustomerFactory(organization=organization, currency="USD")
        contact = ContactFactory(customer=customer, email="maria@acme.example", is_primary=True)
        user = portal_user(contact)
        method = save_method(
            organization=organization,
            customer=customer,
            actor=ACTOR,
            card=CardDetails(number="4242424242424242", exp_month=12, exp_year=2031, cvc="123"),
        )
        invoices = [
            open_invoice(customer, 40000),
            open_invoice(customer, 50000),
            open_invoice(customer, 1999),
        ]

    statuses, tokens = submissions_at_once(organization, user, method, 10)

    assert all(isinstance(s, int) for s in statuses), statuses
    assert len(set(tokens)) == 10  # ten forms, ten tokens: not one form submitted ten times
    assert set(statuses) <= {302, 400}, statuses  # a refusal is a message, never a 500
    charges = GatewayCharge.all_tenants.filter(kind=GatewayCharge.Kind.CHARGE)
    assert charges.filter(status=GatewayCharge.Status.SUCCEEDED).count() == 1, statuses
    assert charges.count() == 1
    assert charges.get().source == method.token and charges.get().amount_minor == 91999
    assert PaymentAttempt.all_tenants.count() == 1
    payment = Payment.all_tenants.get(customer=customer)
    assert (payment.amount_minor, payment.allocated_minor, payment.unused_minor) == (91999, 91999, 0)
    for invoice in invoices:
        invoice = Invoice.all_tenants.get(pk=invoice.pk)
        assert (invoice.status, invoice.balance_minor) == (Invoice.Status.PAID, 0)
    with tenant(organization):
        assert ledger_violations() == []
