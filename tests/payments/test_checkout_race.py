"""Concurrent checkouts of one invoice on PostgreSQL: the card is charged once (issue 8, item 2).

Each checkout is a customer's own tab: its own test client (session, CSRF cookie), its own pay page
loaded before anyone submits, its own form token. All submit at once behind a barrier.
"""

import re
import threading

import pytest
from django.db import connection

from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice, Payment
from portico.payments.models import GatewayCharge, PaymentAttempt, PaymentReservation
from tests.billing.factories import open_invoice
from tests.conftest import tenant_client
from tests.factories import ContactFactory, CustomerFactory, OrganizationFactory, portal_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CARD = {
    "name": "Maria Lopez",
    "number": "4242 4242 4242 4242",
    "exp_month": "12",
    "exp_year": "2031",
    "cvc": "123",
}


def hidden_fields(html: str) -> list[tuple[str, str]]:
    """Every hidden input of the pay form, as the browser would post it back."""
    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)


def successful_charges() -> list:
    """What the test gateway charged: its ledger is in the database, as Stripe's is at Stripe."""
    return list(
        GatewayCharge.all_tenants.filter(
            gateway="test", kind=GatewayCharge.Kind.CHARGE, status=GatewayCharge.Status.SUCCEEDED
        )
    )


def checkouts_at_once(organization, user, url: str, count: int) -> list:
    """`count` tabs each load `url`, then all submit their own form at the same moment."""
    barrier = threading.Barrier(count)
    statuses: list = [None] * count

    def tab(i):
        try:
            client = tenant_client(organization, enforce_csrf_checks=True)
            client.force_login(user, backend="portico.accounts.backends.TenantAuthenticationBackend")
            page = client.get(url)
            assert page.status_code == 200, page.status_code
            fields = hidden_fields(page.content.decode())
            data: dict[str, list[str]] = {}
            for name, value in fields:
                data.setdefault(name, []).append(value)
            barrier.wait(timeout=60)
            statuses[i] = client.post(url, {**data, **CARD}).status_code
        except Exception as exc:  # reported in the assertion below
            statuses[i] = exc
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


@pytest.fixture
def buyer(transactional_db):
    assert connection.vendor == "postgresql"
    organization = OrganizationFactory(slug="racing")
    customer = CustomerFactory(organization=organization, currency="USD")
    contact = ContactFactory(customer=customer, email="maria@acme.example", is_primary=True)
    return organization, customer, portal_user(contact)


def test_twenty_tabs_paying_one_invoice_at_once_charge_the_card_once(buyer):
    organization, customer, user = buyer
    invoice = open_invoice(customer, 90000)
    statuses = checkouts_at_once(organization, user, f"/portal/invoices/{invoice.number}/pay/", 20)
    assert all(isinstance(s, int) for s in statuses), statuses
    assert len(successful_charges()) == 1, statuses
    payment = Payment.all_tenants.get(customer=customer)
    assert (payment.amount_minor, payment.allocated_minor, payment.unused_minor) == (90000, 90000, 0)
    assert PaymentAttempt.all_tenants.filter(status=PaymentAttempt.Status.SUCCEEDED).count() == 1
    assert PaymentReservation.all_tenants.count() == 1  # the refused tabs reserved nothing
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance_minor) == (Invoice.Status.PAID, 0)
    assert set(statuses) <= {302, 400}, statuses  # a refusal is a message, never a 500
    assert ledger_violations() == []


def test_twenty_tabs_paying_all_due_at_once_charge_the_card_once(buyer):
    organization, customer, user = buyer
    invoices = [open_invoice(customer, 40000), open_invoice(customer, 50000)]
    statuses = checkouts_at_once(organization, user, "/portal/pay/?all=due", 20)
    assert all(isinstance(s, int) for s in statuses), statuses
    assert len(successful_charges()) == 1, statuses
    assert Payment.all_tenants.filter(customer=customer).count() == 1
    for invoice in invoices:
        invoice.refresh_from_db()
        assert invoice.balance_minor == 0
    assert ledger_violations() == []
