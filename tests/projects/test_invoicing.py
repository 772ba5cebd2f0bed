"""Invoicing a project: approved unbilled time and due milestones become one invoice through the
ledger, each entry and milestone billed once; voiding the invoice releases them to be billed again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portico.billing import services as billing
from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice
from portico.catalog.models import TaxRate
from portico.core.models import OutboxEvent
from portico.core.money import Money
from portico.projects import errors, services
from portico.projects.models import Milestone, Project, ProjectInvoice, TimeEntry
from tests.projects.factories import ACTOR, logged, project, staff, task

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def hourly(customer):
    return project(customer, rate=10000)


@pytest.fixture
def riley(org):
    return staff(org, "Riley")


def _entries_state(*entries):
    return [TimeEntry.all_tenants.get(pk=e.pk).state for e in entries]


def test_invoicing_bills_approved_time_once_and_links_each_entry_to_its_line(hourly, riley):
    design = task(hourly, "Design")
    first = logged(hourly, design, riley, "2.50")
    second = logged(hourly, design, riley, "1.25", on=dt.date(2026, 3, 3))
    invoice = services.invoice_project(project=hourly, actor=ACTOR)
    assert invoice.status == Invoice.Status.OPEN and invoice.source == Invoice.Source.PROJECT
    assert invoice.total_minor == 37500  # 3.75 h × $100.00
    (line,) = invoice.lines.all()
    assert (line.description, line.quantity, line.unit_price_minor) == ("Design", Decimal("3.75"), 10000)
    assert (line.period_start, line.period_end) == (dt.date(2026, 3, 2), dt.date(2026, 3, 3))
    for entry in (first, second):
        entry.refresh_from_db()
        assert (entry.state, entry.invoice_line_id) == (TimeEntry.State.INVOICED, line.pk)
    assert ProjectInvoice.objects.get(invoice=invoice).project == hourly
    event = OutboxEvent.all_tenants.get(topic="project.invoiced")
    assert event.payload["number"] == invoice.number and event.payload["entries"] == 2


def test_invoicing_the_same_time_twice_bills_each_entry_once(hourly, riley):
    design = task(hourly, "Design")
    logged(hourly, design, riley, "2.00")
    first = services.invoice_project(project=hourly, actor=ACTOR)
    with pytest.raises(errors.NothingToInvoice):
        services.invoice_project(project=hourly, actor=ACTOR)
    assert Invoice.objects.count() == 1 and first.total_minor == 20000
    later = logged(hourly, design, riley, "0.50", on=dt.date(2026, 3, 9))
    second = services.invoice_project(project=hourly, actor=ACTOR)
    assert second.total_minor == 5000  # only the new half hour
    later.refresh_from_db()
    assert later.invoice_line.invoice_id == second.pk
    assert ledger_violations() == []


def test_only_time_in_the_period_is_invoiced_and_unapproved_or_unbillable_time_waits(hourly, riley):
    design = task(hourly, "Design")
    internal = task(hourly, "Internal meetings", is_billable=False)
    in_march = logged(hourly, design, riley, "1.00", on=dt.date(2026, 3, 31))
    in_april = logged(hourly, design, riley, "2.00", on=dt.date(2026, 4, 1))
    waiting = logged(hourly, design, riley, "3.00", on=dt.date(2026, 3, 5), approve=False)
    meeting = logged(hourly, internal, riley, "4.00", on=dt.date(2026, 3, 5))
    not_billed = logged(hourly, design, riley, "5.00", on=dt.date(2026, 3, 6), is_billable=False)
    invoice = services.invoice_project(
        project=hourly, actor=ACTOR, date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31)
    )
    assert invoice.total_minor == 10000
    assert _entries_state(in_march, in_april, waiting, meeting, not_billed) == [
        TimeEntry.State.INVOICED,
        TimeEntry.State.APPROVED,
        TimeEntry.State.UNAPPROVED,
        TimeEntry.State.APPROVED,
        TimeEntry.State.APPROVED,
    ]


def test_the_preview_is_the_invoice_line_for_line(hourly, org):
    design, build = task(hourly, "Design"), task(hourly, "Build")
    riley, sam = staff(org, "Riley"), staff(org, "Sam")
    logged(hourly, design, riley, "1.33")
    logged(hourly, build, sam, "0.17")
    logged(hourly, build, riley, "2.25")
    milestone = services.create_milestone(
        project=hourly, name="Permit filed", amount=Money(50000, "USD"), actor=ACTOR
    )
    services.mark_milestone_due(milestone=milestone, actor=ACTOR)
    preview = services.preview_project_invoice(project=hourly)
    invoice = services.invoice_project(project=hourly, actor=ACTOR)
    assert [(p.description, p.quantity, p.total.minor) for p in preview.lines] == [
        (line.description, line.quantity, line.total_minor) for line in invoice.lines.order_by("position")
    ]
    assert [(p.description, p.total.minor) for p in preview.lines] == [
        ("Build", 24200),  # 2.42 h × $100.00
        ("Design", 13300),  # 1.33 h × $100.00
        ("Permit filed", 50000),
    ]
    assert preview.total == invoice.total == Money(87500, "USD")
    milestone.refresh_from_db()
    assert (milestone.status, milestone.invoice_id) == (Milestone.Status.INVOICED, invoice.pk)


def test_voiding_a_project_invoice_releases_its_entries_and_milestones_to_be_billed_again(hourly, riley):
    design = task(hourly, "Design")
    entry = logged(hourly, design, riley, "1.50")
    milestone = services.create_milestone(
        project=hourly, name="Deposit", amount=Money(20000, "USD"), actor=ACTOR
    )
    services.mark_milestone_due(milestone=milestone, actor=ACTOR)
    first = services.invoice_project(project=hourly, actor=ACTOR)
    assert first.total_minor == 35000
    billing.void_invoice(invoice=first, actor=ACTOR, reason="Wrong period")
    entry.refresh_from_db()
    milestone.refresh_from_db()
    assert (entry.state, entry.invoice_line_id) == (TimeEntry.State.APPROVED, None)
    assert (milestone.status, milestone.invoice_id, milestone.invoice_line_id) == (
        Milestone.Status.DUE,
        None,
        None,
    )
    second = services.invoice_project(project=hourly, actor=ACTOR)
    assert second.total_minor == 35000 and second.number != first.number
    entry.refresh_from_db()
    milestone.refresh_from_db()
    assert entry.invoice_line.invoice_id == second.pk and milestone.invoice_id == second.pk
    assert ledger_violations() == []


def test_a_void_refused_by_the_ledger_releases_nothing(hourly, riley):
    from tests.billing.factories import pay

    entry = logged(hourly, task(hourly), riley, "1.00")
    invoice = services.invoice_project(project=hourly, actor=ACTOR)
    pay(hourly.customer, 5000, (invoice, 5000))
    with pytest.raises(billing.errors.VoidRefused):
        billing.void_invoice(invoice=invoice, actor=ACTOR)
    entry.refresh_from_db()
    assert entry.state == TimeEntry.State.INVOICED and entry.invoice_line.invoice_id == invoice.pk


def test_voiding_an_invoice_that_is_not_a_projects_touches_no_project(hourly, riley, customer):
    from tests.billing.factories import open_invoice

    entry = logged(hourly, task(hourly), riley, "1.00")
    services.invoice_project(project=hourly, actor=ACTOR)
    other = open_invoice(customer, 1000)
    billing.void_invoice(invoice=other, actor=ACTOR)
    entry.refresh_from_db()
    assert entry.state == TimeEntry.State.INVOICED


def test_a_fixed_price_project_bills_its_due_milestones_and_not_its_time(customer, riley):
    fixed = project(customer, code="FX", rate=None, billing_method=Project.BillingMethod.FIXED)
    entry = logged(fixed, task(fixed), riley, "8.00")
    pending = services.create_milestone(
        project=fixed, name="Handover", amount=Money(90000, "USD"), actor=ACTOR
    )
    due = services.create_milestone(
        project=fixed, name="Design approved", amount=Money(30000, "USD"), actor=ACTOR
    )
    services.mark_milestone_due(milestone=due, actor=ACTOR)
    invoice = services.invoice_project(project=fixed, actor=ACTOR)
    assert [(line.description, line.total_minor) for line in invoice.lines.all()] == [
        ("Design approved", 30000)
    ]
    pending.refresh_from_db()
    entry.refresh_from_db()
    assert pending.status == Milestone.Status.PENDING and entry.state == TimeEntry.State.APPROVED


def test_time_with_no_rate_to_bill_it_is_refused_and_nothing_is_issued(customer, riley):
    by_task = project(customer, code="TR", rate=None, billing_method=Project.BillingMethod.TASK_RATE)
    logged(by_task, task(by_task, "Unpriced"), riley, "1.00")
    with pytest.raises(errors.RateMissing):
        services.invoice_project(project=by_task, actor=ACTOR)
    assert Invoice.objects.count() == 0


# -- hand-computed amounts --------------------------------------------------------------------------
# hours × rate (minor units), rounded once per line, half-up.

PROJECT_RATE_AMOUNTS = [
    ("0.25", 10000, 2500),  # a quarter hour at $100.00
    ("0.75", 9000, 6750),  # three quarters at $90.00
    ("1.33", 9500, 12635),  # 1 h 20 min typed as 1.33 at $95.00: 126.35
    ("0.17", 9500, 1615),  # 10 minutes typed as 0.17 at $95.00: 16.15
    ("0.17", 12345, 2099),  # 20.9865 → 20.99 (half-up of 2098.65 cents)
    ("1.33", 12345, 16419),  # 164.1885 → 164.19
    ("0.50", 3, 2),  # 1.5 cents → 2 (half-up, not to even)
    ("0.25", 10001, 2500),  # 2500.25 cents → 2500
    ("7.75", 8550, 66263),  # 662.625 → 662.63
    ("24.00", 15000, 360000),  # a full day at $150.00
]


@pytest.mark.parametrize(("hours", "rate", "expected"), PROJECT_RATE_AMOUNTS)
def test_hours_at_the_project_rate_come_to_the_hand_computed_amount(customer, riley, hours, rate, expected):
    hourly = project(customer, rate=rate)
    logged(hourly, task(hourly), riley, hours)
    assert services.preview_project_invoice(project=hourly).total.minor == expected
    assert services.invoice_project(project=hourly, actor=ACTOR).total_minor == expected


def test_task_billing_uses_each_tasks_rate_and_the_project_rate_for_tasks_without_one(customer, riley):
    by_task = project(customer, rate=10000, billing_method=Project.BillingMethod.TASK_RATE)
    design, survey = task(by_task, "Design", rate=15000), task(by_task, "Survey")
    logged(by_task, design, riley, "2.50")
    logged(by_task, survey, riley, "2.50")
    invoice = services.invoice_project(project=by_task, actor=ACTOR)
    lines = [(line.description, line.unit_price_minor, line.total_minor) for line in invoice.lines.all()]
    assert lines == [("Design", 15000, 37500), ("Survey", 10000, 25000)]


def test_staff_billing_uses_the_project_rate_of_a_member_then_their_default_then_the_projects(customer, org):
    by_staff = project(customer, rate=10000, billing_method=Project.BillingMethod.STAFF_RATE)
    lead, junior, guest = (
        staff(org, "Lead", rate=12000),
        staff(org, "Junior", rate=12000),
        staff(org, "Guest"),
    )
    services.set_project_member(project=by_staff, staff_member=lead, rate=Money(20000, "USD"), actor=ACTOR)
    services.set_project_member(project=by_staff, staff_member=junior, actor=ACTOR)
    work = task(by_staff, "Build", rate=99900)  # task rates do not apply under staff billing
    for person in (lead, junior, guest):
        logged(by_staff, work, person, "1.50")
    invoice = services.invoice_project(project=by_staff, actor=ACTOR, grouping=Project.Grouping.STAFF)
    lines = [(line.description, line.unit_price_minor, line.total_minor) for line in invoice.lines.all()]
    assert lines == [("Guest", 10000, 15000), ("Junior", 12000, 18000), ("Lead", 20000, 30000)]


def test_the_same_hours_cost_differently_per_task_per_staff_member_and_per_project(customer, org):
    riley = staff(org, "Riley", rate=8000)
    totals = {}
    for method in (
        Project.BillingMethod.PROJECT_RATE,
        Project.BillingMethod.TASK_RATE,
        Project.BillingMethod.STAFF_RATE,
    ):
        p = project(customer, code=method, rate=10000, billing_method=method)
        logged(p, task(p, "Design", rate=13000), riley, "1.33")
        totals[method] = services.invoice_project(project=p, actor=ACTOR).total_minor
    assert totals == {"project_rate": 13300, "task_rate": 17290, "staff_rate": 10640}


def test_one_line_per_entry_rounds_each_entry_and_one_line_per_task_rounds_once(customer, riley):
    amounts = {}
    for grouping in (Project.Grouping.ENTRY, Project.Grouping.TASK):
        p = project(customer, code=grouping, rate=12345, invoice_grouping=grouping)
        design = task(p, "Design")
        for day in (2, 3, 4):
            logged(p, design, riley, "0.17", on=dt.date(2026, 3, day))
        invoice = services.invoice_project(project=p, actor=ACTOR)
        amounts[grouping] = [line.total_minor for line in invoice.lines.all()]
    assert amounts["entry"] == [2099, 2099, 2099]  # 20.9865 → 20.99, three times: 62.97
    assert amounts["task"] == [6296]  # 0.51 h × 123.45 = 62.9595 → 62.96


def test_half_cents_per_entry_add_up_to_more_than_the_task_line(customer, riley):
    per_entry = project(customer, code="E", rate=50, invoice_grouping=Project.Grouping.ENTRY)
    per_task = project(customer, code="T", rate=50, invoice_grouping=Project.Grouping.TASK)
    for p in (per_entry, per_task):
        design = task(p)
        logged(p, design, riley, "0.33")
        logged(p, design, riley, "0.33", on=dt.date(2026, 3, 3))
    assert services.invoice_project(project=per_entry, actor=ACTOR).total_minor == 34  # 16.5 → 17, twice
    assert services.invoice_project(project=per_task, actor=ACTOR).total_minor == 33  # 0.66 × 50


def test_a_task_line_whose_staff_bill_at_two_rates_becomes_two_lines(customer, org):
    by_staff = project(customer, rate=10000, billing_method=Project.BillingMethod.STAFF_RATE)
    design = task(by_staff, "Design")
    logged(by_staff, design, staff(org, "Ada", rate=9000), "1.00")
    logged(by_staff, design, staff(org, "Bo", rate=11000), "1.00")
    invoice = services.invoice_project(project=by_staff, actor=ACTOR)
    assert [(line.description, line.quantity, line.total_minor) for line in invoice.lines.all()] == [
        ("Design", Decimal("1.00"), 9000),
        ("Design", Decimal("1.00"), 11000),
    ]


def test_the_projects_tax_is_computed_on_each_line(customer, org, riley):
    vat = TaxRate.objects.create(name="Sales tax", percent=Decimal("8.25"))
    taxed = project(customer, rate=9500, tax_rate=vat)
    logged(taxed, task(taxed), riley, "1.33")
    invoice = services.invoice_project(project=taxed, actor=ACTOR)
    assert (invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor) == (12635, 1042, 13677)


def test_invoicing_what_a_preview_showed_bills_exactly_that_or_nothing(hourly, riley):
    design = task(hourly, "Design")
    shown = logged(hourly, design, riley, "2.00")
    preview = services.preview_project_invoice(project=hourly)
    late = logged(hourly, design, riley, "1.00")  # approved after the preview was shown
    with pytest.raises(errors.PreviewChanged):
        services.invoice_project(
            project=hourly, actor=ACTOR, expected=(preview.entry_ids, preview.milestone_ids)
        )
    assert not Invoice.all_tenants.exists()
    assert _entries_state(shown, late) == [TimeEntry.State.APPROVED, TimeEntry.State.APPROVED]
    again = services.preview_project_invoice(project=hourly)
    invoice = services.invoice_project(
        project=hourly, actor=ACTOR, expected=(again.entry_ids, again.milestone_ids)
    )
    assert invoice.total_minor == 30000
