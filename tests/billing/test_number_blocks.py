"""Invoice numbers taken in blocks (`take_numbers`) for the bill run: gapless, disjoint, and gone with
a rolled-back batch."""

import datetime as dt

import pytest
from django.db import connection, transaction

from portico.billing import services
from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice, NumberSequence
from portico.core.audit import Actor
from tests.billing.factories import draft_invoice, line, open_invoice
from tests.concurrency import race
from tests.factories import CustomerFactory, OrganizationFactory

ACTOR = Actor.system("test")


def _issue(customer, amounts):
    with transaction.atomic():
        services._lock_customer(customer)
        drafts = [
            services.IssueDraft(customer=customer, lines=[line(a)], issue_date=dt.date(2026, 3, 10))
            for a in amounts
        ]
        return services.issue_invoices(drafts, organization=customer.organization, actor=ACTOR)


def test_a_block_continues_the_counter_and_the_next_single_number_follows_it(customer):
    open_invoice(customer, 1000)  # INV-00001
    with transaction.atomic():
        block = services.take_numbers(customer.organization, NumberSequence.Kind.INVOICE, 3)
    assert list(block) == ["INV-00002", "INV-00003", "INV-00004"]
    # the block was committed unused here only to test the counter: use it for three drafts
    for number in block:
        services.finalize_invoice(invoice=draft_invoice(customer, 500), actor=ACTOR, number=number)
    assert open_invoice(customer, 700).number == "INV-00005"
    assert ledger_violations() == []


def test_issue_invoices_prices_numbers_and_totals_like_finalize(customer):
    invoices = _issue(customer, [1234, 999, 5000])
    assert [i.number for i in invoices] == ["INV-00001", "INV-00002", "INV-00003"]
    stored = list(Invoice.objects.order_by("number"))
    assert [(i.total_minor, i.balance_minor, i.status) for i in stored] == [
        (1234, 1234, "open"),
        (999, 999, "open"),
        (5000, 5000, "open"),
    ]
    assert stored[0].due_date == dt.date(2026, 3, 10) + dt.timedelta(days=customer.payment_terms_days)
    assert ledger_violations() == []


def test_a_rolled_back_batch_leaves_no_gap(customer):
    _issue(customer, [100])
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        _issue(customer, [200, 300, 400])
        1 / 0
    assert [i.number for i in _issue(customer, [500])] == ["INV-00002"]
    assert Invoice.objects.count() == 2
    assert ledger_violations() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_get_disjoint_contiguous_blocks_and_no_gap():
    assert connection.vendor == "postgresql"
    organization = OrganizationFactory(slug="blocks")
    customers = [CustomerFactory(organization=organization, currency="USD") for _ in range(6)]

    def batch(customer, fail):
        def run():
            with transaction.atomic():
                invoices = _issue(customer, [100 * (k + 1) for k in range(7)])
                if fail:
                    raise ValueError("batch failed")
                return [i.number for i in invoices]

        return run

    outcomes = race(*[batch(c, fail=(n == 2)) for n, c in enumerate(customers)])
    blocks = [o for o in outcomes if isinstance(o, list)]
    assert len(blocks) == 5 and sum(isinstance(o, ValueError) for o in outcomes) == 1, outcomes
    for block in blocks:  # each batch's numbers are one contiguous run
        values = [int(n.removeprefix("INV-")) for n in block]
        assert values == list(range(values[0], values[0] + 7))
    every = sorted(int(n.removeprefix("INV-")) for block in blocks for n in block)
    assert every == list(range(1, 36))  # disjoint, and the failed batch left no hole
    assert ledger_violations() == []
