import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.billing import errors, selectors, services, signals
from portico.billing.invariants import ledger_violations
from portico.billing.models import (
    BillingSettings,
    CreditApplication,
    CreditNote,
    Invoice,
    Payment,
    PaymentAllocation,
    Refund,
)
from portico.billing.services import LineInput, price_line
from portico.core.models import AuditEvent
from portico.core.money import Money
from tests.billing.factories import ACTOR, credit_note, draft_invoice, line, open_invoice, pay, taxed
from tests.factories import CustomerFactory


def usd(minor):
    return Money(minor, "USD")


def ledger_rows():
    """Everything a refused request must leave untouched."""
    return (
        list(Invoice.all_tenants.order_by("pk").values_list("pk", "status", "paid_minor", "balance_minor")),
        Payment.all_tenants.count(),
        PaymentAllocation.all_tenants.count(),
        CreditApplication.all_tenants.count(),
        list(CreditNote.all_tenants.order_by("pk").values_list("pk", "status", "remaining_minor")),
        Refund.all_tenants.count(),
        AuditEvent.all_tenants.count(),
    )


@pytest.fixture(autouse=True)
def _invariants_hold_after_each_test(db):
    yield
    assert ledger_violations() == []


# -- line amounts ---------------------------------------------------------------------------------


def test_exclusive_tax_is_added_after_the_discount():
    amounts = price_line(
        LineInput("Work", usd(1999), Decimal(3), Decimal(10), "VAT", Decimal("8.25"), tax_inclusive=False)
    )
    # 3 × 19.99 = 59.97; −10 % = 53.973 → 53.97; tax 8.25 % of 53.97 = 4.4525 → 4.45
    assert (amounts.net_minor, amounts.discount_minor, amounts.tax_minor, amounts.total_minor) == (
        5397,
        600,
        445,
        5842,
    )


def test_inclusive_tax_is_carved_out_of_the_price():
    amounts = price_line(LineInput("Work", usd(12000), tax_percent=Decimal(20), tax_inclusive=True))
    assert (amounts.total_minor, amounts.tax_minor, amounts.net_minor) == (12000, 2000, 10000)


def test_rounding_is_half_up_once_per_line():
    # 0.5 cent exactly: 1 × 0.01 at 50 % discount = 0.005 → 0.01
    assert price_line(LineInput("x", usd(1), discount_percent=Decimal(50))).net_minor == 1
    # 3 × 0.333… would be 0.999 if rounded per unit; once per line: 1.00
    assert price_line(LineInput("x", usd(100), quantity=Decimal("0.3333"))).net_minor == 33


def test_yen_has_no_minor_digits():
    amounts = price_line(LineInput("x", Money(1000, "JPY"), tax_percent=Decimal(10)))
    assert amounts.total_minor == 1100


def test_invoice_totals_are_the_sums_of_rounded_lines(customer):
    invoice = services.create_invoice(
        customer=customer,
        actor=ACTOR,
        lines=[
            taxed(1999, "8.25", quantity=Decimal(3), discount_percent=Decimal(10)),
            taxed(10000, "20", True),
        ],
    )
    assert (invoice.subtotal_minor, invoice.discount_minor, invoice.tax_minor, invoice.total_minor) == (
        5997 + 8333,
        600,
        445 + 1667,
        5842 + 10000,
    )


@pytest.mark.parametrize(
    "bad, field",
    [
        (line(100, description="  "), "description"),
        (line(-1), "unit_price"),
        (line(100, quantity=Decimal(0)), "quantity"),
        (line(100, discount_percent=Decimal(101)), "discount_percent"),
        (line(100, tax_percent=Decimal("-1")), "tax_percent"),
        (line(100, quantity=Decimal("0.00001")), "quantity"),
    ],
)
def test_a_bad_line_is_refused_with_its_field(customer, bad, field):
    before = ledger_rows()
    with pytest.raises(errors.InvalidLine) as refused:
        services.create_invoice(customer=customer, lines=[bad], actor=ACTOR)
    assert refused.value.field == field
    assert ledger_rows() == before


