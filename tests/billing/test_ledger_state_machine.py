"""Random histories of the ledger. After every step every invariant of DESIGN.md holds in the
database, and each document's balance matches a shadow model kept here, independently of the
services: what each invoice still owes, what each credit note and payment has left."""

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from portico.billing import errors, selectors, services
from portico.billing.invariants import ledger_violations
from portico.billing.models import BillingSettings, CreditNote, Invoice, Payment
from portico.core import clock
from portico.core.money import Money
from tests.billing.factories import ACTOR, line
from tests.factories import CustomerFactory, OrganizationFactory

amounts = st.integers(min_value=1, max_value=50_000)
pick = st.integers(min_value=0, max_value=10_000)
share = st.fractions(min_value=0, max_value=1)
excess = st.integers(min_value=1, max_value=2) | amounts  # just over the limit, or far over
RECEIVED = dt.date(2026, 3, 10)


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def chosen(keys, index):
    keys = sorted(keys)
    return keys[index % len(keys)]


def part_of(total: int, fraction) -> int:
    return max(1, int(total * fraction))


class Ledger(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()  # each history is rolled back in teardown
        clock.freeze(dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC))  # released by the autouse fixture
        self.organization = OrganizationFactory()
        self.customer = CustomerFactory(organization=self.organization, currency="USD")
        # the shadow model
        self.drafts: set[int] = set()
        self.owed: dict[int, int] = {}  # issued, not void invoice → balance
        self.touched: set[int] = set()  # invoices with a payment or credit
        self.credit_left: dict[int, int] = {}  # credit note → remaining
        self.advance_left: dict[int, int] = {}  # payment → unused
        self.auto_apply = False

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def open_invoices(self):
        return {pk for pk, balance in self.owed.items() if balance}

    def notes_with_credit(self):
        return {pk for pk, left in self.credit_left.items() if left}

    def advances(self):
        return {pk for pk, left in self.advance_left.items() if left}

    def invoice(self, pk) -> Invoice:
        return Invoice.all_tenants.get(pk=pk)

    # -- rules -------------------------------------------------------------------------------------

    @initialize(auto_apply=st.booleans())
    def start_with_an_invoice(self, auto_apply):
        if auto_apply:
            self.toggle_auto_apply()
        self.create_invoice([10_000], finalize=True)

    @rule(line_amounts=st.lists(amounts, min_size=1, max_size=3), finalize=st.booleans())
    def create_invoice(self, line_amounts, finalize):
        invoice = services.create_invoice(
            customer=self.customer, lines=[line(a) for a in line_amounts], actor=ACTOR
        )
        if finalize:
            invoice = services.finalize_invoice(invoice=invoice, actor=ACTOR)
            self.issued(invoice.pk, sum(line_amounts))
        else:
            self.drafts.add(invoice.pk)

    @precondition(lambda self: self.drafts)
    @rule(index=pick)
    def finalize_a_draft(self, index):
        pk = chosen(self.drafts, index)
        invoice = services.finalize_invoice(invoice=self.invoice(pk), actor=ACTOR)
        self.drafts.remove(pk)
        self.issued(pk, invoice.total_minor)

    def issued(self, pk, total):
        """A new invoice owes its total, less unused credit when auto-apply is on: credit notes
        first, then advances, oldest first (all share one date here, so by id)."""
        self.owed[pk] = total
        if not self.auto_apply:
            return
        for left in (self.credit_left, self.advance_left):
            for source in sorted(k for k, v in left.items() if v):
                used = min(left[source], self.owed[pk])
                left[source] -= used
                self.owed[pk] -= used
                if used:
                    self.touched.add(pk)

    @rule()
    def toggle_auto_apply(self):
        self.auto_apply = not self.auto_apply
        BillingSettings.all_tenants.update_or_create(
            organization=self.organization, defaults={"auto_apply_credits": self.auto_apply}
        )

    @precondition(lambda self: self.open_invoices())
    @rule(index=pick, fraction=share)
    def pay_partially(self, index, fraction):
        pk = chosen(self.open_invoices(), index)
        amount = part_of(self.owed[pk], fraction)
        services.record_payment(
            customer=self.customer,
            amount=usd(amount),
            allocations=[(self.invoice(pk), usd(amount))],
            method=Payment.Method.CARD,
            received_on=RECEIVED,
            actor=ACTOR,
        )
        self.owed[pk] -= amount
        self.touched.add(pk)

    @rule(extra=amounts, how_many=st.integers(min_value=0, max_value=3))
    def overpay_into_an_advance(self, extra, how_many):
        paid = sorted(self.open_invoices())[:how_many]
        total = sum(self.owed[pk] for pk in paid) + extra
        payment = services.record_payment(
            customer=self.customer,
            amount=usd(total),
            allocations=[(self.invoice(pk), usd(self.owed[pk])) for pk in paid],
            method=Payment.Method.BANK_TRANSFER,
            received_on=RECEIVED,
            actor=ACTOR,
        )
        for pk in paid:
            self.owed[pk] = 0
            self.touched.add(pk)
        self.advance_left[payment.pk] = extra

    @precondition(lambda self: self.open_invoices())
    @rule(index=pick, extra=excess)
    def paying_more_than_the_balance_is_refused(self, index, extra):
        pk = chosen(self.open_invoices(), index)
        too_much = usd(self.owed[pk] + extra)
        with pytest.raises(errors.AmountExceedsBalance):
            services.record_payment(
                customer=self.customer,
                amount=too_much,
                allocations=[(self.invoice(pk), too_much)],
                method=Payment.Method.CARD,
                received_on=RECEIVED,
                actor=ACTOR,
            )

    @rule(amount=amounts)
    def issue_a_standalone_credit_note(self, amount):
        note = services.issue_credit_note(customer=self.customer, lines=[line(amount)], actor=ACTOR)
        self.credit_left[note.pk] = amount

    @precondition(lambda self: self.open_invoices())
    @rule(index=pick, fraction=share, apply=st.booleans())
    def credit_part_of_an_invoice(self, index, fraction, apply):
        pk = chosen(self.open_invoices(), index)
        invoice = self.invoice(pk)
        already = sum(n.total_minor for n in CreditNote.all_tenants.filter(invoice=invoice))
        amount = part_of(invoice.total_minor, fraction)
        if amount > invoice.total_minor - already:
            with pytest.raises(errors.CreditTooLarge):
                services.issue_credit_note(
                    customer=self.customer, lines=[line(amount)], invoice=invoice, actor=ACTOR
                )
            return
        note = services.issue_credit_note(
            customer=self.customer, lines=[line(amount)], invoice=invoice, actor=ACTOR, apply_to_invoice=apply
        )
        applied = min(amount, self.owed[pk]) if apply else 0
        self.credit_left[note.pk] = amount - applied
        self.owed[pk] -= applied
        if applied:
            self.touched.add(pk)

    @precondition(lambda self: self.notes_with_credit() and self.open_invoices())
    @rule(note_index=pick, invoice_index=pick, fraction=share)
    def apply_credit(self, note_index, invoice_index, fraction):
        note_pk, pk = (
            chosen(self.notes_with_credit(), note_index),
            chosen(self.open_invoices(), invoice_index),
        )
        amount = part_of(min(self.credit_left[note_pk], self.owed[pk]), fraction)
        services.apply_credit(
            credit_note=CreditNote.all_tenants.get(pk=note_pk),
            invoice=self.invoice(pk),
            amount=usd(amount),
            actor=ACTOR,
        )
        self.credit_left[note_pk] -= amount
        self.owed[pk] -= amount
        self.touched.add(pk)

    @precondition(lambda self: self.advances() and self.open_invoices())
    @rule(payment_index=pick, invoice_index=pick, fraction=share)
    def allocate_an_advance(self, payment_index, invoice_index, fraction):
        payment_pk, pk = chosen(self.advances(), payment_index), chosen(self.open_invoices(), invoice_index)
        amount = part_of(min(self.advance_left[payment_pk], self.owed[pk]), fraction)
        services.allocate_payment(
            payment=Payment.all_tenants.get(pk=payment_pk),
            allocations=[(self.invoice(pk), usd(amount))],
            actor=ACTOR,
        )
        self.advance_left[payment_pk] -= amount
        self.owed[pk] -= amount
        self.touched.add(pk)

    @precondition(lambda self: self.advances())
    @rule(index=pick, fraction=share)
    def refund_an_advance(self, index, fraction):
        pk = chosen(self.advances(), index)
        amount = part_of(self.advance_left[pk], fraction)
        services.refund_payment(payment=Payment.all_tenants.get(pk=pk), amount=usd(amount), actor=ACTOR)
        self.advance_left[pk] -= amount

    @precondition(lambda self: self.advances())
    @rule(index=pick, extra=excess)
    def refunding_more_than_is_unused_is_refused(self, index, extra):
        pk = chosen(self.advances(), index)
        with pytest.raises(errors.RefundTooLarge):
            services.refund_payment(
                payment=Payment.all_tenants.get(pk=pk), amount=usd(self.advance_left[pk] + extra), actor=ACTOR
            )

    @precondition(lambda self: self.notes_with_credit())
    @rule(index=pick, fraction=share)
    def refund_credit(self, index, fraction):
        pk = chosen(self.notes_with_credit(), index)
        amount = part_of(self.credit_left[pk], fraction)
        services.refund_credit_note(
            credit_note=CreditNote.all_tenants.get(pk=pk), amount=usd(amount), actor=ACTOR
        )
        self.credit_left[pk] -= amount

    @precondition(lambda self: self.owed)
    @rule(index=pick)
    def void(self, index):
        pk = chosen(self.owed, index)
        if pk in self.touched:
            with pytest.raises(errors.VoidRefused):
                services.void_invoice(invoice=self.invoice(pk), actor=ACTOR)
            return
        services.void_invoice(invoice=self.invoice(pk), actor=ACTOR)
        del self.owed[pk]

    # -- after every step ---------------------------------------------------------------------------

    @invariant()
    def every_ledger_invariant_holds(self):
        assert ledger_violations(self.organization) == []

    @invariant()
    def documents_match_the_shadow_model(self):
        invoices = dict(
            Invoice.all_tenants.filter(customer=self.customer)
            .exclude(status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID])
            .values_list("pk", "balance_minor")
        )
        assert invoices == self.owed
        expected_status = {
            pk: "paid" if not owed else "partially_paid" if pk in self.touched else "open"
            for pk, owed in self.owed.items()
        }
        assert (
            dict(Invoice.all_tenants.filter(pk__in=self.owed).values_list("pk", "status")) == expected_status
        )
        notes = dict(
            CreditNote.all_tenants.filter(customer=self.customer).values_list("pk", "remaining_minor")
        )
        assert notes == self.credit_left
        unused = dict(
            Payment.all_tenants.filter(customer=self.customer, unused_minor__gt=0).values_list(
                "pk", "unused_minor"
            )
        )
        assert unused == {pk: left for pk, left in self.advance_left.items() if left}

    @invariant()
    def the_account_balance_is_what_is_owed_less_what_is_unused(self):
        expected = sum(self.owed.values()) - sum(self.credit_left.values()) - sum(self.advance_left.values())
        assert selectors.account_balance(self.customer) == usd(expected)


def test_random_ledger_histories_keep_every_invariant(db):
    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=20,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )
