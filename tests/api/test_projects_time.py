"""Time entries through the API: logging one or many (all or none, a refused entry named by its
place), listing with filters, correcting and deleting time awaiting approval, approving, and
resolving the customer's dispute."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portico.core.tenancy import tenant
from portico.projects import services
from portico.projects.models import TimeEntry
from tests.api.conftest import assert_error
from tests.factories import ContactFactory, CustomerFactory, portal_user
from tests.projects import factories

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def kitchen(customer, org):
    project = factories.project(customer, code="RT-1", requires_customer_approval=True)
    other = factories.project(customer, code="RT-2")
    return {
        "project": project,
        "design": factories.task(project, "Design"),
        "build": factories.task(project, "Build"),
        "elsewhere": factories.task(other, "Design"),
        "riley": factories.staff(org, "Riley"),
        "sam": factories.staff(org, "Sam"),
    }


def _id(obj) -> str:
    from portico.api import ids

    return ids.public_id(obj)


def _entry(kitchen, task="design", staff="riley", date="2026-03-02", hours="1.25", **fields):
    return {
        "task": _id(kitchen[task]),
        "staff_member": _id(kitchen[staff]),
        "date": date,
        "hours": hours,
        **fields,
    }


def test_logging_time_answers_the_entry_awaiting_approval_with_hours_as_a_decimal_string(api, kitchen):
    response = api.post(
        "/api/v1/projects/RT-1/time_entries", _entry(kitchen, hours="1.5", notes=" Site visit ")
    )
    assert response.status_code == 201, response.content
    body = response.json()
    entry = TimeEntry.objects.get()
    assert body["id"] == f"te_{entry.public_id}" and body["object"] == "time_entry"
    assert (body["hours"], body["state"], body["notes"], body["is_billable"]) == (
        "1.50",
        "unapproved",
        "Site visit",
        True,
    )
    assert body["allowed_actions"] == ["approve", "delete", "update"]
    assert (entry.hours, entry.date, entry.task, entry.staff_member) == (
        Decimal("1.50"),
        dt.date(2026, 3, 2),
        kitchen["design"],
        kitchen["riley"],
    )
    assert body["invoice"] is None and body["project"] == _id(kitchen["project"])


def test_bulk_logs_every_entry_in_one_go(api, kitchen):
    entries = [
        _entry(kitchen, hours="1.25"),
        _entry(kitchen, task="build", staff="sam", date="2026-03-03", hours="8"),
        _entry(kitchen, date="2026-03-04", hours="0.25", is_billable=False),
    ]
    response = api.post("/api/v1/projects/RT-1/time_entries/bulk", {"entries": entries})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["object"] == "list" and body["has_more"] is False
    assert [(row["hours"], row["date"], row["is_billable"]) for row in body["data"]] == [
        ("1.25", "2026-03-02", True),
        ("8.00", "2026-03-03", True),
        ("0.25", "2026-03-04", False),
    ]
    assert sorted(TimeEntry.objects.values_list("hours", flat=True)) == [
        Decimal("0.25"),
        Decimal("1.25"),
        Decimal("8.00"),
    ]


@pytest.mark.parametrize(
    ("bad", "status", "field"),
    [
        ({"hours": "25"}, 422, "entries.3.hours"),
        ({"hours": "1.333"}, 422, "entries.3.hours"),
        ({"hours": "0"}, 422, "entries.3.hours"),
        ({"date": "2026-02-30"}, 422, "entries.3.date"),
        ({"task": "elsewhere"}, 404, "entries.3.task"),
        ({"task": "tsk_nope"}, 404, "entries.3.task"),
        ({"staff_member": "stf_nope"}, 404, "entries.3.staff_member"),
    ],
    ids=str,
)
def test_bulk_with_one_bad_entry_logs_nothing_and_names_its_place(api, kitchen, bad, status, field):
    entries = [_entry(kitchen, hours=h) for h in ("1", "2", "3", "4", "5")]
    if bad.get("task") == "elsewhere":
        bad = {"task": _id(kitchen["elsewhere"])}
    entries[3].update(bad)
    response = api.post("/api/v1/projects/RT-1/time_entries/bulk", {"entries": entries})
    assert assert_error(response, status)["field"] == field
    assert TimeEntry.objects.count() == 0


def test_bulk_on_a_closed_project_or_with_no_entries_logs_nothing(api, kitchen):
    assert (
        assert_error(api.post("/api/v1/projects/RT-1/time_entries/bulk", {"entries": []}), 422)["field"]
        == "entries"
    )
    api.post("/api/v1/projects/RT-1", {"status": "on_hold"})
    response = api.post("/api/v1/projects/RT-1/time_entries/bulk", {"entries": [_entry(kitchen)]})
    assert_error(response, 409, "project_closed")
    assert TimeEntry.objects.count() == 0


def test_time_entries_are_listed_by_project_task_staff_member_state_and_dates(api, kitchen, customer):
    project = kitchen["project"]
    first = factories.logged(project, kitchen["design"], kitchen["riley"], "1.00", on=dt.date(2026, 3, 2))
    second = factories.logged(
        project, kitchen["build"], kitchen["sam"], "2.00", on=dt.date(2026, 3, 5), approve=False
    )
    third = factories.logged(
        project, kitchen["design"], kitchen["sam"], "3.00", on=dt.date(2026, 3, 9), approve=False
    )
    other = factories.logged(
        kitchen["elsewhere"].project, kitchen["elsewhere"], kitchen["riley"], "4.00", on=dt.date(2026, 3, 5)
    )

    def listed(**params):
        response = api.get("/api/v1/time_entries", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["data"]]

    assert listed() == [_id(e) for e in (other, third, second, first)]
    assert listed(project="RT-1") == [_id(e) for e in (third, second, first)]
    assert listed(project=_id(kitchen["elsewhere"].project)) == [_id(other)]
    assert listed(task=_id(kitchen["design"])) == [_id(third), _id(first)]
    assert listed(staff_member=_id(kitchen["sam"])) == [_id(third), _id(second)]
    assert listed(state="approved") == [_id(other), _id(first)]
    assert listed(date_gte="2026-03-05", date_lte="2026-03-05") == [_id(other), _id(second)]
    error = assert_error(
        api.get("/api/v1/time_entries", {"project": "RT-1", "task": _id(kitchen["elsewhere"])}), 404
    )
    assert error["field"] == "task"


def test_time_awaiting_approval_is_corrected_or_deleted_and_approved_time_is_not(api, kitchen):
    project = kitchen["project"]
    entry = factories.logged(project, kitchen["design"], kitchen["riley"], "1.00", approve=False)
    corrected = api.post(
        f"/api/v1/time_entries/{_id(entry)}", {"hours": "1.75", "task": _id(kitchen["build"])}
    )
    assert corrected.status_code == 200, corrected.content
    assert (corrected.json()["hours"], corrected.json()["task"]) == ("1.75", _id(kitchen["build"]))
    entry.refresh_from_db()
    assert (entry.hours, entry.task) == (Decimal("1.75"), kitchen["build"])
    assert (
        assert_error(api.post(f"/api/v1/time_entries/{_id(entry)}", {"hours": "30"}), 422)["field"] == "hours"
    )
    elsewhere = api.post(f"/api/v1/time_entries/{_id(entry)}", {"task": _id(kitchen["elsewhere"])})
    assert assert_error(elsewhere, 404)["field"] == "task"

    approved = api.post(f"/api/v1/time_entries/{_id(entry)}/approve")
    assert approved.status_code == 200, approved.content
    assert (approved.json()["state"], approved.json()["allowed_actions"]) == ("approved", [])
    assert approved.json()["approved_at"] is not None and approved.json()["approved_by_contact"] is None
    assert_error(api.post(f"/api/v1/time_entries/{_id(entry)}", {"hours": "2"}), 409, "project_entry_state")
    assert_error(api.delete(f"/api/v1/time_entries/{_id(entry)}"), 409, "project_entry_state")
    assert_error(api.post(f"/api/v1/time_entries/{_id(entry)}/approve"), 409, "project_entry_state")

    waiting = factories.logged(project, kitchen["design"], kitchen["riley"], "2.00", approve=False)
    assert api.delete(f"/api/v1/time_entries/{_id(waiting)}").status_code == 204
    assert not TimeEntry.objects.filter(pk=waiting.pk).exists()
    assert TimeEntry.objects.get().state == "approved"


def test_a_disputed_entry_is_resolved_with_a_comment_and_awaits_approval_again(api, kitchen, customer):
    contact = ContactFactory(customer=customer, email="maria@acme.example", portal_role="billing")
    entry = factories.logged(kitchen["project"], kitchen["design"], kitchen["riley"], "3.00", approve=False)
    services.dispute_time_entry(
        entry=entry, comment="We met for one hour only", actor=factories.portal_actor(portal_user(contact))
    )
    shown = api.get(f"/api/v1/time_entries/{_id(entry)}").json()
    assert (shown["state"], shown["dispute_comment"], shown["disputed_by_contact"]) == (
        "disputed",
        "We met for one hour only",
        _id(contact),
    )
    assert shown["allowed_actions"] == ["delete", "resolve"]
    assert_error(api.post(f"/api/v1/time_entries/{_id(entry)}/approve"), 409, "project_entry_state")
    assert (
        assert_error(api.post(f"/api/v1/time_entries/{_id(entry)}/resolve", {"comment": ""}), 422)["field"]
        == "comment"
    )
    resolved = api.post(
        f"/api/v1/time_entries/{_id(entry)}/resolve", {"comment": "Corrected to 1 h", "hours": "1"}
    )
    assert resolved.status_code == 200, resolved.content
    body = resolved.json()
    assert (body["state"], body["hours"], body["resolution_comment"]) == (
        "unapproved",
        "1.00",
        "Corrected to 1 h",
    )
    assert_error(
        api.post(f"/api/v1/time_entries/{_id(entry)}/resolve", {"comment": "again"}),
        409,
        "project_entry_state",
    )
    entry.refresh_from_db()
    assert (entry.state, entry.hours) == ("unapproved", Decimal("1.00"))


def test_another_organizations_entries_are_not_listed_or_found(api, other_org, kitchen):
    with tenant(other_org):
        theirs = CustomerFactory(organization=other_org)
        project = factories.project(theirs, code="RT-1")
        entry = factories.logged(
            project, factories.task(project), factories.staff(other_org, "Nia"), "1.00", approve=False
        )
    assert api.get("/api/v1/time_entries").json()["data"] == []
    assert_error(api.get(f"/api/v1/time_entries/te_{entry.public_id}"), 404, "resource_missing")
    assert_error(api.post(f"/api/v1/time_entries/te_{entry.public_id}/approve"), 404, "resource_missing")
    # the same code names our own project
    assert api.get("/api/v1/projects/RT-1").json()["id"] == _id(kitchen["project"])
    with tenant(other_org):
        assert TimeEntry.objects.get().state == "unapproved"


def test_a_retried_bulk_log_with_its_idempotency_key_logs_the_time_once(api, kitchen):
    body = {"entries": [_entry(kitchen, hours="2"), _entry(kitchen, staff="sam", hours="3")]}
    headers = {"Idempotency-Key": "week-10-riley-sam"}
    first = api.post("/api/v1/projects/RT-1/time_entries/bulk", body, headers=headers)
    again = api.post("/api/v1/projects/RT-1/time_entries/bulk", body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert TimeEntry.objects.count() == 2
