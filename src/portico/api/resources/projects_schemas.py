"""The schemas of the projects resources (`resources/projects.py`): what the API takes and shows for
projects, tasks, staff members and their project rates, time entries, milestones and project
invoicing. Hours are decimal strings in hundredths (`"1.25"`); amounts are integer minor units in
the project's currency (the customer's), beside `currency`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from portico.api.resources.ledger import LineOut
from portico.api.schemas import AmountMinor, ListParams
from portico.core.money import MAX_TYPED_MINOR
from portico.projects.models import Milestone, Project, TimeEntry

# Hours as typed: more than 0, at most 24, in hundredths (the services check the same).
Hours = Annotated[Decimal, Field(gt=0, le=24, max_digits=4, decimal_places=2, examples=["1.25"])]
BudgetHours = Annotated[Decimal, Field(gt=0, le=Decimal("99999999.99"), max_digits=10, decimal_places=2)]
Reference = Annotated[str, Field(min_length=1, max_length=40)]

ProjectStatus = Literal[tuple(Project.Status.values)]
BudgetKind = Literal[tuple(Project.BudgetKind.values)]
BillingMethod = Literal[tuple(Project.BillingMethod.values)]
Grouping = Literal[tuple(Project.Grouping.values)]
EntryState = Literal[tuple(TimeEntry.State.values)]
MilestoneStatus = Literal[tuple(Milestone.Status.values)]

# -- projects ---------------------------------------------------------------------------------------


class ProjectIn(Schema):
    customer: str = Field(
        ..., max_length=40, description="The customer (`cus_…`); the project bills in its currency."
    )
    code: str = Field(
        ..., min_length=1, max_length=32, description="Unique in the organization; paths take it."
    )
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=10000)
    status: ProjectStatus = Project.Status.ACTIVE.value
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    budget_kind: BudgetKind = Field(
        Project.BudgetKind.NONE.value, description="`money` (`budget_minor`) or `hours` (`budget_hours`)."
    )
    budget_minor: AmountMinor | None = None
    budget_hours: BudgetHours | None = None
    billing_method: BillingMethod = Field(
        Project.BillingMethod.PROJECT_RATE.value,
        description="`fixed` (milestones only), or hourly at the project's, each task's or each staff member's rate.",
    )
    rate_minor: AmountMinor | None = Field(
        None, description="The project's hourly rate (the fallback of task and staff rates)."
    )
    invoice_grouping: Grouping = Field(
        Project.Grouping.TASK.value, description="One invoice line per task, staff member or entry."
    )
    requires_customer_approval: bool = Field(
        False, description="Time is invoiced once the customer approves it in the portal."
    )
    tax_rate: str | None = Field(
        None, max_length=40, description="A tax rate (`txr_…`) copied onto every invoice line."
    )


class ProjectUpdate(Schema):
    """Only the fields sent change; null clears a rate, budget, tax rate or date."""

    code: str = Field(None, min_length=1, max_length=32)
    name: str = Field(None, min_length=1, max_length=200)
    description: str = Field(None, max_length=10000)
    status: ProjectStatus = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    budget_kind: BudgetKind = None
    budget_minor: AmountMinor | None = None
    budget_hours: BudgetHours | None = None
    billing_method: BillingMethod = None
    rate_minor: AmountMinor | None = None
    invoice_grouping: Grouping = None
    requires_customer_approval: bool = None
    tax_rate: str | None = Field(None, max_length=40)


class ProjectTotalsOut(Schema):
    """From the ledger: billed = paid + credited + outstanding (issued, non-void invoices); unbilled is
    what invoicing the project would bill now (approved time and due milestones)."""

    billed_minor: int
    paid_minor: int
    credited_minor: int
    outstanding_minor: int
    unbilled_minor: int
    hours_logged: Decimal
    billable_hours: Decimal
    billed_hours: Decimal
    unbilled_hours: Decimal = Field(..., description="Approved, billable, not invoiced.")
    pending_hours: Decimal = Field(..., description="Billable, awaiting approval or disputed.")
    unpriced_hours: Decimal = Field(..., description="Approved billable hours with no rate to bill them at.")
    burn_percent: Decimal | None = Field(
        ..., description="Of a money budget: billed; of an hours budget: billable hours."
    )


class ProjectOut(Schema):
    id: str
    object: Literal["project"] = "project"
    code: str
    customer: str
    name: str
    description: str
    status: str
    currency: str
    start_date: dt.date | None
    end_date: dt.date | None
    budget_kind: str
    budget_minor: int | None
    budget_hours: Decimal | None
    billing_method: str
    rate_minor: int | None
    invoice_grouping: str
    requires_customer_approval: bool
    tax_rate: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ProjectDetailOut(ProjectOut):
    totals: ProjectTotalsOut


class ProjectFilters(ListParams):
    status: ProjectStatus | None = None
    customer: str | None = Field(None, max_length=40)


# -- tasks ------------------------------------------------------------------------------------------


class TaskIn(Schema):
    name: str = Field(..., min_length=1, max_length=200, description="Unique in the project.")
    rate_minor: AmountMinor | None = Field(
        None, description="Billed under task rates (else the project's rate)."
    )
    is_billable: bool = True


class TaskUpdate(Schema):
    """Only the fields sent change; `rate_minor: null` removes the task's own rate."""

    name: str = Field(None, min_length=1, max_length=200)
    rate_minor: AmountMinor | None = None
    is_billable: bool = None
    is_active: bool = None


class TaskOut(Schema):
    id: str
    object: Literal["task"] = "task"
    project: str
    name: str
    rate_minor: int | None
    is_billable: bool
    is_active: bool


