"""Customers using their own credit from the portal: a credit note's remaining credit, or a payment's
unused money (an advance), applied to invoices they choose.

The money moves through the ledger's services (`billing.services.apply_credit` /
`allocate_payment`), inside one transaction that first takes the ledger's locks in its order
(customer, invoices, then the credit) and writes a `CreditUse` under the form's one-time token: the
same form submitted twice applies the credit once. What a pending card checkout has reserved of an
invoice is not free for credit either (`payments.services.reserved_amounts`), so a card charge in
flight and a credit can never pay the same balance twice. A refusal writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portico.billing import errors as billing_errors
from portico.billing import services as ledger
from portico.billing.models import CreditNote, Invoice, Payment
from portico.core import clock
from portico.core.audit import Actor
from portico.core.money import Money
from portico.customers.models import Customer
from portico.payments.errors import Code
from portico.payments.models import CreditUse
from portico.payments.services import PaymentRefused, available_to_pay, reserved_amounts

CREDIT_NOTE, PAYMENT = "credit_note", "payment"


class CreditRefused(billing_errors.BillingError):
    """A use of credit we will not make; nothing was written."""

    code = Code.CREDIT_REFUSED
    message = _lazy("This credit cannot be used here.")


@dataclass(frozen=True)
class CreditSource:
    """Credit the customer can use: an open credit note or a payment with unused money."""

    kind: str
    number: str
    available: Money
    document: CreditNote | Payment

    @property
    def key(self) -> str:  # what the form posts: "credit_note:CN-0003", "payment:PAY-0012"
        return f"{self.kind}:{self.number}"


@dataclass(frozen=True)
class CreditOutcome:
    use: CreditUse
    repeated: bool = False  # the same form was submitted before: nothing new happened

    @property
    def total(self) -> Money:
        return Money(sum(self.use.applied.values()), self.use.currency)


def credit_sources_of(customer: Customer) -> list[CreditSource]:
    """The customer's usable credit, oldest first: credit notes, then advances."""
    notes = CreditNote.objects.filter(
        organization_id=customer.organization_id,
        customer=customer,
        status=CreditNote.Status.OPEN,
        remaining_minor__gt=0,
    ).order_by("issue_date", "id")
    payments = Payment.objects.filter(
        organization_id=customer.organization_id, customer=customer, unused_minor__gt=0
    ).order_by("received_on", "id")
    return [CreditSource(CREDIT_NOTE, n.number, n.remaining, n) for n in notes] + [
        CreditSource(PAYMENT, p.number, p.unused, p) for p in payments
    ]


def _source_of(credit: CreditNote | Payment) -> tuple[str, int, str]:
    if isinstance(credit, CreditNote):
        return CREDIT_NOTE, credit.pk, credit.number
    return PAYMENT, credit.pk, credit.number


def _lock_credit(kind: str, pk: int) -> CreditSource:
    if kind == CREDIT_NOTE:
        note = CreditNote.all_tenants.select_for_update(of=("self",)).get(pk=pk)
        available = note.remaining if note.status == CreditNote.Status.OPEN else Money.zero(note.currency)
        return CreditSource(kind, note.number, available, note)
    payment = Payment.all_tenants.select_for_update(of=("self",)).get(pk=pk)
    return CreditSource(kind, payment.number, payment.unused, payment)


def earlier_use(customer: Customer, form_token: str) -> CreditOutcome | None:
    """What the first submission of this form did, if it was submitted before."""
    earlier = CreditUse.objects.filter(
        organization_id=customer.organization_id, customer=customer, form_token=form_token
    ).first()
    return CreditOutcome(earlier, repeated=True) if form_token and earlier is not None else None


