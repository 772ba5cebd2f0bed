"""Statements: opening + charges − credits = closing, and the closing balance is the live balance."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico.billing import errors, services
from portico.billing.models import Invoice, Payment
from portico.billing.selectors import account_balance
from portico.billing.statements import (
    StatementPeriodError,
    opening_from_history,
    period_bounds,
    statement_csv,
    statement_for,
)
from portico.core import clock as core_clock
from portico.core.money import Money
from tests.billing.factories import ACTOR, credit_note, open_invoice, pay
from tests.factories import CustomerFactory

START = dt.datetime(2025, 1, 6, 15, 0, tzinfo=dt.UTC)

steps = st.lists(
    st.tuples(
        st.sampled_from(
            ["invoice", "pay_part", "overpay", "advance", "credit", "apply", "refund", "void", "allocate"]
        ),
        st.integers(min_value=1, max_value=60_000),
        st.integers(min_value=0, max_value=40),  # days to move the clock first
        st.integers(min_value=0, max_value=1_000),  # which document
    ),
    min_size=1,
    max_size=25,
)


def run(customer, history):
    """Drive the ledger's own services; refusals (bad amounts, wrong status) are part of the game."""
    for action, amount, days, pick in history:
        core_clock.advance(dt.timedelta(days=days))
        today = core_clock.today(customer.organization.time_zone)
        open_ = list(Invoice.objects.filter(customer=customer, status__in=["open", "partially_paid"]))
        target = open_[pick % len(open_)] if open_ else None
        try:
            if action == "invoice":
                open_invoice(customer, amount)
            elif action == "pay_part" and target:
                part = 1 + amount % target.balance_minor
                pay(customer, part, (target, part), received_on=today)
            elif action == "overpay" and target:
                pay(
                    customer, target.balance_minor + amount, (target, target.balance_minor), received_on=today
                )
            elif action == "advance":
                pay(customer, amount, received_on=today)
            elif action == "credit":
                credit_note(customer, amount)
            elif action == "apply" and target:
                notes = list(customer.credit_notes.filter(status="open"))
                if notes:
                    note = notes[pick % len(notes)]
                    part = min(note.remaining_minor, target.balance_minor, amount)
                    services.apply_credit(
                        credit_note=note, invoice=target, amount=Money(part, "USD"), actor=ACTOR
                    )
            elif action == "allocate" and target:
                advances = list(Payment.objects.filter(customer=customer, unused_minor__gt=0))
                if advances:
                    payment = advances[pick % len(advances)]
                    part = min(payment.unused_minor, target.balance_minor, amount)
                    services.allocate_payment(
                        payment=payment, allocations=[(target, Money(part, "USD"))], actor=ACTOR
                    )
            elif action == "refund":
                advances = list(Payment.objects.filter(customer=customer, unused_minor__gt=0))
                if advances:
                    payment = advances[pick % len(advances)]
                    part = 1 + amount % payment.unused_minor
                    services.refund_payment(
                        payment=payment, amount=Money(part, "USD"), actor=ACTOR, refunded_on=today
                    )
            elif action == "void" and target:
                services.void_invoice(invoice=target, actor=ACTOR)
        except errors.BillingError:
            pass


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=steps, first_day=st.integers(min_value=0, max_value=400))
def test_statement_closing_balance_equals_the_live_balance_for_random_histories(org, history, first_day):
    core_clock.freeze(START)
    customer = CustomerFactory(organization=org)
    run(customer, history)
    today = core_clock.today(org.time_zone)
    start = min(START.date() + dt.timedelta(days=first_day), today)
    statement = statement_for(customer, start, today)
    assert statement.closing_balance == account_balance(customer)
    # Reaching today, the opening comes back from the live balance; summed from history it is the same.
    assert statement.opening_balance.minor == opening_from_history(customer, start, "USD")
    assert (
        statement.opening_balance + statement.total_debits - statement.total_credits
        == statement.closing_balance
    )
    # Two adjacent periods chain: the first one's closing is the second one's opening.
    earlier = statement_for(customer, START.date() - dt.timedelta(days=1), start - dt.timedelta(days=1))
    assert earlier.closing_balance == statement.opening_balance
    running = statement.opening_balance
    for line in statement.lines:
        running = running + (line.debit or Money(0, "USD")) - (line.credit or Money(0, "USD"))
        assert line.balance == running
    assert [line.date for line in statement.lines] == sorted(line.date for line in statement.lines)


