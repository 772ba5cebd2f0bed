"""What the portal reads of the ledger, always scoped to one organization and one customer.

Every portal page reaches invoices, payments and credit notes through these helpers, so scoping
is written once: another customer's (or organization's) number is simply not found (→ 404).
Each helper returns rows with what the page shows already joined or prefetched, so a page issues
the same number of queries for 5 invoices as for 5,000.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min, Prefetch, QuerySet, Sum
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.billing.models import (
    CreditApplication,
    CreditNote,
    Invoice,
    Payment,
    PaymentAllocation,
    StatementExport,
    due_condition,
    overdue_condition,
)
from portico.billing.selectors import own_currency_first, unused_credit_by_currency
from portico.core import clock
from portico.core.money import Money


def today_for(portal) -> dt.date:
    """Today in the organization's time zone: what decides whether an invoice is overdue."""
    return clock.today(portal.organization.time_zone)


# -- invoices -----------------------------------------------------------------------------------------


def invoices_of(portal) -> QuerySet[Invoice]:
    """The customer's issued invoices (drafts are not the customer's business yet)."""
    return Invoice.objects.filter(organization=portal.organization, customer=portal.customer).issued()


def get_invoice_for(portal, number: str) -> Invoice:
    """The customer's issued invoice with this number; anyone else's (or a draft) is not found."""
    found = list(invoices_of(portal).filter(number=number).order_by()[:1])
    if not found:
        raise Http404
    return found[0]


def outstanding_invoices_of(portal) -> QuerySet[Invoice]:
    return invoices_of(portal).outstanding()


INVOICE_FILTERS = {
    "all": gettext_lazy("All"),
    "due": gettext_lazy("Due"),
    "overdue": gettext_lazy("Overdue"),
    "partially_paid": gettext_lazy("Partially paid"),
    "paid": gettext_lazy("Paid"),
    "void": gettext_lazy("Void"),
}

INVOICE_SORTS = {
    "-issue_date": (gettext_lazy("Newest first"), ["-issue_date", "-id"]),
    "issue_date": (gettext_lazy("Oldest first"), ["issue_date", "id"]),
    "due_date": (gettext_lazy("Due date, soonest first"), ["due_date", "id"]),
    "-due_date": (gettext_lazy("Due date, latest first"), ["-due_date", "-id"]),
    "-total": (gettext_lazy("Largest total first"), ["-total_minor", "-id"]),
    "total": (gettext_lazy("Smallest total first"), ["total_minor", "id"]),
    "-balance": (gettext_lazy("Largest balance first"), ["-balance_minor", "-id"]),
    "number": (gettext_lazy("Number"), ["number"]),
}


def filter_invoices(
    portal,
    *,
    status: str = "all",
    start: dt.date | None = None,
    end: dt.date | None = None,
    search: str = "",
    sort: str = "-issue_date",
) -> QuerySet[Invoice]:
    today = today_for(portal)
    qs = invoices_of(portal)
    if status == "due":
        qs = qs.due(today)
    elif status == "overdue":
        qs = qs.overdue(today)
    elif status in ("partially_paid", "paid", "void"):
        qs = qs.filter(status=status)
    if start:
        qs = qs.filter(issue_date__gte=start)
    if end:
        qs = qs.filter(issue_date__lte=end)
    if search:
        qs = qs.filter(number__icontains=search.strip())
    return qs.order_by(*INVOICE_SORTS.get(sort, INVOICE_SORTS["-issue_date"])[1])


@dataclass(frozen=True)
class Badge:
    """An invoice's status as words (colour only repeats what the words say)."""

    text: str
    tone: str
    detail: str = ""


def badge_for(invoice: Invoice, today: dt.date) -> Badge:
    if invoice.status == Invoice.Status.VOID:
        return Badge(_("Void"), "neutral")
    if invoice.status == Invoice.Status.PAID or (invoice.is_open and invoice.balance_minor == 0):
        return Badge(_("Paid"), "ok")
    if invoice.is_overdue_on(today):
        days = invoice.days_overdue_on(today)
        detail = _("Partially paid") if invoice.status == Invoice.Status.PARTIALLY_PAID else ""
        text = _("Overdue (%(days)d day)") if days == 1 else _("Overdue (%(days)d days)")
        return Badge(text % {"days": days}, "danger", detail)
    if invoice.status == Invoice.Status.PARTIALLY_PAID:
        return Badge(_("Partially paid"), "warn")
    return Badge(_("Due"), "info")


