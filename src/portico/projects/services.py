"""Every change to projects: projects, tasks, staff and their rates, time and its approval, milestones.
Invoicing them is `projects.invoicing` (re-exported here: `services.invoice_project`).

Each service names its actor, runs in one transaction, locks what it changes, audits, and raises a
`projects.errors` error before writing anything. Locks follow the ledger's order (billing/services.py):
the customer first, then the project, then time entries and milestones, each set by primary key.

Time entries: unapproved → approved (staff; or the customer's contact where the project asks for the
customer's approval) → invoiced; unapproved → disputed (the contact, with a comment) → unapproved
(staff resolve it). Approved and invoiced time no longer changes; voiding its invoice releases it.

Why one module of about 700 lines: these are the changes staff make from one console section (and
the API's one resource family), all through the same checks and locks (`projects.checks`); what is
computed or billed lives beside it (`projects.pricing`, `projects.invoicing`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portico.core import clock, outbox
from portico.core.audit import Actor, audit
from portico.core.errors import CurrencyMismatch
from portico.core.money import Money
from portico.customers.models import ContactPerson, Customer
from portico.projects import errors
from portico.projects.checks import (
    HUNDREDTHS,
    UNCHANGED,
    Unchanged,
    choice,
    contact_of,
    lock,
    lock_customer,
    lock_one,
    plain_rate_minor,
    project_code,
    rate_minor,
    require_staff,
    text,
    user_of,
)
from portico.projects.checks import (
    hours as _hours,
)
from portico.projects.invoicing import (
    invoice_project as invoice_project,
)
from portico.projects.invoicing import (
    preview_project_invoice as preview_project_invoice,
)
from portico.projects.invoicing import (
    release_voided_invoice as release_voided_invoice,
)
from portico.projects.models import Milestone, Project, ProjectMember, StaffMember, Task, TimeEntry

# -- projects ---------------------------------------------------------------------------------------

PROJECT_FIELDS = (
    "code",
    "name",
    "description",
    "status",
    "start_date",
    "end_date",
    "budget_kind",
    "budget",
    "budget_hours",
    "billing_method",
    "rate",
    "invoice_grouping",
    "requires_customer_approval",
    "tax_rate",
)


def _apply_project_fields(project: Project, values: dict) -> None:
    """Check and set project fields (a dict of `PROJECT_FIELDS`), then check the whole row's rules."""
    currency = project.currency
    for name, value in values.items():
        if name == "code":
            project.code = project_code(value)
        elif name == "name":
            project.name = text(value, "name", 200)
        elif name == "description":
            project.description = (value or "").strip()
        elif name == "status":
            project.status = choice(value, Project.Status, "status")
        elif name == "budget_kind":
            project.budget_kind = choice(value, Project.BudgetKind, "budget_kind")
        elif name == "budget":
            project.budget_minor = rate_minor(value, currency, "budget")
        elif name == "budget_hours":
            project.budget_hours = None if value is None else Decimal(value)
        elif name == "billing_method":
            project.billing_method = choice(value, Project.BillingMethod, "billing_method")
        elif name == "rate":
            project.rate_minor = rate_minor(value, currency)
        elif name == "invoice_grouping":
            project.invoice_grouping = choice(value, Project.Grouping, "invoice_grouping")
        elif name == "requires_customer_approval":
            project.requires_customer_approval = bool(value)
        elif name == "tax_rate":
            if value is not None and value.organization_id != project.organization_id:
                raise errors.ProjectNotFound(field="tax_rate")
            project.tax_rate = value
        elif name in ("start_date", "end_date"):
            setattr(project, name, value)
        else:
            raise TypeError(f"unknown project field {name!r}")
    kind = project.budget_kind
    if kind == Project.BudgetKind.NONE:
        project.budget_minor = project.budget_hours = None
    elif kind == Project.BudgetKind.MONEY:
        project.budget_hours = None
        if not project.budget_minor or project.budget_minor <= 0:
            raise errors.ProjectInvalid(_("Enter the budget amount."), field="budget")
    else:
        project.budget_minor = None
        hours = project.budget_hours
        if hours is None or not hours.is_finite() or hours <= 0 or hours != hours.quantize(HUNDREDTHS):
            raise errors.ProjectInvalid(
                _("Enter the budget in hours (hundredths at most)."), field="budget_hours"
            )
    if project.billing_method == Project.BillingMethod.PROJECT_RATE and project.rate_minor is None:
        raise errors.ProjectInvalid(_("A project billed at a project rate needs that rate."), field="rate")
    if project.start_date and project.end_date and project.end_date < project.start_date:
        raise errors.ProjectInvalid(_("A project cannot end before it starts."), field="end_date")