def test_a_line_in_another_currency_is_refused(customer):
    with pytest.raises(errors.CurrencyMismatch):
        services.create_invoice(customer=customer, lines=[line(100, "EUR")], actor=ACTOR)


# -- drafts and finalizing ---------------------------------------------------------------------------


def test_drafts_are_edited_line_by_line(customer):
    invoice = draft_invoice(customer, 1000)
    row = services.add_invoice_line(invoice=invoice, line=line(500), actor=ACTOR)
    services.update_invoice_line(line=row, data=line(700, quantity=Decimal(2)), actor=ACTOR)
    invoice.refresh_from_db()
    assert invoice.total_minor == 2400
    services.remove_invoice_line(line=row, actor=ACTOR)
    invoice.refresh_from_db()
    assert invoice.total_minor == 1000
    assert [a for a in AuditEvent.all_tenants.values_list("action", flat=True).order_by("pk")] == [
        "invoice.created",
        "invoice.line_added",
        "invoice.line_updated",
        "invoice.line_removed",
    ]


def test_finalizing_numbers_invoices_gaplessly_with_the_organizations_prefix(org, customer):
    BillingSettings.objects.create(organization=org, invoice_prefix="RT-", number_digits=4)
    numbers = [open_invoice(customer, 1000).number for _ in range(3)]
    assert numbers == ["RT-0001", "RT-0002", "RT-0003"]


def test_a_failed_finalization_leaves_no_gap(customer):
    first = open_invoice(customer, 1000)
    with pytest.raises(errors.EmptyInvoice):
        services.finalize_invoice(
            invoice=services.create_invoice(customer=customer, actor=ACTOR), actor=ACTOR
        )
    assert first.number == "INV-00001"
    assert open_invoice(customer, 1000).number == "INV-00002"


def test_numbers_are_per_organization(customer, other_org):
    theirs = CustomerFactory(organization=other_org, currency="GBP")
    assert open_invoice(customer).number == "INV-00001"
    assert open_invoice(theirs).number == "INV-00001"


def test_finalizing_snapshots_the_customer_and_dates_in_the_organizations_zone(clock, customer):
    customer.company_name, customer.tax_id, customer.billing_line1 = (
        "Acme Interiors LLC",
        "US-123",
        "1 Elm St",
    )
    customer.save()
    clock.set("2026-03-10T03:00:00+00:00")  # still March 9 in Chicago
    invoice = open_invoice(customer, 1000, payment_terms_days=15)
    assert invoice.issue_date == dt.date(2026, 3, 9)
    assert invoice.due_date == dt.date(2026, 3, 24)
    customer.company_name = "Renamed"
    customer.save()
    invoice.refresh_from_db()
    assert (invoice.bill_to_name, invoice.bill_to_tax_id, invoice.bill_to_address["line1"]) == (
        "Acme Interiors LLC",
        "US-123",
        "1 Elm St",
    )
    assert invoice.status == Invoice.Status.OPEN and invoice.balance_minor == 1000


def test_a_finalized_invoice_cannot_be_edited_or_finalized_again(customer):
    invoice = open_invoice(customer, 1000)
    before = ledger_rows()
    with pytest.raises(errors.InvoiceNotEditable):
        services.add_invoice_line(invoice=invoice, line=line(5), actor=ACTOR)
    with pytest.raises(errors.InvoiceNotEditable):
        services.finalize_invoice(invoice=invoice, actor=ACTOR)
    with pytest.raises(errors.InvoiceNotEditable):
        services.update_invoice_line(line=invoice.lines.get(), data=line(1), actor=ACTOR)
    assert ledger_rows() == before


def test_the_finalized_signal_is_sent_after_commit_only(customer, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, invoice, **kwargs):
        received.append(invoice.number)

    signals.invoice_finalized.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            invoice = services.finalize_invoice(invoice=draft_invoice(customer), actor=ACTOR)
            assert received == []
        assert received == [invoice.number]
    finally:
        signals.invoice_finalized.disconnect(receiver)


def test_a_zero_invoice_is_paid_when_finalized(customer):
    invoice = open_invoice(customer, 0)
    assert invoice.status == Invoice.Status.PAID


