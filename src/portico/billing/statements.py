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

from portico.billing.errors import BillingError, Code
from portico.billing.models import CreditNote, Invoice, Payment, Refund
from portico.billing.selectors import account_balance
from portico.core import clock
from portico.core.csv_cells import safe_cell as _csv_safe  # the statement CSV's text cells
from portico.core.money import Money


class StatementPeriodError(BillingError):
    """A period that cannot be a statement's (end before start, unknown name)."""

    code = Code.STATEMENT_PERIOD_INVALID
    field = "end"
    message = gettext_lazy("Choose a valid period.")


# A statement's dates stay where every time zone can take the start of the day after `end` (so not
# 9999-12-31) and the start of `start` in UTC (so not 0001-01-01): far beyond any real account.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)


def check_period(start: dt.date, end: dt.date) -> None:
    """Refuse a period that cannot be a statement's, before anything is computed from it."""
    for field, day in (("start", start), ("end", end)):
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            raise StatementPeriodError(
                _("Choose a date between %(earliest)s and %(latest)s.")
                % {"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
                field=field,
            )
    if end < start:
        raise StatementPeriodError(_("The end date must be on or after the start date."))


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
        check_period(start, end)
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


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One document on a statement. Amounts are kept as integers and the description is composed
    only when shown, so a long statement costs little until a page, PDF or CSV renders it."""

    date: dt.date
    kind: str
    reference: str
    currency: str
    amount_minor: int  # signed: + a charge (debit), − a credit
    balance_minor: int
    detail: tuple = ()

    @property
    def debit(self) -> Money | None:
        return Money(self.amount_minor, self.currency) if self.amount_minor >= 0 else None

    @property
    def credit(self) -> Money | None:
        return Money(-self.amount_minor, self.currency) if self.amount_minor < 0 else None

    @property
    def balance(self) -> Money:
        return Money(self.balance_minor, self.currency)

    @property
    def description(self) -> str:
        number = self.reference
        if self.kind == Kind.INVOICE:
            (due,) = self.detail
            text = _("Invoice %(number)s") % {"number": number}
            return text + " · " + _("due %(date)s") % {"date": due.isoformat()} if due else text
        if self.kind == Kind.VOID:
            return _("Invoice %(number)s voided") % {"number": number}
        if self.kind == Kind.PAYMENT:
            method, last4, reference = self.detail
            label = Payment.Method(method).label if method in Payment.Method.values else method
            text = _("Payment %(number)s · %(method)s") % {"number": number, "method": label}
            if last4:
                return f"{text} •••• {last4}"
            return f"{text} · {reference}" if reference else text
        if self.kind == Kind.CREDIT_NOTE:
            (reason,) = self.detail
            text = _("Credit note %(number)s") % {"number": number}
            return f"{text} · {reason}" if reason else text
        (reason,) = self.detail
        text = _("Refund of %(source)s") % {"source": number} if number else _("Refund")
        return f"{text} · {reason}" if reason else text


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
    check_period(start, end)
    organization = customer.organization
    currency = currency or customer.currency
    zone = ZoneInfo(organization.time_zone)
    begins, ends = _start_of_day(start, zone), _start_of_day(end + dt.timedelta(days=1), zone)
    scope = {"organization_id": organization.pk, "customer_id": customer.pk, "currency": currency}

    invoices, credit_notes, payments, refunds = _documents(scope)
    # A statement that reaches today (this month, this year, the last twelve months: nearly all of
    # them) fetches every movement from `start` on, and takes the opening balance back from the live
    # balance, which the open documents hold: a few rows, where summing the whole history before
    # `start` costs more the longer the account is. Older periods sum their history.
    reaches_today = end >= clock.today(organization.time_zone)
    last = None if reaches_today else end

    # (date, kind order, id, kind, reference, signed amount, detail)
    raw: list[tuple] = []
    invoice_order, void_order = KIND_ORDER[Kind.INVOICE], KIND_ORDER[Kind.VOID]
    issued_in = Q(issue_date__gte=start) if last is None else Q(issue_date__gte=start, issue_date__lte=last)
    voided_in = Q(status=Invoice.Status.VOID, voided_at__gte=begins)
    if last is not None:
        voided_in &= Q(voided_at__lt=ends)
    for pk, number, issued, due, total, status, voided_at in invoices.filter(
        issued_in | voided_in
    ).values_list("id", "number", "issue_date", "due_date", "total_minor", "status", "voided_at"):
        if issued and issued >= start:
            raw.append((issued, invoice_order, pk, Kind.INVOICE, number, total, (due,)))
        if status == Invoice.Status.VOID and voided_at and voided_at >= begins:
            raw.append((voided_at.astimezone(zone).date(), void_order, pk, Kind.VOID, number, -total, ()))
    order = KIND_ORDER[Kind.PAYMENT]
    for pk, number, received, amount, method, last4, reference in payments.filter(
        _between("received_on", start, last)
    ).values_list("id", "number", "received_on", "amount_minor", "method", "card_last4", "reference"):
        raw.append((received, order, pk, Kind.PAYMENT, number, -amount, (method, last4, reference)))
    order = KIND_ORDER[Kind.CREDIT_NOTE]
    for pk, number, issued, total, reason in credit_notes.filter(
        _between("issue_date", start, last)
    ).values_list("id", "number", "issue_date", "total_minor", "reason"):
        raw.append((issued, order, pk, Kind.CREDIT_NOTE, number, -total, (reason,)))
    order = KIND_ORDER[Kind.REFUND]
    for pk, refunded, amount, reason, payment_number, note_number in refunds.filter(
        _between("refunded_on", start, last)
    ).values_list("id", "refunded_on", "amount_minor", "reason", "payment__number", "credit_note__number"):
        raw.append((refunded, order, pk, Kind.REFUND, payment_number or note_number or "", amount, (reason,)))

    if reaches_today:
        # live balance = Σ every movement, so opening = live − Σ movements from `start` on
        opening = account_balance(customer, currency).minor - sum(r[5] for r in raw)
    else:
        opening = opening_from_history(customer, start, currency)
    # After `end`: future-dated documents (counted in the opening above), or an invoice of the
    # period voided later (its void belongs to a later statement).
    raw = [r for r in raw if r[0] <= end]

    raw.sort(key=lambda r: (r[0], r[1], r[2]))
    running, debits, credits = opening, 0, 0
    lines = []
    for date, _order, _pk, kind, reference, signed, detail in raw:
        running += signed
        if signed >= 0:
            debits += signed
        else:
            credits -= signed
        lines.append(StatementLine(date, kind, reference, currency, signed, running, detail))
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


def _between(field: str, start: dt.date, last: dt.date | None) -> Q:
    return (
        Q(**{f"{field}__gte": start})
        if last is None
        else Q(**{f"{field}__gte": start, f"{field}__lte": last})
    )


def _documents(scope: dict):
    """The customer's documents in one currency that move the balance (as the module docstring says)."""
    invoices = Invoice.all_tenants.filter(**scope).issued()
    credit_notes = CreditNote.all_tenants.filter(**scope).exclude(
        status__in=[CreditNote.Status.DRAFT, CreditNote.Status.VOID]
    )
    return invoices, credit_notes, Payment.all_tenants.filter(**scope), Refund.all_tenants.filter(**scope)


def opening_from_history(customer, start: dt.date, currency: str) -> int:
    """The balance before `start`, summed from every document dated before it (minor units)."""
    organization = customer.organization
    begins = _start_of_day(start, ZoneInfo(organization.time_zone))
    scope = {"organization_id": organization.pk, "customer_id": customer.pk, "currency": currency}
    invoices, credit_notes, payments, refunds = _documents(scope)
    before = invoices.aggregate(
        issued=Sum("total_minor", filter=Q(issue_date__lt=start)),
        voided=Sum("total_minor", filter=Q(status=Invoice.Status.VOID, voided_at__lt=begins)),
    )
    return (
        (before["issued"] or 0)
        - (before["voided"] or 0)
        - (payments.filter(received_on__lt=start).aggregate(s=Sum("amount_minor"))["s"] or 0)
        - (credit_notes.filter(issue_date__lt=start).aggregate(s=Sum("total_minor"))["s"] or 0)
        + (refunds.filter(refunded_on__lt=start).aggregate(s=Sum("amount_minor"))["s"] or 0)
    )


def statement_currencies(customer) -> list[str]:
    """The currencies a customer has documents in, the customer's own first. Only other currencies are
    looked for (an index range of the customer's rows), since nearly every account has just one."""
    others = set(
        Invoice.all_tenants.filter(organization_id=customer.organization_id, customer_id=customer.pk)
        # Two index ranges (before and after the customer's currency), not a scan of every row.
        .filter(Q(currency__lt=customer.currency) | Q(currency__gt=customer.currency))
        .issued()
        .order_by()  # no ordering columns in the DISTINCT, or every row comes back
        .values_list("currency", flat=True)
        .distinct()
    )
    return [customer.currency, *sorted(others)]


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


def default_today(organization) -> dt.date:
    return clock.today(organization.time_zone)