def _save_project(project: Project) -> None:
    taken = Project.all_tenants.filter(organization_id=project.organization_id, code=project.code)
    if taken.exclude(pk=project.pk).exists():
        raise errors.ProjectCodeTaken()
    try:
        with transaction.atomic():
            project.save()
    except IntegrityError:  # a concurrent project took the code between the check and the save
        raise errors.ProjectCodeTaken() from None


def check_project(*, customer: Customer, project: Project | None = None, **values) -> None:
    """What `create_project` (no `project`) or `update_project` would refuse for these values
    (`PROJECT_FIELDS`), checked without writing: forms show the refusal on its field."""
    unknown = set(values) - set(PROJECT_FIELDS)
    if unknown:
        raise TypeError(f"check_project() got unknown fields {sorted(unknown)}")
    if project is None:
        candidate = Project(
            organization_id=customer.organization_id, customer=customer, currency=customer.currency
        )
    else:
        candidate = Project.all_tenants.get(pk=project.pk)
    _apply_project_fields(candidate, values)
    taken = Project.all_tenants.filter(organization_id=candidate.organization_id, code=candidate.code)
    if taken.exclude(pk=candidate.pk).exists():
        raise errors.ProjectCodeTaken()


def create_project(
    *,
    customer: Customer,
    code: str,
    name: str,
    actor: Actor,
    billing_method: str = Project.BillingMethod.PROJECT_RATE,
    rate: Money | None = None,
    description: str = "",
    status: str = Project.Status.ACTIVE,
    budget_kind: str = Project.BudgetKind.NONE,
    budget: Money | None = None,
    budget_hours: Decimal | None = None,
    invoice_grouping: str = Project.Grouping.TASK,
    requires_customer_approval: bool = False,
    tax_rate=None,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
) -> Project:
    """A project of a customer, in the customer's currency (fixed from then on, as by an invoice)."""
    require_staff(actor)
    with transaction.atomic():
        customer = lock_customer(customer.pk)
        project = Project(
            organization_id=customer.organization_id, customer=customer, currency=customer.currency
        )
        _apply_project_fields(
            project,
            dict(
                code=code,
                name=name,
                description=description,
                status=status,
                start_date=start_date,
                end_date=end_date,
                budget_kind=budget_kind,
                budget=budget,
                budget_hours=budget_hours,
                billing_method=billing_method,
                rate=rate,
                invoice_grouping=invoice_grouping,
                requires_customer_approval=requires_customer_approval,
                tax_rate=tax_rate,
            ),
        )
        _save_project(project)
        audit(actor, "project.created", project, code=project.code, billing_method=project.billing_method)
    return project


def update_project(*, project: Project, actor: Actor, **changes) -> Project:
    """Change a project's details (`PROJECT_FIELDS`; its customer and currency stay)."""
    require_staff(actor)
    unknown = set(changes) - set(PROJECT_FIELDS)
    if unknown:
        raise TypeError(f"update_project() got unknown fields {sorted(unknown)}")
    with transaction.atomic():
        project = lock_one(Project, project.pk)
        _apply_project_fields(project, changes)
        _save_project(project)
        audit(actor, "project.updated", project, fields=sorted(changes))
    return project


# -- tasks, staff, rates -----------------------------------------------------------------------------


def _check_task_name(project: Project, name: str, task_pk: int | None = None) -> str:
    name = text(name, "name", 200)
    if Task.all_tenants.filter(project_id=project.pk, name=name).exclude(pk=task_pk).exists():
        raise errors.ProjectInvalid(_("This project already has a task of that name."), field="name")
    return name


