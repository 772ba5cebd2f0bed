"""Named read queries of the ledger; each costs a fixed number of queries, never one per row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncMonth

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


@dataclass(frozen=True)
class MonthTotals:
    """What was invoiced and what was paid in one calendar month (`month` is its first day)."""

    month: dt.date
    invoiced: Money
    paid: Money


def months_ending(today: dt.date, count: int) -> list[dt.date]:
    """The first days of the `count` calendar months ending with `today`'s, oldest first."""
    index = today.year * 12 + today.month - 1
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def invoiced_and_paid_by_month(
    customer: Customer, *, today: dt.date, months: int = 12, currency: str | None = None
) -> list[MonthTotals]:
    """Per month of the `months` ending with `today`'s (the organization's dates): Σ totals of the
    invoices issued (finalized, not void) by issue date, and Σ payments received by date, in one
    currency (the customer's own by default). Two aggregate queries, whatever the history."""
    scope = _scope(customer, currency)
    firsts = months_ending(today, months)
    after = months_ending(today.replace(day=28) + dt.timedelta(days=4), 1)[0]  # next month's first day
    invoiced = (
        Invoice.all_tenants.filter(**scope, issue_date__gte=firsts[0], issue_date__lt=after)
        .issued()
        .exclude(status=Invoice.Status.VOID)
        .annotate(month=TruncMonth("issue_date"))
        .values("month")
        .annotate(s=Sum("total_minor"))
        .order_by()
    )
    paid = (
        Payment.all_tenants.filter(**scope, received_on__gte=firsts[0], received_on__lt=after)
        .annotate(month=TruncMonth("received_on"))
        .values("month")
        .annotate(s=Sum("amount_minor"))
        .order_by()
    )
    invoiced_by = {_month_of(row["month"]): row["s"] for row in invoiced}
    paid_by = {_month_of(row["month"]): row["s"] for row in paid}
    code = scope["currency"]
    return [
        MonthTotals(first, Money(invoiced_by.get(first, 0), code), Money(paid_by.get(first, 0), code))
        for first in firsts
    ]


def _month_of(value) -> dt.date:
    """TruncMonth gives a date (or, on some backends, a datetime at midnight): the month's first day."""
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.replace(day=1)
