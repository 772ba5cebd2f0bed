"""Every change to the ledger. Each service names its actor, runs in one transaction, locks what
it changes, audits, and returns the changed object or raises a `billing.errors` error before
writing anything.

Locks are always taken in one order — the customer row first, then invoices, payments and credit
notes, each set by primary key — so two services can never deadlock, and every money movement of
one customer is serialized (DESIGN.md "Money and ledger invariants"). The invariants
  invoice.balance = total − Σ allocations − Σ credit applications ≥ 0
  payment.amount = Σ allocations + unused + refunded
  credit_note.total = Σ applications + remaining + refunded
hold after every service; the single-row parts are also database constraints.

Why one module of about a thousand lines: every function here takes its locks through the same
helpers (`_lock_customer`, `_lock`, the locked number counter `_next_number`) and drafts of both
kinds share one editing mechanism (`_DraftKind`); kept together, the lock order above sits beside
every function that must follow it. Read it by section: lines (checked and priced through
`billing.pricing`), helpers, invoices, payments, credit notes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from portico.billing import errors, signals
from portico.billing.models import (
    BillingSettings,
    CreditApplication,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    NumberSequence,
    Payment,
    PaymentAllocation,
    Refund,
)
from portico.billing.pricing import LineAmounts, document_totals, line_amounts
from portico.core import bulk, clock, outbox, tenancy
from portico.core.audit import Actor, audit
from portico.core.fields import new_random_id
from portico.core.money import Money
from portico.customers.models import Customer

logger = logging.getLogger(__name__)

FOUR_PLACES = Decimal("0.0001")


# -- lines ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    """What staff (or a bill run) type for one line. Amounts are computed from it, once."""

    description: str
    unit_price: Money
    quantity: Decimal = Decimal(1)
    discount_percent: Decimal = Decimal(0)
    tax_name: str = ""
    tax_percent: Decimal = Decimal(0)
    tax_inclusive: bool = False
    period_start: dt.date | None = None
    period_end: dt.date | None = None

    def taxed(self, tax_rate) -> LineInput:
        """The same line with a catalog `TaxRate` (or none) copied onto it."""
        if tax_rate is None:
            return replace(self, tax_name="", tax_percent=Decimal(0), tax_inclusive=False)
        return replace(
            self, tax_name=tax_rate.name, tax_percent=tax_rate.percent, tax_inclusive=tax_rate.is_inclusive
        )

    @classmethod
    def of_item(cls, item, quantity: Decimal | int = 1, **overrides) -> LineInput:
        line = cls(
            description=item.description or item.name,
            unit_price=item.unit_price,
            quantity=Decimal(quantity),
        ).taxed(item.tax_rate)
        return replace(line, **overrides)

    @classmethod
    def of_line(cls, line) -> LineInput:
        """The inputs of a stored invoice or credit note line (to copy it)."""
        return cls(
            description=line.description,
            unit_price=Money(line.unit_price_minor, _document_of(line).currency),
            quantity=line.quantity,
            discount_percent=line.discount_percent,
            tax_name=line.tax_name,
            tax_percent=line.tax_rate,
            tax_inclusive=line.tax_inclusive,
            period_start=line.period_start,
            period_end=line.period_end,
        )


def price_line(line: LineInput) -> LineAmounts:
    """A line's amounts (`billing.pricing`: discount, then tax, rounded once per line)."""
    return line_amounts(
        line.quantity, line.unit_price, line.discount_percent, line.tax_percent, line.tax_inclusive
    )


def check_line(line: LineInput, currency: str) -> None:
    """Raise `InvalidLine` / `CurrencyMismatch` for a line that cannot be saved (forms call it too)."""
    if not line.description.strip():
        raise errors.InvalidLine(_("Each line needs a description."), field="description")
    if line.unit_price.currency != currency:
        raise errors.CurrencyMismatch(currency, line.unit_price.currency)
    if line.unit_price.minor < 0:
        raise errors.InvalidLine(_("A unit price cannot be negative."), field="unit_price")
    for value, name, low, high in (
        (line.quantity, "quantity", Decimal(0), Decimal("9999999999")),
        (line.discount_percent, "discount_percent", Decimal(0), Decimal(100)),
        (line.tax_percent, "tax_percent", Decimal(0), Decimal(100)),
    ):
        value = Decimal(value)
        if not value.is_finite() or value != value.quantize(FOUR_PLACES):
            raise errors.InvalidLine(_("Use at most four decimal places."), field=name)
        if value < low or value > high:
            raise errors.InvalidLine(
                _("%(field)s must be between %(low)s and %(high)s.")
                % {"field": name.replace("_", " ").capitalize(), "low": low, "high": high},
                field=name,
            )
    if line.quantity <= 0:
        raise errors.InvalidLine(_("The quantity must be more than zero."), field="quantity")
    if line.period_start and line.period_end and line.period_end < line.period_start:
        raise errors.InvalidLine(_("A period cannot end before it starts."), field="period_end")


def _write_line(row, line: LineInput) -> None:
    amounts = price_line(line)
    row.description = line.description.strip()
    row.quantity = Decimal(line.quantity)
    row.unit_price_minor = line.unit_price.minor
    row.discount_percent = Decimal(line.discount_percent)
    row.tax_name = line.tax_name
    row.tax_rate = Decimal(line.tax_percent)
    row.tax_inclusive = line.tax_inclusive
    row.period_start, row.period_end = line.period_start, line.period_end
    row.discount_minor = amounts.discount_minor
    row.net_minor = amounts.net_minor
    row.tax_minor = amounts.tax_minor
    row.total_minor = amounts.total_minor


def _document_of(line):
    return line.invoice if isinstance(line, InvoiceLine) else line.credit_note


def _set_totals(document, lines) -> None:
    """A document's totals are the sums of its lines' rounded amounts (never re-rounded)."""
    currency = document.currency
    totals = document_totals(
        (
            LineAmounts(
                net=Money(line.net_minor, currency),
                discount=Money(line.discount_minor, currency),
                tax=Money(line.tax_minor, currency),
                total=Money(line.total_minor, currency),
            )
            for line in lines
        ),
        currency,
    )
    if isinstance(document, Invoice):
        document.subtotal_minor = totals.subtotal.minor
        document.discount_minor = totals.discount.minor
    else:
        document.subtotal_minor = totals.net.minor
    document.tax_minor = totals.tax.minor
    document.total_minor = totals.total.minor


# -- helpers ----------------------------------------------------------------------------------------


def billing_settings(organization) -> BillingSettings:
    """The organization's billing settings; loaded with the request's organization (no query)."""
    return tenancy.related_setting(organization, "billing", BillingSettings)


def _lock_customer(customer: Customer) -> Customer:
    return Customer.all_tenants.select_for_update(of=("self",)).get(pk=customer.pk)