def use_credit(
    *,
    customer: Customer,
    credit: CreditNote | Payment,
    allocations: Sequence[tuple[Invoice, Money | None]],
    form_token: str,
    actor: Actor,
) -> CreditOutcome:
    """Apply `credit` to the chosen invoices of the same customer: each the amount given, or (None)
    as much as the credit left and the invoice's free balance allow, in the order chosen."""
    if not form_token:
        raise CreditRefused(_("This form has expired; please reload the page and try again."))
    earlier = earlier_use(customer, form_token)
    if earlier is not None:
        return earlier
    if not allocations:
        raise CreditRefused(_("Choose at least one invoice to apply the credit to."), field="invoices")
    kind, credit_pk, number = _source_of(credit)
    if credit.customer_id != customer.pk:
        raise CreditRefused(_("That credit was not found on this account."), field="credit")
    try:
        with transaction.atomic():
            Customer.all_tenants.select_for_update(of=("self",)).get(pk=customer.pk)
            earlier = CreditUse.objects.filter(
                organization_id=customer.organization_id, form_token=form_token
            ).first()
            if earlier is not None:  # the same form, whose first submission held the lock before us
                return CreditOutcome(earlier, repeated=True)
            plan = _plan_under_locks(customer, kind, credit_pk, allocations)
            use = CreditUse.objects.create(
                organization_id=customer.organization_id,
                customer=customer,
                form_token=form_token,
                source_kind=kind,
                source_number=number,
                currency=credit.currency,
                applied={invoice.number: amount.minor for invoice, amount in plan},
                created_by=actor.user if getattr(actor.user, "pk", None) else None,
                created_at=clock.now(),
            )
            if kind == CREDIT_NOTE:
                for invoice, amount in plan:
                    ledger.apply_credit(credit_note=credit, invoice=invoice, amount=amount, actor=actor)
            else:
                ledger.allocate_payment(payment=credit, allocations=plan, actor=actor)
    except IntegrityError:
        earlier = CreditUse.objects.filter(
            organization_id=customer.organization_id, form_token=form_token
        ).first()
        if earlier is None:
            raise
        return CreditOutcome(earlier, repeated=True)
    return CreditOutcome(use)


def _plan_under_locks(
    customer: Customer, kind: str, credit_pk: int, allocations: Sequence[tuple[Invoice, Money | None]]
) -> list[tuple[Invoice, Money]]:
    """Lock invoices and credit (the ledger's order, after the customer the caller locked) and decide
    each invoice's amount."""
    wanted = list(dict.fromkeys(invoice.pk for invoice, _amount in allocations))
    if len(wanted) != len(allocations):
        raise CreditRefused(_("Each invoice can be chosen only once."), field="invoices")
    locked = {
        i.pk: i
        for i in Invoice.all_tenants.filter(pk__in=wanted).order_by("pk").select_for_update(of=("self",))
    }
    source = _lock_credit(kind, credit_pk)
    currency = source.available.currency
    reserved = reserved_amounts(wanted)
    left = source.available
    plan = []
    for given, amount in allocations:
        invoice = locked[given.pk]
        if invoice.customer_id != customer.pk or invoice.status == Invoice.Status.DRAFT:
            raise billing_errors.InvoiceNotFound()
        if not invoice.is_outstanding:
            raise billing_errors.InvoiceNotPayable(invoice)
        if invoice.currency != currency:
            raise billing_errors.CurrencyMismatch(currency, invoice.currency)
        free = available_to_pay(invoice, reserved)
        if not free:
            raise CreditRefused(
                _("Invoice %(number)s is being paid by card right now; no credit can be applied to it.")
                % {"number": invoice.number},
                field="invoices",
            )
        if amount is None:
            amount = min(free, left)
            if not amount:
                continue  # the credit is used up by the invoices before this one
        elif amount.currency != currency:
            raise billing_errors.CurrencyMismatch(currency, amount.currency)
        if amount.minor <= 0:
            raise billing_errors.InvalidAmount(_("Enter an amount greater than zero."))
        if amount > free:
            if free != invoice.balance:
                raise PaymentRefused(
                    _(
                        "Only %(available)s of invoice %(number)s can be paid with credit now: the rest "
                        "is being paid by card."
                    )
                    % {"available": free, "number": invoice.number},
                    field="amount",
                )
            raise billing_errors.AmountExceedsBalance(invoice, invoice.balance)
        left -= amount
        if left.is_negative:
            raise CreditRefused(
                _("Only %(available)s of credit %(number)s is left; choose smaller amounts.")
                % {"available": source.available, "number": source.number},
                field="amount",
            )
        plan.append((invoice, amount))
    if not plan:
        raise CreditRefused(_("This credit is already used up."), field="credit")
    return plan