def test_sending_an_invoice_emails_the_customer(customer, mailbox, django_capture_on_commit_callbacks):
    invoice = open_invoice(customer, 12345)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_invoice(invoice=invoice, actor=ACTOR)
    [message] = mailbox.to(customer.email)
    assert invoice.number in message["Subject"]
    assert "$123.45" in mailbox.body(message)
    assert f"/portal/invoices/{invoice.number}/" in mailbox.body(message)
    invoice.refresh_from_db()
    assert invoice.sent_at is not None


def test_a_draft_cannot_be_sent(customer, mailbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(errors.InvalidStatus):
        services.send_invoice(invoice=draft_invoice(customer), actor=ACTOR)
    assert mailbox.messages == []


def test_voiding_an_unpaid_invoice_keeps_its_number(customer):
    invoice = services.void_invoice(invoice=open_invoice(customer, 1000), actor=ACTOR, reason="Duplicate")
    assert (invoice.status, invoice.number, invoice.balance_minor) == (Invoice.Status.VOID, "INV-00001", 0)
    assert selectors.account_balance(customer) == usd(0)


def test_an_invoice_with_payments_cannot_be_voided(customer):
    invoice = open_invoice(customer, 1000)
    pay(customer, 100, (invoice, 100))
    before = ledger_rows()
    with pytest.raises(errors.VoidRefused):
        services.void_invoice(invoice=invoice, actor=ACTOR)
    assert ledger_rows() == before


# -- payments ----------------------------------------------------------------------------------------


def test_a_partial_payment_leaves_the_invoice_partially_paid(customer):
    invoice = open_invoice(customer, 10000)
    payment = pay(customer, 4000, (invoice, 4000))
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_minor, invoice.balance_minor) == (
        Invoice.Status.PARTIALLY_PAID,
        4000,
        6000,
    )
    assert (payment.number, payment.allocated_minor, payment.unused_minor) == ("PAY-00001", 4000, 0)
    assert AuditEvent.all_tenants.filter(action="payment.recorded").count() == 1


def test_one_payment_settles_several_invoices_and_keeps_the_rest_as_an_advance(customer):
    first, second = open_invoice(customer, 3000), open_invoice(customer, 5000)
    payment = pay(customer, 10000, (first, 3000), (second, 5000))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == Invoice.Status.PAID
    assert payment.unused == usd(2000)
    assert selectors.account_balance(customer) == usd(-2000)
    [advance] = selectors.unused_credits_of(customer)
    assert (advance.kind, advance.remaining) == ("advance", usd(2000))


def test_paying_more_than_the_balance_is_refused(customer):
    invoice = open_invoice(customer, 1000)
    before = ledger_rows()
    with pytest.raises(errors.AmountExceedsBalance) as refused:
        pay(customer, 1500, (invoice, 1500))
    assert "$10.00" in refused.value.message
    assert ledger_rows() == before


def test_allocating_more_than_the_payment_is_refused(customer):
    invoice = open_invoice(customer, 1000)
    before = ledger_rows()
    with pytest.raises(errors.AllocationExceedsPayment):
        pay(customer, 500, (invoice, 800))
    assert ledger_rows() == before


@pytest.mark.parametrize("state", ["draft", "paid", "void"])
def test_paying_an_invoice_that_is_not_open_is_refused(customer, state):
    invoice = draft_invoice(customer, 1000)
    if state != "draft":
        invoice = services.finalize_invoice(invoice=invoice, actor=ACTOR)
    if state == "paid":
        pay(customer, 1000, (invoice, 1000))
    if state == "void":
        services.void_invoice(invoice=invoice, actor=ACTOR)
    before = ledger_rows()
    with pytest.raises(errors.InvoiceNotPayable):
        pay(customer, 100, (invoice, 100))
    assert ledger_rows() == before


def test_paying_another_customers_invoice_is_refused(customer, outsider_customer):
    theirs = open_invoice(outsider_customer, 1000)
    before = ledger_rows()
    with pytest.raises(errors.InvoiceNotFound):
        pay(customer, 1000, (theirs, 1000))
    assert ledger_rows() == before


