"""Account statements: for a period, the opening balance, every document that moved the balance in
date order with a running balance, and the closing balance.

What moves a customer's balance (DESIGN.md "Money and ledger invariants"):
  + an invoice issued (its total)          − an invoice voided (its total; voiding needs nothing applied)
  − a payment received (its amount)        − a credit note issued (its total)
  + a refund (money returned)
Allocations and credit applications only move money between an invoice and an unused credit, so they
leave the balance as it is. Hence, for any period ending today,
  opening + Σ debits − Σ credits = closing = Σ open invoice balances − Σ unused credits (the live balance).
Each sum is one aggregate query and each kind of line one query, whatever the number of documents.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.billing.models import CreditNote, Invoice, Payment, Refund
from portico.core import clock
from portico.core.money import Money


class StatementPeriodError(ValueError):
    """A period that cannot be a statement's (end before start, unknown name)."""

    def __init__(self, message: str, field: str = "end"):
        super().__init__(message)
        self.message = message
        self.field = field


PERIODS = {
    "this_month": gettext_lazy("This month"),
    "last_month": gettext_lazy("Last month"),
    "this_quarter": gettext_lazy("This quarter"),
    "this_year": gettext_lazy("This year"),
    "custom": gettext_lazy("Custom dates"),
}


def period_bounds(
    period: str, today: dt.date, start: dt.date | None = None, end: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """The first and last day (inclusive) of a named period, or of a custom one."""
    if period == "this_month":
        return today.replace(day=1), today
    if period == "last_month":
        last_day = today.replace(day=1) - dt.timedelta(days=1)
        return last_day.replace(day=1), last_day
    if period == "this_quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        return today.replace(month=first_month, day=1), today
    if period == "this_year":
        return today.replace(month=1, day=1), today
    if period == "custom":
        if start is None or end is None:
            raise StatementPeriodError(
                _("Choose a start and an end date."), field="start" if start is None else "end"
            )
        if end < start:
            raise StatementPeriodError(_("The end date must be on or after the start date."))
        return start, end
    raise StatementPeriodError(_("Choose a period."), field="period")


class Kind:
    INVOICE = "invoice"
    REFUND = "refund"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    VOID = "void"


# On one day: what was billed comes before what paid it, so the running balance reads naturally.
KIND_ORDER = {Kind.INVOICE: 0, Kind.REFUND: 1, Kind.CREDIT_NOTE: 2, Kind.PAYMENT: 3, Kind.VOID: 4}


@dataclass(frozen=True)
class StatementLine:
    date: dt.date
    kind: str
    reference: str
    description: str
    debit: Money | None
    credit: Money | None
    balance: Money


@dataclass(frozen=True)
class Statement:
    customer: object
    currency: str
    start: dt.date
    end: dt.date
    opening_balance: Money
    lines: list[StatementLine]
    total_debits: Money
    total_credits: Money
    closing_balance: Money


def _start_of_day(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


def statement_for(customer, start: dt.date, end: dt.date, currency: str | None = None) -> Statement:
    """The statement of one customer's account in one currency, `start` to `end` inclusive."""
    if end < start:
        raise StatementPeriodError(_("The end date must be on or after the start date."))
    organization = customer.organization
    currency = currency or customer.currency
    zone = ZoneInfo(organization.time_zone)
    begins, ends = _start_of_day(start, zone), _start_of_day(end + dt.timedelta(days=1), zone)
    scope = {"organization_id": organization.pk, "customer_id": customer.pk, "currency": currency}

    invoices = Invoice.all_tenants.filter(**scope).exclude(status=Invoice.Status.DRAFT)
    credit_notes = CreditNote.all_tenants.filter(**scope).exclude(
        status__in=[CreditNote.Status.DRAFT, CreditNote.Status.VOID]
    )
    payments = Payment.all_tenants.filter(**scope)
    refunds = Refund.all_tenants.filter(**scope)

    before = invoices.aggregate(
        issued=Sum("total_minor", filter=Q(issue_date__lt=start)),
        voided=Sum("total_minor", filter=Q(status=Invoice.Status.VOID, voided_at__lt=begins)),
    )
    opening = (
        (before["issued"] or 0)
        - (before["voided"] or 0)
        - (payments.filter(received_on__lt=start).aggregate(s=Sum("amount_minor"))["s"] or 0)
        - (credit_notes.filter(issue_date__lt=start).aggregate(s=Sum("total_minor"))["s"] or 0)
        + (refunds.filter(refunded_on__lt=start).aggregate(s=Sum("amount_minor"))["s"] or 0)
    )

    raw: list[tuple[dt.date, str, int, str, str, int]] = []  # date, kind, id, reference, description, signed
    in_period = Q(issue_date__gte=start, issue_date__lte=end) | Q(
        status=Invoice.Status.VOID, voided_at__gte=begins, voided_at__lt=ends
    )
    for row in invoices.filter(in_period).values(
        "id", "number", "issue_date", "due_date", "total_minor", "status", "voided_at"
    ):
        if row["issue_date"] and start <= row["issue_date"] <= end:
            description = _("Invoice %(number)s") % {"number": row["number"]}
            if row["due_date"]:
                description += " · " + _("due %(date)s") % {"date": row["due_date"].isoformat()}
            raw.append(
                (row["issue_date"], Kind.INVOICE, row["id"], row["number"], description, row["total_minor"])
            )
        if row["status"] == Invoice.Status.VOID and row["voided_at"] and begins <= row["voided_at"] < ends:
            raw.append(
                (
                    row["voided_at"].astimezone(zone).date(),
                    Kind.VOID,
                    row["id"],
                    row["number"],
                    _("Invoice %(number)s voided") % {"number": row["number"]},
                    -row["total_minor"],
                )
            )
    for row in payments.filter(received_on__gte=start, received_on__lte=end).values(
        "id", "number", "received_on", "amount_minor", "method", "card_brand", "card_last4", "reference"
    ):
        method = (
            Payment.Method(row["method"]).label if row["method"] in Payment.Method.values else row["method"]
        )
        description = _("Payment %(number)s · %(method)s") % {"number": row["number"], "method": method}
        if row["card_last4"]:
            description += f" •••• {row['card_last4']}"
        elif row["reference"]:
            description += f" · {row['reference']}"
        raw.append(
            (row["received_on"], Kind.PAYMENT, row["id"], row["number"], description, -row["amount_minor"])
        )
    for row in credit_notes.filter(issue_date__gte=start, issue_date__lte=end).values(
        "id", "number", "issue_date", "total_minor", "reason"
    ):
        description = _("Credit note %(number)s") % {"number": row["number"]}
        if row["reason"]:
            description += f" · {row['reason']}"
        raw.append(
            (row["issue_date"], Kind.CREDIT_NOTE, row["id"], row["number"], description, -row["total_minor"])
        )
    for row in refunds.filter(refunded_on__gte=start, refunded_on__lte=end).values(
        "id", "refunded_on", "amount_minor", "reason", "payment__number", "credit_note__number"
    ):
        source = row["payment__number"] or row["credit_note__number"] or ""
        description = _("Refund of %(source)s") % {"source": source} if source else _("Refund")
        if row["reason"]:
            description += f" · {row['reason']}"
        raw.append((row["refunded_on"], Kind.REFUND, row["id"], source, description, row["amount_minor"]))

    raw.sort(key=lambda r: (r[0], KIND_ORDER[r[1]], r[2]))
    running, debits, credits = opening, 0, 0
    lines = []
    for date, kind, _id, reference, description, signed in raw:
        running += signed
        if signed >= 0:
            debits += signed
        else:
            credits -= signed
        lines.append(
            StatementLine(
                date=date,
                kind=kind,
                reference=reference,
                description=description,
                debit=Money(signed, currency) if signed >= 0 else None,
                credit=Money(-signed, currency) if signed < 0 else None,
                balance=Money(running, currency),
            )
        )
    return Statement(
        customer=customer,
        currency=currency,
        start=start,
        end=end,
        opening_balance=Money(opening, currency),
        lines=lines,
        total_debits=Money(debits, currency),
        total_credits=Money(credits, currency),
        closing_balance=Money(running, currency),
    )


def statement_currencies(customer) -> list[str]:
    """The currencies a customer has documents in, the customer's own first."""
    found = set(
        Invoice.all_tenants.filter(organization_id=customer.organization_id, customer_id=customer.pk)
        .exclude(status=Invoice.Status.DRAFT)
        .values_list("currency", flat=True)
        .distinct()
    )
    return [customer.currency, *sorted(found - {customer.currency})]


def statement_csv(statement: Statement) -> str:
    """The statement as CSV: amounts as plain decimals in the statement's currency, one row per line."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [_("Date"), _("Type"), _("Reference"), _("Description"), _("Debit"), _("Credit"), _("Balance")]
    )
    writer.writerow(
        [
            statement.start.isoformat(),
            "opening",
            "",
            _("Opening balance"),
            "",
            "",
            statement.opening_balance.decimal,
        ]
    )
    for line in statement.lines:
        writer.writerow(
            [
                line.date.isoformat(),
                line.kind,
                _csv_safe(line.reference),
                _csv_safe(line.description),
                line.debit.decimal if line.debit else "",
                line.credit.decimal if line.credit else "",
                line.balance.decimal,
            ]
        )
    writer.writerow(
        [
            statement.end.isoformat(),
            "closing",
            "",
            _("Closing balance"),
            statement.total_debits.decimal,
            statement.total_credits.decimal,
            statement.closing_balance.decimal,
        ]
    )
    return out.getvalue()


def _csv_safe(text: str) -> str:
    """Keep spreadsheets from running a cell as a formula (OWASP CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def default_today(organization) -> dt.date:
    return clock.today(organization.time_zone)
