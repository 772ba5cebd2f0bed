"""Time entries: logging, the approval state machine (staff, or the customer's contact where the project
asks for it), disputes and their resolution; refusals change nothing; other tenants' rows are out of reach."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portico.core.errors import CurrencyMismatch
from portico.core.models import AuditEvent, OutboxEvent
from portico.core.money import Money
from portico.core.tenancy import NoActiveTenant, tenant
from portico.projects import errors, services
from portico.projects.models import Milestone, Project, StaffMember, Task, TimeEntry
from portico.projects.services import TimeInput
from tests.factories import ContactFactory, CustomerFactory, portal_user
from tests.projects.factories import ACTOR, MARCH_2, logged, portal_actor, project, staff, task

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def reviewed(customer):
    """A project whose customer approves its hours."""
    return project(customer, code="REV", requires_customer_approval=True)


@pytest.fixture
def riley(org):
    return staff(org, "Riley")


@pytest.fixture
def maria(portal_login):
    return portal_actor(portal_login)


def _snapshot(entry: TimeEntry) -> tuple:
    row = TimeEntry.all_tenants.get(pk=entry.pk)
    return (row.state, row.hours, row.task_id, row.date, row.notes, row.invoice_line_id, row.dispute_comment)


def _events() -> int:
    return AuditEvent.all_tenants.count()


# -- logging ---------------------------------------------------------------------------------------


def test_logged_time_awaits_approval_and_is_billable_as_its_task(reviewed, riley):
    billable = logged(reviewed, task(reviewed, "Design"), riley, "1.25", approve=False)
    internal = logged(reviewed, task(reviewed, "Internal", is_billable=False), riley, "0.50", approve=False)
    assert (billable.state, billable.hours, billable.is_billable) == (
        TimeEntry.State.UNAPPROVED,
        Decimal("1.25"),
        True,
    )
    assert internal.is_billable is False


@pytest.mark.parametrize("hours", ["0", "-1", "24.01", "1.333", "abc", 1.5, None])
def test_hours_that_are_not_hundredths_between_0_and_24_are_refused(reviewed, riley, hours):
    design = task(reviewed)
    with pytest.raises(errors.TimeInvalid):
        services.log_time(
            project=reviewed, task=design, staff_member=riley, date=MARCH_2, hours=hours, actor=ACTOR
        )
    assert TimeEntry.objects.count() == 0


def test_a_bulk_log_with_one_bad_entry_logs_nothing(reviewed, riley):
    design = task(reviewed)
    week = [TimeInput(design, riley, MARCH_2 + dt.timedelta(days=d), Decimal("8")) for d in range(4)]
    week.append(TimeInput(design, riley, dt.date(2026, 3, 6), Decimal("25")))
    with pytest.raises(errors.TimeInvalid):
        services.log_time_bulk(project=reviewed, entries=week, actor=ACTOR)
    assert TimeEntry.objects.count() == 0
    logged_week = services.log_time_bulk(project=reviewed, entries=week[:4], actor=ACTOR)
    assert [e.hours for e in logged_week] == [Decimal("8.00")] * 4


def test_time_is_not_logged_on_a_project_on_hold_or_against_another_projects_task(customer, reviewed, riley):
    other = project(customer, code="OTHER")
    with pytest.raises(errors.ProjectNotFound):
        services.log_time(
            project=reviewed,
            task=task(other),
            staff_member=riley,
            date=MARCH_2,
            hours=Decimal(1),
            actor=ACTOR,
        )
    services.update_project(project=reviewed, status=Project.Status.ON_HOLD, actor=ACTOR)
    with pytest.raises(errors.ProjectClosed):
        logged(reviewed, task(reviewed), riley, "1.00", approve=False)
    assert TimeEntry.objects.count() == 0


# -- approval --------------------------------------------------------------------------------------


def test_the_customers_contact_approves_time_where_the_project_asks_for_it(reviewed, riley, maria, contact):
    entry = logged(reviewed, task(reviewed), riley, "2.00", approve=False)
    (approved,) = services.approve_time_entries(entries=[entry], actor=maria)
    assert approved.state == TimeEntry.State.APPROVED
    assert (approved.approved_by_contact, approved.approved_by) == (contact, maria.user)
    assert AuditEvent.all_tenants.filter(action="time_entry.approved", actor_kind="portal").count() == 1


def test_a_contact_cannot_approve_where_the_business_approves(customer, riley, maria):
    staff_approved = project(customer, code="STAFF", requires_customer_approval=False)
    entry = logged(staff_approved, task(staff_approved), riley, "2.00", approve=False)
    before, events = _snapshot(entry), _events()
    with pytest.raises(errors.ApprovalRefused):
        services.approve_time_entry(entry=entry, actor=maria)
    with pytest.raises(errors.ApprovalRefused):
        services.dispute_time_entry(entry=entry, comment="Too long", actor=maria)
    assert _snapshot(entry) == before and _events() == events


def test_another_customers_contact_cannot_approve_or_dispute(reviewed, riley, org):
    bluebird = ContactFactory(customer=CustomerFactory(organization=org, display_name="Bluebird"))
    stranger = portal_actor(portal_user(bluebird))
    entry = logged(reviewed, task(reviewed), riley, "2.00", approve=False)
    before = _snapshot(entry)
    with pytest.raises(errors.ProjectNotFound):
        services.approve_time_entry(entry=entry, actor=stranger)
    with pytest.raises(errors.ProjectNotFound):
        services.dispute_time_entry(entry=entry, comment="Not ours", actor=stranger)
    assert _snapshot(entry) == before


def test_approving_several_entries_with_one_already_approved_approves_none(reviewed, riley, maria):
    design = task(reviewed)
    waiting = logged(reviewed, design, riley, "1.00", approve=False)
    done = logged(reviewed, design, riley, "1.00")
    with pytest.raises(errors.EntryStateRefused):
        services.approve_time_entries(entries=[waiting, done], actor=maria)
    assert TimeEntry.objects.get(pk=waiting.pk).state == TimeEntry.State.UNAPPROVED


# -- disputes --------------------------------------------------------------------------------------


def test_a_dispute_carries_the_comment_staff_see_and_resolving_it_asks_for_approval_again(
    reviewed, riley, maria
):
    entry = logged(reviewed, task(reviewed), riley, "3.00", approve=False)
    disputed = services.dispute_time_entry(entry=entry, comment="We agreed on 2 hours", actor=maria)
    assert (disputed.state, disputed.dispute_comment) == (TimeEntry.State.DISPUTED, "We agreed on 2 hours")
    event = OutboxEvent.all_tenants.get(topic="time_entry.disputed")
    assert event.payload["comment"] == "We agreed on 2 hours"
    with pytest.raises(errors.EntryStateRefused):
        services.update_time_entry(entry=entry, hours=Decimal(2), actor=ACTOR)
    resolved = services.resolve_dispute(entry=entry, comment="Corrected", hours=Decimal("2.00"), actor=ACTOR)
    assert (resolved.state, resolved.hours, resolved.resolution_comment) == (
        TimeEntry.State.UNAPPROVED,
        Decimal("2.00"),
        "Corrected",
    )
    assert services.approve_time_entry(entry=resolved, actor=maria).state == TimeEntry.State.APPROVED


def test_a_dispute_needs_a_comment_and_only_the_customer_disputes(reviewed, riley, maria):
    entry = logged(reviewed, task(reviewed), riley, "3.00", approve=False)
    with pytest.raises(errors.ProjectInvalid):
        services.dispute_time_entry(entry=entry, comment="   ", actor=maria)
    with pytest.raises(errors.ApprovalRefused):
        services.dispute_time_entry(entry=entry, comment="Staff cannot", actor=ACTOR)
    assert TimeEntry.objects.get(pk=entry.pk).state == TimeEntry.State.UNAPPROVED


def test_a_contact_changes_nothing_else(reviewed, riley, maria):
    entry = logged(reviewed, task(reviewed), riley, "3.00", approve=False)
    with pytest.raises(errors.ApprovalRefused):
        services.update_time_entry(entry=entry, hours=Decimal(1), actor=maria)
    with pytest.raises(errors.ApprovalRefused):
        services.invoice_project(project=reviewed, actor=maria)
    assert TimeEntry.objects.get(pk=entry.pk).hours == Decimal("3.00")


# -- refusals change nothing ------------------------------------------------------------------------


def test_approving_an_invoiced_entry_is_refused_and_changes_nothing(reviewed, riley, maria):
    entry = logged(reviewed, task(reviewed), riley, "1.00")
    invoice = services.invoice_project(project=reviewed, actor=ACTOR)
    before, events = _snapshot(entry), _events()
    for actor in (ACTOR, maria):
        with pytest.raises(errors.EntryStateRefused):
            services.approve_time_entry(entry=entry, actor=actor)
    assert _snapshot(entry) == before and _events() == events
    assert before[0] == TimeEntry.State.INVOICED and before[5] == invoice.lines.get().pk


def test_disputing_an_approved_entry_is_refused_and_changes_nothing(reviewed, riley, maria):
    entry = logged(reviewed, task(reviewed), riley, "1.00")
    before, events = _snapshot(entry), _events()
    with pytest.raises(errors.EntryStateRefused):
        services.dispute_time_entry(entry=entry, comment="Too late", actor=maria)
    assert _snapshot(entry) == before and _events() == events
    assert OutboxEvent.all_tenants.filter(topic="time_entry.disputed").count() == 0


def test_editing_or_deleting_an_invoiced_entry_is_refused_and_changes_nothing(reviewed, riley):
    design, other = task(reviewed, "Design"), task(reviewed, "Other")
    entry = logged(reviewed, design, riley, "1.00")
    services.invoice_project(project=reviewed, actor=ACTOR)
    before, events = _snapshot(entry), _events()
    with pytest.raises(errors.EntryStateRefused):
        services.update_time_entry(
            entry=entry, hours=Decimal("9.00"), task=other, notes="changed", actor=ACTOR
        )
    with pytest.raises(errors.EntryStateRefused):
        services.delete_time_entry(entry=entry, actor=ACTOR)
    with pytest.raises(errors.EntryStateRefused):
        services.resolve_dispute(entry=entry, comment="no", actor=ACTOR)
    assert _snapshot(entry) == before and _events() == events


def test_an_unapproved_entry_is_edited_and_deleted(reviewed, riley):
    design, survey = task(reviewed, "Design"), task(reviewed, "Survey")
    entry = logged(reviewed, design, riley, "1.00", approve=False)
    edited = services.update_time_entry(
        entry=entry, hours=Decimal("1.75"), task=survey, notes="Site visit", actor=ACTOR
    )
    assert (edited.hours, edited.task, edited.notes) == (Decimal("1.75"), survey, "Site visit")
    services.delete_time_entry(entry=edited, actor=ACTOR)
    assert not TimeEntry.objects.filter(pk=entry.pk).exists()


def test_an_invoiced_milestone_is_not_edited_deleted_or_marked_due_again(reviewed):
    milestone = services.create_milestone(
        project=reviewed, name="Deposit", amount=Money(10000, "USD"), actor=ACTOR
    )
    services.mark_milestone_due(milestone=milestone, actor=ACTOR)
    services.invoice_project(project=reviewed, actor=ACTOR)
    for refused in (
        lambda: services.update_milestone(milestone=milestone, amount=Money(1, "USD"), actor=ACTOR),
        lambda: services.delete_milestone(milestone=milestone, actor=ACTOR),
        lambda: services.mark_milestone_due(milestone=milestone, actor=ACTOR),
    ):
        with pytest.raises(errors.MilestoneStateRefused):
            refused()
    milestone.refresh_from_db()
    assert (milestone.status, milestone.amount_minor) == (Milestone.Status.INVOICED, 10000)


# -- projects, rates -------------------------------------------------------------------------------


def test_a_project_code_is_unique_per_organization_only(customer, other_org):
    project(customer, code="P-7")
    with pytest.raises(errors.ProjectCodeTaken):
        project(customer, code="P-7")
    with tenant(other_org):
        theirs = project(CustomerFactory(organization=other_org, currency="GBP"), code="P-7")
    assert theirs.code == "P-7" and theirs.currency == "GBP"


def test_a_project_rate_in_another_currency_or_a_budget_without_its_amount_is_refused(customer):
    with pytest.raises(CurrencyMismatch):
        services.create_project(customer=customer, code="X", name="X", rate=Money(100, "EUR"), actor=ACTOR)
    with pytest.raises(errors.ProjectInvalid):
        project(customer, code="Y", budget_kind=Project.BudgetKind.MONEY)
    with pytest.raises(errors.ProjectInvalid):
        project(customer, code="Z", rate=None)  # billed at a project rate, with none
    assert Project.objects.count() == 0


def test_a_customer_with_a_project_keeps_its_currency(customer):
    from portico.customers.errors import CurrencyLocked
    from portico.customers.services import check_currency_change

    project(customer)
    with pytest.raises(CurrencyLocked):
        check_currency_change(customer, "EUR")


# -- tenancy ----------------------------------------------------------------------------------------


def test_another_organizations_projects_and_time_are_unreachable(reviewed, riley, other_org):
    entry = logged(reviewed, task(reviewed), riley, "1.00")
    with tenant(other_org):
        for model, pk in (
            (Project, reviewed.pk),
            (TimeEntry, entry.pk),
            (Task, entry.task_id),
            (StaffMember, riley.pk),
        ):
            assert not model.objects.filter(pk=pk).exists()
        outsider = staff(other_org, "Outsider")
    with pytest.raises(errors.ProjectNotFound):
        services.log_time(
            project=reviewed,
            task=entry.task,
            staff_member=outsider,
            date=MARCH_2,
            hours=Decimal(1),
            actor=ACTOR,
        )
    with pytest.raises(errors.ProjectNotFound):
        services.set_project_member(project=reviewed, staff_member=outsider, actor=ACTOR)
    with tenant(None), pytest.raises(NoActiveTenant):
        TimeEntry.objects.filter(pk=entry.pk).exists()


def test_another_organizations_contact_cannot_approve(reviewed, riley, other_org):
    with tenant(other_org):
        their_contact = ContactFactory(customer=CustomerFactory(organization=other_org, currency="GBP"))
        theirs = portal_actor(portal_user(their_contact))
    entry = logged(reviewed, task(reviewed), riley, "1.00", approve=False)
    with pytest.raises(errors.ProjectNotFound):
        services.approve_time_entry(entry=entry, actor=theirs)
    assert TimeEntry.objects.get(pk=entry.pk).state == TimeEntry.State.UNAPPROVED


@pytest.mark.parametrize("code", ["A/B", "../x", "a b", "<script>", "-lead", "kitchen?x=1", "%2F", "é-1"])
def test_a_project_code_that_cannot_sit_in_a_url_is_refused_and_nothing_is_created(customer, code):
    with pytest.raises(errors.ProjectInvalid) as refused:
        project(customer, code=code)
    assert refused.value.field == "code"
    assert not Project.all_tenants.exists()


def test_a_project_code_of_letters_digits_dots_hyphens_and_underscores_is_kept(customer):
    assert project(customer, code="ACME_2026.kitchen-1").code == "ACME_2026.kitchen-1"