def create_task(
    *, project: Project, name: str, actor: Actor, rate: Money | None = None, is_billable: bool = True
) -> Task:
    require_staff(actor)
    with transaction.atomic():
        project = lock_one(Project, project.pk)
        task = Task.all_tenants.create(
            organization_id=project.organization_id,
            project=project,
            name=_check_task_name(project, name),
            rate_minor=rate_minor(rate, project.currency),
            is_billable=bool(is_billable),
        )
        audit(actor, "project.task_created", project, task=task.name, rate=rate)
    return task


def update_task(
    *,
    task: Task,
    actor: Actor,
    name: str | None = None,
    rate: Money | Unchanged | None = UNCHANGED,
    is_billable: bool | None = None,
    is_active: bool | None = None,
) -> Task:
    """Rename, re-rate or close a task; a new rate applies to time not invoiced yet."""
    require_staff(actor)
    with transaction.atomic():
        task = lock_one(Task, task.pk)
        project = task.project
        if name is not None:
            task.name = _check_task_name(project, name, task.pk)
        if rate is not UNCHANGED:
            task.rate_minor = rate_minor(rate, project.currency)
        if is_billable is not None:
            task.is_billable = bool(is_billable)
        if is_active is not None:
            task.is_active = bool(is_active)
        task.save()
        audit(actor, "project.task_updated", project, task=task.name, rate_minor=task.rate_minor)
    return task


def _check_staff_email(organization_id: int, email: str, staff_pk: int | None = None) -> str:
    email = text(email, "email", 254).lower()
    if "@" not in email:
        raise errors.ProjectInvalid(_("Enter a valid email address."), field="email")
    taken = StaffMember.all_tenants.filter(organization_id=organization_id, email=email)
    if taken.exclude(pk=staff_pk).exists():
        raise errors.StaffEmailTaken()
    return email


def _check_staff_user(organization_id: int, user, staff_pk: int | None = None):
    if user is None:
        return None
    if user.organization_id != organization_id or user.contact_id is not None or not user.is_staff:
        raise errors.ProjectNotFound(field="user")
    if StaffMember.all_tenants.filter(user=user).exclude(pk=staff_pk).exists():
        raise errors.ProjectInvalid(_("This login already belongs to another staff member."), field="user")
    return user


def create_staff_member(
    *, organization, name: str, email: str, actor: Actor, user=None, default_rate_minor: int | None = None
) -> StaffMember:
    """Someone whose time is logged; `default_rate_minor` is in the minor units of each project's currency."""
    require_staff(actor)
    with transaction.atomic():
        staff = StaffMember(
            organization_id=organization.pk,
            name=text(name, "name", 200),
            email=_check_staff_email(organization.pk, email),
            user=_check_staff_user(organization.pk, user),
            default_rate_minor=plain_rate_minor(default_rate_minor),
        )
        try:
            with transaction.atomic():
                staff.save()
        except IntegrityError:
            raise errors.StaffEmailTaken() from None
        audit(actor, "project.staff_created", staff, name=staff.name, email=staff.email)
    return staff


def update_staff_member(
    *,
    staff_member: StaffMember,
    actor: Actor,
    name: str | None = None,
    email: str | None = None,
    user=UNCHANGED,
    default_rate_minor: int | Unchanged | None = UNCHANGED,
    is_active: bool | None = None,
) -> StaffMember:
    require_staff(actor)
    with transaction.atomic():
        staff = lock_one(StaffMember, staff_member.pk)
        if name is not None:
            staff.name = text(name, "name", 200)
        if email is not None:
            staff.email = _check_staff_email(staff.organization_id, email, staff.pk)
        if user is not UNCHANGED:
            staff.user = _check_staff_user(staff.organization_id, user, staff.pk)
        if default_rate_minor is not UNCHANGED:
            staff.default_rate_minor = plain_rate_minor(default_rate_minor)
        if is_active is not None:
            staff.is_active = bool(is_active)
        try:
            with transaction.atomic():
                staff.save()
        except IntegrityError:
            raise errors.StaffEmailTaken() from None
        audit(
            actor,
            "project.staff_updated",
            staff,
            name=staff.name,
            default_rate_minor=staff.default_rate_minor,
        )
    return staff


