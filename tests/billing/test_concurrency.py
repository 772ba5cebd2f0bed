"""Concurrent payments on PostgreSQL: real threads, each with its own connection and transaction."""

import pytest
from django.db import connection

from portico.billing import errors
from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice, Payment, PaymentAllocation
from tests.billing.factories import open_invoice, pay
from tests.concurrency import race
from tests.factories import CustomerFactory, OrganizationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def customer(transactional_db):
    assert connection.vendor == "postgresql"
    return CustomerFactory(organization=OrganizationFactory(slug="racing"), currency="USD")


def test_twenty_concurrent_payments_never_take_an_invoice_below_zero(customer):
    invoice = open_invoice(customer, 10000)
    outcomes = race(*[lambda: pay(customer, 1500, (invoice, 1500)) for _ in range(20)])
    payments = [o for o in outcomes if isinstance(o, Payment)]
    refused = [o for o in outcomes if isinstance(o, errors.AmountExceedsBalance)]
    assert len(payments) == 6 and len(refused) == 14, outcomes
    invoice.refresh_from_db()
    assert (invoice.paid_minor, invoice.balance_minor, invoice.status) == (
        9000,
        1000,
        Invoice.Status.PARTIALLY_PAID,
    )
    assert (
        sum(PaymentAllocation.all_tenants.filter(invoice=invoice).values_list("amount_minor", flat=True))
        == 9000
    )
    assert sorted(p.number for p in payments) == [f"PAY-0000{i}" for i in range(1, 7)]
    assert ledger_violations() == []


def test_bulk_payment_racing_a_single_payment_never_over_allocates(customer):
    for _round in range(5):
        first, second, third = (open_invoice(customer, 2000) for _ in range(3))
        bulk = lambda: pay(customer, 6000, (first, 2000), (second, 2000), (third, 2000))  # noqa: E731
        single = lambda: pay(customer, 2000, (second, 2000))  # noqa: E731
        outcomes = race(bulk, single)
        succeeded = [o for o in outcomes if isinstance(o, Payment)]
        assert len(succeeded) == 1, outcomes
        refusal = next(o for o in outcomes if not isinstance(o, Payment))
        assert isinstance(refusal, errors.AmountExceedsBalance | errors.InvoiceNotPayable), refusal
        second.refresh_from_db()
        assert (second.paid_minor, second.balance_minor) == (2000, 0)
    assert ledger_violations() == []


def test_the_same_idempotency_key_sent_concurrently_pays_once(customer):
    invoice = open_invoice(customer, 10000)
    outcomes = race(
        *[lambda: pay(customer, 2500, (invoice, 2500), idempotency_key="checkout:42") for _ in range(8)]
    )
    assert all(isinstance(o, Payment) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    invoice.refresh_from_db()
    assert invoice.paid_minor == 2500
    assert Payment.all_tenants.count() == 1
    assert ledger_violations() == []


def test_concurrent_finalizations_get_distinct_gapless_numbers(customer):
    from portico.billing import services
    from tests.billing.factories import ACTOR, draft_invoice

    drafts = [draft_invoice(customer, 1000) for _ in range(10)]
    outcomes = race(*[lambda d=d: services.finalize_invoice(invoice=d, actor=ACTOR) for d in drafts])
    assert sorted(o.number for o in outcomes) == [f"INV-{i:05d}" for i in range(1, 11)]
    assert ledger_violations() == []
