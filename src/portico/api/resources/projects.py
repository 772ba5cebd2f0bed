"""Projects: list (filters: status, customer), retrieve (with its totals from the ledger), create,
update; under a project its tasks, its staff members and their rates on it, its milestones (mark due),
logging time (one entry, or many at once: all or none), and invoicing (a preview, then the invoice,
from the same body) — through `projects.services` and `projects.selectors`, as the console does.

A project's id is `prj_…`; every path takes its code (`RT-KITCHEN`) too. Time entries and staff
members have their own collections (`resources/project_time.py`)."""

from __future__ import annotations

from ninja import Query, Router, Status

from portico.api import ids
from portico.api.resources import actor, responses
from portico.api.resources import project_time as time
from portico.api.resources.invoices import InvoiceOut, invoice_out
from portico.api.resources.ledger import (
    allocations_prefetch,
    api_fields,
    applications_prefetch,
    today_of,
)
from portico.api.resources.project_time import get_project
from portico.api.resources.projects_schemas import (
    BulkTimeIn,
    BulkTimeOut,
    InvoicingIn,
    MemberIn,
    MemberOut,
    MilestoneIn,
    MilestoneOut,
    MilestoneUpdate,
    PreviewOut,
    ProjectDetailOut,
    ProjectFilters,
    ProjectIn,
    ProjectOut,
    ProjectUpdate,
    TaskIn,
    TaskOut,
    TaskUpdate,
    TimeEntryIn,
    TimeEntryOut,
)
from portico.api.schemas import ListParams, changed, list_of, paginate
from portico.billing.models import Invoice, InvoiceLine
from portico.billing.services import price_line
from portico.catalog.models import TaxRate
from portico.core.money import Money
from portico.customers.models import Customer
from portico.projects import selectors, services
from portico.projects.checks import UNCHANGED
from portico.projects.models import Milestone, Project, ProjectMember, StaffMember, Task, TimeEntry

router = Router(tags=["projects"])

# The services' fields → the API's (their refusals name the service's own).
FIELDS = {
    "rate": "rate_minor",
    "budget": "budget_minor",
    "amount": "amount_minor",
    "default_rate": "default_rate_minor",
}

# -- serializing and finding ------------------------------------------------------------------------


def project_out(project: Project) -> dict:
    return {
        "id": ids.public_id(project),
        "object": "project",
        "customer": ids.public_id(project.customer),
        "tax_rate": ids.public_id(project.tax_rate) if project.tax_rate_id else None,
        **{
            name: getattr(project, name)
            for name in (
                "code",
                "name",
                "description",
                "status",
                "currency",
                "start_date",
                "end_date",
                "budget_kind",
                "budget_minor",
                "budget_hours",
                "billing_method",
                "rate_minor",
                "invoice_grouping",
                "requires_customer_approval",
                "created_at",
                "updated_at",
            )
        },
    }


def totals_out(totals: selectors.ProjectTotals) -> dict:
    return {
        "billed_minor": totals.billed.minor,
        "paid_minor": totals.paid.minor,
        "credited_minor": totals.credited.minor,
        "outstanding_minor": totals.outstanding.minor,
        "unbilled_minor": totals.unbilled.minor,
        "hours_logged": totals.hours_logged,
        "billable_hours": totals.billable_hours,
        "billed_hours": totals.billed_hours,
        "unbilled_hours": totals.unbilled_hours,
        "pending_hours": totals.pending_hours,
        "unpriced_hours": totals.unpriced_hours,
        "burn_percent": totals.burn_percent,
    }


def project_detail_out(project: Project) -> dict:
    return {**project_out(project), "totals": totals_out(selectors.project_totals_of(project))}


def _projects():
    return Project.objects.select_related("customer", "tax_rate")


def _project(project_id: str) -> Project:
    return get_project(_projects(), project_id)


def _fresh_project(project: Project) -> dict:
    return project_detail_out(_projects().get(pk=project.pk))


