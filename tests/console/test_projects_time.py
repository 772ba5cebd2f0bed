"""The week grid (logging and correcting time) and the approval list (approving, resolving disputes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portico.accounts.models import StaffRole
from portico.core.models import AuditEvent
from portico.projects import services
from portico.projects.models import Project, TimeEntry
from tests.console.projects_world import MONDAY, project_world, role_clients
from tests.projects.factories import ACTOR, logged


@pytest.fixture
def world(org, customer, clock):
    return project_world(customer)


@pytest.fixture
def staff(org):
    return role_clients(org)


def cell(world, day: dt.date, task=None, member=None) -> str:
    task, member = task or world["task"], member or world["staff"]
    return f"h-{task.pk}-{member.pk}-{day.isoformat()}"


def marker(world, day: dt.date, entry=None) -> dict:
    name = cell(world, day).replace("h-", "e-", 1)
    return {name: str(entry.pk) if entry else ""}


def grid_url(world, week: dt.date = MONDAY) -> str:
    return f"/console/projects/project/{world['project'].pk}/time/?week={week.isoformat()}"


def save_url(world, week: dt.date = MONDAY) -> str:
    return f"/console/projects/project/{world['project'].pk}/time/save/?week={week.isoformat()}"


def grid_form(world, values: dict[dt.date, str], week: dt.date = MONDAY) -> dict:
    """The grid as the page sends it: every cell of the row, typed values where given."""
    editable = {e.date: e for e in TimeEntry.objects.filter(project=world["project"], state="unapproved")}
    data = {}
    for offset in range(7):
        day = week + dt.timedelta(days=offset)
        entry = editable.get(day)
        data[cell(world, day)] = values.get(day, str(entry.hours) if entry else "")
        data.update(marker(world, day, entry))
    return data


def entries(world):
    return sorted(
        TimeEntry.objects.filter(project=world["project"]).values_list(
            "date", "hours", "state", "staff_member__name"
        )
    )


NEXT_WEEK = MONDAY + dt.timedelta(days=7)


def test_saving_the_week_creates_exactly_the_typed_entries(world, staff):
    before = entries(world)
    typed = {
        NEXT_WEEK: "1.5",
        NEXT_WEEK + dt.timedelta(days=2): "7.25",
        NEXT_WEEK + dt.timedelta(days=6): "0.5",
    }
    response = staff[StaffRole.SUPPORT].post(save_url(world, NEXT_WEEK), grid_form(world, typed, NEXT_WEEK))
    assert response.status_code == 302
    assert response["Location"] == grid_url(world, NEXT_WEEK)
    new = sorted(set(entries(world)) - set(before))
    assert new == [
        (NEXT_WEEK, Decimal("1.50"), "unapproved", "Riley"),
        (NEXT_WEEK + dt.timedelta(days=2), Decimal("7.25"), "unapproved", "Riley"),
        (NEXT_WEEK + dt.timedelta(days=6), Decimal("0.50"), "unapproved", "Riley"),
    ]
    assert len(entries(world)) == len(before) + 3
    assert (
        AuditEvent.objects.filter(action="time_entry.logged", actor_label__startswith="support@").count() == 3
    )


@pytest.mark.parametrize("bad", ["1,5x", "-1", "25", "1e1", "0", "1.333", "abc"])
def test_a_bad_cell_is_refused_with_a_message_and_nothing_is_saved(world, staff, bad):
    before = entries(world)
    typed = {NEXT_WEEK: "2", NEXT_WEEK + dt.timedelta(days=1): bad}
    response = staff[StaffRole.FINANCE].post(save_url(world, NEXT_WEEK), grid_form(world, typed, NEXT_WEEK))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was saved" in page
    assert 'aria-invalid="true"' in page
    # nothing typed is lost: the good cell and the bad one come back as typed
    assert f'name="{cell(world, NEXT_WEEK)}" value="2"' in page
    assert f'value="{bad}"' in page
    assert entries(world) == before


def test_the_messages_say_what_is_wrong(world, staff):
    client = staff[StaffRole.FINANCE]
    page = client.post(
        save_url(world, NEXT_WEEK), grid_form(world, {NEXT_WEEK: "1,5x"}, NEXT_WEEK)
    ).content.decode()
    assert "Enter hours as a number, such as 1.5 or 7.25." in page
    page = client.post(
        save_url(world, NEXT_WEEK), grid_form(world, {NEXT_WEEK: "25"}, NEXT_WEEK)
    ).content.decode()
    assert "Enter hours greater than zero and at most 24" in page


def test_an_entry_awaiting_approval_is_edited_or_removed_and_billed_time_is_read_only(world, staff):
    unapproved, invoiced = world["unapproved"], world["invoiced"]
    client = staff[StaffRole.FINANCE]
    page = client.get(grid_url(world)).content.decode()
    assert f'name="{cell(world, unapproved.date)}" value="1.5"' in page
    # the invoiced, approved and disputed entries show as text, with the invoice's number
    assert f"2.00 h · Invoiced ({world['invoice'].number})" in page
    assert "3.00 h · Approved" in page and "4.00 h · Disputed" in page
    assert f'name="{cell(world, invoiced.date)}" value=""' in page  # a new entry beside it is possible

    response = client.post(save_url(world), grid_form(world, {unapproved.date: "2.75"}))
    assert response.status_code == 302
    unapproved.refresh_from_db()
    assert unapproved.hours == Decimal("2.75")

    response = client.post(save_url(world), grid_form(world, {unapproved.date: ""}))
    assert response.status_code == 302
    assert not TimeEntry.objects.filter(pk=unapproved.pk).exists()
    invoiced.refresh_from_db()
    assert (invoiced.state, invoiced.hours) == ("invoiced", Decimal("2.00"))


def test_an_entry_approved_since_the_page_was_opened_is_not_overwritten(world, staff):
    unapproved = world["unapproved"]
    form = grid_form(world, {unapproved.date: "6"})
    services.approve_time_entry(entry=unapproved, actor=ACTOR)
    response = staff[StaffRole.FINANCE].post(save_url(world), form)
    assert response.status_code == 400
    assert "changed since the page was opened" in response.content.decode()
    unapproved.refresh_from_db()
    assert (unapproved.state, unapproved.hours) == ("approved", Decimal("1.50"))


def test_the_grid_moves_week_by_week(world, staff):
    page = staff[StaffRole.READ_ONLY].get(f"/console/projects/project/{world['project'].pk}/report/")
    assert page.status_code == 200
    page = staff[StaffRole.SUPPORT].get(grid_url(world, MONDAY + dt.timedelta(days=3))).content.decode()
    assert "week of 2026-03-02" in page or "week of March 2, 2026" in page or "Mon 2 Mar" in page
    assert "?week=2026-02-23" in page and "?week=2026-03-09" in page
    assert (
        staff[StaffRole.SUPPORT]
        .get(f"/console/projects/project/{world['project'].pk}/time/?week=nope")
        .status_code
        == 404
    )


def test_read_only_staff_see_the_week_without_cells_to_type_in(world, staff):
    page = staff[StaffRole.READ_ONLY].get(grid_url(world)).content.decode()
    assert "3.00 h · Approved" in page and "1.50 h · Awaiting approval" in page
    assert f'name="{cell(world, MONDAY)}"' not in page and "Save the week" not in page
    assert (
        staff[StaffRole.READ_ONLY].post(save_url(world), grid_form(world, {MONDAY: "1"})).status_code == 403
    )
    assert f'name="{cell(world, MONDAY)}"' in staff[StaffRole.SUPPORT].get(grid_url(world)).content.decode()


def test_no_time_is_logged_on_a_project_on_hold(world, staff):
    services.update_project(project=world["project"], actor=ACTOR, status=Project.Status.ON_HOLD)
    before = entries(world)
    page = staff[StaffRole.FINANCE].get(grid_url(world, NEXT_WEEK)).content.decode()
    assert "time cannot be logged" in page and f'name="{cell(world, NEXT_WEEK)}"' not in page
    staff[StaffRole.FINANCE].post(save_url(world, NEXT_WEEK), grid_form(world, {NEXT_WEEK: "2"}, NEXT_WEEK))
    assert entries(world) == before


# -- approval ------------------------------------------------------------------------------------------


def test_the_approval_list_shows_time_to_review_with_the_customers_comment(world, staff):
    page = staff[StaffRole.READ_ONLY].get("/console/projects/timeentry/").content.decode()
    assert "We agreed on 3 hours" in page
    assert f"/console/projects/timeentry/{world['unapproved'].pk}/change/" in page
    assert f"/console/projects/timeentry/{world['approved'].pk}/change/" not in page  # already approved
    everything = staff[StaffRole.READ_ONLY].get("/console/projects/timeentry/?review=all").content.decode()
    assert f"/console/projects/timeentry/{world['approved'].pk}/change/" in everything


def test_finance_approves_the_selected_time(world, staff):
    unapproved = world["unapproved"]
    extra = logged(
        world["project"], world["task"], world["staff"], "2", on=MONDAY + dt.timedelta(days=4), approve=False
    )
    action = {"action": "approve_selected", "_selected_action": [unapproved.pk, extra.pk], "index": "0"}
    response = staff[StaffRole.FINANCE].post("/console/projects/timeentry/", action)
    assert response.status_code == 302
    states = dict(TimeEntry.objects.filter(pk__in=[unapproved.pk, extra.pk]).values_list("pk", "state"))
    assert states == {unapproved.pk: "approved", extra.pk: "approved"}
    unapproved.refresh_from_db()
    assert unapproved.approved_by.email == "finance@renotech.example"


def test_approving_a_selection_with_billed_time_approves_none_of_it(world, staff):
    unapproved, invoiced = world["unapproved"], world["invoiced"]
    action = {"action": "approve_selected", "_selected_action": [unapproved.pk, invoiced.pk], "index": "0"}
    response = staff[StaffRole.FINANCE].post("/console/projects/timeentry/?review=all", action, follow=True)
    assert "Nothing was approved" in response.content.decode()
    unapproved.refresh_from_db()
    assert unapproved.state == "unapproved"


def test_finance_resolves_a_dispute_with_corrected_hours(world, staff):
    disputed = world["disputed"]
    url = f"/console/projects/timeentry/{disputed.pk}/resolve/"
    page = staff[StaffRole.FINANCE].get(url).content.decode()
    assert "We agreed on 3 hours" in page
    response = staff[StaffRole.FINANCE].post(url, {"comment": "You are right, corrected.", "hours": "3"})
    assert response.status_code == 302
    disputed.refresh_from_db()
    assert (disputed.state, disputed.hours, disputed.resolution_comment) == (
        "unapproved",
        Decimal("3.00"),
        "You are right, corrected.",
    )


def test_resolving_without_changing_hours_keeps_them_and_bad_hours_are_refused(world, staff):
    disputed = world["disputed"]
    url = f"/console/projects/timeentry/{disputed.pk}/resolve/"
    refused = staff[StaffRole.FINANCE].post(url, {"comment": "Corrected", "hours": "3,5x"})
    assert refused.status_code == 200 and "Enter hours as a number" in refused.content.decode()
    disputed.refresh_from_db()
    assert disputed.state == "disputed"
    staff[StaffRole.FINANCE].post(url, {"comment": "The 4 hours are right: see the log.", "hours": ""})
    disputed.refresh_from_db()
    assert (disputed.state, disputed.hours) == ("unapproved", Decimal("4.00"))
    again = staff[StaffRole.FINANCE].post(url, {"comment": "Twice", "hours": ""})
    assert again.status_code == 200 and "can no longer be changed" in again.content.decode()
