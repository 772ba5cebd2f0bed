"""The billable hours review in the portal: filters by month, period, task, staff member and billing,
totals, paging, the CSV export of exactly the filtered entries, and the customer's approvals and
disputes (role, project and ownership checked on the server; a second submission changes nothing).
The entries are those of `tests.portal.projects_world` (P-1, Feb–Mar 2026)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.core.models import AuditEvent, OutboxEvent
from portico.projects.models import StaffMember, Task, TimeEntry
from tests.factories import ContactFactory
from tests.portal.conftest import client_for
from tests.portal.projects_world import acme_projects, outsider_project
from tests.projects.factories import logged, project, staff, task

pytestmark = pytest.mark.usefixtures("clock")

NBSP = "\u00a0"
HOURS = "/portal/projects/P-1/hours/"
APPROVE = "/portal/projects/P-1/hours/approve/"
DISPUTE = "/portal/projects/P-1/hours/dispute/"


@pytest.fixture
def world(customer):
    return acme_projects(customer)


def shown_entries(html: str) -> list[tuple[str, str, str, str, str]]:
    """(date, task, staff member, hours, state) of each entry row on the page."""
    rows = re.findall(
        r'<th scope="row">([^<]+)</th>\s*<td data-label="Task">([^<]+)</td>\s*'
        r'<td data-label="Staff member">([^<]+)</td>\s*<td class="num" data-label="Hours">([^<]+?)(?: <span[^>]*>[^<]*</span>)?</td>\s*'
        r'<td data-label="State"><span class="badge[^"]*">([^<]+)</span>',
        html,
    )
    return [tuple(cell.strip() for cell in row) for row in rows]


def totals(html: str) -> dict[str, str]:
    return dict(re.findall(r'<dd class="stat-value" id="([a-z-]+)">([^<]+)</dd>', html))


def h(text: str) -> str:
    return f"{text}{NBSP}h"


# -- filters and totals ------------------------------------------------------------------------------


def test_the_whole_project_is_shown_with_its_totals_by_default(portal_client, world):
    html = portal_client.get(HOURS).content.decode()
    assert len(shown_entries(html)) == 6
    assert totals(html) == {
        "total-hours": h("12.5"),
        "billable-hours": h("11.5"),
        "billed-hours": h("6.5"),
        "unbilled-hours": h("5"),
    }


def test_a_month_shows_that_months_entries_and_totals(portal_client, world):
    html = portal_client.get(HOURS, {"month": "2026-03"}).content.decode()
    assert shown_entries(html) == [
        ("Mar 3, 2026", "Design", "Riley", h("1.25"), "Approved"),
        ("Mar 4, 2026", "Build", "Sam", h("3"), "Awaiting approval"),
        ("Mar 5, 2026", "Design", "Sam", h("0.75"), "Awaiting approval"),
        ("Mar 6, 2026", "Internal", "Riley", h("1"), "Approved"),
    ]
    assert totals(html) == {
        "total-hours": h("6"),
        "billable-hours": h("5"),
        "billed-hours": h("0"),
        "unbilled-hours": h("5"),
    }
    february = portal_client.get(HOURS, {"month": "2026-02"}).content.decode()
    assert [row[4] for row in shown_entries(february)] == ["Invoiced", "Invoiced"]
    assert f'href="/portal/invoices/{world.invoice_a.number}/"' in february


def test_period_task_staff_and_billing_filters_combine(portal_client, world, org):
    design = Task.objects.get(project=world.kitchen, name="Design")
    sam = StaffMember.objects.get(organization=org, name="Sam")
    html = portal_client.get(
        HOURS, {"date_from": "2026-02-01", "date_to": "2026-03-04", "task": design.public_id}
    ).content.decode()
    assert [(r[0], r[3]) for r in shown_entries(html)] == [
        ("Feb 2, 2026", h("2.5")),
        ("Mar 3, 2026", h("1.25")),
    ]
    assert totals(html)["total-hours"] == h("3.75")
    by_sam = shown_entries(portal_client.get(HOURS, {"staff": sam.public_id}).content.decode())
    assert [(r[0], r[3]) for r in by_sam] == [
        ("Feb 10, 2026", h("4")), ("Mar 4, 2026", h("3")), ("Mar 5, 2026", h("0.75")),
    ]  # fmt: skip
    billed = shown_entries(portal_client.get(HOURS, {"billed": "billed"}).content.decode())
    assert [r[0] for r in billed] == ["Feb 2, 2026", "Feb 10, 2026"]
    unbilled = portal_client.get(HOURS, {"billed": "unbilled"}).content.decode()
    assert len(shown_entries(unbilled)) == 4 and totals(unbilled)["billed-hours"] == h("0")
    waiting = shown_entries(portal_client.get(HOURS, {"state": "unapproved"}).content.decode())
    assert [r[0] for r in waiting] == ["Mar 4, 2026", "Mar 5, 2026"]


def test_the_hours_by_task_and_by_staff_member_add_up_the_filtered_entries(portal_client, world):
    html = portal_client.get(HOURS, {"month": "2026-03"}).content.decode()
    by_task = re.search(r"<caption>Hours by task</caption>(.*?)</table>", html, re.S).group(1)
    assert re.findall(r'<th scope="row">([^<]+)</th><td class="num" data-label="Hours">([^<]+)</td>', by_task) == [
        ("Build", h("3")), ("Design", h("2")), ("Internal", h("1")),
    ]  # fmt: skip
    by_staff = re.search(r"<caption>Hours by staff member</caption>(.*?)</table>", html, re.S).group(1)
    assert re.findall(r'<th scope="row">([^<]+)</th><td class="num" data-label="Hours">([^<]+)</td>', by_staff) == [
        ("Riley", h("2.25")), ("Sam", h("3.75")),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"month": "2026-13"}, "Enter a month as YYYY-MM"),
        ({"month": "9999-12"}, "Choose a date between 1900-01-01 and 2999-12-31."),
        ({"month": "2026-03", "date_from": "2026-03-01"}, "Choose a month or a period from/to, not both."),
        (
            {"date_from": "2026-03-10", "date_to": "2026-03-01"},
            "The end date must be on or after the start date.",
        ),
        ({"task": "no-such-task"}, "Select a valid choice."),
        ({"date_to": "9999-12-31"}, "Choose a date between 1900-01-01 and 2999-12-31."),
    ],
)
def test_a_bad_filter_is_a_form_error_and_shows_no_entries(portal_client, world, query, message):
    response = portal_client.get(HOURS, query)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html and shown_entries(html) == []
    csv_response = portal_client.get(HOURS + "csv/", query)
    assert csv_response.status_code == 302 and csv_response["Location"].startswith(HOURS + "?")


def test_another_projects_task_is_not_a_choice(portal_client, world):
    other = task(world.bathroom, "Tiling work")
    html = portal_client.get(HOURS, {"task": other.public_id}).content.decode()
    assert "Select a valid choice." in html and shown_entries(html) == []


def test_long_reviews_are_paged_and_the_pages_keep_the_filters(portal_client, world, org):
    design = Task.objects.get(project=world.kitchen, name="Design")
    riley = StaffMember.objects.get(organization=org, name="Riley")
    TimeEntry.objects.bulk_create(
        TimeEntry(
            organization=org, project=world.kitchen, task=design, staff_member=riley,
            date=dt.date(2026, 3, 1) + dt.timedelta(days=n % 28), hours=Decimal("0.25"),
        )
        for n in range(60)
    )  # fmt: skip
    html = portal_client.get(HOURS, {"month": "2026-03"}).content.decode()
    assert len(shown_entries(html)) == 50 and "Page 1 of 2" in html
    assert "?month=2026-03&amp;page=2" in html
    second = portal_client.get(HOURS, {"month": "2026-03", "page": "2"}).content.decode()
    assert len(shown_entries(second)) == 14
    assert totals(second)["total-hours"] == h("21")  # 6 + 60 × 0.25, over every page


# -- CSV ---------------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="P-1-hours.csv"'
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_csv_holds_exactly_the_filtered_entries(portal_client, world):
    rows = read_csv(portal_client.get(HOURS + "csv/", {"month": "2026-03", "staff": ""}))
    assert rows == [
        ["Date", "Task", "Staff member", "Hours", "Billable", "State", "Invoice", "Notes", "Dispute"],
        ["2026-03-03", "Design", "Riley", "1.25", "yes", "Approved", "", "", ""],
        ["2026-03-04", "Build", "Sam", "3.00", "yes", "Awaiting approval", "", "", ""],
        ["2026-03-05", "Design", "Sam", "0.75", "yes", "Awaiting approval", "", "'=1+2 site visit", ""],
        ["2026-03-06", "Internal", "Riley", "1.00", "no", "Approved", "", "", ""],
    ]
    billed = read_csv(portal_client.get(HOURS + "csv/", {"billed": "billed"}))
    number = world.invoice_a.number
    assert [r[:7] for r in billed[1:]] == [
        ["2026-02-02", "Design", "Riley", "2.50", "yes", "Invoiced", number],
        ["2026-02-10", "Build", "Sam", "4.00", "yes", "Invoiced", number],
    ]


def test_the_csv_is_every_filtered_entry_not_one_page(portal_client, world, org):
    design = Task.objects.get(project=world.kitchen, name="Design")
    riley = StaffMember.objects.get(organization=org, name="Riley")
    TimeEntry.objects.bulk_create(
        TimeEntry(organization=org, project=world.kitchen, task=design, staff_member=riley, date=dt.date(2026, 3, 20), hours=Decimal("1.00"))
        for _ in range(120)
    )  # fmt: skip
    rows = read_csv(portal_client.get(HOURS + "csv/", {"month": "2026-03"}))
    assert len(rows) == 1 + 4 + 120
    assert sum(Decimal(r[3]) for r in rows[1:]) == Decimal("126.00")


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"])
def test_text_typed_by_people_cannot_run_as_a_formula(portal_client, world, org, text):
    member = staff(org, "Mallory", email="mallory@renotech.example")
    StaffMember.objects.filter(pk=member.pk).update(name=text)
    odd = task(world.kitchen, text)
    logged(world.kitchen, odd, member, "1.00", on=dt.date(2026, 3, 9), approve=False, notes=text)
    (row,) = read_csv(
        portal_client.get(HOURS + "csv/", {"date_from": "2026-03-09", "date_to": "2026-03-09"})
    )[1:]
    assert row[1] == row[2] == row[7] == "'" + text


# -- approving ---------------------------------------------------------------------------------------


def test_approving_one_entry_records_the_contact_and_keeps_the_filters(portal_client, world, contact):
    entry = world.entries["mar_build"]
    response = portal_client.post(APPROVE, {"entry": entry.public_id, "back": "month=2026-03&evil=1"})
    assert response.status_code == 302 and response["Location"] == HOURS + "?month=2026-03"
    entry.refresh_from_db()
    assert entry.state == TimeEntry.State.APPROVED and entry.approved_by_contact_id == contact.pk
    html = portal_client.get(response["Location"]).content.decode()
    assert "1 entry approved (3.00 h): it can now be invoiced." in html
    other = world.entries["mar_design_sam"]
    other.refresh_from_db()
    assert other.state == TimeEntry.State.UNAPPROVED


def test_approving_the_selected_entries_approves_them_all_and_a_second_submission_changes_nothing(
    portal_client, world
):
    chosen = [world.entries["mar_build"], world.entries["mar_design_sam"]]
    data = {"entries": [e.public_id for e in chosen]}
    portal_client.post(APPROVE, data)
    first = [
        (e.state, e.approved_at)
        for e in TimeEntry.objects.filter(pk__in=[e.pk for e in chosen]).order_by("pk")
    ]
    assert [state for state, _at in first] == ["approved", "approved"]
    events = AuditEvent.objects.filter(action="time_entry.approved").count()
    response = portal_client.post(APPROVE, data, follow=True)
    assert response.status_code == 200
    assert "2 entries were already approved: nothing more was changed." in response.content.decode()
    again = [
        (e.state, e.approved_at)
        for e in TimeEntry.objects.filter(pk__in=[e.pk for e in chosen]).order_by("pk")
    ]
    assert again == first and AuditEvent.objects.filter(action="time_entry.approved").count() == events


def test_approving_with_nothing_chosen_is_a_clear_400(portal_client, world):
    response = portal_client.post(APPROVE, {})
    assert response.status_code == 400 and "Choose the entries to approve." in response.content.decode()


def test_a_disputed_entry_in_the_selection_is_not_approved(portal_client, world):
    disputed, waiting = world.entries["mar_build"], world.entries["mar_design_sam"]
    portal_client.post(DISPUTE, {"entry": disputed.public_id, "comment": "Three hours for this?"})
    response = portal_client.post(APPROVE, {"entries": [disputed.public_id, waiting.public_id]}, follow=True)
    html = response.content.decode()
    assert "1 entry approved (0.75 h)" in html and "1 disputed entry was not approved" in html
    assert TimeEntry.objects.get(pk=disputed.pk).state == "disputed"


def test_another_customers_entry_in_the_post_body_is_not_found_and_nothing_changes(
    portal_client, world, outsider_customer
):
    _theirs, their_entry = outsider_project(outsider_customer)
    mine = world.entries["mar_build"]
    response = portal_client.post(APPROVE, {"entries": [mine.public_id, their_entry.public_id]})
    assert response.status_code == 404
    assert portal_client.post(APPROVE, {"entry": their_entry.public_id}).status_code == 404
    assert portal_client.get(DISPUTE, {"entry": their_entry.public_id}).status_code == 404
    assert portal_client.post(DISPUTE, {"entry": their_entry.public_id, "comment": "no"}).status_code == 404
    assert TimeEntry.objects.get(pk=mine.pk).state == "unapproved"
    assert TimeEntry.all_tenants.get(pk=their_entry.pk).state == "unapproved"


def test_an_entry_of_another_project_of_the_same_customer_is_not_found(portal_client, world, customer):
    other = project(customer, code="P-3", name="Porch", requires_customer_approval=True)
    entry = logged(other, task(other, "Porch"), staff(customer.organization, "Kim"), "1.00", approve=False)
    assert portal_client.post(APPROVE, {"entry": entry.public_id}).status_code == 404
    assert TimeEntry.objects.get(pk=entry.pk).state == "unapproved"


def test_a_viewer_sees_the_hours_but_cannot_approve_or_dispute(world, customer):
    viewer = client_for(ContactFactory(customer=customer, email="vera@acme.example", portal_role="viewer"))
    html = viewer.get(HOURS).content.decode()
    assert len(shown_entries(html)) == 6
    assert APPROVE not in html and DISPUTE not in html and 'name="entries"' not in html
    entry = world.entries["mar_build"]
    assert viewer.post(APPROVE, {"entry": entry.public_id}).status_code == 403
    assert viewer.get(DISPUTE, {"entry": entry.public_id}).status_code == 403
    assert viewer.post(DISPUTE, {"entry": entry.public_id, "comment": "no"}).status_code == 403
    entry.refresh_from_db()
    assert (entry.state, entry.dispute_comment) == ("unapproved", "")


def test_a_billing_contact_may_approve(world, customer):
    billing = client_for(ContactFactory(customer=customer, email="tom@acme.example", portal_role="billing"))
    entry = world.entries["mar_build"]
    assert billing.post(APPROVE, {"entry": entry.public_id}).status_code == 302
    assert TimeEntry.objects.get(pk=entry.pk).state == "approved"


def test_where_the_business_approves_the_customer_is_offered_no_approval_and_is_refused(
    portal_client, customer
):
    other = project(customer, code="P-3", name="Porch")  # requires_customer_approval=False
    entry = logged(other, task(other, "Porch"), staff(customer.organization, "Kim"), "1.00", approve=False)
    html = portal_client.get("/portal/projects/P-3/hours/").content.decode()
    assert len(shown_entries(html)) == 1
    assert "/hours/approve/" not in html and "/hours/dispute/" not in html
    assert (
        portal_client.post("/portal/projects/P-3/hours/approve/", {"entry": entry.public_id}).status_code
        == 403
    )
    assert (
        portal_client.get("/portal/projects/P-3/hours/dispute/", {"entry": entry.public_id}).status_code
        == 403
    )
    assert TimeEntry.objects.get(pk=entry.pk).state == "unapproved"


def test_the_page_offers_approval_only_for_entries_awaiting_it(portal_client, world):
    html = portal_client.get(HOURS).content.decode()
    offered = set(re.findall(r'name="entries" value="([^"]+)"', html))
    assert offered == {world.entries["mar_build"].public_id, world.entries["mar_design_sam"].public_id}
    assert set(re.findall(r'name="entry" value="([^"]+)"', html)) == offered
    assert 'aria-label="Filter hours"' in html and "<caption>6 time entries</caption>" in html


# -- disputing ---------------------------------------------------------------------------------------


def test_disputing_an_entry_stores_the_comment_for_staff_and_a_second_submission_changes_nothing(
    portal_client, world, contact
):
    entry = world.entries["mar_build"]
    form = portal_client.get(DISPUTE, {"entry": entry.public_id, "back": "month=2026-03"})
    html = form.content.decode()
    assert form.status_code == 200 and "What is wrong with this entry?" in html and 'name="comment"' in html
    data = {
        "entry": entry.public_id,
        "comment": "We agreed on two hours for the cabinets.",
        "back": "month=2026-03",
    }
    response = portal_client.post(DISPUTE, data)
    assert response.status_code == 302 and response["Location"] == HOURS + "?month=2026-03"
    entry.refresh_from_db()
    assert (entry.state, entry.dispute_comment, entry.disputed_by_contact_id) == (
        "disputed", "We agreed on two hours for the cabinets.", contact.pk,
    )  # fmt: skip
    (event,) = OutboxEvent.all_tenants.filter(topic="time_entry.disputed")
    assert event.payload["comment"] == "We agreed on two hours for the cabinets."
    page = portal_client.get(response["Location"]).content.decode()
    assert "Your dispute was sent." in page and "We agreed on two hours for the cabinets." in page
    again = portal_client.post(DISPUTE, {**data, "comment": "Something else"}, follow=True)
    assert "This entry is already disputed: nothing more was changed." in again.content.decode()
    entry.refresh_from_db()
    assert entry.dispute_comment == "We agreed on two hours for the cabinets."
    assert OutboxEvent.all_tenants.filter(topic="time_entry.disputed").count() == 1


@pytest.mark.parametrize("comment", ["", "   ", "x" * 2001])
def test_a_dispute_needs_a_comment(portal_client, world, comment):
    entry = world.entries["mar_build"]
    response = portal_client.post(DISPUTE, {"entry": entry.public_id, "comment": comment})
    assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()
    assert TimeEntry.objects.get(pk=entry.pk).state == "unapproved"


def test_approved_or_invoiced_time_can_no_longer_be_disputed(portal_client, world):
    for key in ("mar_design", "feb_design"):
        entry = world.entries[key]
        response = portal_client.post(DISPUTE, {"entry": entry.public_id, "comment": "Too late"}, follow=True)
        assert "it can no longer be disputed" in response.content.decode()
        assert TimeEntry.objects.get(pk=entry.pk).dispute_comment == ""


def test_the_dispute_page_without_an_entry_returns_to_the_list(portal_client, world):
    response = portal_client.get(DISPUTE)
    assert response.status_code == 302 and response["Location"] == HOURS


# -- queries -----------------------------------------------------------------------------------------


def bulk_entries(org, project_row, count: int) -> None:
    tasks = (
        [task(project_row, f"Task {n}") for n in range(3)]
        if not project_row.tasks.exists()
        else list(project_row.tasks.all())
    )
    people = list(StaffMember.objects.filter(organization=org)) or [staff(org, "Riley"), staff(org, "Sam")]
    now = dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC)
    rows = []
    for n in range(count):
        state = ("unapproved", "approved", "disputed")[n % 3]
        rows.append(
            TimeEntry(
                organization=org, project=project_row, task=tasks[n % len(tasks)], staff_member=people[n % len(people)],
                date=dt.date(2025, 1, 1) + dt.timedelta(days=n * 7 % 430), hours=Decimal("1.25"), state=state,
                approved_at=now if state == "approved" else None,
                dispute_comment="Too long" if state == "disputed" else "",
            )
        )  # fmt: skip
    TimeEntry.objects.bulk_create(rows, batch_size=1000)


def page_queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [
        q["sql"]
        for q in captured.captured_queries
        if "usersessions_usersession" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]


@pytest.mark.parametrize(
    "query",
    ["", "?month=2025-03", "?billed=unbilled&state=unapproved", "?date_from=2025-01-01&date_to=2026-12-31"],
)
def test_the_hours_review_costs_the_same_queries_for_50_and_for_5000_entries(
    portal_client, customer, org, query
):
    reviewed = project(customer, code="BIG", name="Long project", requires_customer_approval=True)
    url = f"/portal/projects/BIG/hours/{query}"
    bulk_entries(org, reviewed, 50)
    portal_client.get(url)  # warm per-process caches
    few = page_queries(portal_client, url)
    bulk_entries(org, reviewed, 4950)
    many = page_queries(portal_client, url)
    assert len(many) == len(few), "\n".join(many)
    assert len(few) <= 16, "\n".join(few)
    html = portal_client.get("/portal/projects/BIG/hours/").content.decode()
    assert totals(html)["total-hours"] == h("6,250")  # 5,000 × 1.25 h