def _money(minor: int | None, currency: str) -> Money | None:
    return None if minor is None else Money(minor, currency)


def _tax_rate(value: str | None) -> TaxRate | None:
    return None if value is None else ids.get(TaxRate.objects.all(), value, field="tax_rate")


def task_out(task: Task) -> dict:
    return {
        "id": ids.public_id(task),
        "object": "task",
        "project": ids.public_id(task.project),
        "name": task.name,
        "rate_minor": task.rate_minor,
        "is_billable": task.is_billable,
        "is_active": task.is_active,
    }


def _task(project: Project, task_id: str) -> Task:
    return ids.get(Task.objects.filter(project=project).select_related("project"), task_id)


def milestone_out(milestone: Milestone) -> dict:
    invoice = milestone.invoice
    actions = (
        ("delete", milestone.can_edit()),
        ("mark_due", milestone.can_mark_due()),
        ("update", milestone.can_edit()),
    )
    return {
        "id": ids.public_id(milestone),
        "object": "milestone",
        "project": ids.public_id(milestone.project),
        "name": milestone.name,
        "description": milestone.description,
        "amount_minor": milestone.amount_minor,
        "currency": milestone.project.currency,
        "due_date": milestone.due_date,
        "status": milestone.display_status,
        "invoice": ids.public_id(invoice) if invoice is not None else None,
        "invoice_number": (invoice.number or None) if invoice is not None else None,
        "allowed_actions": [name for name, allowed in actions if allowed],
        "created_at": milestone.created_at,
    }


def _milestones(project: Project):
    return Milestone.objects.filter(project=project).select_related("project", "invoice")


def _milestone(project: Project, milestone_id: str) -> Milestone:
    return ids.get(_milestones(project), milestone_id)


def _members(project: Project):
    """The project's staff members (paginated by their `stf_…` ids), each with their rate on it."""
    from django.db.models import OuterRef, Subquery

    rate = ProjectMember.objects.filter(project=project, staff_member=OuterRef("pk")).values("rate_minor")[:1]
    return StaffMember.objects.filter(memberships__project=project).annotate(member_rate_minor=Subquery(rate))


def member_out(project: Project, staff: StaffMember) -> dict:
    return {
        "object": "project_member",
        "project": ids.public_id(project),
        "staff_member": ids.public_id(staff),
        "name": staff.name,
        "rate_minor": staff.member_rate_minor,
        "default_rate_minor": staff.default_rate_minor,
    }


# -- projects ---------------------------------------------------------------------------------------


@router.get("", response=responses({200: list_of(ProjectOut)}), summary="List projects")
def list_projects(request, filters: Query[ProjectFilters]):
    projects = _projects()
    if filters.status is not None:
        projects = projects.filter(status=filters.status)
    if filters.customer is not None:
        projects = projects.filter(
            customer=ids.get(Customer.objects.all(), filters.customer, field="customer")
        )
    return paginate(projects, filters, project_out)


@router.post("", response=responses({201: ProjectDetailOut}), summary="Create a project")
def create_project(request, payload: ProjectIn):
    """In the customer's currency (which is fixed from then on, as by an invoice)."""
    customer = ids.get(Customer.objects.all(), payload.customer, field="customer")
    tax_rate = _tax_rate(payload.tax_rate)
    currency = customer.currency
    with api_fields(FIELDS):
        project = services.create_project(
            customer=customer,
            code=payload.code,
            name=payload.name,
            actor=actor(request),
            billing_method=payload.billing_method,
            rate=_money(payload.rate_minor, currency),
            description=payload.description,
            status=payload.status,
            budget_kind=payload.budget_kind,
            budget=_money(payload.budget_minor, currency),
            budget_hours=payload.budget_hours,
            invoice_grouping=payload.invoice_grouping,
            requires_customer_approval=payload.requires_customer_approval,
            tax_rate=tax_rate,
            start_date=payload.start_date,
            end_date=payload.end_date,
        )
    return Status(201, _fresh_project(project))


