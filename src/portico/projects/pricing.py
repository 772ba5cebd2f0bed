"""What approved time and due milestones come to on an invoice: rates, grouping into lines, amounts.

One computation for the preview, the invoice and the project's unbilled totals, so that what staff
preview, what the invoice bills and what the portal shows as unbilled are the same numbers. A line
is always hours × one rate (a task line whose staff bill at two rates is two lines), and its amount
is computed by the ledger's own `line_amounts`: rounded once per line, half-up, tax per line.

Reads only: the services lock what they bill before they call it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet

from portico.billing.services import LineInput, price_line
from portico.core.money import Money
from portico.projects import errors
from portico.projects.models import Milestone, Project, ProjectMember, StaffMember, Task, TimeEntry

MemberRates = dict[tuple[int, int], int | None]  # (project id, staff member id) → rate


@dataclass(frozen=True)
class PreviewLine:
    """One invoice line to be: what it bills (entries or a milestone) and its amounts."""

    kind: str  # "time" or "milestone"
    line: LineInput
    net: Money
    tax: Money
    total: Money
    task: Task | None = None
    staff_member: StaffMember | None = None
    entry_ids: tuple[int, ...] = ()
    milestone: Milestone | None = None

    @property
    def description(self) -> str:
        return self.line.description

    @property
    def quantity(self) -> Decimal:
        return self.line.quantity

    @property
    def unit_price(self) -> Money:
        return self.line.unit_price


@dataclass(frozen=True)
class InvoicePreview:
    """The invoice `invoice_project` would issue now, line for line."""

    project: Project
    currency: str
    lines: list[PreviewLine]
    hours: Decimal
    subtotal: Money
    tax: Money
    total: Money
    entry_ids: tuple[int, ...]
    milestone_ids: tuple[int, ...]
    # approved billable hours that have no rate to bill them at (only when not strict)
    unpriced_entry_ids: tuple[int, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not self.lines


def billable_entries(
    project: Project, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> QuerySet[TimeEntry]:
    """Approved, billable time not yet invoiced, on dates in [date_from, date_to] (both inclusive)."""
    entries = TimeEntry.all_tenants.filter(
        project_id=project.pk, state=TimeEntry.State.APPROVED, is_billable=True, task__is_billable=True
    )
    if date_from is not None:
        entries = entries.filter(date__gte=date_from)
    if date_to is not None:
        entries = entries.filter(date__lte=date_to)
    return entries


def due_milestones(project: Project) -> QuerySet[Milestone]:
    return Milestone.all_tenants.filter(project_id=project.pk, status=Milestone.Status.DUE)


def member_rates_of(project_ids: Iterable[int]) -> MemberRates:
    rows = ProjectMember.all_tenants.filter(project_id__in=set(project_ids)).values_list(
        "project_id", "staff_member_id", "rate_minor"
    )
    return {(project_id, staff_id): rate for project_id, staff_id, rate in rows}


def rate_for(project: Project, entry: TimeEntry, member_rates: MemberRates) -> int | None:
    """The hourly rate (minor units) an entry bills at under its project's billing method; None when
    there is none to use (and for fixed-price projects, whose time is not billed)."""
    method = project.billing_method
    if method == Project.BillingMethod.FIXED:
        return None
    if method == Project.BillingMethod.TASK_RATE and entry.task.rate_minor is not None:
        return entry.task.rate_minor
    if method == Project.BillingMethod.STAFF_RATE:
        member_rate = member_rates.get((project.pk, entry.staff_member_id))
        if member_rate is not None:
            return member_rate
        if entry.staff_member.default_rate_minor is not None:
            return entry.staff_member.default_rate_minor
    return project.rate_minor


def _priced(project: Project, line: LineInput, kind: str, **what) -> PreviewLine:
    line = line.taxed(project.tax_rate)
    amounts = price_line(line)
    return PreviewLine(kind=kind, line=line, net=amounts.net, tax=amounts.tax, total=amounts.total, **what)


def _entry_description(entry: TimeEntry) -> str:
    text = f"{entry.date.isoformat()} · {entry.task.name} · {entry.staff_member.name}"
    notes = " ".join(entry.notes.split())
    return (f"{text} — {notes}" if notes else text)[:500]


def time_lines(
    project: Project,
    entries: Sequence[TimeEntry],
    grouping: str,
    member_rates: MemberRates,
    *,
    strict: bool = True,
) -> tuple[list[PreviewLine], list[int]]:
    """Lines for approved entries (tasks and staff members selected), grouped per task, staff member
    or entry and split by rate; and the entries left out for want of a rate (strict: RateMissing)."""
    groups: dict[tuple, list[TimeEntry]] = {}
    unpriced: list[int] = []
    for entry in sorted(entries, key=lambda e: (e.date, e.pk)):
        rate = rate_for(project, entry, member_rates)
        if rate is None:
            if strict and project.billing_method != Project.BillingMethod.FIXED:
                raise errors.RateMissing()
            unpriced.append(entry.pk)
            continue
        if grouping == Project.Grouping.TASK:
            key = (entry.task.name, entry.task_id, rate)
        elif grouping == Project.Grouping.STAFF:
            key = (entry.staff_member.name, entry.staff_member_id, rate)
        else:
            key = (entry.date, entry.pk, rate)
        groups.setdefault(key, []).append(entry)
    lines = []
    for key in sorted(groups):
        members = groups[key]
        first, rate = members[0], key[-1]
        if grouping == Project.Grouping.TASK:
            description = first.task.name
        elif grouping == Project.Grouping.STAFF:
            description = first.staff_member.name
        else:
            description = _entry_description(first)
        line = LineInput(
            description=description,
            unit_price=Money(rate, project.currency),
            quantity=sum((e.hours for e in members), Decimal(0)),
            period_start=min(e.date for e in members),
            period_end=max(e.date for e in members),
        )
        lines.append(
            _priced(
                project,
                line,
                "time",
                task=first.task if grouping != Project.Grouping.STAFF else None,
                staff_member=first.staff_member if grouping != Project.Grouping.TASK else None,
                entry_ids=tuple(e.pk for e in members),
            )
        )
    return lines, unpriced


def milestone_lines(project: Project, milestones: Sequence[Milestone]) -> list[PreviewLine]:
    return [
        _priced(
            project,
            LineInput(description=milestone.name, unit_price=Money(milestone.amount_minor, project.currency)),
            "milestone",
            milestone=milestone,
        )
        for milestone in sorted(milestones, key=lambda m: (m.due_date or dt.date.max, m.pk))
    ]


def build_preview(
    project: Project,
    entries: Sequence[TimeEntry],
    milestones: Sequence[Milestone],
    grouping: str,
    member_rates: MemberRates,
    *,
    strict: bool = True,
) -> InvoicePreview:
    """Time lines first (in grouping order), then milestones by due date."""
    time, unpriced = time_lines(project, entries, grouping, member_rates, strict=strict)
    lines = time + milestone_lines(project, milestones)
    currency = project.currency
    return InvoicePreview(
        project=project,
        currency=currency,
        lines=lines,
        hours=sum((line.quantity for line in time), Decimal(0)),
        subtotal=Money.sum((line.net for line in lines), currency),
        tax=Money.sum((line.tax for line in lines), currency),
        total=Money.sum((line.total for line in lines), currency),
        entry_ids=tuple(pk for line in time for pk in line.entry_ids),
        milestone_ids=tuple(line.milestone.pk for line in lines if line.milestone is not None),
        unpriced_entry_ids=tuple(unpriced),
    )