def _lock_customer_in(customer: Customer, currency: str) -> Customer:
    """Lock the customer before its first document is written: its currency is fixed from then on
    (customers.services.update_company checks under the same lock), so it must still be `currency`."""
    locked = _lock_customer(customer)
    if locked.currency != currency:
        raise errors.CurrencyMismatch(locked.currency, currency)
    return locked


def _lock(model, pks: Iterable[int]) -> list:
    return list(model.all_tenants.filter(pk__in=set(pks)).order_by("pk").select_for_update(of=("self",)))


def _lock_one(model, pk: int):
    return _lock(model, [pk])[0]


def _next_number(organization, kind: str, prefix: str, digits: int) -> str:
    """The next gapless number: the counter row is locked until the transaction ends, and rolls
    back with it, so a failed finalization leaves no hole (never `Max(number) + 1`)."""
    locked = NumberSequence.all_tenants.select_for_update().filter(organization=organization, kind=kind)
    sequence = locked.first()
    if sequence is None:
        try:
            with transaction.atomic():
                NumberSequence.all_tenants.create(organization=organization, kind=kind)
        except IntegrityError:
            pass  # created by a concurrent transaction; lock theirs
        sequence = locked.get()
    value = sequence.next_value
    sequence.next_value = value + 1
    sequence.save(update_fields=["next_value"])
    return f"{prefix}{value:0{digits}d}"


@dataclass(frozen=True)
class NumberBlock:
    """`count` consecutive numbers taken at once (`take_numbers`), handed out in order by `take()`."""

    first: int
    count: int
    prefix: str
    digits: int

    def format(self, value: int) -> str:
        return f"{self.prefix}{value:0{self.digits}d}"

    def __iter__(self):
        return (self.format(value) for value in range(self.first, self.first + self.count))

    def __len__(self) -> int:
        return self.count


def take_numbers(organization, kind: str, count: int) -> NumberBlock:
    """Take a block of `count` consecutive gapless numbers in one locked UPDATE … RETURNING.

    Must run inside the transaction that uses them: the counter row stays locked until it ends and
    rolls back with it, so the block is used whole (the caller numbers exactly `count` documents) or
    not at all. A bill run batch takes its block last, just before inserting its invoices, so the
    counter is held for the batch's insert and commit only, not for its pricing."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("take_numbers() runs inside the transaction that uses the numbers")
    if count < 0:
        raise ValueError("count must not be negative")
    settings = billing_settings(organization)
    prefix, digits = {
        NumberSequence.Kind.INVOICE: (settings.invoice_prefix, settings.number_digits),
        NumberSequence.Kind.CREDIT_NOTE: (settings.credit_note_prefix, settings.number_digits),
        NumberSequence.Kind.PAYMENT: (settings.payment_prefix, settings.number_digits),
    }[NumberSequence.Kind(kind)]
    table = NumberSequence._meta.db_table
    sql = (
        f"UPDATE {table} SET next_value = next_value + %s "  # noqa: S608 (no user input)
        "WHERE organization_id = %s AND kind = %s RETURNING next_value"
    )
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(sql, [count, organization.pk, kind])
        row = cursor.fetchone()
        if row is None:
            try:
                with transaction.atomic():
                    NumberSequence.all_tenants.create(organization=organization, kind=kind)
            except IntegrityError:
                pass  # created by a concurrent transaction; take from theirs
            cursor.execute(sql, [count, organization.pk, kind])
            row = cursor.fetchone()
    after = row[0]
    return NumberBlock(first=after - count, count=count, prefix=prefix, digits=digits)


def _settle(invoice: Invoice) -> None:
    """Balance and status follow from total, payments and credits."""
    invoice.balance_minor = invoice.total_minor - invoice.paid_minor - invoice.credited_minor
    if invoice.balance_minor == 0:
        invoice.status = Invoice.Status.PAID
        invoice.paid_at = invoice.paid_at or clock.now()
    elif invoice.paid_minor or invoice.credited_minor:
        invoice.status = Invoice.Status.PARTIALLY_PAID
        invoice.paid_at = None
    else:
        invoice.status = Invoice.Status.OPEN
        invoice.paid_at = None


def _require_currency(customer: Customer, money: Money) -> None:
    if money.currency != customer.currency:
        raise errors.CurrencyMismatch(customer.currency, money.currency)


def _require_positive(money: Money, field: str = "amount") -> None:
    if money.minor <= 0:
        raise errors.InvalidAmount(_("Enter an amount greater than zero."), field=field)


def _require_own_invoice(customer: Customer, invoice: Invoice) -> None:
    if invoice.organization_id != customer.organization_id or invoice.customer_id != customer.pk:
        raise errors.InvoiceNotFound()


def _require_payable(invoice: Invoice) -> None:
    if not invoice.can_record_payment():
        raise errors.InvoiceNotPayable(invoice)


def _after_commit(signal, sender, **kwargs) -> None:
    def send():
        for receiver, result in signal.send_robust(sender=sender, **kwargs):
            if isinstance(result, Exception):
                logger.error("receiver %r of %s failed", receiver, sender.__name__, exc_info=result)

    transaction.on_commit(send)


def _merge_allocations(
    allocations: Sequence[tuple[Invoice, Money]], currency: str
) -> list[tuple[Invoice, Money]]:
    """One amount per invoice (repeats are added up), zeros dropped, negatives refused."""
    merged: dict[int, tuple[Invoice, Money]] = {}
    for invoice, amount in allocations:
        if not isinstance(amount, Money):
            raise errors.InvalidAmount(_("An allocation needs an amount."))
        if amount.currency != currency:
            raise errors.CurrencyMismatch(currency, amount.currency)
        if amount.minor < 0:
            raise errors.InvalidAmount(_("An amount applied to an invoice cannot be negative."))
        if amount.minor == 0:
            continue
        if invoice.pk in merged:
            merged[invoice.pk] = (invoice, merged[invoice.pk][1] + amount)
        else:
            merged[invoice.pk] = (invoice, amount)
    return list(merged.values())


def _locked_invoices_for(customer: Customer, allocations: list[tuple[Invoice, Money]]) -> list[tuple]:
    """Lock the allocated invoices (by pk) and check each can take its amount."""
    amounts = {invoice.pk: amount for invoice, amount in allocations}
    locked = _lock(Invoice, amounts)
    if len(locked) != len(amounts):
        raise errors.InvoiceNotFound()
    result = []
    for invoice in locked:
        _require_own_invoice(customer, invoice)
        _require_payable(invoice)
        amount = amounts[invoice.pk]
        if invoice.currency != amount.currency:
            raise errors.CurrencyMismatch(invoice.currency, amount.currency)
        if amount.minor > invoice.balance_minor:
            raise errors.AmountExceedsBalance(invoice, invoice.balance)
        result.append((invoice, amount))
    return result


def _allocate(payment: Payment, invoice: Invoice, amount: Money) -> PaymentAllocation:
    """Move `amount` of a locked payment's unused money onto a locked invoice."""
    allocation = PaymentAllocation.all_tenants.create(
        organization_id=payment.organization_id,
        payment=payment,
        invoice=invoice,
        amount_minor=amount.minor,
        allocated_at=clock.now(),
    )
    invoice.paid_minor += amount.minor
    was = invoice.status
    _settle(invoice)
    invoice.save(update_fields=["paid_minor", "balance_minor", "status", "paid_at"])
    _emit_if_paid(invoice, was)
    return allocation