# -- staff and project rates ------------------------------------------------------------------------


class StaffMemberIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    email: str = Field(..., min_length=3, max_length=254, description="Unique in the organization.")
    default_rate_minor: AmountMinor | None = Field(
        None, description="Minor units, applied in each project's currency (under staff rates)."
    )


class StaffMemberUpdate(Schema):
    name: str = Field(None, min_length=1, max_length=200)
    email: str = Field(None, min_length=3, max_length=254)
    default_rate_minor: AmountMinor | None = None
    is_active: bool = None


class StaffMemberOut(Schema):
    id: str
    object: Literal["staff_member"] = "staff_member"
    name: str
    email: str
    default_rate_minor: int | None
    is_active: bool


class MemberIn(Schema):
    staff_member: str = Field(..., max_length=40, description="The staff member (`stf_…`).")
    rate_minor: AmountMinor | None = Field(
        None, description="Their rate on this project (null: their default rate)."
    )


class MemberOut(Schema):
    object: Literal["project_member"] = "project_member"
    project: str
    staff_member: str
    name: str
    rate_minor: int | None = Field(..., description="Their rate on this project (null: their default rate).")
    default_rate_minor: int | None


# -- time entries -----------------------------------------------------------------------------------


class TimeEntryIn(Schema):
    task: str = Field(..., max_length=40, description="A task of the project (`tsk_…`).")
    staff_member: str = Field(..., max_length=40, description="`stf_…`")
    date: dt.date
    hours: Hours
    notes: str = Field("", max_length=10000)
    is_billable: bool | None = Field(None, description="Default: as its task is.")


class BulkTimeIn(Schema):
    entries: list[TimeEntryIn] = Field(
        ..., max_length=500, description="At least one; all are logged, or (one refused) none."
    )


class TimeEntryUpdate(Schema):
    """Only an entry awaiting approval changes; only the fields sent change."""

    task: str = Field(None, max_length=40)
    staff_member: str = Field(None, max_length=40)
    date: dt.date = None
    hours: Hours = None
    notes: str = Field(None, max_length=10000)
    is_billable: bool = None


class ResolveIn(Schema):
    """The business answers the customer's dispute (correcting the entry if it agrees): the entry
    awaits the customer's approval again."""

    comment: str = Field(..., min_length=1, max_length=2000)
    hours: Hours | None = None
    notes: str | None = Field(None, max_length=10000)
    is_billable: bool | None = None


class TimeEntryOut(Schema):
    id: str
    object: Literal["time_entry"] = "time_entry"
    project: str
    task: str
    staff_member: str
    date: dt.date
    hours: Decimal
    notes: str
    is_billable: bool = Field(
        ..., description="The entry's own flag (time on a non-billable task is never billed)."
    )
    state: str
    approved_at: dt.datetime | None
    approved_by_contact: str | None = Field(
        ..., description="The customer's contact who approved it (`ctc_…`)."
    )
    dispute_comment: str
    disputed_at: dt.datetime | None
    disputed_by_contact: str | None
    resolution_comment: str
    resolved_at: dt.datetime | None
    invoice: str | None = Field(..., description="The invoice that billed it (`in_…`).")
    invoice_number: str | None
    invoice_line: int | None = Field(..., description="The number of the line that billed it.")
    allowed_actions: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime


class BulkTimeOut(Schema):
    object: Literal["list"] = "list"
    data: list[TimeEntryOut]
    has_more: bool = False


class TimeEntryFilters(ListParams):
    project: str | None = Field(None, max_length=40, description="Its code or id.")
    task: str | None = Field(None, max_length=40)
    staff_member: str | None = Field(None, max_length=40)
    state: EntryState | None = None
    date_gte: dt.date | None = None
    date_lte: dt.date | None = None


# -- milestones -------------------------------------------------------------------------------------


class MilestoneIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    amount_minor: int = Field(..., gt=0, le=MAX_TYPED_MINOR)
    due_date: dt.date | None = None
    description: str = Field("", max_length=10000)


class MilestoneUpdate(Schema):
    """Only a milestone not invoiced yet changes; `due_date: null` clears it."""

    name: str = Field(None, min_length=1, max_length=200)
    amount_minor: int = Field(None, gt=0, le=MAX_TYPED_MINOR)
    due_date: dt.date | None = None
    description: str = Field(None, max_length=10000)


class MilestoneOut(Schema):
    id: str
    object: Literal["milestone"] = "milestone"
    project: str
    name: str
    description: str
    amount_minor: int
    currency: str
    due_date: dt.date | None
    status: MilestoneStatus = Field(..., description="`paid` once its invoice is paid.")
    invoice: str | None
    invoice_number: str | None
    allowed_actions: list[str]
    created_at: dt.datetime


# -- invoicing --------------------------------------------------------------------------------------


class InvoicingIn(Schema):
    """What to invoice: approved unbilled time dated in [date_from, date_to] (inclusive, each bound
    optional) and, unless left out, the due milestones."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    grouping: Grouping | None = Field(None, description="Default: the project's `invoice_grouping`.")
    include_milestones: bool = True


class PreviewLineOut(LineOut):
    kind: Literal["time", "milestone"]
    task: str | None
    staff_member: str | None
    time_entries: list[str]
    milestone: str | None


class PreviewOut(Schema):
    object: Literal["project_invoice_preview"] = "project_invoice_preview"
    project: str
    currency: str
    hours: Decimal
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    lines: list[PreviewLineOut] = Field(..., description="Exactly the lines the invoice would have.")
    time_entries: list[str]
    milestones: list[str]