@router.get("/{project_id}", response=responses({200: ProjectDetailOut}), summary="Retrieve a project")
def get_project_view(request, project_id: str):
    """By its id (`prj_…`) or its code; with its totals (billed, paid, outstanding, unbilled, hours)."""
    return project_detail_out(_project(project_id))


@router.post("/{project_id}", response=responses({200: ProjectDetailOut}), summary="Update a project")
def update_project(request, project_id: str, payload: ProjectUpdate):
    project = _project(project_id)
    changes = {}
    for name, value in changed(payload).items():
        if name == "rate_minor":
            changes["rate"] = _money(value, project.currency)
        elif name == "budget_minor":
            changes["budget"] = _money(value, project.currency)
        elif name == "tax_rate":
            changes["tax_rate"] = _tax_rate(value)
        else:
            changes[name] = value
    with api_fields(FIELDS):
        services.update_project(project=project, actor=actor(request), **changes)
    return _fresh_project(project)


# -- tasks ------------------------------------------------------------------------------------------


@router.get(
    "/{project_id}/tasks", response=responses({200: list_of(TaskOut)}), summary="List a project's tasks"
)
def list_tasks(request, project_id: str, params: Query[ListParams]):
    project = _project(project_id)
    return paginate(Task.objects.filter(project=project).select_related("project"), params, task_out)


@router.post("/{project_id}/tasks", response=responses({201: TaskOut}), summary="Add a task")
def create_task(request, project_id: str, payload: TaskIn):
    project = _project(project_id)
    with api_fields(FIELDS):
        task = services.create_task(
            project=project,
            name=payload.name,
            actor=actor(request),
            rate=_money(payload.rate_minor, project.currency),
            is_billable=payload.is_billable,
        )
    return Status(201, task_out(_task(project, ids.public_id(task))))


@router.get("/{project_id}/tasks/{task_id}", response=responses({200: TaskOut}), summary="Retrieve a task")
def get_task(request, project_id: str, task_id: str):
    return task_out(_task(_project(project_id), task_id))


@router.post("/{project_id}/tasks/{task_id}", response=responses({200: TaskOut}), summary="Update a task")
def update_task(request, project_id: str, task_id: str, payload: TaskUpdate):
    """A new rate applies to time not invoiced yet; an inactive task takes no new time."""
    project = _project(project_id)
    task = _task(project, task_id)
    fields = changed(payload)
    with api_fields(FIELDS):
        services.update_task(
            task=task,
            actor=actor(request),
            name=fields.get("name"),
            rate=_money(fields["rate_minor"], project.currency) if "rate_minor" in fields else UNCHANGED,
            is_billable=fields.get("is_billable"),
            is_active=fields.get("is_active"),
        )
    return task_out(_task(project, task_id))


# -- members and their rates ------------------------------------------------------------------------


@router.get(
    "/{project_id}/members",
    response=responses({200: list_of(MemberOut)}),
    summary="List a project's staff members and rates",
)
def list_members(request, project_id: str, params: Query[ListParams]):
    project = _project(project_id)
    return paginate(_members(project), params, lambda staff: member_out(project, staff))


@router.post(
    "/{project_id}/members", response=responses({200: MemberOut}), summary="Put a staff member on a project"
)
def set_member(request, project_id: str, payload: MemberIn):
    """Add them, or change their rate on the project (`rate_minor: null`: their default rate)."""
    project = _project(project_id)
    staff = ids.get(StaffMember.objects.all(), payload.staff_member, field="staff_member")
    with api_fields(FIELDS):
        services.set_project_member(
            project=project,
            staff_member=staff,
            actor=actor(request),
            rate=_money(payload.rate_minor, project.currency),
        )
    return member_out(project, _members(project).get(pk=staff.pk))