def test_paying_another_organizations_invoice_is_refused(customer, other_org):
    theirs = open_invoice(CustomerFactory(organization=other_org, currency="USD"), 1000)
    with pytest.raises(errors.InvoiceNotFound):
        pay(customer, 1000, (theirs, 1000))
    assert Payment.all_tenants.count() == 0


def test_mixing_currencies_is_refused(customer):
    invoice = open_invoice(customer, 1000)
    before = ledger_rows()
    with pytest.raises(errors.CurrencyMismatch):
        services.record_payment(
            customer=customer,
            amount=Money(1000, "EUR"),
            allocations=[(invoice, Money(1000, "EUR"))],
            method="card",
            received_on=dt.date(2026, 3, 10),
            actor=ACTOR,
        )
    with pytest.raises(errors.CurrencyMismatch):
        services.record_payment(
            customer=customer,
            amount=usd(1000),
            allocations=[(invoice, Money(1000, "EUR"))],
            method="card",
            received_on=dt.date(2026, 3, 10),
            actor=ACTOR,
        )
    assert ledger_rows() == before


@pytest.mark.parametrize("minor", [0, -100])
def test_a_payment_must_be_positive(customer, minor):
    with pytest.raises(errors.InvalidAmount):
        pay(customer, minor)
    assert Payment.all_tenants.count() == 0


def test_the_same_idempotency_key_pays_once(customer):
    invoice = open_invoice(customer, 1000)
    first = pay(customer, 600, (invoice, 600), idempotency_key="checkout:1")
    second = pay(customer, 600, (invoice, 600), idempotency_key="checkout:1")
    assert first.pk == second.pk
    invoice.refresh_from_db()
    assert invoice.paid_minor == 600
    assert Payment.all_tenants.count() == 1


def test_an_online_payment_keeps_only_card_brand_and_last_four(customer):
    invoice = open_invoice(customer, 1000)
    payment = pay(
        customer,
        1000,
        (invoice, 1000),
        method=Payment.Method.CARD,
        channel=Payment.Channel.ONLINE,
        gateway="test",
        gateway_reference="ch_123",
        card_brand="visa",
        card_last4="4242",
    )
    assert (payment.channel, payment.card_brand, payment.card_last4) == ("online", "visa", "4242")


def test_an_advance_is_allocated_to_a_later_invoice(customer):
    payment = pay(customer, 5000)
    invoice = open_invoice(customer, 3000)
    services.allocate_payment(payment=payment, allocations=[(invoice, usd(3000))], actor=ACTOR)
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.allocated_minor, payment.unused_minor, invoice.status) == (
        3000,
        2000,
        Invoice.Status.PAID,
    )
    later = open_invoice(customer, 9000)
    before = ledger_rows()
    with pytest.raises(errors.AllocationExceedsPayment):
        services.allocate_payment(payment=payment, allocations=[(later, usd(2500))], actor=ACTOR)
    assert ledger_rows() == before


def test_only_unused_money_is_refunded(customer):
    invoice = open_invoice(customer, 3000)
    payment = pay(customer, 5000, (invoice, 3000))
    before = ledger_rows()
    with pytest.raises(errors.RefundTooLarge):
        services.refund_payment(payment=payment, amount=usd(2001), actor=ACTOR)
    assert ledger_rows() == before
    refund = services.refund_payment(payment=payment, amount=usd(2000), actor=ACTOR, reason="Overpaid")
    payment.refresh_from_db()
    assert (refund.amount, refund.method, payment.unused_minor, payment.refunded_minor) == (
        usd(2000),
        "bank_transfer",
        0,
        2000,
    )


def test_new_invoices_use_unused_credit_when_the_organization_turns_it_on(org, customer):
    BillingSettings.objects.create(organization=org, auto_apply_credits=True)
    note = credit_note(customer, 1500)
    payment = pay(customer, 1000)
    invoice = open_invoice(customer, 2000)
    assert (invoice.credited_minor, invoice.paid_minor, invoice.balance_minor) == (1500, 500, 0)
    assert invoice.status == Invoice.Status.PAID
    note.refresh_from_db()
    payment.refresh_from_db()
    assert (note.status, payment.unused_minor) == (CreditNote.Status.CLOSED, 500)