def _require_same_organization(project: Project, staff_member: StaffMember) -> None:
    if staff_member.organization_id != project.organization_id:
        raise errors.ProjectNotFound(field="staff_member")


def set_project_member(
    *, project: Project, staff_member: StaffMember, actor: Actor, rate: Money | None = None
) -> ProjectMember:
    """Put a staff member on a project, or change their rate on it (None: their default rate)."""
    require_staff(actor)
    _require_same_organization(project, staff_member)
    with transaction.atomic():
        project = lock_one(Project, project.pk)
        member_rate = rate_minor(rate, project.currency)
        member, created = ProjectMember.all_tenants.select_for_update().get_or_create(
            project=project,
            staff_member=staff_member,
            defaults={"organization_id": project.organization_id, "rate_minor": member_rate},
        )
        if not created:
            member.rate_minor = member_rate
            member.save(update_fields=["rate_minor"])
        audit(actor, "project.member_set", project, staff_member=staff_member.name, rate=rate)
    return member


def remove_project_member(*, project: Project, staff_member: StaffMember, actor: Actor) -> None:
    """Take a staff member off a project; their logged time stays (billed at their default rate)."""
    require_staff(actor)
    with transaction.atomic():
        project = lock_one(Project, project.pk)
        ProjectMember.all_tenants.filter(project=project, staff_member_id=staff_member.pk).delete()
        audit(actor, "project.member_removed", project, staff_member=staff_member.name)


# -- time -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeInput:
    """One entry of a bulk log (a week grid, the API's bulk create)."""

    task: Task
    staff_member: StaffMember
    date: dt.date
    hours: Decimal
    notes: str = ""
    is_billable: bool | None = None


def _entry_values(project: Project, item: TimeInput) -> dict:
    if item.task.project_id != project.pk:
        raise errors.ProjectNotFound(field="task")
    _require_same_organization(project, item.staff_member)
    if not isinstance(item.date, dt.date) or isinstance(item.date, dt.datetime):
        raise errors.ProjectInvalid(_("Enter a date."), field="date")
    return {
        "task": item.task,
        "staff_member": item.staff_member,
        "date": item.date,
        "hours": _hours(item.hours),
        "notes": (item.notes or "").strip(),
        "is_billable": item.task.is_billable if item.is_billable is None else bool(item.is_billable),
    }


def log_time_bulk(*, project: Project, entries: Sequence[TimeInput], actor: Actor) -> list[TimeEntry]:
    """Log many entries at once: all of them, or (one refused) none."""
    require_staff(actor)
    if not entries:
        raise errors.ProjectInvalid(_("Enter some time to log."), field="hours")
    with transaction.atomic():
        project = lock_one(Project, project.pk)
        if not project.can_log_time():
            raise errors.ProjectClosed()
        rows = [
            TimeEntry(
                organization_id=project.organization_id, project=project, **_entry_values(project, item)
            )
            for item in entries
        ]
        created = TimeEntry.all_tenants.bulk_create(rows)
        for entry in created:
            audit(
                actor, "time_entry.logged", project, entry=entry.public_id, date=entry.date, hours=entry.hours
            )
    return created


def log_time(
    *,
    project: Project,
    task: Task,
    staff_member: StaffMember,
    date: dt.date,
    hours: Decimal,
    actor: Actor,
    notes: str = "",
    is_billable: bool | None = None,
) -> TimeEntry:
    """Log one entry (awaiting approval); billable as its task is unless said otherwise."""
    item = TimeInput(task, staff_member, date, hours, notes, is_billable)
    return log_time_bulk(project=project, entries=[item], actor=actor)[0]


def _lock_entry(entry: TimeEntry) -> TimeEntry:
    return lock_one(TimeEntry, entry.pk)