def _apply(credit_note: CreditNote, invoice: Invoice, amount: Money) -> CreditApplication:
    """Move `amount` of a locked credit note's remaining credit onto a locked invoice."""
    application = CreditApplication.all_tenants.create(
        organization_id=credit_note.organization_id,
        credit_note=credit_note,
        invoice=invoice,
        amount_minor=amount.minor,
        applied_at=clock.now(),
    )
    credit_note.applied_minor += amount.minor
    credit_note.remaining_minor -= amount.minor
    _close_if_used(credit_note)
    credit_note.save(update_fields=["applied_minor", "remaining_minor", "status"])
    invoice.credited_minor += amount.minor
    was = invoice.status
    _settle(invoice)
    invoice.save(update_fields=["credited_minor", "balance_minor", "status", "paid_at"])
    _emit_if_paid(invoice, was)
    return application


def _emit_if_paid(invoice: Invoice, was: str) -> None:
    """`invoice.paid` when a payment or a credit settles the balance (again, after a release)."""
    if invoice.status == Invoice.Status.PAID and was != Invoice.Status.PAID:
        outbox.emit_for("invoice.paid", invoice, once=False, number=invoice.number, total=invoice.total)


def _close_if_used(credit_note: CreditNote) -> None:
    credit_note.status = CreditNote.Status.OPEN if credit_note.remaining_minor else CreditNote.Status.CLOSED


# -- invoices ---------------------------------------------------------------------------------------


def create_invoice(
    *,
    customer: Customer,
    actor: Actor,
    lines: Iterable[LineInput] = (),
    source: str = Invoice.Source.ONE_TIME,
    payment_terms_days: int | None = None,
    purchase_order: str = "",
    memo: str = "",
) -> Invoice:
    """A draft invoice in the customer's currency; it can be edited until it is finalized."""
    lines = list(lines)
    for line in lines:
        check_line(line, customer.currency)
    if payment_terms_days is not None and payment_terms_days < 0:
        raise errors.BillingError(_("Payment terms cannot be negative."), field="payment_terms_days")
    with transaction.atomic():
        _lock_customer_in(customer, customer.currency)
        invoice = Invoice.all_tenants.create(
            organization_id=customer.organization_id,
            customer=customer,
            currency=customer.currency,
            source=Invoice.Source(source),
            payment_terms_days=(
                customer.payment_terms_days if payment_terms_days is None else payment_terms_days
            ),
            purchase_order=purchase_order,
            memo=memo,
        )
        _write_lines(_INVOICE, invoice, lines)
        invoice.save()  # a draft owes nothing yet: its balance is set when it is finalized
        audit(actor, "invoice.created", invoice, lines=len(lines), total=invoice.total)
    return invoice


@dataclass(frozen=True)
class _DraftKind:
    """Invoices and credit notes are edited alike while they are drafts: this says how each differs."""

    model: type
    line_model: type
    parent: str  # the line's foreign key to its document, and the audit events' prefix
    not_editable: Callable[[object], Exception]


_INVOICE = _DraftKind(Invoice, InvoiceLine, "invoice", errors.InvoiceNotEditable)
_CREDIT_NOTE = _DraftKind(
    CreditNote,
    CreditNoteLine,
    "credit_note",
    lambda _note: errors.InvalidStatus(_("This credit note is issued and can no longer be changed.")),
)


def _lock_draft(kind: _DraftKind, document, allows: str = "can_edit"):
    """Lock a draft to edit it, or to finalize or delete it (`allows="can_finalize"`, `"can_delete"`)."""
    document = _lock_one(kind.model, document.pk)
    if not getattr(document, allows)():
        raise kind.not_editable(document)
    return document


def _retotal_draft(document) -> None:
    _set_totals(document, list(document.lines.all()))
    fields = ["subtotal_minor", "tax_minor", "total_minor"]
    document.save(update_fields=fields + (["discount_minor"] if isinstance(document, Invoice) else []))


def _write_lines(kind: _DraftKind, document, lines: Sequence[LineInput]) -> None:
    """A new draft's lines, numbered from 1, and its totals (saved by the caller)."""
    rows = []
    for position, line in enumerate(lines, start=1):
        row = kind.line_model(**{kind.parent: document}, position=position)
        _write_line(row, line)
        rows.append(row)
    kind.line_model.objects.bulk_create(rows)
    _set_totals(document, rows)


def _add_line(kind: _DraftKind, document, line: LineInput, actor: Actor):
    with transaction.atomic():
        document = _lock_draft(kind, document)
        check_line(line, document.currency)
        last = document.lines.order_by("-position").values_list("position", flat=True).first() or 0
        row = kind.line_model(**{kind.parent: document}, position=last + 1)
        _write_line(row, line)
        row.save()
        _retotal_draft(document)
        audit(
            actor,
            f"{kind.parent}.line_added",
            document,
            description=row.description,
            total=Money(row.total_minor, document.currency),
        )
    return row


def _update_line(kind: _DraftKind, line, data: LineInput, actor: Actor):
    with transaction.atomic():
        document = _lock_draft(kind, getattr(line, kind.parent))
        row = kind.line_model.objects.get(pk=line.pk, **{kind.parent: document})
        check_line(data, document.currency)
        _write_line(row, data)
        row.save()
        _retotal_draft(document)
        audit(
            actor,
            f"{kind.parent}.line_updated",
            document,
            description=row.description,
            total=Money(row.total_minor, document.currency),
        )
    return row


def _remove_line(kind: _DraftKind, line, actor: Actor):
    with transaction.atomic():
        document = _lock_draft(kind, getattr(line, kind.parent))
        kind.line_model.objects.filter(pk=line.pk, **{kind.parent: document}).delete()
        _retotal_draft(document)
        audit(actor, f"{kind.parent}.line_removed", document, description=line.description)
    return document


def _delete_draft(kind: _DraftKind, document, actor: Actor) -> None:
    """A draft was never issued, so it may disappear (issued documents are voided instead)."""
    with transaction.atomic():
        document = _lock_draft(kind, document, "can_delete")
        audit(actor, f"{kind.parent}.draft_deleted", document, total=document.total)
        document.delete()