# -- account summary ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountSummary:
    currency: str
    outstanding: Money
    overdue: Money
    overdue_count: int
    unused_credits: Money
    next_due_date: dt.date | None  # the earliest due date of the open invoices: in the past when overdue
    next_upcoming_due_date: dt.date | None = None  # the earliest one from today on

    @property
    def balance(self) -> Money:
        return self.outstanding - self.unused_credits


def account_summaries(portal) -> list[AccountSummary]:
    """Per currency: what is owed, what of it is overdue, unused credit and the next due date.
    Three aggregate queries, whatever the number of invoices."""
    today = today_for(portal)
    scope = {"organization": portal.organization, "customer": portal.customer}
    invoice_rows = (
        Invoice.objects.filter(**scope)
        .outstanding()
        .values("currency")
        .annotate(
            outstanding=Sum("balance_minor"),
            overdue=Sum("balance_minor", filter=overdue_condition(today)),
            overdue_count=Count("id", filter=overdue_condition(today)),
            next_due=Min("due_date"),
            next_upcoming_due=Min("due_date", filter=due_condition(today)),
        )
        .order_by("currency")
    )
    unused = unused_credit_by_currency(portal.customer)
    by_currency = {row["currency"]: row for row in invoice_rows}
    currencies = own_currency_first(portal.customer, [*by_currency, *unused])
    if not currencies:
        currencies = [portal.customer.currency]
    summaries = []
    for currency in currencies:
        row = by_currency.get(currency, {})
        summaries.append(
            AccountSummary(
                currency=currency,
                outstanding=Money(row.get("outstanding") or 0, currency),
                overdue=Money(row.get("overdue") or 0, currency),
                overdue_count=row.get("overdue_count") or 0,
                unused_credits=Money(unused.get(currency, 0), currency),
                next_due_date=row.get("next_due"),
                next_upcoming_due_date=row.get("next_upcoming_due"),
            )
        )
    return summaries


# -- payments and credits ---------------------------------------------------------------------------------


def payments_of(portal) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(organization=portal.organization, customer=portal.customer)
        .prefetch_related(
            Prefetch(
                "allocations",
                # Each allocation shows its invoice's number and nothing else of it.
                queryset=PaymentAllocation.objects.select_related("invoice")
                .only("payment_id", "invoice_id", "amount_minor", "invoice__number")
                .order_by("allocated_at", "id"),
            )
        )
        .order_by("-received_on", "-id")
    )


def get_payment_for(portal, number: str) -> Payment:
    payment = payments_of(portal).filter(number=number).first()
    if payment is None:
        raise Http404
    return payment


def credit_notes_of(portal) -> QuerySet[CreditNote]:
    return (
        CreditNote.objects.filter(organization=portal.organization, customer=portal.customer)
        .exclude(status=CreditNote.Status.DRAFT)
        .select_related("invoice")
        .prefetch_related(
            Prefetch(
                "applications",
                queryset=CreditApplication.objects.select_related("invoice")
                .only("credit_note_id", "invoice_id", "amount_minor", "invoice__number")
                .order_by("applied_at", "id"),
            )
        )
        .order_by("-issue_date", "-id")
    )


def advances_of(portal) -> QuerySet[Payment]:
    """Payments with money not (yet) applied to an invoice: credit on the account."""
    return payments_of(portal).filter(unused_minor__gt=0)


def attach_amounts(rows, currency: str) -> list:
    """Allocations and credit applications store minor units only; give each its `amount` as Money."""
    rows = list(rows)
    for row in rows:
        row.amount = Money(row.amount_minor, currency)
    return rows


# -- statement exports ------------------------------------------------------------------------------------


EXPORT_COLUMNS = ("public_id", "start", "end", "currency", "line_count", "status", "created_at")


def statement_exports_of(portal, limit: int = 10) -> list[StatementExport]:
    """The customer's latest prepared (and preparing) statement PDFs: one query."""
    return list(
        StatementExport.objects.filter(organization=portal.organization, customer=portal.customer)
        .only(*EXPORT_COLUMNS)
        .order_by("-created_at", "-id")[:limit]
    )


def get_statement_export_for(portal, public_id: str) -> StatementExport:
    """The customer's ready statement PDF with this id; anyone else's, or one not ready, is not found."""
    found = list(
        StatementExport.objects.filter(
            organization=portal.organization,
            customer=portal.customer,
            public_id=public_id,
            status=StatementExport.Status.READY,
        ).order_by()[:1]
    )
    if not found:
        raise Http404
    return found[0]