def update_time_entry(
    *,
    entry: TimeEntry,
    actor: Actor,
    task: Task | None = None,
    staff_member: StaffMember | None = None,
    date: dt.date | None = None,
    hours: Decimal | None = None,
    notes: str | None = None,
    is_billable: bool | None = None,
) -> TimeEntry:
    """Correct an entry awaiting approval (approved or invoiced time no longer changes)."""
    require_staff(actor)
    with transaction.atomic():
        entry = _lock_entry(entry)
        if not entry.can_edit():
            raise errors.EntryStateRefused()
        project = entry.project
        item = TimeInput(
            task=task or entry.task,
            staff_member=staff_member or entry.staff_member,
            date=date or entry.date,
            hours=entry.hours if hours is None else hours,
            notes=entry.notes if notes is None else notes,
            is_billable=entry.is_billable if is_billable is None else is_billable,
        )
        for name, value in _entry_values(project, item).items():
            setattr(entry, name, value)
        entry.save()
        audit(actor, "time_entry.updated", project, entry=entry.public_id, date=entry.date, hours=entry.hours)
    return entry


def delete_time_entry(*, entry: TimeEntry, actor: Actor) -> None:
    require_staff(actor)
    with transaction.atomic():
        entry = _lock_entry(entry)
        if not entry.can_delete():
            raise errors.EntryStateRefused()
        audit(actor, "time_entry.deleted", entry.project, entry=entry.public_id, hours=entry.hours)
        entry.delete()


def _require_customer_may_review(project: Project, contact: ContactPerson | None) -> None:
    """A contact approves or disputes only their own customer's time, where the business asks them to."""
    if contact is None:
        return
    if contact.customer_id != project.customer_id or contact.organization_id != project.organization_id:
        raise errors.ProjectNotFound()
    if not project.requires_customer_approval:
        raise errors.ApprovalRefused(_("This project's time is approved by the business."))


def approve_time_entries(*, entries: Iterable[TimeEntry], actor: Actor) -> list[TimeEntry]:
    """Approve time awaiting approval, to be invoiced: staff on any project; the customer's contact
    (a portal actor) on projects that ask for the customer's approval. All or none."""
    contact = contact_of(actor)
    pks = {entry.pk for entry in entries}
    if not pks:
        return []
    with transaction.atomic():
        locked = lock(TimeEntry, pks)
        if len(locked) != len(pks):
            raise errors.ProjectNotFound()
        projects = {p.pk: p for p in Project.all_tenants.filter(pk__in={e.project_id for e in locked})}
        for entry in locked:
            _require_customer_may_review(projects[entry.project_id], contact)
            if not entry.can_approve():
                raise errors.EntryStateRefused()
        now, user = clock.now(), user_of(actor)
        for entry in locked:
            entry.state = TimeEntry.State.APPROVED
            entry.approved_at, entry.approved_by, entry.approved_by_contact = now, user, contact
            entry.save(
                update_fields=["state", "approved_at", "approved_by", "approved_by_contact", "updated_at"]
            )
            audit(
                actor,
                "time_entry.approved",
                projects[entry.project_id],
                entry=entry.public_id,
                hours=entry.hours,
                by_customer=contact is not None,
            )
    return locked


def approve_time_entry(*, entry: TimeEntry, actor: Actor) -> TimeEntry:
    return approve_time_entries(entries=[entry], actor=actor)[0]


def dispute_time_entry(*, entry: TimeEntry, comment: str, actor: Actor) -> TimeEntry:
    """The customer's contact disputes time awaiting their approval; staff see the comment."""
    contact = contact_of(actor)
    if contact is None:
        raise errors.ApprovalRefused(_("Only the customer disputes time."))
    comment = text(comment, "comment", 2000)
    with transaction.atomic():
        entry = _lock_entry(entry)
        project = entry.project
        _require_customer_may_review(project, contact)
        if not entry.can_dispute():
            raise errors.EntryStateRefused()
        entry.state = TimeEntry.State.DISPUTED
        entry.dispute_comment, entry.disputed_at, entry.disputed_by_contact = comment, clock.now(), contact
        entry.save(
            update_fields=["state", "dispute_comment", "disputed_at", "disputed_by_contact", "updated_at"]
        )
        audit(actor, "time_entry.disputed", project, entry=entry.public_id, comment=comment)
        outbox.emit_for(
            "time_entry.disputed",
            entry,
            once=False,
            customer=project.customer_id,
            project=project.public_id,
            comment=comment,
        )
    return entry


