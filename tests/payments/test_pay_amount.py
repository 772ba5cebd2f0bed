"""Pay any amount: applied to the open invoices oldest first, the rest kept as an advance
(issue 10, item 3; invoiceninja#2774)."""

import datetime as dt

import pytest

from portico.billing import errors as billing_errors
from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice, Payment, PaymentAllocation
from portico.core.audit import Actor
from portico.core.errors import CurrencyMismatch
from portico.core.money import MAX_TYPED_MINOR, Money
from portico.payments.gateways import CardDetails, gateway_for
from portico.payments.methods import save_method
from portico.payments.models import GatewayCharge, PaymentAttempt
from portico.payments.services import PaymentInProgress, PaymentRefused, pay_amount, pay_with_card
from tests.billing.factories import open_invoice, pay
from tests.payments.test_reconcile import CrashBeforeCharge

ACTOR = Actor.system("tests")


def card(number="4242424242424242"):
    return CardDetails(number=number, exp_month=12, exp_year=2030, cvc="123", name="Maria Lopez")


def pay_any(customer, minor, form_token="form-1", currency="USD", **kwargs):
    kwargs.setdefault("card", gateway_for(customer.organization).tokenize(card()))
    return pay_amount(
        organization=customer.organization,
        customer=customer,
        amount=Money(minor, currency),
        form_token=form_token,
        actor=ACTOR,
        **kwargs,
    )


def allocations_of(payment):
    return {
        a.invoice.number: a.amount_minor
        for a in PaymentAllocation.objects.filter(payment=payment).select_related("invoice")
    }


@pytest.fixture
def invoices(customer, clock):
    """Made out of order: the oldest due is the second made; the third has no due date."""
    newer = open_invoice(customer, 30000)
    older = open_invoice(customer, 10001)
    undated = open_invoice(customer, 5000)
    Invoice.objects.filter(pk=newer.pk).update(due_date=dt.date(2026, 3, 20), issue_date=dt.date(2026, 2, 18))
    Invoice.objects.filter(pk=older.pk).update(due_date=dt.date(2026, 2, 1), issue_date=dt.date(2026, 1, 2))
    Invoice.objects.filter(pk=undated.pk).update(due_date=None, issue_date=dt.date(2026, 1, 1))
    return older, newer, undated


def test_an_amount_pays_the_oldest_due_invoice_first_to_the_cent(customer, invoices):
    older, newer, undated = invoices
    outcome = pay_any(customer, 20001)
    assert outcome.succeeded
    payment = Payment.objects.get(customer=customer)
    assert (payment.amount_minor, payment.allocated_minor, payment.unused_minor) == (20001, 20001, 0)
    assert allocations_of(payment) == {older.number: 10001, newer.number: 10000}
    balances = {i.number: (i.status, i.balance_minor) for i in Invoice.objects.filter(customer=customer)}
    assert balances == {
        older.number: (Invoice.Status.PAID, 0),
        newer.number: (Invoice.Status.PARTIALLY_PAID, 20000),
        undated.number: (Invoice.Status.OPEN, 5000),
    }
    assert ledger_violations() == []


def test_what_is_left_over_stays_as_an_advance_on_the_payment(customer, invoices):
    outcome = pay_any(customer, 50000)
    payment = Payment.objects.get(customer=customer)
    assert outcome.attempt.amount_minor == 50000
    assert (payment.amount_minor, payment.allocated_minor, payment.unused_minor) == (50000, 45001, 4999)
    assert set(Invoice.objects.filter(customer=customer).values_list("balance_minor", flat=True)) == {0}
    assert GatewayCharge.objects.get().amount_minor == 50000
    assert ledger_violations() == []


def test_the_oldest_issued_goes_first_among_invoices_due_the_same_day(customer, clock):
    first, second = open_invoice(customer, 1000), open_invoice(customer, 1000)
    Invoice.objects.filter(pk__in=[first.pk, second.pk]).update(due_date=dt.date(2026, 4, 1))
    Invoice.objects.filter(pk=second.pk).update(issue_date=dt.date(2026, 1, 1))
    pay_any(customer, 1500)
    assert allocations_of(Payment.objects.get()) == {second.number: 1000, first.number: 500}


def test_what_another_checkout_holds_is_skipped(customer, invoices):
    older, newer, _undated = invoices
    from tests.payments.test_reconcile import interrupted

    interrupted(customer, [older], CrashBeforeCharge(), form_token="tab-1")  # pending, holds `older`
    pay_any(customer, 12000, form_token="tab-2")
    assert allocations_of(Payment.objects.get()) == {newer.number: 12000}


def test_the_same_form_twice_pays_once(customer, invoices):
    first = pay_any(customer, 1000, form_token="same")
    second = pay_any(customer, 1000, form_token="same")
    assert second.repeated and second.attempt == first.attempt
    assert Payment.objects.count() == 1 and GatewayCharge.objects.count() == 1


def test_pay_any_amount_with_a_saved_card_or_a_new_one_saved(customer, invoices):
    method = save_method(organization=customer.organization, customer=customer, actor=ACTOR, card=card())
    assert pay_any(customer, 1000, card=None, method=method).attempt.payment_method == method
    outcome = pay_with_card(
        card=card("5555555555554444"),
        save_method=True,
        organization=customer.organization,
        customer=customer,
        amount=Money(2000, "USD"),
        form_token="form-2",
        actor=ACTOR,
    )
    assert outcome.succeeded and outcome.method.last4 == "4444"
    assert Payment.objects.filter(customer=customer).count() == 2


def test_a_declined_card_pays_nothing(customer, invoices):
    outcome = pay_any(
        customer, 1000, card=gateway_for(customer.organization).tokenize(card("4000000000000002"))
    )
    assert outcome.attempt.status == PaymentAttempt.Status.DECLINED
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("minor", "currency", "error", "match"),
    [
        (0, "USD", billing_errors.InvalidAmount, "greater than zero"),
        (-100, "USD", billing_errors.InvalidAmount, "greater than zero"),
        (1000, "EUR", CurrencyMismatch, "billed in USD"),
        (450011, "USD", billing_errors.InvalidAmount, "more than ten times"),
        (MAX_TYPED_MINOR + 1, "USD", billing_errors.InvalidAmount, "at most"),
        (2**63, "USD", billing_errors.InvalidAmount, "at most"),
    ],
)
def test_impossible_amounts_are_refused_and_write_nothing(customer, invoices, minor, currency, error, match):
    with pytest.raises(error, match=match):
        pay_any(customer, minor, currency=currency)
    assert not PaymentAttempt.objects.exists() and not GatewayCharge.objects.exists()


def test_ten_times_what_is_due_is_still_accepted(customer, invoices):
    assert pay_any(customer, 450010).succeeded  # exactly 10 × $450.01 due


def test_nothing_due_is_refused(customer, clock):
    paid = open_invoice(customer, 1000)
    pay(customer, 1000, (paid, 1000))
    with pytest.raises(PaymentRefused, match="Nothing is due"):
        pay_any(customer, 1000)


def test_everything_held_by_another_checkout_is_refused(customer, clock):
    only = open_invoice(customer, 1000)
    from tests.payments.test_reconcile import interrupted

    interrupted(customer, [only], CrashBeforeCharge(), form_token="tab-1")
    with pytest.raises(PaymentInProgress):
        pay_any(customer, 1000, form_token="tab-2")