@router.delete(
    "/{project_id}/members/{staff_member_id}",
    response=responses({204: None}),
    summary="Take a staff member off a project",
)
def remove_member(request, project_id: str, staff_member_id: str):
    """Their logged time stays (billed at their default rate)."""
    project = _project(project_id)
    staff = ids.get(_members(project), staff_member_id)
    services.remove_project_member(project=project, staff_member=staff, actor=actor(request))
    return Status(204, None)


# -- time -------------------------------------------------------------------------------------------


@router.post(
    "/{project_id}/time_entries", response=responses({201: TimeEntryOut}), summary="Log time on a project"
)
def create_time_entry(request, project_id: str, payload: TimeEntryIn):
    """Awaiting approval; billable as its task is unless said otherwise."""
    project = _project(project_id)
    (entry,) = time.log(project, [payload], actor(request), prefix="")
    return Status(201, time.fresh_entries([entry])[0])


@router.post(
    "/{project_id}/time_entries/bulk",
    response=responses({201: BulkTimeOut}),
    summary="Log many time entries at once",
)
def create_time_entries(request, project_id: str, payload: BulkTimeIn):
    """All of them, or none: a refused entry names its place in `field` (`entries.3.hours`)."""
    project = _project(project_id)
    entries = time.log(project, payload.entries, actor(request), prefix="entries.")
    return Status(201, {"object": "list", "data": time.fresh_entries(entries), "has_more": False})


# -- milestones -------------------------------------------------------------------------------------


@router.get(
    "/{project_id}/milestones", response=responses({200: list_of(MilestoneOut)}), summary="List milestones"
)
def list_milestones(request, project_id: str, params: Query[ListParams]):
    return paginate(_milestones(_project(project_id)), params, milestone_out)


@router.post("/{project_id}/milestones", response=responses({201: MilestoneOut}), summary="Add a milestone")
def create_milestone(request, project_id: str, payload: MilestoneIn):
    """Pending until marked due; a due milestone is billed by the project's next invoice."""
    project = _project(project_id)
    with api_fields(FIELDS):
        milestone = services.create_milestone(
            project=project,
            name=payload.name,
            amount=Money(payload.amount_minor, project.currency),
            actor=actor(request),
            due_date=payload.due_date,
            description=payload.description,
        )
    return Status(201, milestone_out(_milestone(project, ids.public_id(milestone))))


@router.get(
    "/{project_id}/milestones/{milestone_id}",
    response=responses({200: MilestoneOut}),
    summary="Retrieve a milestone",
)
def get_milestone(request, project_id: str, milestone_id: str):
    return milestone_out(_milestone(_project(project_id), milestone_id))


@router.post(
    "/{project_id}/milestones/{milestone_id}",
    response=responses({200: MilestoneOut}),
    summary="Update a milestone",
)
def update_milestone(request, project_id: str, milestone_id: str, payload: MilestoneUpdate):
    """Only one not invoiced yet (409 `project_milestone_state`)."""
    project = _project(project_id)
    milestone = _milestone(project, milestone_id)
    fields = changed(payload)
    with api_fields(FIELDS):
        services.update_milestone(
            milestone=milestone,
            actor=actor(request),
            name=fields.get("name"),
            amount=_money(fields.get("amount_minor"), project.currency),
            due_date=fields.get("due_date", UNCHANGED),
            description=fields.get("description"),
        )
    return milestone_out(_milestone(project, milestone_id))


@router.delete(
    "/{project_id}/milestones/{milestone_id}", response=responses({204: None}), summary="Delete a milestone"
)
def delete_milestone(request, project_id: str, milestone_id: str):
    project = _project(project_id)
    services.delete_milestone(milestone=_milestone(project, milestone_id), actor=actor(request))
    return Status(204, None)


@router.post(
    "/{project_id}/milestones/{milestone_id}/mark_due",
    response=responses({200: MilestoneOut}),
    summary="Mark a milestone due",
)
def mark_milestone_due(request, project_id: str, milestone_id: str):
    """Its work is delivered: the project's next invoice bills it."""
    project = _project(project_id)
    services.mark_milestone_due(milestone=_milestone(project, milestone_id), actor=actor(request))
    return milestone_out(_milestone(project, milestone_id))


