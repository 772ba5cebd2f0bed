"""`charge_automatically` called for one invoice by five workers at once, on PostgreSQL: one charge,
one payment, one receipt (issue 10, "PostgreSQL" tests). The reservation does it: the first call
commits its reservation under the invoice's row lock, the others find the balance taken and return
None, quietly (no exception, no email)."""

import pytest
from django.db import connection

from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice, Payment
from portico.core.audit import Actor
from portico.core.tenancy import tenant
from portico.payments.autocharge import charge_automatically
from portico.payments.gateways import CardDetails
from portico.payments.methods import save_method
from portico.payments.models import GatewayCharge, PaymentAttempt
from tests.billing.factories import open_invoice
from tests.concurrency import race
from tests.factories import ContactFactory, CustomerFactory, OrganizationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACTOR = Actor.system("tests")


def test_five_workers_charging_one_invoice_at_once_charge_it_once(transactional_db, mailbox):
    assert connection.vendor == "postgresql"
    organization = OrganizationFactory(slug="racing")
    with tenant(organization):
        customer = CustomerFactory(organization=organization, email="accounts@acme.example")
        ContactFactory(
            customer=customer, email="maria@acme.example", is_primary=True, has_portal_access=False
        )
        save_method(
            organization=organization,
            customer=customer,
            actor=ACTOR,
            card=CardDetails(number="4242424242424242", exp_month=12, exp_year=2031, cvc="123"),
        )
        invoice = open_invoice(customer, 42000)
        mailbox.messages.clear()

    outcomes = race(*[lambda: charge_automatically(invoice) for _ in range(5)])

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(1 for o in outcomes if o is not None and o.succeeded) == 1, outcomes
    assert sum(1 for o in outcomes if o is None) == 4, outcomes
    assert GatewayCharge.all_tenants.filter(status=GatewayCharge.Status.SUCCEEDED).count() == 1
    assert GatewayCharge.all_tenants.count() == 1
    assert PaymentAttempt.all_tenants.count() == 1
    payment = Payment.all_tenants.get(customer=customer)
    assert (payment.amount_minor, payment.allocated_minor) == (42000, 42000)
    invoice = Invoice.all_tenants.get(pk=invoice.pk)
    assert (invoice.status, invoice.balance_minor) == (Invoice.Status.PAID, 0)
    receipts = [m for m in mailbox.messages if payment.number in (m["Subject"] or "")]
    assert len(receipts) == 1 and receipts[0]["To"] == "accounts@acme.example"
    assert len(mailbox.messages) == 1  # and nothing else: no "payment failed"
    with tenant(organization):
        assert ledger_violations() == []
