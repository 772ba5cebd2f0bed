"""Reads of projects for the console, the portal, the API and their charts, from the ledger's numbers.

A project's billed, paid, credited and outstanding amounts are its invoices' (`ProjectInvoice` →
`billing.Invoice`): billed = Σ totals of its issued, non-void invoices = paid + credited + outstanding.
Unbilled is what `invoice_project` would bill now (approved time and due milestones, priced by
`projects.pricing`). Every selector runs a fixed number of queries, however many projects or entries
it reads. They use the tenant-scoped managers: with no organization active they fail closed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from portico.billing.models import Invoice, PaymentAllocation
from portico.core.money import Money
from portico.projects import pricing
from portico.projects.models import Milestone, Project, ProjectInvoice, TimeEntry

ZERO_HOURS = Decimal("0.00")
ISSUED = ~Q(invoice__status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID])


@dataclass(frozen=True)
class ProjectTotals:
    project: Project
    currency: str
    budget_kind: str
    budget: Money | None
    budget_hours: Decimal | None
    billed: Money  # Σ totals of issued, non-void invoices
    paid: Money  # Σ payments allocated to them
    credited: Money  # Σ credit notes applied to them
    outstanding: Money  # Σ balances of the open ones
    unbilled: Money  # approved unbilled time and due milestones, as invoice_project would bill them now
    unbilled_hours: Decimal  # approved, billable, not invoiced
    pending_hours: Decimal  # billable, awaiting approval or disputed
    billed_hours: Decimal  # invoiced
    billable_hours: Decimal  # every billable hour logged
    hours_logged: Decimal  # every hour logged, billable or not
    unpriced_hours: Decimal  # approved billable hours with no rate to bill them at

    @property
    def burn_percent(self) -> Decimal | None:
        """How much of the budget is used: billed money of a money budget, billable hours of an hours
        budget; None without a budget."""
        if self.budget is not None and self.budget.minor:
            return (Decimal(self.billed.minor) * 100 / Decimal(self.budget.minor)).quantize(Decimal("0.1"))
        if self.budget_hours:
            return (self.billable_hours * 100 / self.budget_hours).quantize(Decimal("0.1"))
        return None


def _hours_by_project(project_ids) -> dict[int, dict[str, Decimal]]:
    rows = (
        TimeEntry.objects.filter(project_id__in=project_ids)
        .values("project_id", "state", "is_billable", "task__is_billable")
        .annotate(hours=Sum("hours"))
        .order_by()
    )
    found: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO_HOURS))
    for row in rows:
        sums = found[row["project_id"]]
        sums["logged"] += row["hours"]
        if not (row["is_billable"] and row["task__is_billable"]):
            continue
        sums["billable"] += row["hours"]
        state = row["state"]
        if state == TimeEntry.State.INVOICED:
            sums["billed"] += row["hours"]
        elif state == TimeEntry.State.APPROVED:
            sums["unbilled"] += row["hours"]
        else:
            sums["pending"] += row["hours"]
    return found


def project_totals(projects: Iterable[Project]) -> dict[int, ProjectTotals]:
    """Totals of many projects (by project id), in six queries whatever their number."""
    ids = {project.pk for project in projects}
    if not ids:
        return {}
    loaded = {p.pk: p for p in Project.objects.filter(pk__in=ids).select_related("tax_rate")}
    ledger = {
        row["project_id"]: row
        for row in ProjectInvoice.objects.filter(ISSUED, project_id__in=ids)
        .values("project_id")
        .annotate(
            billed=Sum("invoice__total_minor"),
            paid=Sum("invoice__paid_minor"),
            credited=Sum("invoice__credited_minor"),
            outstanding=Sum("invoice__balance_minor", filter=Q(invoice__status__in=Invoice.OPEN_STATUSES)),
        )
        .order_by()
    }
    hours = _hours_by_project(ids)
    entries = defaultdict(list)
    approved = TimeEntry.objects.filter(
        project_id__in=ids, state=TimeEntry.State.APPROVED, is_billable=True, task__is_billable=True
    ).select_related("task", "staff_member")
    for entry in approved:
        entries[entry.project_id].append(entry)
    milestones = defaultdict(list)
    for milestone in Milestone.objects.filter(project_id__in=ids, status=Milestone.Status.DUE):
        milestones[milestone.project_id].append(milestone)
    rates = pricing.member_rates_of(ids)

    totals = {}
    for pk, project in loaded.items():
        currency = project.currency
        sums, money = hours[pk], ledger.get(pk, {})
        hourly = entries[pk] if project.is_hourly else []
        preview = pricing.build_preview(
            project, hourly, milestones[pk], project.invoice_grouping, rates, strict=False
        )
        unpriced = {e.pk for e in entries[pk]} - set(preview.entry_ids)
        totals[pk] = ProjectTotals(
            project=project,
            currency=currency,
            budget_kind=project.budget_kind,
            budget=Money(project.budget_minor, currency) if project.budget_minor is not None else None,
            budget_hours=project.budget_hours,
            billed=Money(money.get("billed") or 0, currency),
            paid=Money(money.get("paid") or 0, currency),
            credited=Money(money.get("credited") or 0, currency),
            outstanding=Money(money.get("outstanding") or 0, currency),
            unbilled=preview.total,
            unbilled_hours=sums["unbilled"],
            pending_hours=sums["pending"],
            billed_hours=sums["billed"],
            billable_hours=sums["billable"],
            hours_logged=sums["logged"],
            unpriced_hours=sum((e.hours for e in entries[pk] if e.pk in unpriced), ZERO_HOURS),
        )
    return totals


def project_totals_of(project: Project) -> ProjectTotals:
    return project_totals([project])[project.pk]


# -- hours review ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoursReview:
    """A project's time for a period and filters: the entries (a queryset with their task, staff
    member and billing invoice selected, to paginate) and totals over all of them."""

    entries: QuerySet[TimeEntry]
    total_hours: Decimal
    billable_hours: Decimal
    billed_hours: Decimal
    unbilled_hours: Decimal  # billable, not invoiced (awaiting approval, disputed or approved)
    by_task: list[tuple[int, str, Decimal]]  # (task id, name, hours)
    by_staff: list[tuple[int, str, Decimal]]  # (staff member id, name, hours)


BILLABLE = Q(is_billable=True, task__is_billable=True)


def hours_review(
    *,
    project: Project,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    task=None,
    staff_member=None,
    billed: bool | None = None,
    state: str | None = None,
) -> HoursReview:
    """Entries by period (inclusive dates), task, staff member, billed or not, state; four queries
    (three for the totals, one when the entries are read), whatever the number of entries."""
    entries = TimeEntry.objects.filter(project=project)
    if date_from is not None:
        entries = entries.filter(date__gte=date_from)
    if date_to is not None:
        entries = entries.filter(date__lte=date_to)
    if task is not None:
        entries = entries.filter(task=task)
    if staff_member is not None:
        entries = entries.filter(staff_member=staff_member)
    if billed is True:
        entries = entries.filter(state=TimeEntry.State.INVOICED)
    elif billed is False:
        entries = entries.exclude(state=TimeEntry.State.INVOICED)
    if state is not None:
        entries = entries.filter(state=state)
    invoiced = Q(state=TimeEntry.State.INVOICED)
    sums = entries.aggregate(
        total=Sum("hours"),
        billable=Sum("hours", filter=BILLABLE),
        billed=Sum("hours", filter=invoiced),
        unbilled=Sum("hours", filter=BILLABLE & ~invoiced),
    )
    by_task = [
        (row["task_id"], row["task__name"], row["hours"])
        for row in entries.values("task_id", "task__name").annotate(hours=Sum("hours")).order_by("task__name")
    ]
    by_staff = [
        (row["staff_member_id"], row["staff_member__name"], row["hours"])
        for row in entries.values("staff_member_id", "staff_member__name")
        .annotate(hours=Sum("hours"))
        .order_by("staff_member__name")
    ]
    return HoursReview(
        entries=entries.select_related("task", "staff_member", "invoice_line__invoice").order_by(
            "date", "pk"
        ),
        total_hours=sums["total"] or ZERO_HOURS,
        billable_hours=sums["billable"] or ZERO_HOURS,
        billed_hours=sums["billed"] or ZERO_HOURS,
        unbilled_hours=sums["unbilled"] or ZERO_HOURS,
        by_task=by_task,
        by_staff=by_staff,
    )


# -- series for charts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BurnPoint:
    month: dt.date  # the first day of the month
    billed: Money
    paid: Money
    cumulative_billed: Money
    cumulative_paid: Money


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def budget_burn_series(project: Project) -> list[BurnPoint]:
    """Billed (by issue month) and paid (by the month payments were allocated, in the organization's
    time zone) per month, with running totals, every month from the first to the last; two queries."""
    zone = ZoneInfo(project.organization.time_zone)
    billed = {
        row["month"]: row["total"]
        for row in ProjectInvoice.objects.filter(ISSUED, project=project)
        .values(month=TruncMonth("invoice__issue_date"))
        .annotate(total=Sum("invoice__total_minor"))
        .order_by()
    }
    paid = {
        row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]: row["total"]
        for row in PaymentAllocation.objects.filter(invoice__project_invoice__project=project)
        .values(month=TruncMonth("allocated_at", tzinfo=zone))
        .annotate(total=Sum("amount_minor"))
        .order_by()
    }
    known = set(billed) | set(paid)
    if not known:
        return []
    currency, points = project.currency, []
    running_billed = running_paid = 0
    for month in _months(min(known), max(known)):
        running_billed += billed.get(month, 0)
        running_paid += paid.get(month, 0)
        points.append(
            BurnPoint(
                month=month,
                billed=Money(billed.get(month, 0), currency),
                paid=Money(paid.get(month, 0), currency),
                cumulative_billed=Money(running_billed, currency),
                cumulative_paid=Money(running_paid, currency),
            )
        )
    return points


@dataclass(frozen=True)
class MonthTaskHours:
    month: dt.date  # the first day of the month
    task_id: int
    task_name: str
    hours: Decimal


def hours_by_month_and_task(
    project: Project, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> list[MonthTaskHours]:
    """Hours logged per month and task (every hour, billable or not), in one query."""
    entries = TimeEntry.objects.filter(project=project)
    if date_from is not None:
        entries = entries.filter(date__gte=date_from)
    if date_to is not None:
        entries = entries.filter(date__lte=date_to)
    rows = (
        entries.values("task_id", "task__name", month=TruncMonth("date"))
        .annotate(hours=Sum("hours"))
        .order_by("month", "task__name", "task_id")
    )
    return [MonthTaskHours(row["month"], row["task_id"], row["task__name"], row["hours"]) for row in rows]


# -- lists -------------------------------------------------------------------------------------------


def projects_of(customer) -> QuerySet[Project]:
    return Project.objects.filter(customer=customer).select_related("tax_rate").order_by("code", "pk")


def project_invoices(project: Project) -> list[Invoice]:
    """The project's issued invoices (void ones included), each with its payments and credits applied."""
    return list(
        Invoice.objects.filter(project_invoice__project=project)
        .exclude(status=Invoice.Status.DRAFT)
        .prefetch_related("allocations__payment", "credit_applications__credit_note")
        .order_by("-issue_date", "-id")
    )