def test_credit_stays_unused_when_auto_apply_is_off(customer):
    credit_note(customer, 1500)
    invoice = open_invoice(customer, 2000)
    assert invoice.balance_minor == 2000


# -- credit notes ------------------------------------------------------------------------------------


def test_a_credit_note_for_an_invoice_is_applied_and_the_rest_kept(customer):
    invoice = open_invoice(customer, 10000)
    pay(customer, 9000, (invoice, 9000))
    note = credit_note(customer, 2500, invoice=invoice, apply_to_invoice=True, reason="Damaged tile")
    invoice.refresh_from_db()
    assert (note.number, note.applied_minor, note.remaining_minor) == ("CN-00001", 1000, 1500)
    assert invoice.status == Invoice.Status.PAID
    assert selectors.account_balance(customer) == usd(-1500)


def test_a_credit_note_cannot_credit_more_than_its_invoice(customer):
    invoice = open_invoice(customer, 10000)
    credit_note(customer, 6000, invoice=invoice)
    with pytest.raises(errors.CreditTooLarge) as refused:
        credit_note(customer, 4001, invoice=invoice)
    assert "$40.00" in refused.value.message
    assert CreditNote.all_tenants.count() == 1


def test_applying_more_credit_than_available_is_refused(customer):
    note = credit_note(customer, 1000)
    invoice = open_invoice(customer, 5000)
    before = ledger_rows()
    with pytest.raises(errors.CreditTooLarge):
        services.apply_credit(credit_note=note, invoice=invoice, amount=usd(1001), actor=ACTOR)
    assert ledger_rows() == before
    services.apply_credit(credit_note=note, invoice=invoice, amount=usd(1000), actor=ACTOR)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance_minor) == (Invoice.Status.PARTIALLY_PAID, 4000)


def test_credit_cannot_be_applied_to_another_customers_invoice(customer, outsider_customer):
    note = credit_note(customer, 1000)
    theirs = open_invoice(outsider_customer, 5000)
    with pytest.raises(errors.InvoiceNotFound):
        services.apply_credit(credit_note=note, invoice=theirs, amount=usd(100), actor=ACTOR)
    assert CreditApplication.all_tenants.count() == 0


def test_remaining_credit_is_refunded(customer):
    note = credit_note(customer, 1000)
    with pytest.raises(errors.RefundTooLarge):
        services.refund_credit_note(credit_note=note, amount=usd(1001), actor=ACTOR)
    services.refund_credit_note(credit_note=note, amount=usd(1000), actor=ACTOR)
    note.refresh_from_db()
    assert (note.status, note.refunded_minor, note.remaining_minor) == (CreditNote.Status.CLOSED, 1000, 0)
    assert Refund.all_tenants.get().credit_note == note


def test_an_unused_credit_note_can_be_voided(customer):
    note = services.void_credit_note(credit_note=credit_note(customer, 1000), actor=ACTOR)
    assert (note.status, note.remaining_minor) == (CreditNote.Status.VOID, 0)
    assert selectors.account_balance(customer) == usd(0)


# -- selectors ---------------------------------------------------------------------------------------


def test_the_account_balance_is_open_balances_less_unused_credit(customer, outsider_customer):
    a, b = open_invoice(customer, 10000), open_invoice(customer, 5000)
    pay(customer, 2500, (a, 2000))
    credit_note(customer, 1000)
    open_invoice(outsider_customer, 99999)
    assert selectors.outstanding_of(customer) == usd(13000)
    assert selectors.unused_credit_total_of(customer) == usd(1500)
    assert selectors.account_balance(customer) == usd(11500)
    assert list(selectors.open_invoices_of(customer)) == [a, b]


def test_selectors_cost_the_same_queries_for_many_rows(customer):
    def count():
        with CaptureQueriesContext(connection) as queries:
            selectors.account_balance(customer)
            list(selectors.open_invoices_of(customer))
            [c.remaining for c in selectors.unused_credits_of(customer)]
        return len(queries)

    open_invoice(customer, 1000)
    credit_note(customer, 10)
    few = count()
    for _ in range(5):
        open_invoice(customer, 1000)
        credit_note(customer, 10)
        pay(customer, 10)
    assert count() == few


