"""The projects resources: projects (by code or id, with totals from the ledger), tasks, staff members
and their rates on a project, milestones, and invoicing (the preview is the invoice, line for line)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portico.billing import services as billing
from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice
from portico.catalog.models import TaxRate
from portico.core.audit import Actor
from portico.core.money import Money
from portico.core.tenancy import tenant
from portico.projects.models import Milestone, Project, ProjectMember, Task, TimeEntry
from tests.api.conftest import assert_error
from tests.factories import CustomerFactory
from tests.projects import factories

pytestmark = pytest.mark.usefixtures("clock")

LINE_FIELDS = (
    "number",
    "description",
    "quantity",
    "unit_price_minor",
    "discount_percent",
    "tax_name",
    "tax_percent",
    "tax_inclusive",
    "period_start",
    "period_end",
    "discount_minor",
    "net_minor",
    "tax_minor",
    "total_minor",
)


def _create(api, customer, **fields):
    body = {"customer": f"cus_{customer.public_id}", "code": "RT-1", "name": "Kitchen", "rate_minor": 10000}
    response = api.post("/api/v1/projects", {**body, **fields})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_project_is_created_in_the_customers_currency_and_found_by_its_code_or_its_id(api, customer, org):
    tax = TaxRate.objects.create(organization=org, name="IL sales tax", percent=Decimal("8.25"))
    created = _create(
        api,
        customer,
        code="RT-KITCHEN",
        budget_kind="hours",
        budget_hours="40.50",
        billing_method="task_rate",
        invoice_grouping="entry",
        requires_customer_approval=True,
        tax_rate=f"txr_{tax.public_id}",
        start_date="2026-03-01",
    )
    project = Project.objects.get()
    assert created["id"] == f"prj_{project.public_id}" and created["object"] == "project"
    assert (project.code, project.currency, project.budget_hours, project.tax_rate) == (
        "RT-KITCHEN",
        customer.currency,
        Decimal("40.50"),
        tax,
    )
    assert created["budget_hours"] == "40.50" and created["rate_minor"] == 10000
    assert created["totals"]["billed_minor"] == 0 and created["totals"]["hours_logged"] == "0.00"
    assert (
        api.get("/api/v1/projects/RT-KITCHEN").json() == api.get(f"/api/v1/projects/{created['id']}").json()
    )


def test_a_taken_code_answers_409_and_a_project_rate_without_a_rate_422(api, customer):
    _create(api, customer, code="RT-1")
    response = api.post(
        "/api/v1/projects",
        {"customer": f"cus_{customer.public_id}", "code": "RT-1", "name": "Again", "rate_minor": 1},
    )
    assert assert_error(response, 409, "project_code_taken")["field"] == "code"
    response = api.post(
        "/api/v1/projects", {"customer": f"cus_{customer.public_id}", "code": "RT-2", "name": "No rate"}
    )
    assert assert_error(response, 422, "project_invalid")["field"] == "rate_minor"
    response = api.post(
        "/api/v1/projects",
        {
            "customer": f"cus_{customer.public_id}",
            "code": "RT-3",
            "name": "Budget",
            "rate_minor": 1,
            "budget_kind": "money",
        },
    )
    assert assert_error(response, 422, "project_invalid")["field"] == "budget_minor"
    assert Project.objects.count() == 1


def test_projects_are_listed_by_status_and_customer(api, customer, outsider_customer):
    kitchen = _create(api, customer, code="A-1")
    _create(api, customer, code="A-2", status="completed")
    bath = _create(api, outsider_customer, code="B-1")
    listed = api.get("/api/v1/projects").json()
    assert [row["code"] for row in listed["data"]] == ["B-1", "A-2", "A-1"] and listed["has_more"] is False
    assert "totals" not in listed["data"][0]
    active = api.get("/api/v1/projects", {"status": "active"}).json()["data"]
    assert {row["id"] for row in active} == {kitchen["id"], bath["id"]}
    theirs = api.get("/api/v1/projects", {"customer": f"cus_{outsider_customer.public_id}"}).json()["data"]
    assert [row["id"] for row in theirs] == [bath["id"]]
    page = api.get("/api/v1/projects", {"limit": 1, "starting_after": bath["id"]}).json()
    assert [row["code"] for row in page["data"]] == ["A-2"] and page["has_more"] is True


def test_an_update_changes_only_the_fields_sent_and_null_clears_a_rate(api, customer):
    created = _create(api, customer, code="RT-1", description="First floor")
    response = api.post(
        "/api/v1/projects/RT-1",
        {"billing_method": "staff_rate", "rate_minor": None, "name": "Kitchen & bath"},
    )
    assert response.status_code == 200, response.content
    project = Project.objects.get()
    assert (project.billing_method, project.rate_minor, project.name, project.description) == (
        "staff_rate",
        None,
        "Kitchen & bath",
        "First floor",
    )
    refused = api.post("/api/v1/projects/RT-1", {"billing_method": "project_rate"})
    assert assert_error(refused, 422, "project_invalid")["field"] == "rate_minor"
    renamed = api.post(f"/api/v1/projects/{created['id']}", {"code": "RT-9"}).json()
    assert renamed["code"] == "RT-9" and api.get("/api/v1/projects/RT-1").status_code == 404


def test_tasks_are_listed_added_and_changed_under_their_project(api, customer):
    _create(api, customer, code="RT-1", billing_method="task_rate")
    _create(api, customer, code="RT-2")
    design = api.post("/api/v1/projects/RT-1/tasks", {"name": "Design", "rate_minor": 12000})
    assert design.status_code == 201, design.content
    design = design.json()
    assert (design["object"], design["rate_minor"], design["is_billable"]) == ("task", 12000, True)
    api.post("/api/v1/projects/RT-1/tasks", {"name": "Meetings", "is_billable": False})
    taken = api.post("/api/v1/projects/RT-1/tasks", {"name": "Design"})
    assert assert_error(taken, 422, "project_invalid")["field"] == "name"
    listed = api.get("/api/v1/projects/RT-1/tasks").json()["data"]
    assert [row["name"] for row in listed] == ["Meetings", "Design"]
    changed = api.post(
        f"/api/v1/projects/RT-1/tasks/{design['id']}", {"rate_minor": None, "is_active": False}
    )
    assert changed.json()["rate_minor"] is None and changed.json()["is_active"] is False
    task = Task.objects.get(name="Design")
    assert (task.rate_minor, task.is_active) == (None, False)
    # a task is found under its own project only
    assert_error(api.get(f"/api/v1/projects/RT-2/tasks/{design['id']}"), 404, "resource_missing")
    assert api.get("/api/v1/projects/RT-2/tasks").json()["data"] == []


def test_staff_members_and_their_rates_on_a_project(api, customer):
    _create(api, customer, code="RT-1", billing_method="staff_rate")
    riley = api.post(
        "/api/v1/staff_members",
        {"name": "Riley", "email": "Riley@RenoTech.example", "default_rate_minor": 9000},
    )
    assert riley.status_code == 201, riley.content
    riley = riley.json()
    assert (riley["object"], riley["email"], riley["default_rate_minor"]) == (
        "staff_member",
        "riley@renotech.example",
        9000,
    )
    taken = api.post("/api/v1/staff_members", {"name": "Other", "email": "riley@renotech.example"})
    assert assert_error(taken, 409, "project_staff_email_taken")["field"] == "email"
    assert (
        assert_error(api.post("/api/v1/staff_members", {"name": "X", "email": "nope"}), 422)["field"]
        == "email"
    )
    sam = api.post("/api/v1/staff_members", {"name": "Sam", "email": "sam@renotech.example"}).json()

    on = api.post("/api/v1/projects/RT-1/members", {"staff_member": riley["id"], "rate_minor": 15000})
    assert on.status_code == 200, on.content
    assert on.json() == {
        "object": "project_member",
        "project": f"prj_{Project.objects.get().public_id}",
        "staff_member": riley["id"],
        "name": "Riley",
        "rate_minor": 15000,
        "default_rate_minor": 9000,
    }
    api.post("/api/v1/projects/RT-1/members", {"staff_member": sam["id"]})
    api.post("/api/v1/projects/RT-1/members", {"staff_member": riley["id"], "rate_minor": 16000})
    members = api.get("/api/v1/projects/RT-1/members").json()["data"]
    assert [(m["name"], m["rate_minor"]) for m in members] == [("Sam", None), ("Riley", 16000)]
    assert ProjectMember.objects.count() == 2
    assert api.delete(f"/api/v1/projects/RT-1/members/{sam['id']}").status_code == 204
    assert [m["name"] for m in api.get("/api/v1/projects/RT-1/members").json()["data"]] == ["Riley"]
    assert_error(api.delete(f"/api/v1/projects/RT-1/members/{sam['id']}"), 404, "resource_missing")
    updated = api.post(
        f"/api/v1/staff_members/{sam['id']}", {"default_rate_minor": 7000, "is_active": False}
    ).json()
    assert (updated["default_rate_minor"], updated["is_active"]) == (7000, False)
    cleared = api.post(f"/api/v1/staff_members/{sam['id']}", {"default_rate_minor": None}).json()
    assert cleared["default_rate_minor"] is None


def test_a_milestone_is_pending_then_due_then_invoiced_then_paid(api, customer, org):
    _create(api, customer, code="RT-FIX", billing_method="fixed", rate_minor=None)
    plans = api.post(
        "/api/v1/projects/RT-FIX/milestones",
        {"name": "Plans", "amount_minor": 250000, "due_date": "2026-03-20"},
    )
    assert plans.status_code == 201, plans.content
    plans = plans.json()
    assert (plans["status"], plans["currency"], plans["allowed_actions"]) == (
        "pending",
        "USD",
        ["delete", "mark_due", "update"],
    )
    build = api.post("/api/v1/projects/RT-FIX/milestones", {"name": "Build", "amount_minor": 500000}).json()
    moved = api.post(
        f"/api/v1/projects/RT-FIX/milestones/{plans['id']}", {"amount_minor": 200000, "due_date": None}
    )
    assert (moved.json()["amount_minor"], moved.json()["due_date"]) == (200000, None)
    assert api.delete(f"/api/v1/projects/RT-FIX/milestones/{build['id']}").status_code == 204
    assert_error(api.post("/api/v1/projects/RT-FIX/invoice", {}), 409, "project_nothing_to_invoice")

    due = api.post(f"/api/v1/projects/RT-FIX/milestones/{plans['id']}/mark_due").json()
    assert (due["status"], due["allowed_actions"]) == ("due", ["delete", "update"])
    assert_error(
        api.post(f"/api/v1/projects/RT-FIX/milestones/{plans['id']}/mark_due"), 409, "project_milestone_state"
    )
    invoiced = api.post("/api/v1/projects/RT-FIX/invoice", {})
    assert invoiced.status_code == 201, invoiced.content
    invoice = invoiced.json()
    assert (invoice["object"], invoice["status"], invoice["source"], invoice["total_minor"]) == (
        "invoice",
        "open",
        "project",
        200000,
    )
    shown = api.get(f"/api/v1/projects/RT-FIX/milestones/{plans['id']}").json()
    assert (shown["status"], shown["invoice"], shown["invoice_number"], shown["allowed_actions"]) == (
        "invoiced",
        invoice["id"],
        invoice["number"],
        [],
    )
    refused = api.post(f"/api/v1/projects/RT-FIX/milestones/{plans['id']}", {"name": "Renamed"})
    assert_error(refused, 409, "project_milestone_state")
    assert_error(
        api.delete(f"/api/v1/projects/RT-FIX/milestones/{plans['id']}"), 409, "project_milestone_state"
    )
    billing.record_payment(
        customer=customer,
        amount=Money(200000, "USD"),
        allocations=[(Invoice.objects.get(), Money(200000, "USD"))],
        method="bank_transfer",
        received_on=dt.date(2026, 3, 10),
        actor=Actor.system(),
    )
    assert api.get(f"/api/v1/projects/RT-FIX/milestones/{plans['id']}").json()["status"] == "paid"
    assert [m["status"] for m in api.get("/api/v1/projects/RT-FIX/milestones").json()["data"]] == ["paid"]
    assert Milestone.objects.get().status == "invoiced"


@pytest.fixture
def staff_project(api, customer, org):
    """Staff rates, 8.25 % tax: Riley at their default $90.00, Sam at $150.00 on the project; three
    approved entries and a due milestone of $500.00."""
    tax = TaxRate.objects.create(organization=org, name="IL sales tax", percent=Decimal("8.25"))
    _create(
        api,
        customer,
        code="RT-1",
        billing_method="staff_rate",
        invoice_grouping="staff",
        tax_rate=f"txr_{tax.public_id}",
    )
    riley = api.post(
        "/api/v1/staff_members", {"name": "Riley", "email": "riley@r.example", "default_rate_minor": 9000}
    ).json()
    sam = api.post("/api/v1/staff_members", {"name": "Sam", "email": "sam@r.example"}).json()
    api.post("/api/v1/projects/RT-1/members", {"staff_member": riley["id"]})
    api.post("/api/v1/projects/RT-1/members", {"staff_member": sam["id"], "rate_minor": 15000})
    design = api.post("/api/v1/projects/RT-1/tasks", {"name": "Design"}).json()
    build = api.post("/api/v1/projects/RT-1/tasks", {"name": "Build"}).json()
    logged = api.post(
        "/api/v1/projects/RT-1/time_entries/bulk",
        {
            "entries": [
                {"task": design["id"], "staff_member": riley["id"], "date": "2026-03-02", "hours": "1.25"},
                {"task": build["id"], "staff_member": riley["id"], "date": "2026-03-03", "hours": "2.50"},
                {"task": design["id"], "staff_member": sam["id"], "date": "2026-03-02", "hours": "0.75"},
            ]
        },
    )
    assert logged.status_code == 201, logged.content
    for entry in logged.json()["data"]:
        assert api.post(f"/api/v1/time_entries/{entry['id']}/approve").status_code == 200
    plans = api.post("/api/v1/projects/RT-1/milestones", {"name": "Plans", "amount_minor": 50000}).json()
    api.post(f"/api/v1/projects/RT-1/milestones/{plans['id']}/mark_due")
    return {"riley": riley, "sam": sam, "entries": logged.json()["data"], "milestone": plans}


def test_the_preview_is_the_invoice_line_for_line(api, staff_project):
    preview = api.post("/api/v1/projects/RT-1/invoice/preview", {})
    assert preview.status_code == 200, preview.content
    preview = preview.json()
    # hand-computed: Riley 3.75 h × $90.00 = $337.50, tax 8.25 % = $27.84 (27.84375); Sam 0.75 h ×
    # $150.00 = $112.50, tax $9.28 (9.28125); the milestone $500.00, tax $41.25
    assert [
        (line["kind"], line["description"], line["quantity"], line["unit_price_minor"])
        for line in preview["lines"]
    ] == [
        ("time", "Riley", "3.7500", 9000),
        ("time", "Sam", "0.7500", 15000),
        ("milestone", "Plans", "1.0000", 50000),
    ]
    assert [(line["net_minor"], line["tax_minor"], line["total_minor"]) for line in preview["lines"]] == [
        (33750, 2784, 36534),
        (11250, 928, 12178),
        (50000, 4125, 54125),
    ]
    assert (preview["hours"], preview["subtotal_minor"], preview["tax_minor"], preview["total_minor"]) == (
        "4.50",
        95000,
        7837,
        102837,
    )
    entries = staff_project["entries"]
    assert preview["lines"][0]["time_entries"] == [entries[0]["id"], entries[1]["id"]]
    assert preview["lines"][0]["staff_member"] == staff_project["riley"]["id"]
    assert preview["lines"][2]["milestone"] == staff_project["milestone"]["id"]
    assert sorted(preview["time_entries"]) == sorted(e["id"] for e in entries)
    assert Invoice.objects.count() == 0  # a preview writes nothing

    created = api.post("/api/v1/projects/RT-1/invoice", {})
    assert created.status_code == 201, created.content
    invoice = created.json()
    assert [{k: line[k] for k in LINE_FIELDS} for line in preview["lines"]] == invoice["lines"]
    assert (invoice["subtotal_minor"], invoice["tax_minor"], invoice["total_minor"]) == (95000, 7837, 102837)
    for entry in entries:
        shown = api.get(f"/api/v1/time_entries/{entry['id']}").json()
        assert (shown["state"], shown["invoice"], shown["invoice_number"]) == (
            "invoiced",
            invoice["id"],
            invoice["number"],
        )
    assert api.get(f"/api/v1/time_entries/{entries[2]['id']}").json()["invoice_line"] == 2
    # billed once: nothing is left
    assert api.post("/api/v1/projects/RT-1/invoice/preview", {}).json()["lines"] == []
    assert_error(api.post("/api/v1/projects/RT-1/invoice", {}), 409, "project_nothing_to_invoice")
    assert Invoice.objects.count() == 1 and ledger_violations() == []


def test_invoicing_a_period_by_task_without_the_milestones(api, staff_project):
    body = {
        "date_from": "2026-03-02",
        "date_to": "2026-03-02",
        "grouping": "task",
        "include_milestones": False,
    }
    preview = api.post("/api/v1/projects/RT-1/invoice/preview", body).json()
    # Design on March 2nd: Riley 1.25 h at $90.00 and Sam 0.75 h at $150.00 (one line per rate)
    assert [(line["description"], line["quantity"], line["net_minor"]) for line in preview["lines"]] == [
        ("Design", "1.2500", 11250),
        ("Design", "0.7500", 11250),
    ]
    invoice = api.post("/api/v1/projects/RT-1/invoice", body).json()
    assert invoice["total_minor"] == preview["total_minor"] == 11250 * 2 + 928 * 2
    assert TimeEntry.objects.filter(state="approved").count() == 1  # March 3rd waits
    assert Milestone.objects.get().status == "due"
    refused = api.post(
        "/api/v1/projects/RT-1/invoice/preview", {"date_from": "2026-03-05", "date_to": "2026-03-01"}
    )
    assert assert_error(refused, 422, "project_invalid")["field"] == "date_to"


def test_time_without_a_rate_is_not_invoiced(api, customer):
    _create(api, customer, code="RT-1", billing_method="staff_rate", rate_minor=None)
    task = api.post("/api/v1/projects/RT-1/tasks", {"name": "Design"}).json()
    kim = api.post("/api/v1/staff_members", {"name": "Kim", "email": "kim@r.example"}).json()
    entry = api.post(
        "/api/v1/projects/RT-1/time_entries",
        {"task": task["id"], "staff_member": kim["id"], "date": "2026-03-02", "hours": "2"},
    ).json()
    api.post(f"/api/v1/time_entries/{entry['id']}/approve")
    assert_error(api.post("/api/v1/projects/RT-1/invoice/preview", {}), 409, "project_rate_missing")
    assert_error(api.post("/api/v1/projects/RT-1/invoice", {}), 409, "project_rate_missing")
    assert api.get("/api/v1/projects/RT-1").json()["totals"]["unpriced_hours"] == "2.00"
    assert Invoice.objects.count() == 0


def test_the_retrieve_shows_totals_that_reconcile_with_the_ledger(api, staff_project, customer):
    body = {"date_to": "2026-03-02", "include_milestones": False}
    invoice = api.post("/api/v1/projects/RT-1/invoice", body).json()  # Riley 1.25 h and Sam 0.75 h
    assert invoice["total_minor"] == 12178 + 12178
    billing.record_payment(
        customer=customer,
        amount=Money(10000, "USD"),
        allocations=[(Invoice.objects.get(), Money(10000, "USD"))],
        method="bank_transfer",
        received_on=dt.date(2026, 3, 10),
        actor=Actor.system(),
    )
    totals = api.get("/api/v1/projects/RT-1").json()["totals"]
    assert totals == {
        "billed_minor": 24356,
        "paid_minor": 10000,
        "credited_minor": 0,
        "outstanding_minor": 14356,
        # what is left to bill: Riley's 2.50 h of March 3rd ($225.00 + $18.56 tax) and the milestone
        "unbilled_minor": 22500 + 1856 + 54125,
        "hours_logged": "4.50",
        "billable_hours": "4.50",
        "billed_hours": "2.00",
        "unbilled_hours": "2.50",
        "pending_hours": "0.00",
        "unpriced_hours": "0.00",
        "burn_percent": None,
    }
    left = api.post("/api/v1/projects/RT-1/invoice/preview", {}).json()
    assert left["total_minor"] == totals["unbilled_minor"]
    ledger = Invoice.objects.get()
    assert (ledger.total_minor, ledger.paid_minor, ledger.balance_minor) == (24356, 10000, 14356)


def test_another_organizations_project_is_not_found_by_its_code(api, org, other_org, other_api):
    with tenant(other_org):
        theirs = CustomerFactory(organization=other_org)
        factories.project(theirs, code="SECRET")
    with tenant(other_org):
        assert other_api.get("/api/v1/projects/SECRET").status_code == 200
    assert_error(api.get("/api/v1/projects/SECRET"), 404, "resource_missing")
    assert_error(api.post("/api/v1/projects/SECRET/invoice/preview", {}), 404, "resource_missing")
    assert_error(api.get("/api/v1/time_entries", {"project": "SECRET"}), 404, "resource_missing")
    assert api.get("/api/v1/projects").json()["data"] == []


def test_a_read_key_reads_projects_but_cannot_invoice_them(api, read_api, staff_project):
    assert read_api.get("/api/v1/projects/RT-1").status_code == 200
    assert_error(read_api.post("/api/v1/projects/RT-1/invoice", {}), 403, "permission_denied")
    assert_error(read_api.post("/api/v1/projects/RT-1/invoice/preview", {}), 403, "permission_denied")
    assert Invoice.objects.count() == 0


def test_the_walking_tests_cover_the_projects_operations():
    """The access, hostile-values, query-count and schemathesis tests walk `operations()`: the
    projects' paths are among them, each path parameter with the kind of object it names."""
    from tests.api.operations import PATH_PARAMETERS, operations

    walked = {str(operation): operation for operation in operations()}
    expected = {
        "GET /api/v1/projects",
        "POST /api/v1/projects/{project_id}",
        "POST /api/v1/projects/{project_id}/tasks/{task_id}",
        "DELETE /api/v1/projects/{project_id}/members/{staff_member_id}",
        "POST /api/v1/projects/{project_id}/time_entries/bulk",
        "GET /api/v1/time_entries",
        "POST /api/v1/time_entries/{time_entry_id}/resolve",
        "POST /api/v1/projects/{project_id}/milestones/{milestone_id}/mark_due",
        "POST /api/v1/projects/{project_id}/invoice/preview",
        "POST /api/v1/projects/{project_id}/invoice",
        "POST /api/v1/staff_members/{staff_member_id}",
    }
    assert expected <= set(walked)
    assert walked["GET /api/v1/time_entries"].is_list
    for name in ("project_id", "task_id", "staff_member_id", "time_entry_id", "milestone_id"):
        assert name in PATH_PARAMETERS