def update_draft_invoice(
    *,
    invoice: Invoice,
    actor: Actor,
    payment_terms_days: int | None = None,
    purchase_order: str | None = None,
    memo: str | None = None,
) -> Invoice:
    """Change a draft's terms, PO number or memo."""
    with transaction.atomic():
        invoice = _lock_draft(_INVOICE, invoice)
        changes = {}
        if payment_terms_days is not None:
            if payment_terms_days < 0:
                raise errors.BillingError(_("Payment terms cannot be negative."), field="payment_terms_days")
            changes["payment_terms_days"] = payment_terms_days
        if purchase_order is not None:
            changes["purchase_order"] = purchase_order
        if memo is not None:
            changes["memo"] = memo
        for name, value in changes.items():
            setattr(invoice, name, value)
        invoice.save(update_fields=list(changes) or None)
        audit(actor, "invoice.updated", invoice, **changes)
    return invoice


def add_invoice_line(*, invoice: Invoice, line: LineInput, actor: Actor) -> InvoiceLine:
    return _add_line(_INVOICE, invoice, line, actor)


def update_invoice_line(*, line: InvoiceLine, data: LineInput, actor: Actor) -> InvoiceLine:
    return _update_line(_INVOICE, line, data, actor)


def remove_invoice_line(*, line: InvoiceLine, actor: Actor) -> Invoice:
    return _remove_line(_INVOICE, line, actor)


def delete_draft_invoice(*, invoice: Invoice, actor: Actor) -> None:
    _delete_draft(_INVOICE, invoice, actor)


def finalize_invoice(
    *, invoice: Invoice, actor: Actor, issue_date: dt.date | None = None, number: str | None = None,
    auto_charge: bool = False,
) -> Invoice:  # fmt: skip
    """Issue a draft: number it (gapless, per organization), freeze its lines and totals, snapshot
    the customer, and set the due date from the payment terms in the organization's time zone.

    `number`: one taken beforehand with `take_numbers` in the caller's (still open) transaction;
    the caller must use every number of its block, or roll back. `auto_charge`: charge it to the
    customer's default method once issued (as for customers who turned AutoCharge on); the
    `invoice.finalized` event's id, on `invoice.finalized_event_id`, keys that charge."""
    with transaction.atomic():
        customer = _lock_customer(invoice.customer)
        invoice = _lock_draft(_INVOICE, invoice, "can_finalize")
        lines = list(invoice.lines.all())
        if not lines:
            raise errors.EmptyInvoice()
        organization = invoice.organization
        settings = billing_settings(organization)
        _set_totals(invoice, lines)
        invoice.number = number or _next_number(
            organization, NumberSequence.Kind.INVOICE, settings.invoice_prefix, settings.number_digits
        )
        invoice.issue_date = issue_date or clock.today(organization.time_zone)
        invoice.due_date = invoice.issue_date + dt.timedelta(days=invoice.payment_terms_days)
        invoice.bill_to_name = customer.company_name or customer.display_name
        invoice.bill_to_address = customer.billing_address.as_dict()
        invoice.bill_to_tax_id = customer.tax_id
        invoice.bill_to_email = customer.email or _primary_email(customer)
        invoice.finalized_at = clock.now()
        invoice.paid_minor = invoice.credited_minor = 0
        _settle(invoice)
        invoice.save()
        audit(actor, "invoice.finalized", invoice, number=invoice.number, total=invoice.total)
        charge = auto_charge or invoice.customer_id in auto_charging_customers(organization, {customer.pk})
        event = outbox.emit_for(
            "invoice.finalized", invoice, number=invoice.number, total=invoice.total, auto_charge=charge
        )
        invoice.finalized_event_id = event.pk  # the automatic charge's key (`payments.autocharge`)
        _emit_if_paid(invoice, Invoice.Status.DRAFT)  # a zero total is paid as it is issued
        if settings.auto_apply_credits and invoice.balance_minor:
            _auto_apply(customer, invoice, actor)
        _after_commit(signals.invoice_finalized, Invoice, invoice=invoice)
    return invoice


# Whose invoices are charged automatically: `payments` registers its AutoCharge lookup here (billing
# sits below payments and does not import it). An issued invoice's `invoice.finalized` event says
# `auto_charge` for those, and for invoices issued to be charged (a subscription that auto-charges).
_auto_charge_lookups: list = []


def register_auto_charge_lookup(lookup) -> None:
    """`lookup(organization, customer_ids) -> set of ids`: the customers whose invoices are charged
    automatically as they are issued."""
    if lookup not in _auto_charge_lookups:
        _auto_charge_lookups.append(lookup)


def auto_charging_customers(organization, customer_ids) -> set[int]:
    ids = set(customer_ids)
    found: set[int] = set()
    for lookup in _auto_charge_lookups:
        if ids - found:
            found |= lookup(organization, ids - found)
    return found


def _line_values(line: LineInput, currency: str) -> dict:
    """A checked line's column values, as `_write_line` sets them (for a bulk insert)."""
    check_line(line, currency)
    row = _LineRow()
    _write_line(row, line)
    return vars(row)


class _LineRow:
    """A line's values on their way to a bulk insert (`_write_line` sets them; no model per line)."""


@dataclass
class IssueDraft:
    """One invoice for `issue_invoices`: its customer (locked by the caller), lines and extras."""

    customer: Customer
    lines: Sequence[LineInput]
    issue_date: dt.date
    source: str = Invoice.Source.SUBSCRIPTION
    memo: str = ""
    audit_data: dict | None = None
    auto_charge: bool = False  # charge it to the customer's default method once issued
    invoice: Invoice | None = None  # set by issue_invoices