# -- invoicing --------------------------------------------------------------------------------------


def _quantized(value, field: str):
    places = InvoiceLine._meta.get_field(field).decimal_places
    return value.quantize(type(value)(1).scaleb(-places))


def preview_out(preview) -> dict:
    """The preview's lines as the invoice would show them (`LineOut`, its numbers and stored scales)."""
    entry_ids = dict(TimeEntry.objects.filter(pk__in=preview.entry_ids).values_list("pk", "public_id"))
    prefix = ids.prefix_of(TimeEntry)
    lines = []
    for number, line in enumerate(preview.lines, start=1):
        typed = line.line
        lines.append(
            {
                "number": number,
                "description": typed.description,
                "quantity": _quantized(typed.quantity, "quantity"),
                "unit_price_minor": typed.unit_price.minor,
                "discount_percent": _quantized(typed.discount_percent, "discount_percent"),
                "tax_name": typed.tax_name,
                "tax_percent": _quantized(typed.tax_percent, "tax_rate"),
                "tax_inclusive": typed.tax_inclusive,
                "period_start": typed.period_start,
                "period_end": typed.period_end,
                "discount_minor": price_line(typed).discount.minor,
                "net_minor": line.net.minor,
                "tax_minor": line.tax.minor,
                "total_minor": line.total.minor,
                "kind": line.kind,
                "task": ids.public_id(line.task) if line.task is not None else None,
                "staff_member": ids.public_id(line.staff_member) if line.staff_member is not None else None,
                "time_entries": [f"{prefix}_{entry_ids[pk]}" for pk in line.entry_ids],
                "milestone": ids.public_id(line.milestone) if line.milestone is not None else None,
            }
        )
    return {
        "object": "project_invoice_preview",
        "project": ids.public_id(preview.project),
        "currency": preview.currency,
        "hours": preview.hours,
        "subtotal_minor": preview.subtotal.minor,
        "tax_minor": preview.tax.minor,
        "total_minor": preview.total.minor,
        "lines": lines,
        "time_entries": [f"{prefix}_{entry_ids[pk]}" for pk in preview.entry_ids],
        "milestones": [line["milestone"] for line in lines if line["milestone"] is not None],
    }


@router.post(
    "/{project_id}/invoice/preview",
    response=responses({200: PreviewOut}),
    summary="Preview a project's invoice",
)
def preview_invoice(request, project_id: str, payload: InvoicingIn):
    """The invoice `POST /projects/{id}/invoice` would issue now with the same body, line for line;
    nothing is written."""
    project = _project(project_id)
    preview = services.preview_project_invoice(
        project=project,
        date_from=payload.date_from,
        date_to=payload.date_to,
        grouping=payload.grouping,
        include_milestones=payload.include_milestones,
    )
    return preview_out(preview)


@router.post("/{project_id}/invoice", response=responses({201: InvoiceOut}), summary="Invoice a project")
def invoice_project(request, project_id: str, payload: InvoicingIn):
    """Issue (finalize) one invoice for the approved unbilled time in the period and the due
    milestones; each entry and milestone is billed once (409 `project_nothing_to_invoice` when
    nothing is left, `project_rate_missing` when some time has no rate)."""
    project = _project(project_id)
    invoice = services.invoice_project(
        project=project,
        actor=actor(request),
        date_from=payload.date_from,
        date_to=payload.date_to,
        grouping=payload.grouping,
        include_milestones=payload.include_milestones,
    )
    issued = (
        Invoice.objects.select_related("customer")
        .prefetch_related("lines", allocations_prefetch(), applications_prefetch())
        .get(pk=invoice.pk)
    )
    return Status(201, invoice_out(issued, today_of(request.organization)))
