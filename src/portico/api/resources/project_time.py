"""Staff members (whose time is logged, with their default rates) and time entries: list (filters:
project, task, staff member, state, dates), retrieve, correct or delete an entry awaiting approval,
approve it, resolve the customer's dispute — through `projects.services`. Time is logged under its
project (`POST /projects/{id}/time_entries`, and `…/bulk`: `resources/projects.py`), with `log`
below, which names a refused entry's place in the request (`entries.3.hours`)."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Query, Router, Status

from portico.api import ids
from portico.api.errors import ResourceMissing, ValidationFailed
from portico.api.resources import actor, responses
from portico.api.resources.ledger import api_fields
from portico.api.resources.projects_schemas import (
    ResolveIn,
    StaffMemberIn,
    StaffMemberOut,
    StaffMemberUpdate,
    TimeEntryFilters,
    TimeEntryIn,
    TimeEntryOut,
    TimeEntryUpdate,
)
from portico.api.schemas import ListParams, changed, list_of, paginate
from portico.core.audit import Actor
from portico.core.errors import DomainError
from portico.projects import checks, services
from portico.projects.checks import UNCHANGED
from portico.projects.models import Project, StaffMember, Task, TimeEntry

staff_router = Router(tags=["staff_members"])
router = Router(tags=["time_entries"])

FIELDS = {"default_rate": "default_rate_minor"}

# -- staff members ----------------------------------------------------------------------------------


def staff_out(staff: StaffMember) -> dict:
    return {
        "id": ids.public_id(staff),
        "object": "staff_member",
        "name": staff.name,
        "email": staff.email,
        "default_rate_minor": staff.default_rate_minor,
        "is_active": staff.is_active,
    }


def _email(value: str) -> str:
    value = value.strip()
    try:
        validate_email(value)
    except DjangoValidationError:
        raise ValidationFailed("Enter a valid email address.", field="email") from None
    return value


def _staff(staff_member_id: str) -> StaffMember:
    return ids.get(StaffMember.objects.all(), staff_member_id)


@staff_router.get("", response=responses({200: list_of(StaffMemberOut)}), summary="List staff members")
def list_staff_members(request, params: Query[ListParams]):
    return paginate(StaffMember.objects.all(), params, staff_out)


@staff_router.post("", response=responses({201: StaffMemberOut}), summary="Add a staff member")
def create_staff_member(request, payload: StaffMemberIn):
    with api_fields(FIELDS):
        staff = services.create_staff_member(
            organization=request.organization,
            name=payload.name,
            email=_email(payload.email),
            actor=actor(request),
            default_rate_minor=payload.default_rate_minor,
        )
    return Status(201, staff_out(staff))


@staff_router.get(
    "/{staff_member_id}", response=responses({200: StaffMemberOut}), summary="Retrieve a staff member"
)
def get_staff_member(request, staff_member_id: str):
    return staff_out(_staff(staff_member_id))


@staff_router.post(
    "/{staff_member_id}", response=responses({200: StaffMemberOut}), summary="Update a staff member"
)
def update_staff_member(request, staff_member_id: str, payload: StaffMemberUpdate):
    """A new default rate applies to time not invoiced yet."""
    staff = _staff(staff_member_id)
    fields = changed(payload)
    with api_fields(FIELDS):
        staff = services.update_staff_member(
            staff_member=staff,
            actor=actor(request),
            name=fields.get("name"),
            email=_email(fields["email"]) if fields.get("email") is not None else None,
            default_rate_minor=fields.get("default_rate_minor", UNCHANGED),
            is_active=fields.get("is_active"),
        )
    return staff_out(staff)


# -- time entries -----------------------------------------------------------------------------------


def get_project(queryset, value: str, *, field: str | None = None) -> Project:
    """A project by its id (`prj_…`) or its code, in the active organization."""
    if not isinstance(value, str) or not value or len(value) > 40:
        raise ResourceMissing(field=field)
    public_id = ids.parse(Project, value)
    found = queryset.filter(public_id=public_id).first() if public_id is not None else None
    if found is None:
        found = queryset.filter(code=value).first()
    if found is None:
        raise ResourceMissing(field=field)
    return found


def _allowed(entry: TimeEntry) -> list[str]:
    return [
        name
        for name, allowed in (
            ("approve", entry.can_approve()),
            ("delete", entry.can_delete()),
            ("resolve", entry.can_resolve()),
            ("update", entry.can_edit()),
        )
        if allowed
    ]


def entry_out(entry: TimeEntry) -> dict:
    line = entry.invoice_line
    invoice = line.invoice if line is not None else None
    contact = ids.public_id  # a contact person (`ctc_…`)
    return {
        "id": ids.public_id(entry),
        "object": "time_entry",
        "project": ids.public_id(entry.project),
        "task": ids.public_id(entry.task),
        "staff_member": ids.public_id(entry.staff_member),
        **{
            name: getattr(entry, name)
            for name in (
                "date",
                "hours",
                "notes",
                "is_billable",
                "state",
                "approved_at",
                "dispute_comment",
                "disputed_at",
                "resolution_comment",
                "resolved_at",
                "created_at",
                "updated_at",
            )
        },
        "approved_by_contact": contact(entry.approved_by_contact) if entry.approved_by_contact_id else None,
        "disputed_by_contact": contact(entry.disputed_by_contact) if entry.disputed_by_contact_id else None,
        "invoice": ids.public_id(invoice) if invoice is not None else None,
        "invoice_number": (invoice.number or None) if invoice is not None else None,
        "invoice_line": line.position if line is not None else None,
        "allowed_actions": _allowed(entry),
    }


def entries():
    return TimeEntry.objects.select_related(
        "project",
        "task",
        "staff_member",
        "invoice_line__invoice",
        "approved_by_contact",
        "disputed_by_contact",
    )


def fresh_entries(logged: Sequence[TimeEntry]) -> list[dict]:
    found = {entry.pk: entry for entry in entries().filter(pk__in=[e.pk for e in logged])}
    return [entry_out(found[entry.pk]) for entry in logged]


def _entry(time_entry_id: str) -> TimeEntry:
    return ids.get(entries(), time_entry_id)


class _Lookup:
    """The tasks (of one project) and staff members a request names, each read once."""

    def __init__(self, project: Project):
        self.project, self.found = project, {}

    def task(self, value: str, field: str) -> Task:
        key = ("task", value)
        if key not in self.found:
            self.found[key] = ids.get(Task.objects.filter(project=self.project), value, field=field)
        return self.found[key]

    def staff(self, value: str, field: str) -> StaffMember:
        key = ("staff", value)
        if key not in self.found:
            self.found[key] = ids.get(StaffMember.objects.all(), value, field=field)
        return self.found[key]


def _hours(value, field: str):
    try:
        return checks.hours(value)
    except DomainError as error:
        error.field = field
        raise


def log(project: Project, items: Sequence[TimeEntryIn], who: Actor, *, prefix: str) -> list[TimeEntry]:
    """Log `items` on the project, all or none; a refused item names its place (`entries.3.task`)."""
    if not items:
        raise ValidationFailed("Log at least one entry.", field=prefix.rstrip(".") or "entries")
    lookup, inputs = _Lookup(project), []
    for n, item in enumerate(items):
        at = f"{prefix}{n}." if prefix else ""
        inputs.append(
            services.TimeInput(
                task=lookup.task(item.task, f"{at}task"),
                staff_member=lookup.staff(item.staff_member, f"{at}staff_member"),
                date=item.date,
                hours=_hours(item.hours, f"{at}hours"),
                notes=item.notes,
                is_billable=item.is_billable,
            )
        )
    return services.log_time_bulk(project=project, entries=inputs, actor=who)


@router.get("", response=responses({200: list_of(TimeEntryOut)}), summary="List time entries")
def list_time_entries(request, filters: Query[TimeEntryFilters]):
    found = entries()
    project = None
    if filters.project is not None:
        project = get_project(Project.objects.all(), filters.project, field="project")
        found = found.filter(project=project)
    if filters.task is not None:
        tasks = Task.objects.filter(project=project) if project is not None else Task.objects.all()
        found = found.filter(task=ids.get(tasks, filters.task, field="task"))
    if filters.staff_member is not None:
        staff = ids.get(StaffMember.objects.all(), filters.staff_member, field="staff_member")
        found = found.filter(staff_member=staff)
    if filters.state is not None:
        found = found.filter(state=filters.state)
    if filters.date_gte is not None:
        found = found.filter(date__gte=filters.date_gte)
    if filters.date_lte is not None:
        found = found.filter(date__lte=filters.date_lte)
    return paginate(found, filters, entry_out)


@router.get("/{time_entry_id}", response=responses({200: TimeEntryOut}), summary="Retrieve a time entry")
def get_time_entry(request, time_entry_id: str):
    return entry_out(_entry(time_entry_id))


@router.post("/{time_entry_id}", response=responses({200: TimeEntryOut}), summary="Correct a time entry")
def update_time_entry(request, time_entry_id: str, payload: TimeEntryUpdate):
    """Only one awaiting approval (409 `project_entry_state` once approved, disputed or invoiced)."""
    entry = _entry(time_entry_id)
    fields = changed(payload)
    lookup = _Lookup(entry.project)
    services.update_time_entry(
        entry=entry,
        actor=actor(request),
        task=lookup.task(fields["task"], "task") if fields.get("task") is not None else None,
        staff_member=(
            lookup.staff(fields["staff_member"], "staff_member")
            if fields.get("staff_member") is not None
            else None
        ),
        date=fields.get("date"),
        hours=_hours(fields["hours"], "hours") if fields.get("hours") is not None else None,
        notes=fields.get("notes"),
        is_billable=fields.get("is_billable"),
    )
    return entry_out(_entry(time_entry_id))


@router.delete("/{time_entry_id}", response=responses({204: None}), summary="Delete a time entry")
def delete_time_entry(request, time_entry_id: str):
    """Only one awaiting approval or disputed."""
    services.delete_time_entry(entry=_entry(time_entry_id), actor=actor(request))
    return Status(204, None)


@router.post(
    "/{time_entry_id}/approve", response=responses({200: TimeEntryOut}), summary="Approve a time entry"
)
def approve_time_entry(request, time_entry_id: str):
    """The business approves it (for the customer, where the project asks the customer to): it is
    invoiced with the project's next invoice."""
    services.approve_time_entry(entry=_entry(time_entry_id), actor=actor(request))
    return entry_out(_entry(time_entry_id))


@router.post(
    "/{time_entry_id}/resolve",
    response=responses({200: TimeEntryOut}),
    summary="Resolve a disputed time entry",
)
def resolve_dispute(request, time_entry_id: str, payload: ResolveIn):
    """Answer the customer's dispute with a comment (and corrected hours, notes or billability): the
    entry awaits approval again."""
    services.resolve_dispute(
        entry=_entry(time_entry_id),
        actor=actor(request),
        comment=payload.comment,
        hours=_hours(payload.hours, "hours") if payload.hours is not None else None,
        notes=payload.notes,
        is_billable=payload.is_billable,
    )
    return entry_out(_entry(time_entry_id))