def issue_invoices(
    drafts: Sequence[IssueDraft], *, organization, actor: Actor, primary_emails: dict[int, str] | None = None
) -> list[Invoice]:
    """Issue many invoices at once, finalized as `finalize_invoice` would (lines priced by
    `billing.pricing`, totals the sums of their lines, numbers gapless from one block, the customer
    snapshot, due date, audit event and `invoice.finalized` event each), in a few bulk INSERTs.

    For the bill run: the caller holds the transaction and has locked every customer (the ledger's
    lock order); the numbers are taken last, so the counter row is held only for the inserts and the
    commit. Credits are applied where the organization auto-applies, one invoice at a time, only for
    customers that have some. The PDF is rendered on first download (not queued per invoice)."""
    if not drafts:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("issue_invoices() runs inside the caller's transaction")
    now = clock.now()
    emails = primary_emails if primary_emails is not None else _primary_emails([d.customer for d in drafts])
    # A bill run's invoices repeat the same few lines: each distinct line is checked and priced once.
    priced: dict[tuple[LineInput, str], dict] = {}
    rows, line_rows = [], []
    for draft in drafts:
        customer = draft.customer
        if customer.organization_id != organization.pk:
            raise errors.InvoiceNotFound()
        if not draft.lines:
            raise errors.EmptyInvoice()
        currency = customer.currency
        lines = []
        net = discount = tax = total = 0
        for line in draft.lines:
            values = priced.get((line, currency))
            if values is None:
                values = priced[(line, currency)] = _line_values(line, currency)
            lines.append(values)
            net += values["net_minor"]
            discount += values["discount_minor"]
            tax += values["tax_minor"]
            total += values["total_minor"]
        terms = customer.payment_terms_days
        rows.append(
            {
                "organization_id": organization.pk,
                "customer_id": customer.pk,
                "public_id": new_random_id(),  # a bulk row gets no field defaults
                "currency": currency,
                "status": Invoice.Status.OPEN if total else Invoice.Status.PAID,
                "source": draft.source,
                "payment_terms_days": terms,
                "memo": draft.memo,
                "issue_date": draft.issue_date,
                "due_date": draft.issue_date + dt.timedelta(days=terms),
                "bill_to_name": customer.company_name or customer.display_name,
                "bill_to_address": customer.billing_address.as_dict(),
                "bill_to_tax_id": customer.tax_id,
                "bill_to_email": customer.email or emails.get(customer.pk, ""),
                "created_at": now,
                "finalized_at": now,
                "paid_at": None if total else now,
                # The totals are the sums of the lines' rounded amounts (`_set_totals`, by integers).
                "subtotal_minor": net + discount,
                "discount_minor": discount,
                "tax_minor": tax,
                "total_minor": total,
                "paid_minor": 0,
                "credited_minor": 0,
                "balance_minor": total,
            }
        )
        line_rows.append(lines)
    # The numbers last: the counter row is locked from here to the commit.
    block = take_numbers(organization, NumberSequence.Kind.INVOICE, len(rows))
    for row, number in zip(rows, block, strict=True):
        row["number"] = number
    bulk.insert(Invoice, rows)
    invoices = bulk.instances(Invoice, rows)
    for invoice, draft in zip(invoices, drafts, strict=True):
        invoice._state.fields_cache["customer"] = draft.customer
        draft.invoice = invoice
    lines = [
        {**values, "position": position, "invoice_id": row["id"]}
        for row, values_list in zip(rows, line_rows, strict=True)
        for position, values in enumerate(values_list, start=1)
    ]
    bulk.insert_rows(InvoiceLine, lines)
    from portico.core.audit import audit_row
    from portico.core.models import AuditEvent

    bulk.insert_rows(
        AuditEvent,
        [
            audit_row(
                actor,
                "invoice.finalized",
                invoice,
                number=invoice.number,
                total=invoice.total,
                **(draft.audit_data or {}),
            )
            for invoice, draft in zip(invoices, drafts, strict=True)
        ],
    )
    auto_charging = auto_charging_customers(organization, {i.customer_id for i in invoices})
    events = outbox.emit_many(
        "invoice.finalized",
        organization=organization,
        events=(
            (
                f"invoice.finalized:billing.invoice:{invoice.pk}",
                {
                    "object": "billing.invoice",
                    "id": invoice.pk,
                    "customer": invoice.customer_id,
                    "number": invoice.number,
                    "total": invoice.total,
                    "auto_charge": draft.auto_charge or invoice.customer_id in auto_charging,
                    # a subscription's period (the bill run's): webhooks call it `subscription.renewed`
                    **_period_of(draft),
                },
            )
            for invoice, draft in zip(invoices, drafts, strict=True)
        ),
    )
    for invoice, event in zip(invoices, events, strict=True):
        invoice.finalized_event_id = event.pk  # the charge's key (`payments.autocharge`)
    if billing_settings(organization).auto_apply_credits:
        _auto_apply_many(invoices, actor)
    return invoices


def _period_of(draft: IssueDraft) -> dict:
    data = draft.audit_data or {}
    if draft.source != Invoice.Source.SUBSCRIPTION or "subscription" not in data:
        return {}
    return {"subscription": data["subscription"], "period_start": data.get("period_start")}


def _primary_emails(customers: Iterable[Customer]) -> dict[int, str]:
    from portico.customers.models import ContactPerson

    ids = [c.pk for c in customers if not c.email]
    if not ids:
        return {}
    return dict(
        ContactPerson.all_tenants.filter(customer_id__any=ids, is_primary=True).values_list(
            "customer_id", "email"
        )
    )


def _auto_apply_many(invoices: Sequence[Invoice], actor: Actor) -> None:
    """`_auto_apply` for the customers of `invoices` that have unused credit (one query to find them)."""
    customer_ids = {i.customer_id for i in invoices if i.balance_minor}
    with_credit = set(
        CreditNote.all_tenants.filter(
            customer_id__any=customer_ids, status=CreditNote.Status.OPEN, remaining_minor__gt=0
        ).values_list("customer_id", flat=True)
    ) | set(
        Payment.all_tenants.filter(customer_id__any=customer_ids, unused_minor__gt=0).values_list(
            "customer_id", flat=True
        )
    )
    for invoice in invoices:
        if invoice.customer_id in with_credit and invoice.balance_minor:
            _auto_apply(invoice.customer, invoice, actor)


def _primary_email(customer: Customer) -> str:
    contact = customer.contacts.filter(is_primary=True).first()
    return contact.email if contact else ""


def _auto_apply(customer: Customer, invoice: Invoice, actor: Actor) -> None:
    """Use the customer's unused credit (oldest credit notes first, then oldest advances) on a new
    invoice. The customer row is locked by the caller."""
    credit_notes = _lock(
        CreditNote,
        CreditNote.all_tenants.filter(
            customer=customer, status=CreditNote.Status.OPEN, remaining_minor__gt=0, currency=invoice.currency
        ).values_list("pk", flat=True),
    )
    for credit_note in sorted(credit_notes, key=lambda c: (c.issue_date, c.pk)):
        if not invoice.balance_minor:
            return
        amount = Money(min(credit_note.remaining_minor, invoice.balance_minor), invoice.currency)
        _apply(credit_note, invoice, amount)
        audit(actor, "credit.applied", invoice, credit_note=credit_note.number, amount=amount, automatic=True)
    payments = _lock(
        Payment,
        Payment.all_tenants.filter(
            customer=customer, unused_minor__gt=0, currency=invoice.currency
        ).values_list("pk", flat=True),
    )
    for payment in sorted(payments, key=lambda p: (p.received_on, p.pk)):
        if not invoice.balance_minor:
            return
        amount = Money(min(payment.unused_minor, invoice.balance_minor), invoice.currency)
        _allocate(payment, invoice, amount)
        payment.allocated_minor += amount.minor
        payment.unused_minor -= amount.minor
        payment.save(update_fields=["allocated_minor", "unused_minor"])
        audit(actor, "payment.allocated", invoice, payment=payment.number, amount=amount, automatic=True)