def resolve_dispute(
    *,
    entry: TimeEntry,
    actor: Actor,
    comment: str,
    hours: Decimal | None = None,
    notes: str | None = None,
    is_billable: bool | None = None,
) -> TimeEntry:
    """Staff answer a dispute (correcting the entry if they agree): it awaits approval again."""
    require_staff(actor)
    comment = text(comment, "comment", 2000)
    with transaction.atomic():
        entry = _lock_entry(entry)
        if not entry.can_resolve():
            raise errors.EntryStateRefused()
        if hours is not None:
            entry.hours = _hours(hours)
        if notes is not None:
            entry.notes = notes.strip()
        if is_billable is not None:
            entry.is_billable = bool(is_billable)
        entry.state = TimeEntry.State.UNAPPROVED
        entry.resolution_comment, entry.resolved_at = comment, clock.now()
        entry.save()
        audit(actor, "time_entry.dispute_resolved", entry.project, entry=entry.public_id, hours=entry.hours)
    return entry


# -- milestones -------------------------------------------------------------------------------------


def _milestone_amount(amount: Money, currency: str) -> int:
    if not isinstance(amount, Money):
        raise errors.ProjectInvalid(_("Enter the milestone's amount."), field="amount")
    if amount.currency != currency:
        raise CurrencyMismatch(currency, amount.currency)
    if amount.minor <= 0:
        raise errors.ProjectInvalid(_("Enter an amount greater than zero."), field="amount")
    return amount.minor


def create_milestone(
    *,
    project: Project,
    name: str,
    amount: Money,
    actor: Actor,
    due_date: dt.date | None = None,
    description: str = "",
) -> Milestone:
    require_staff(actor)
    with transaction.atomic():
        project = lock_one(Project, project.pk)
        milestone = Milestone.all_tenants.create(
            organization_id=project.organization_id,
            project=project,
            name=text(name, "name", 200),
            description=(description or "").strip(),
            amount_minor=_milestone_amount(amount, project.currency),
            due_date=due_date,
        )
        audit(actor, "milestone.created", project, milestone=milestone.name, amount=amount)
    return milestone


def _lock_editable_milestone(milestone: Milestone) -> Milestone:
    milestone = lock_one(Milestone, milestone.pk)
    if not milestone.can_edit():
        raise errors.MilestoneStateRefused()
    return milestone


def update_milestone(
    *,
    milestone: Milestone,
    actor: Actor,
    name: str | None = None,
    amount: Money | None = None,
    due_date: dt.date | Unchanged | None = UNCHANGED,
    description: str | None = None,
) -> Milestone:
    """Change a milestone not invoiced yet."""
    require_staff(actor)
    with transaction.atomic():
        milestone = _lock_editable_milestone(milestone)
        project = milestone.project
        if name is not None:
            milestone.name = text(name, "name", 200)
        if amount is not None:
            milestone.amount_minor = _milestone_amount(amount, project.currency)
        if due_date is not UNCHANGED:
            milestone.due_date = due_date
        if description is not None:
            milestone.description = description.strip()
        milestone.save()
        audit(actor, "milestone.updated", project, milestone=milestone.name, amount=milestone.amount)
    return milestone


def delete_milestone(*, milestone: Milestone, actor: Actor) -> None:
    require_staff(actor)
    with transaction.atomic():
        milestone = _lock_editable_milestone(milestone)
        audit(
            actor, "milestone.deleted", milestone.project, milestone=milestone.name, amount=milestone.amount
        )
        milestone.delete()


def mark_milestone_due(*, milestone: Milestone, actor: Actor) -> Milestone:
    """The milestone's work is delivered: it is invoiced with the project's next invoice."""
    require_staff(actor)
    with transaction.atomic():
        milestone = lock_one(Milestone, milestone.pk)
        if not milestone.can_mark_due():
            raise errors.MilestoneStateRefused(_("Only a pending milestone becomes due."))
        milestone.status = Milestone.Status.DUE
        milestone.save(update_fields=["status"])
        audit(actor, "milestone.due", milestone.project, milestone=milestone.name, amount=milestone.amount)
    return milestone