def test_a_customer_without_email_gets_a_clear_error_when_sending(customer):
    customer.email = ""
    customer.save()
    invoice = open_invoice(customer, 1000)
    with pytest.raises(errors.BillingError, match="no email address"):
        services.send_invoice(invoice=invoice, actor=ACTOR)


def test_a_yen_account_is_billed_and_paid_in_whole_yen(org):
    customer = CustomerFactory(organization=org, currency="JPY")
    invoice = services.finalize_invoice(
        invoice=services.create_invoice(
            customer=customer, lines=[taxed(1999, "10", currency="JPY", quantity=Decimal(3))], actor=ACTOR
        ),
        actor=ACTOR,
    )
    assert (invoice.tax_minor, invoice.total_minor) == (600, 6597)  # 5997 + 599.7 → 600
    pay(customer, 6597, (invoice, 6597))
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert str(invoice.total) == "¥6,597"


def test_an_unknown_payment_method_is_refused(customer):
    with pytest.raises(errors.BillingError) as refused:
        pay(customer, 100, method="bitcoin")
    assert refused.value.field == "method"
    assert Payment.all_tenants.count() == 0


def test_negative_payment_terms_are_refused(customer):
    with pytest.raises(errors.BillingError):
        draft_invoice(customer, 100, payment_terms_days=-1)
    assert Invoice.all_tenants.count() == 0


def test_a_draft_or_void_credit_note_gives_no_credit(customer):
    invoice = open_invoice(customer, 5000)
    draft = services.create_credit_note(customer=customer, lines=[line(1000)], actor=ACTOR)
    voided = services.void_credit_note(credit_note=credit_note(customer, 1000), actor=ACTOR)
    before = ledger_rows()
    for note in (draft, voided):
        with pytest.raises(errors.InvalidStatus):
            services.apply_credit(credit_note=note, invoice=invoice, amount=usd(100), actor=ACTOR)
        with pytest.raises(errors.InvalidStatus):
            services.refund_credit_note(credit_note=note, amount=usd(100), actor=ACTOR)
    assert ledger_rows() == before


def test_a_credit_note_cannot_correct_a_draft_or_void_invoice(customer):
    draft = draft_invoice(customer, 1000)
    voided = services.void_invoice(invoice=open_invoice(customer, 1000), actor=ACTOR)
    for invoice in (draft, voided):
        with pytest.raises(errors.InvalidStatus):
            credit_note(customer, 100, invoice=invoice)
    assert CreditNote.all_tenants.count() == 0


def test_an_issued_credit_note_cannot_be_edited(customer):
    note = credit_note(customer, 1000)
    with pytest.raises(errors.InvalidStatus):
        services.add_credit_note_line(credit_note=note, line=line(5), actor=ACTOR)
    with pytest.raises(errors.InvalidStatus):
        services.finalize_credit_note(credit_note=note, actor=ACTOR)
    note.refresh_from_db()
    assert (note.total_minor, note.number) == (1000, "CN-00001")


def test_a_used_credit_note_cannot_be_voided(customer):
    note = credit_note(customer, 1000)
    services.refund_credit_note(credit_note=note, amount=usd(1), actor=ACTOR)
    with pytest.raises(errors.InvalidStatus):
        services.void_credit_note(credit_note=note, actor=ACTOR)


def test_a_draft_invoice_can_be_deleted_but_not_an_issued_one(customer):
    draft = draft_invoice(customer, 1000)
    services.delete_draft_invoice(invoice=draft, actor=ACTOR)
    issued = open_invoice(customer, 1000)
    with pytest.raises(errors.InvoiceNotEditable):
        services.delete_draft_invoice(invoice=issued, actor=ACTOR)
    assert list(Invoice.all_tenants.values_list("number", flat=True)) == ["INV-00001"]


def test_an_idempotency_key_of_another_customer_is_refused(customer, outsider_customer):
    pay(customer, 100, idempotency_key="k-1")
    with pytest.raises(errors.BillingError):
        pay(outsider_customer, 100, idempotency_key="k-1")
    assert Payment.all_tenants.count() == 1