def send_invoice(*, invoice: Invoice, actor: Actor, to: Sequence[str] | None = None) -> Invoice:
    """Email an issued invoice (with its PDF when it has been rendered) to the customer."""
    with transaction.atomic():
        invoice = _lock_one(Invoice, invoice.pk)
        if not invoice.can_send():
            raise errors.InvalidStatus(_("Only an issued invoice that is not void can be sent."))
        recipients = [a for a in (to or [invoice.bill_to_email or invoice.customer.email]) if a]
        if not recipients:
            raise errors.BillingError(_("This customer has no email address; add one first."), field="to")
        attachments = []
        if invoice.pdf:
            with invoice.pdf.open("rb") as pdf:
                attachments.append((f"{invoice.number}.pdf", pdf.read(), "application/pdf"))
        from portico.core.mail import send_templated_email

        organization = invoice.organization
        send_templated_email(
            organization=organization,
            to=recipients,
            template="invoice",
            customer=invoice.customer,
            context={
                "invoice": invoice,
                "customer": invoice.customer,
                "invoice_url": f"{organization.portal_url}invoices/{invoice.number}/",
            },
            attachments=attachments,
        )
        invoice.sent_at = clock.now()
        invoice.save(update_fields=["sent_at"])
        audit(actor, "invoice.sent", invoice, to=recipients)
        outbox.emit_for("invoice.sent", invoice, once=False, number=invoice.number, to=recipients)
    return invoice


# What else a void undoes: `projects` registers the release of the time entries and milestones an
# invoice billed (billing sits below projects and does not import it). Each hook runs inside the
# void's transaction, after the invoice is locked and marked void: it commits or rolls back with it.
_void_hooks: list = []


def register_void_hook(hook) -> None:
    """`hook(invoice=..., actor=...)`: called in `void_invoice`'s transaction for every voided invoice."""
    if hook not in _void_hooks:
        _void_hooks.append(hook)


def void_invoice(*, invoice: Invoice, actor: Actor, reason: str = "") -> Invoice:
    """Cancel an issued invoice nobody has paid or credited yet; its number stays used. What it
    billed elsewhere (project time, milestones) is released by the void hooks, in this transaction."""
    with transaction.atomic():
        _lock_customer(invoice.customer)
        invoice = _lock_one(Invoice, invoice.pk)
        if not invoice.can_void():
            if invoice.status == Invoice.Status.DRAFT:
                raise errors.InvalidStatus(_("A draft is deleted, not voided: it was never issued."))
            if invoice.status == Invoice.Status.VOID:
                raise errors.InvalidStatus(
                    _("Invoice %(number)s is already void.") % {"number": invoice.number}
                )
            raise errors.VoidRefused(invoice)
        invoice.status = Invoice.Status.VOID
        invoice.balance_minor = 0
        invoice.voided_at = clock.now()
        invoice.void_reason = reason[:200]
        invoice.save(update_fields=["status", "balance_minor", "voided_at", "void_reason"])
        audit(actor, "invoice.voided", invoice, reason=reason, total=invoice.total)
        outbox.emit_for("invoice.voided", invoice, number=invoice.number, reason=reason)
        for hook in _void_hooks:
            hook(invoice=invoice, actor=actor)
    return invoice


# -- payments ---------------------------------------------------------------------------------------


def _payment_with_key(customer: Customer, key: str) -> Payment | None:
    payment = Payment.all_tenants.filter(
        organization_id=customer.organization_id, idempotency_key=key
    ).first()
    if payment is not None and payment.customer_id != customer.pk:
        raise errors.BillingError(_("This payment request was already used."), field="idempotency_key")
    return payment


