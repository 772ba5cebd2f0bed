"""Invoicing a project from the console (preview = invoice, double submit safe), its reports against the
ledger, the overview's query count, and milestones."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.accounts.models import StaffRole
from portico.billing.models import Invoice
from portico.core.money import Money
from portico.projects import services
from portico.projects.models import Milestone, ProjectInvoice, TimeEntry
from tests.billing.factories import pay
from tests.console.projects_world import MONDAY, project_world, role_clients
from tests.factories import CustomerFactory
from tests.projects.factories import ACTOR, logged
from tests.projects.factories import project as new_project
from tests.projects.factories import staff as new_staff
from tests.projects.factories import task as new_task

FINANCE = StaffRole.FINANCE
CHOICES = {
    "date_from": "2026-03-01",
    "date_to": "2026-03-31",
    "grouping": "entry",
    "include_milestones": "on",
}


@pytest.fixture
def world(org, customer, clock):
    return project_world(customer)


@pytest.fixture
def staff(org):
    return role_clients(org)


def invoice_url(world) -> str:
    return f"/console/projects/project/{world['project'].pk}/invoice/"


def preview_of(client, world, **choices):
    response = client.get(invoice_url(world), {**CHOICES, **choices})
    assert response.status_code == 200
    return response


def confirm(client, world, preview_response, **choices):
    return client.post(invoice_url(world), {**CHOICES, **choices, "token": preview_response.context["token"]})


def test_the_preview_shows_exactly_the_lines_the_confirmed_invoice_gets(world, staff):
    client = staff[FINANCE]
    response = preview_of(client, world)
    preview = response.context["preview"]
    page = response.content.decode()
    assert [(line.description, line.quantity, line.total.minor) for line in preview.lines] == [
        ("2026-03-03 · Design · Riley", Decimal("3.00"), 30000),
        ("Design sign-off", Decimal("1"), 80000),
    ]
    assert "$1,100.00" in page and "2026-03-03 · Design · Riley" in page

    created = confirm(client, world, response)
    invoice = Invoice.objects.exclude(pk=world["invoice"].pk).get(source=Invoice.Source.PROJECT)
    assert created.status_code == 302
    assert created["Location"] == f"/console/billing/invoice/{invoice.pk}/change/"
    assert [
        (line.description, line.quantity, line.unit_price_minor, line.total_minor)
        for line in invoice.lines.order_by("position")
    ] == [
        (line.description, line.quantity, line.unit_price.minor, line.total.minor) for line in preview.lines
    ]
    assert (invoice.total_minor, invoice.status) == (110000, Invoice.Status.OPEN)
    world["approved"].refresh_from_db()
    world["due"].refresh_from_db()
    assert (world["approved"].state, world["due"].status) == ("invoiced", "invoiced")


def test_grouping_and_period_and_milestones_change_the_preview(world, staff):
    client = staff[FINANCE]
    extra = logged(world["project"], world["task"], world["staff"], "1.25", on=MONDAY.replace(day=20))
    by_task = preview_of(client, world, grouping="task").context["preview"]
    assert [(line.description, line.quantity) for line in by_task.lines] == [
        ("Design", Decimal("4.25")),
        ("Design sign-off", Decimal("1")),
    ]
    early = preview_of(client, world, date_to="2026-03-10", include_milestones="").context["preview"]
    assert [(line.description, line.quantity) for line in early.lines] == [
        ("2026-03-03 · Design · Riley", Decimal("3.00"))
    ]
    assert extra.pk not in early.entry_ids


def test_a_double_submit_issues_one_invoice_and_both_land_on_it(world, staff):
    client = staff[FINANCE]
    response = preview_of(client, world)
    first = confirm(client, world, response)
    second = confirm(client, world, response)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert ProjectInvoice.objects.filter(project=world["project"]).count() == 2  # the world's and this one
    assert TimeEntry.objects.filter(invoice_line__isnull=False).count() == 2


def test_a_preview_that_no_longer_holds_is_shown_again_instead_of_invoiced(world, staff):
    client = staff[FINANCE]
    response = preview_of(client, world)
    services.approve_time_entry(entry=world["unapproved"], actor=ACTOR)  # approved meanwhile
    again = confirm(client, world, response)
    assert again.status_code == 409
    assert "check the new preview" in again.content.decode()
    assert ProjectInvoice.objects.filter(project=world["project"]).count() == 1
    assert len(again.context["preview"].lines) == 3
    assert confirm(client, world, again).status_code == 302
    assert ProjectInvoice.objects.filter(project=world["project"]).count() == 2


def test_nothing_to_invoice_offers_no_confirmation(world, staff):
    page = preview_of(
        staff[FINANCE], world, date_from="2026-01-01", date_to="2026-01-31", include_milestones=""
    )
    assert "There is no approved unbilled time or due milestone" in page.content.decode()
    assert "Confirm: issue this invoice" not in page.content.decode()
    bad = staff[FINANCE].get(
        invoice_url(world), {**CHOICES, "date_from": "2026-03-31", "date_to": "2026-03-01"}
    )
    assert "A period cannot end before it starts." in bad.content.decode()


# -- reports ------------------------------------------------------------------------------------------


def _cells(page: str) -> dict[str, str]:
    import re

    return dict(re.findall(r'<td class="t-([a-z-]+)">([^<]*)</td>', page))


def test_the_report_shows_the_ledgers_numbers(world, staff, customer):
    pay(customer, 30000, (world["invoice"], 30000))
    page = staff[StaffRole.READ_ONLY].get(f"/console/projects/project/{world['project'].pk}/report/")
    assert page.status_code == 200
    cells = _cells(page.content.decode())
    assert cells == {
        "budget": "$5,000.00",
        "burn": "14.0 %",
        "billed": "$700.00",  # 2 h × $100 and the $500 kick-off
        "paid": "$300.00",
        "credited": "$0.00",
        "outstanding": "$400.00",
        "unbilled": "$1,100.00",  # 3 approved hours × $100 and the $800 due milestone
        "unbilled-hours": "3.00",
        "pending-hours": "5.50",  # 1.5 awaiting approval, 4 disputed
        "billed-hours": "2.00",
        "billable-hours": "10.50",
        "hours": "10.50",
    }
    assert world["invoice"].number in page.content.decode()


def test_the_overview_shows_every_projects_numbers(world, staff, customer):
    pay(customer, 70000, (world["invoice"], 70000))
    listing = staff[StaffRole.READ_ONLY].get("/console/projects/project/").content.decode()
    assert 'href="/console/projects/project/report/"' in listing
    page = staff[StaffRole.READ_ONLY].get("/console/projects/project/report/").content.decode()
    row = page.split(f'id="project-{world["project"].pk}"')[1].split("</tr>")[0]
    for value in ("$5,000.00", "14.0 %", "$700.00", "$0.00", "$1,100.00", "3.00", "5.50"):
        assert value in row, value


def _more_projects(org, count: int) -> None:
    riley = new_staff(org, f"Staff {count}", email=f"s{count}@renotech.example", rate=5000)
    for i in range(count):
        customer = CustomerFactory(organization=org, display_name=f"Client {count}-{i}")
        project = new_project(customer, code=f"N{count}-{i}", billing_method="staff_rate")
        work = new_task(project, "Work")
        logged(project, work, riley, "2")
        logged(project, work, riley, "1", approve=False)
        services.mark_milestone_due(
            milestone=services.create_milestone(
                project=project, name="Start", amount=Money(1000, customer.currency), actor=ACTOR
            ),
            actor=ACTOR,
        )
        if i % 2 == 0:
            services.invoice_project(project=project, actor=ACTOR)


def _overview_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/console/projects/project/report/").status_code == 200
    return len(queries)


def test_the_overviews_query_count_does_not_grow_with_the_number_of_projects(world, staff, org):
    client = staff[StaffRole.READ_ONLY]
    _more_projects(org, 2)
    _overview_queries(client)  # the session's first request loads what later ones have cached
    few = _overview_queries(client)
    _more_projects(org, 8)
    assert _overview_queries(client) == few


# -- milestones ---------------------------------------------------------------------------------------


def test_finance_creates_marks_due_and_deletes_milestones_through_the_services(world, staff):
    client = staff[FINANCE]
    form = {
        "project": world["project"].pk,
        "name": "Handover",
        "amount": "1,200.50",
        "due_date": "2026-04-30",
        "description": "",
    }
    assert client.post("/console/projects/milestone/add/", form).status_code == 302
    handover = Milestone.objects.get(name="Handover")
    assert (handover.amount_minor, handover.status) == (120050, "pending")
    action = {"action": "mark_due_selected", "_selected_action": [handover.pk], "index": "0"}
    assert client.post("/console/projects/milestone/", action).status_code == 302
    handover.refresh_from_db()
    assert handover.status == "due"
    edit = {"name": "Handover and training", "amount": "1300", "due_date": "", "description": "Two days"}
    assert client.post(f"/console/projects/milestone/{handover.pk}/change/", edit).status_code == 302
    handover.refresh_from_db()
    assert (handover.name, handover.amount_minor, handover.due_date) == (
        "Handover and training",
        130000,
        None,
    )
    assert (
        client.post(f"/console/projects/milestone/{world['pending'].pk}/delete/", {"post": "yes"}).status_code
        == 302
    )
    assert not Milestone.objects.filter(pk=world["pending"].pk).exists()


def test_an_invoiced_milestone_is_read_only_and_cannot_be_deleted(world, staff):
    kickoff = Milestone.objects.get(name="Kick-off")
    client = staff[FINANCE]
    page = client.get(f"/console/projects/milestone/{kickoff.pk}/change/")
    assert page.status_code == 200 and 'name="name"' not in page.content.decode()
    assert (
        client.post(f"/console/projects/milestone/{kickoff.pk}/change/", {"name": "Free"}).status_code == 403
    )
    assert (
        client.post(f"/console/projects/milestone/{kickoff.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    kickoff.refresh_from_db()
    assert (kickoff.name, kickoff.status) == ("Kick-off", "invoiced")


def test_a_milestone_amount_of_zero_or_garbage_is_refused(world, staff):
    client = staff[FINANCE]
    for amount in ("0", "12x", "-5"):
        form = {
            "project": world["project"].pk,
            "name": "Bad",
            "amount": amount,
            "due_date": "",
            "description": "",
        }
        assert client.post("/console/projects/milestone/add/", form).status_code == 200
    assert not Milestone.objects.filter(name="Bad").exists()


def _figure(page: str, chart_id: str) -> str:
    return page.split(f'<figure class="chart" id="{chart_id}">')[1].split("</figure>")[0]


def _table_rows(figure: str) -> list[list[str]]:
    import re

    body = figure.split("<tbody>")[1].split("</tbody>")[0]
    return [
        [cell.strip() for cell in re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row)]
        for row in body.split("</tr>")
        if "<t" in row
    ]


def test_the_reports_charts_carry_the_ledgers_numbers_in_their_tables(world, staff, customer, clock):
    pay(customer, 30000, (world["invoice"], 30000))
    clock.set("2026-04-06T10:00:00+00:00")
    april = logged(
        world["project"], new_task(world["project"], "Build"), world["staff"], "2.25", on=clock.now().date()
    )
    services.invoice_project(project=world["project"], actor=ACTOR, include_milestones=False)  # 3 h + 2.25 h
    page = (
        staff[StaffRole.READ_ONLY]
        .get(f"/console/projects/project/{world['project'].pk}/report/")
        .content.decode()
    )
    burn = _figure(page, "budget-burn")
    assert "<svg" in burn
    assert _table_rows(burn) == [
        ["March 2026", "$5,000.00", "$700.00", "$300.00"],
        ["April 2026", "$5,000.00", "$1,225.00", "$300.00"],  # + 5.25 h × $100
    ]
    hours = _figure(page, "hours-by-task")
    assert _table_rows(hours) == [
        ["March 2026", "0\u00a0h", "10.5\u00a0h", "10.5\u00a0h"],
        ["April 2026", "2.25\u00a0h", "0\u00a0h", "2.25\u00a0h"],
    ]
    assert april.hours == Decimal("2.25")