def test_statement_lists_each_document_once_in_date_order(customer, clock):
    clock.set("2026-01-10T15:00:00+00:00")
    first = open_invoice(customer, 10000)
    clock.set("2026-02-03T15:00:00+00:00")
    second = open_invoice(customer, 5000)
    payment = pay(customer, 12000, (first, 10000), (second, 2000), received_on=dt.date(2026, 2, 5))
    note = credit_note(customer, 1500)
    statement = statement_for(customer, dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert statement.opening_balance == Money(10000, "USD")
    assert [line.reference for line in statement.lines] == [second.number, note.number, payment.number]
    assert [line.balance.minor for line in statement.lines] == [15000, 13500, 1500]
    assert statement.closing_balance == account_balance(customer) == Money(1500, "USD")


def test_a_void_invoice_is_charged_then_credited(customer, clock):
    invoice = open_invoice(customer, 8000)
    services.void_invoice(invoice=invoice, actor=ACTOR)
    statement = statement_for(customer, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert [(line.kind, line.debit, line.credit) for line in statement.lines] == [
        ("invoice", Money(8000, "USD"), None),
        ("void", None, Money(8000, "USD")),
    ]
    assert statement.closing_balance == Money(0, "USD")


def test_a_refund_is_a_charge_on_the_statement(customer, clock):
    advance = pay(customer, 9000, received_on=dt.date(2026, 3, 2))
    services.refund_payment(
        payment=advance, amount=Money(4000, "USD"), actor=ACTOR, refunded_on=dt.date(2026, 3, 9)
    )
    statement = statement_for(customer, dt.date(2026, 3, 1), dt.date(2026, 3, 10))
    assert [line.kind for line in statement.lines] == ["payment", "refund"]
    assert statement.closing_balance == Money(-5000, "USD") == account_balance(customer)


def test_another_customers_documents_never_appear(customer, outsider_customer, clock):
    open_invoice(outsider_customer, 7000)
    statement = statement_for(customer, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert statement.lines == [] and statement.closing_balance == Money(0, "USD")


def test_period_names():
    today = dt.date(2026, 5, 20)
    assert period_bounds("this_month", today) == (dt.date(2026, 5, 1), today)
    assert period_bounds("last_month", today) == (dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    assert period_bounds("this_quarter", today) == (dt.date(2026, 4, 1), today)
    assert period_bounds("this_year", today) == (dt.date(2026, 1, 1), today)
    assert period_bounds("last_month", dt.date(2026, 1, 5)) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    assert period_bounds("custom", today, dt.date(2026, 2, 1), dt.date(2026, 2, 3)) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 3),
    )


def test_a_period_ending_before_it_starts_is_refused():
    with pytest.raises(StatementPeriodError, match="on or after"):
        period_bounds("custom", dt.date(2026, 5, 20), dt.date(2026, 3, 1), dt.date(2026, 2, 1))


def test_csv_has_opening_every_line_and_closing(customer, clock):
    invoice = open_invoice(customer, 10000)
    pay(
        customer,
        2500,
        (invoice, 2500),
        received_on=dt.date(2026, 3, 10),
        reference="=HYPERLINK(1)",
        method="bank_transfer",
    )
    rows = statement_csv(statement_for(customer, dt.date(2026, 3, 1), dt.date(2026, 3, 31))).splitlines()
    assert (
        rows[1].startswith("2026-03-01,opening")
        and rows[-1] == "2026-03-31,closing,,Closing balance,100.00,25.00,75.00"
    )
    assert len(rows) == 5
    assert rows[3].startswith(
        "2026-03-10,payment,PAY-00001,Payment PAY-00001 · Bank transfer · =HYPERLINK(1)"
    )


def test_csv_cells_never_start_a_formula():
    from portico.billing.statements import _csv_safe

    assert (
        _csv_safe("=SUM(A1)") == "'=SUM(A1)"
        and _csv_safe("@cmd") == "'@cmd"
        and _csv_safe("INV-1") == "INV-1"
    )


def test_a_document_dated_after_today_counts_only_in_the_period_it_falls_in(customer, clock):
    clock.set("2026-03-01T15:00:00+00:00")
    invoice = open_invoice(customer, 10000)
    clock.set("2026-03-10T15:00:00+00:00")
    cheque = pay(customer, 4000, (invoice, 4000), received_on=dt.date(2026, 3, 20))  # post-dated
    to_date = statement_for(customer, dt.date(2026, 3, 1), dt.date(2026, 3, 10))
    assert [line.reference for line in to_date.lines] == [invoice.number]
    assert to_date.closing_balance == Money(10000, "USD")
    month = statement_for(customer, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert [line.reference for line in month.lines] == [invoice.number, cheque.number]
    assert month.closing_balance == account_balance(customer) == Money(6000, "USD")
    later = statement_for(customer, dt.date(2026, 3, 5), dt.date(2026, 3, 10))
    assert later.opening_balance == Money(10000, "USD") and later.lines == []
    assert later.opening_balance.minor == opening_from_history(customer, dt.date(2026, 3, 5), "USD")