def record_payment(
    *,
    customer: Customer,
    amount: Money,
    allocations: Sequence[tuple[Invoice, Money]],
    method: str,
    received_on: dt.date,
    actor: Actor,
    channel: str = Payment.Channel.OFFLINE,
    gateway: str = "",
    gateway_reference: str = "",
    card_brand: str = "",
    card_last4: str = "",
    reference: str = "",
    idempotency_key: str | None = None,
) -> Payment:
    """Record money received and allocate it to invoices in one transaction; what is not allocated
    stays on the account as an advance. The same idempotency key returns the first payment."""
    if idempotency_key:
        existing = _payment_with_key(customer, idempotency_key)
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            return _record_payment(
                customer=customer,
                amount=amount,
                allocations=allocations,
                method=method,
                received_on=received_on,
                actor=actor,
                channel=channel,
                gateway=gateway,
                gateway_reference=gateway_reference,
                card_brand=card_brand,
                card_last4=card_last4,
                reference=reference,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # A concurrent request with the same key won the unique constraint: answer with its payment.
        existing = _payment_with_key(customer, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return existing


def _record_payment(*, customer, amount, allocations, method, received_on, actor, idempotency_key, **fields):
    if method not in Payment.Method.values:
        raise errors.BillingError(_("Choose how the payment was made."), field="method")
    if fields["channel"] not in Payment.Channel.values:
        raise errors.BillingError(_("Unknown payment channel."), field="channel")
    _require_currency(customer, amount)
    _require_positive(amount)
    merged = _merge_allocations(allocations, amount.currency)
    customer = _lock_customer(customer)
    if idempotency_key:
        # Seen only now if a concurrent request with this key committed while we waited for the lock.
        existing = _payment_with_key(customer, idempotency_key)
        if existing is not None:
            return existing
    locked = _locked_invoices_for(customer, merged)
    allocated = Money.sum((a for _i, a in locked), amount.currency)
    if allocated > amount:
        raise errors.AllocationExceedsPayment(amount)
    settings = billing_settings(customer.organization)
    payment = Payment.all_tenants.create(
        organization_id=customer.organization_id,
        customer=customer,
        number=_next_number(
            customer.organization,
            NumberSequence.Kind.PAYMENT,
            settings.payment_prefix,
            settings.number_digits,
        ),
        currency=amount.currency,
        amount_minor=amount.minor,
        allocated_minor=allocated.minor,
        unused_minor=(amount - allocated).minor,
        method=method,
        received_on=received_on,
        idempotency_key=idempotency_key or None,
        **fields,
    )
    for invoice, part in locked:
        _allocate(payment, invoice, part)
    audit(
        actor,
        "payment.recorded",
        payment,
        amount=amount,
        method=method,
        channel=fields["channel"],
        allocations={invoice.number: part for invoice, part in locked},
        unused=payment.unused,
    )
    _after_commit(signals.payment_recorded, Payment, payment=payment)
    return payment


def allocate_payment(
    *, payment: Payment, allocations: Sequence[tuple[Invoice, Money]], actor: Actor
) -> Payment:
    """Apply a payment's unused money (an advance) to open invoices of the same customer."""
    with transaction.atomic():
        customer = _lock_customer(payment.customer)
        merged = _merge_allocations(allocations, payment.currency)
        if not merged:
            raise errors.InvalidAmount(_("Choose at least one invoice and an amount."))
        locked = _locked_invoices_for(customer, merged)
        payment = _lock_one(Payment, payment.pk)
        total = Money.sum((a for _i, a in locked), payment.currency)
        if not payment.can_allocate() or total > payment.unused:
            raise errors.AllocationExceedsPayment(payment.unused)
        for invoice, part in locked:
            _allocate(payment, invoice, part)
        payment.allocated_minor += total.minor
        payment.unused_minor -= total.minor
        payment.save(update_fields=["allocated_minor", "unused_minor"])
        audit(actor, "payment.allocated", payment, allocations={i.number: a for i, a in locked})
    return payment


def release_allocations(*, payment: Payment, amount: Money, actor: Actor, reason: str = "") -> Payment:
    """Take `amount` of a payment back off the invoices it paid, most recent invoice first, so that
    it is unused again (to be refunded); those invoices reopen with their balance restored."""
    with transaction.atomic():
        customer = _lock_customer(payment.customer)
        if amount.currency != payment.currency:
            raise errors.CurrencyMismatch(payment.currency, amount.currency)
        _require_positive(amount)
        # Read under the customer's lock: no allocation of this customer changes until we commit.
        allocations = list(
            PaymentAllocation.all_tenants.filter(payment_id=payment.pk)
            .select_related("invoice")
            .order_by("-invoice__issue_date", "-invoice__number", "-id")
        )
        available = Money(sum(a.amount_minor for a in allocations), payment.currency)
        if amount > available:
            raise errors.InvalidAmount(
                _("Only %(available)s of this payment is applied to invoices.") % {"available": available}
            )
        invoices = {invoice.pk: invoice for invoice in _lock(Invoice, {a.invoice_id for a in allocations})}
        payment = _lock_one(Payment, payment.pk)
        left, released = amount.minor, {}
        for allocation in allocations:
            if not left:
                break
            part = min(left, allocation.amount_minor)
            invoice = invoices[allocation.invoice_id]
            if part == allocation.amount_minor:
                allocation.delete()
            else:
                allocation.amount_minor -= part
                allocation.save(update_fields=["amount_minor"])
            invoice.paid_minor -= part
            _settle(invoice)
            invoice.save(update_fields=["paid_minor", "balance_minor", "status", "paid_at"])
            released[invoice.number] = released.get(invoice.number, 0) + part
            left -= part
        payment.allocated_minor -= amount.minor
        payment.unused_minor += amount.minor
        payment.save(update_fields=["allocated_minor", "unused_minor"])
        audit(
            actor,
            "payment.allocations_released",
            payment,
            customer=customer,
            amount=amount,
            reason=reason,
            invoices={number: Money(minor, payment.currency) for number, minor in released.items()},
        )
    return payment


def refund_payment(
    *,
    payment: Payment,
    amount: Money,
    actor: Actor,
    method: str | None = None,
    refunded_on: dt.date | None = None,
    reason: str = "",
    gateway_reference: str = "",
) -> Refund:
    """Return unused money of a payment to the customer (allocated money is settled with invoices)."""
    with transaction.atomic():
        _lock_customer(payment.customer)
        payment = _lock_one(Payment, payment.pk)
        if amount.currency != payment.currency:
            raise errors.CurrencyMismatch(payment.currency, amount.currency)
        _require_positive(amount)
        if not payment.can_refund() or amount > payment.unused:
            raise errors.RefundTooLarge(payment.unused)
        refund = Refund.all_tenants.create(
            organization_id=payment.organization_id,
            customer_id=payment.customer_id,
            payment=payment,
            currency=payment.currency,
            amount_minor=amount.minor,
            refunded_on=refunded_on or clock.today(payment.organization.time_zone),
            method=_refund_method(method or payment.method),
            gateway_reference=gateway_reference,
            reason=reason[:200],
        )
        payment.unused_minor -= amount.minor
        payment.refunded_minor += amount.minor
        payment.save(update_fields=["unused_minor", "refunded_minor"])
        audit(actor, "payment.refunded", payment, amount=amount, reason=reason)
        outbox.emit_for(
            "payment.refunded", payment, once=False, number=payment.number, amount=amount, refund=refund.pk
        )
    return refund


def _refund_method(method: str) -> str:
    if method not in Payment.Method.values:
        raise errors.BillingError(_("Choose how the money is returned."), field="method")
    return method


# -- credit notes -----------------------------------------------------------------------------------


def create_credit_note(
    *,
    customer: Customer,
    actor: Actor,
    lines: Iterable[LineInput] = (),
    invoice: Invoice | None = None,
    reason: str = "",
) -> CreditNote:
    """A draft credit note, standalone or correcting one issued invoice of the customer."""
    lines = list(lines)
    for line in lines:
        check_line(line, customer.currency)
    if invoice is not None:
        _require_own_invoice(customer, invoice)
        if not invoice.can_credit():
            raise errors.InvalidStatus(
                _("A credit note can only correct an issued invoice that is not void.")
            )
    with transaction.atomic():
        _lock_customer_in(customer, customer.currency)
        credit_note = CreditNote.all_tenants.create(
            organization_id=customer.organization_id,
            customer=customer,
            invoice=invoice,
            currency=customer.currency,
            reason=reason[:200],
        )
        _write_lines(_CREDIT_NOTE, credit_note, lines)
        credit_note.save()
        audit(actor, "credit_note.created", credit_note, total=credit_note.total)
    return credit_note


def add_credit_note_line(*, credit_note: CreditNote, line: LineInput, actor: Actor) -> CreditNoteLine:
    return _add_line(_CREDIT_NOTE, credit_note, line, actor)


def update_credit_note_line(*, line: CreditNoteLine, data: LineInput, actor: Actor) -> CreditNoteLine:
    return _update_line(_CREDIT_NOTE, line, data, actor)


def remove_credit_note_line(*, line: CreditNoteLine, actor: Actor) -> CreditNote:
    return _remove_line(_CREDIT_NOTE, line, actor)


def delete_draft_credit_note(*, credit_note: CreditNote, actor: Actor) -> None:
    _delete_draft(_CREDIT_NOTE, credit_note, actor)


def finalize_credit_note(
    *, credit_note: CreditNote, actor: Actor, issue_date: dt.date | None = None
) -> CreditNote:
    """Issue a draft credit note: number it and make its whole total available as credit.
    A credit note for an invoice cannot credit more than that invoice's total, over all its notes."""
    with transaction.atomic():
        _lock_customer(credit_note.customer)
        if credit_note.invoice_id:
            invoice = _lock_one(Invoice, credit_note.invoice_id)
        credit_note = _lock_draft(_CREDIT_NOTE, credit_note, "can_finalize")
        lines = list(credit_note.lines.all())
        if not lines:
            raise errors.EmptyInvoice()
        _set_totals(credit_note, lines)
        if credit_note.total_minor <= 0:
            raise errors.InvalidAmount(_("A credit note must credit more than zero."))
        if credit_note.invoice_id:
            if not invoice.can_credit():
                raise errors.InvalidStatus(_("A void invoice cannot be credited."))
            already = (
                CreditNote.all_tenants.filter(invoice_id=invoice.pk)
                .exclude(status__in=(CreditNote.Status.DRAFT, CreditNote.Status.VOID))
                .aggregate(total=Sum("total_minor"))["total"]
                or 0
            )
            if credit_note.total_minor > invoice.total_minor - already:
                raise errors.CreditTooLarge(Money(invoice.total_minor - already, invoice.currency))
        organization = credit_note.organization
        settings = billing_settings(organization)
        credit_note.number = _next_number(
            organization, NumberSequence.Kind.CREDIT_NOTE, settings.credit_note_prefix, settings.number_digits
        )
        credit_note.issue_date = issue_date or clock.today(organization.time_zone)
        credit_note.finalized_at = clock.now()
        credit_note.applied_minor = credit_note.refunded_minor = 0
        credit_note.remaining_minor = credit_note.total_minor
        credit_note.status = CreditNote.Status.OPEN
        credit_note.save()
        audit(actor, "credit_note.finalized", credit_note, number=credit_note.number, total=credit_note.total)
        outbox.emit_for("credit_note.issued", credit_note, number=credit_note.number, total=credit_note.total)
        _after_commit(signals.credit_note_finalized, CreditNote, credit_note=credit_note)
    return credit_note


def issue_credit_note(
    *,
    customer: Customer,
    lines: Iterable[LineInput],
    actor: Actor,
    invoice: Invoice | None = None,
    reason: str = "",
    apply_to_invoice: bool = False,
) -> CreditNote:
    """Create and finalize a credit note in one step; optionally apply it to the invoice it corrects."""
    with transaction.atomic():
        credit_note = create_credit_note(
            customer=customer, lines=lines, actor=actor, invoice=invoice, reason=reason
        )
        credit_note = finalize_credit_note(credit_note=credit_note, actor=actor)
        if apply_to_invoice and invoice is not None:
            invoice.refresh_from_db()
            amount = min(credit_note.remaining, invoice.balance)
            if invoice.is_open and amount:
                apply_credit(credit_note=credit_note, invoice=invoice, amount=amount, actor=actor)
                credit_note.refresh_from_db()
    return credit_note


def apply_credit(
    *, credit_note: CreditNote, invoice: Invoice, amount: Money, actor: Actor
) -> CreditApplication:
    """Apply part of a credit note to an open invoice of the same customer and currency."""
    with transaction.atomic():
        customer = _lock_customer(credit_note.customer)
        invoice = _lock_one(Invoice, invoice.pk)
        credit_note = _lock_one(CreditNote, credit_note.pk)
        _require_own_invoice(customer, invoice)
        _require_payable(invoice)
        if not credit_note.can_apply():
            raise errors.InvalidStatus(_("This credit note has no credit left to apply."))
        if amount.currency != credit_note.currency or invoice.currency != credit_note.currency:
            raise errors.CurrencyMismatch(credit_note.currency, amount.currency)
        _require_positive(amount)
        available = min(credit_note.remaining, invoice.balance)
        if amount > available:
            raise errors.CreditTooLarge(available)
        application = _apply(credit_note, invoice, amount)
        audit(actor, "credit.applied", invoice, credit_note=credit_note.number, amount=amount)
    return application


def refund_credit_note(
    *,
    credit_note: CreditNote,
    amount: Money,
    actor: Actor,
    method: str = Payment.Method.BANK_TRANSFER,
    refunded_on: dt.date | None = None,
    reason: str = "",
    gateway_reference: str = "",
) -> Refund:
    """Pay out remaining credit of a credit note to the customer."""
    with transaction.atomic():
        _lock_customer(credit_note.customer)
        credit_note = _lock_one(CreditNote, credit_note.pk)
        if not credit_note.can_refund():
            raise errors.InvalidStatus(_("This credit note has no credit left to refund."))
        if amount.currency != credit_note.currency:
            raise errors.CurrencyMismatch(credit_note.currency, amount.currency)
        _require_positive(amount)
        if amount > credit_note.remaining:
            raise errors.RefundTooLarge(credit_note.remaining)
        refund = Refund.all_tenants.create(
            organization_id=credit_note.organization_id,
            customer_id=credit_note.customer_id,
            credit_note=credit_note,
            currency=credit_note.currency,
            amount_minor=amount.minor,
            refunded_on=refunded_on or clock.today(credit_note.organization.time_zone),
            method=_refund_method(method),
            gateway_reference=gateway_reference,
            reason=reason[:200],
        )
        credit_note.remaining_minor -= amount.minor
        credit_note.refunded_minor += amount.minor
        _close_if_used(credit_note)
        credit_note.save(update_fields=["remaining_minor", "refunded_minor", "status"])
        audit(actor, "credit_note.refunded", credit_note, amount=amount, reason=reason)
    return refund


def void_credit_note(*, credit_note: CreditNote, actor: Actor, reason: str = "") -> CreditNote:
    """Withdraw an issued credit note none of whose credit has been applied or refunded. A draft is
    deleted instead (`delete_draft_credit_note`), as a draft invoice is: it was never issued."""
    with transaction.atomic():
        _lock_customer(credit_note.customer)
        credit_note = _lock_one(CreditNote, credit_note.pk)
        if not credit_note.can_void():
            if credit_note.status == CreditNote.Status.DRAFT:
                raise errors.InvalidStatus(_("A draft is deleted, not voided: it was never issued."))
            if credit_note.status == CreditNote.Status.VOID:
                raise errors.InvalidStatus(_("This credit note is already void."))
            raise errors.InvalidStatus(
                _("Part of this credit was already applied or refunded, so it cannot be voided.")
            )
        credit_note.status = CreditNote.Status.VOID
        credit_note.remaining_minor = 0
        credit_note.save(update_fields=["status", "remaining_minor"])
        audit(actor, "credit_note.voided", credit_note, reason=reason)
    return credit_note
