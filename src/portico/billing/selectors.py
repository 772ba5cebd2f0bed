"""Named read queries of the ledger; each costs a fixed number of queries, never one per row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet, Sum

from portico.billing.models import CreditNote, Invoice, Payment
from portico.core.money import Money
from portico.customers.models import Customer


def _invoices_of(customer: Customer):
    return Invoice.all_tenants.filter(organization_id=customer.organization_id, customer=customer)


def open_invoices_of(customer: Customer) -> QuerySet[Invoice]:
    """Issued invoices with money still due (`outstanding()`), the oldest due first."""
    return _invoices_of(customer).outstanding().order_by("due_date", "pk")


@dataclass(frozen=True)
class UnusedCredit:
    """Money the customer may still use: a credit note's remaining credit or a payment's advance."""

    kind: str  # "credit_note" or "advance"
    source: CreditNote | Payment
    number: str
    date: dt.date | None
    remaining: Money

    @property
    def is_advance(self) -> bool:
        return self.kind == "advance"


def unused_credits_of(customer: Customer) -> list[UnusedCredit]:
    """Credit notes with remaining credit and payments with unused money, oldest first (two queries)."""
    credit_notes = CreditNote.all_tenants.filter(
        organization_id=customer.organization_id,
        customer=customer,
        status=CreditNote.Status.OPEN,
        remaining_minor__gt=0,
    ).select_related("invoice")
    advances = Payment.all_tenants.filter(
        organization_id=customer.organization_id, customer=customer, unused_minor__gt=0
    )
    credits = [
        UnusedCredit("credit_note", note, note.number, note.issue_date, note.remaining)
        for note in credit_notes
    ] + [
        UnusedCredit("advance", payment, payment.number, payment.received_on, payment.unused)
        for payment in advances
    ]
    credits.sort(key=lambda c: (c.date or dt.date.min, c.kind, c.source.pk))
    return credits


def own_currency_first(customer: Customer, currencies) -> list[str]:
    """Currencies as pages list them: the customer's own first, then the others alphabetically."""
    return sorted(set(currencies), key=lambda c: (c != customer.currency, c))


def _scope(customer: Customer, currency: str | None) -> dict:
    return {
        "organization_id": customer.organization_id,
        "customer_id": customer.pk,
        "currency": currency or customer.currency,
    }


def outstanding_of(customer: Customer, currency: str | None = None) -> Money:
    """Σ balances of the customer's open invoices in one currency (the customer's own by default)."""
    scope = _scope(customer, currency)
    owed = Invoice.all_tenants.filter(**scope).outstanding().aggregate(s=Sum("balance_minor"))["s"]
    return Money(owed or 0, scope["currency"])


def unused_credit_by_currency(customer: Customer) -> dict[str, int]:
    """Per currency, Σ remaining credit notes + Σ unused payments (advances), in minor units.
    Two queries on the partial indexes of what is left to use, whatever the history."""
    scope = {"organization_id": customer.organization_id, "customer_id": customer.pk}
    unused: dict[str, int] = {}
    for rows in (
        Payment.all_tenants.filter(**scope, unused_minor__gt=0)
        .values("currency")
        .annotate(s=Sum("unused_minor")),
        CreditNote.all_tenants.filter(**scope, status=CreditNote.Status.OPEN, remaining_minor__gt=0)
        .values("currency")
        .annotate(s=Sum("remaining_minor")),
    ):
        for row in rows.order_by():
            unused[row["currency"]] = unused.get(row["currency"], 0) + row["s"]
    return unused


def unused_credit_total_of(customer: Customer, currency: str | None = None) -> Money:
    """Σ remaining credit notes + Σ unused payments (advances) in one currency."""
    currency = currency or customer.currency
    return Money(unused_credit_by_currency(customer).get(currency, 0), currency)


def account_balance(customer: Customer, currency: str | None = None) -> Money:
    """What the customer owes net of what they have in credit, in one currency: Σ open balances −
    Σ unused credits and advances. Negative when the customer is in credit. It is also what every
    movement of the account adds up to (billing.statements)."""
    return outstanding_of(customer, currency) - unused_credit_total_of(customer, currency)


def overdue_of(customer: Customer, today: dt.date) -> QuerySet[Invoice]:
    """Open invoices whose due date is before `today` (the organization's date), oldest due first."""
    return _invoices_of(customer).overdue(today).order_by("due_date", "pk")
