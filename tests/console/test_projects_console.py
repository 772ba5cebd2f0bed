"""The console's project pages: who may open and use them (`console.roles`), another organization's
ids answering 404, and projects, tasks, rates and staff members saved through the services."""

from __future__ import annotations

import pytest

from portico.accounts.models import StaffRole
from portico.core.models import AuditEvent
from portico.projects.models import Project, ProjectMember, StaffMember, Task, TimeEntry
from tests.console.projects_world import project_world, role_clients
from tests.factories import CustomerFactory

OWNER, ADMIN, FINANCE, SUPPORT, READER = (
    StaffRole.OWNER,
    StaffRole.ADMINISTRATOR,
    StaffRole.FINANCE,
    StaffRole.SUPPORT,
    StaffRole.READ_ONLY,
)
EVERYONE = {OWNER, ADMIN, FINANCE, SUPPORT, READER}


@pytest.fixture
def world(org, customer, clock):
    return project_world(customer)


@pytest.fixture
def staff(org):
    return role_clients(org)


def pages(world) -> dict[str, set]:
    """Each project page and the roles that may open it."""
    project, disputed = world["project"], world["disputed"]
    return {
        "/console/projects/project/": EVERYONE,
        f"/console/projects/project/{project.pk}/change/": EVERYONE,
        "/console/projects/project/report/": EVERYONE,
        f"/console/projects/project/{project.pk}/report/": EVERYONE,
        f"/console/projects/project/{project.pk}/time/": EVERYONE,
        f"/console/projects/project/{project.pk}/time/save/": {OWNER, ADMIN, FINANCE, SUPPORT},
        f"/console/projects/project/{project.pk}/invoice/": {OWNER, ADMIN, FINANCE},
        "/console/projects/project/add/": {OWNER, ADMIN, FINANCE},
        "/console/projects/timeentry/": EVERYONE,
        f"/console/projects/timeentry/{disputed.pk}/resolve/": {OWNER, ADMIN, FINANCE},
        "/console/projects/milestone/": EVERYONE,
        "/console/projects/milestone/add/": {OWNER, ADMIN, FINANCE},
        f"/console/projects/milestone/{world['pending'].pk}/change/": EVERYONE,
        "/console/projects/staffmember/": EVERYONE,
        "/console/projects/staffmember/add/": {OWNER, ADMIN, FINANCE},
    }


def test_each_project_page_renders_for_the_roles_it_is_for_and_refuses_the_others(world, staff):
    for url, allowed in pages(world).items():
        for role, client in staff.items():
            status = client.get(url).status_code
            opened = 302 if url.endswith("/save/") else 200  # saving a week is a POST: GET goes to the week
            assert status == (opened if role in allowed else 403), (url, role, status)


def test_read_only_and_support_staff_change_nothing_by_posting(world, staff):
    project, unapproved = world["project"], world["unapproved"]
    before = (
        sorted(TimeEntry.objects.values_list("pk", "state", "hours")),
        Project.objects.get(pk=project.pk).name,
    )
    for role in (READER, SUPPORT):
        client = staff[role]
        assert (
            client.post(f"/console/projects/project/{project.pk}/change/", {"name": "Hacked"}).status_code
            == 403
        )
        assert (
            client.post(f"/console/projects/project/{project.pk}/invoice/", {"grouping": "task"}).status_code
            == 403
        )
        approve = {"action": "approve_selected", "_selected_action": [unapproved.pk], "index": "0"}
        assert client.post("/console/projects/timeentry/", approve).status_code == 403
        resolve = {"comment": "No", "hours": "1"}
        assert (
            client.post(f"/console/projects/timeentry/{world['disputed'].pk}/resolve/", resolve).status_code
            == 403
        )
    cell = f"h-{world['task'].pk}-{world['staff'].pk}-2026-03-09"
    assert (
        staff[READER].post(f"/console/projects/project/{project.pk}/time/save/", {cell: "2"}).status_code
        == 403
    )
    after = (
        sorted(TimeEntry.objects.values_list("pk", "state", "hours")),
        Project.objects.get(pk=project.pk).name,
    )
    assert after == before


def test_another_organizations_project_pages_answer_404(world, staff, other_org, clock):
    theirs = project_world(CustomerFactory(organization=other_org, display_name="Northwind Client"))
    owner = staff[OWNER]
    project = theirs["project"]
    for url in [
        f"/console/projects/project/{project.pk}/change/",
        f"/console/projects/project/{project.pk}/time/",
        f"/console/projects/project/{project.pk}/time/save/",
        f"/console/projects/project/{project.pk}/invoice/",
        f"/console/projects/project/{project.pk}/report/",
        f"/console/projects/timeentry/{theirs['disputed'].pk}/resolve/",
        f"/console/projects/timeentry/{theirs['unapproved'].pk}/change/",
        f"/console/projects/milestone/{theirs['pending'].pk}/change/",
        f"/console/projects/staffmember/{theirs['staff'].pk}/change/",
    ]:
        assert owner.get(url).status_code == 404, url
        assert owner.post(url, {"grouping": "task", "comment": "x", "name": "Hacked"}).status_code == 404, url
    overview = owner.get("/console/projects/project/report/").content.decode()
    assert "Website rebuild" in overview and f"project-{project.pk}" not in overview


def _project_form(customer, **changes) -> dict:
    data = {
        "customer": customer.pk,
        "code": "KIT",
        "name": "Kitchen",
        "description": "",
        "status": "active",
        "start_date": "",
        "end_date": "",
        "billing_method": "project_rate",
        "rate": "125.00",
        "invoice_grouping": "task",
        "tax_rate": "",
        "budget_kind": "none",
        "budget": "",
        "budget_hours": "",
    }
    data.update(changes)
    return data


def test_finance_creates_a_project_through_the_service_and_it_is_audited(world, staff, customer):
    response = staff[FINANCE].post("/console/projects/project/add/", _project_form(customer))
    assert response.status_code == 302, response.content.decode()[:3000]
    project = Project.objects.get(code="KIT")
    assert (project.customer, project.currency, project.rate_minor) == (customer, "USD", 12500)
    event = AuditEvent.objects.get(action="project.created", object_id=str(project.pk))
    assert event.actor_label == "finance@renotech.example (finance)"


def test_a_refused_project_shows_the_reason_on_its_field_and_keeps_what_was_typed(world, staff, customer):
    form = _project_form(customer, name="Kitchen of dreams", budget_kind="money", budget="")
    response = staff[FINANCE].post("/console/projects/project/add/", form)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter the budget amount." in page
    assert 'value="Kitchen of dreams"' in page
    taken = staff[FINANCE].post("/console/projects/project/add/", _project_form(customer, code="WEB"))
    assert "Another project already has this code." in taken.content.decode()
    assert not Project.objects.filter(code="KIT").exists()
    assert Project.objects.filter(code="WEB").count() == 1


def _change_form(project, **changes) -> dict:
    data = _project_form(project.customer, code=project.code, name=project.name, rate="100.00")
    data.pop("customer")
    data.update(budget_kind="money", budget="5000.00")
    tasks = list(Task.objects.filter(project=project))
    members = list(ProjectMember.objects.filter(project=project))
    data.update(
        {
            "tasks-TOTAL_FORMS": str(len(tasks) + 1),
            "tasks-INITIAL_FORMS": str(len(tasks)),
            "members-TOTAL_FORMS": str(len(members) + 1),
            "members-INITIAL_FORMS": str(len(members)),
        }
    )
    for i, task in enumerate(tasks):
        data.update(
            {
                f"tasks-{i}-id": task.pk,
                f"tasks-{i}-project": project.pk,
                f"tasks-{i}-name": task.name,
                f"tasks-{i}-rate": "",
                f"tasks-{i}-is_billable": "on",
                f"tasks-{i}-is_active": "on",
            }
        )
    for i, member in enumerate(members):
        data.update(
            {
                f"members-{i}-id": member.pk,
                f"members-{i}-project": project.pk,
                f"members-{i}-staff_member": member.staff_member_id,
                f"members-{i}-rate": "",
            }
        )
    data.update(changes)
    return data


def test_tasks_and_staff_rates_are_saved_through_the_services(world, staff, org):
    project = world["project"]
    alex = StaffMember.objects.create(organization=org, name="Alex", email="alex@renotech.example")
    n = Task.objects.filter(project=project).count()
    m = ProjectMember.objects.filter(project=project).count()
    form = _change_form(
        project,
        **{
            "name": "Website rebuild, phase 1",
            f"tasks-{n}-name": "Development",
            f"tasks-{n}-rate": "150.00",
            f"tasks-{n}-is_billable": "on",
            f"tasks-{n}-is_active": "on",
            "members-0-rate": "95.50",
            f"members-{m}-staff_member": alex.pk,
            f"members-{m}-rate": "80",
        },
    )
    response = staff[FINANCE].post(f"/console/projects/project/{project.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:4000]
    project.refresh_from_db()
    assert project.name == "Website rebuild, phase 1"
    assert Task.objects.get(project=project, name="Development").rate_minor == 15000
    rates = dict(
        ProjectMember.objects.filter(project=project).values_list("staff_member__name", "rate_minor")
    )
    assert rates == {"Riley": 9550, "Alex": 8000}
    actions = set(AuditEvent.objects.filter(object_id=str(project.pk)).values_list("action", flat=True))
    assert {"project.updated", "project.task_created", "project.member_set"} <= actions


def test_finance_adds_a_staff_member_with_a_default_rate(world, staff):
    form = {
        "name": "Sam",
        "email": "Sam@RenoTech.example",
        "default_rate": "70.25",
        "user": "",
        "is_active": "on",
    }
    response = staff[FINANCE].post("/console/projects/staffmember/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    sam = StaffMember.objects.get(name="Sam")
    assert (sam.email, sam.default_rate_minor) == ("sam@renotech.example", 7025)
    again = staff[FINANCE].post("/console/projects/staffmember/add/", {**form, "name": "Sam 2"})
    assert again.status_code == 302
    assert not StaffMember.objects.filter(name="Sam 2").exists()  # the email is taken: refused


def test_the_project_list_filters_by_status_customer_and_billing_method_and_searches(
    world, staff, customer, org
):
    from tests.projects.factories import project as new_project

    other = CustomerFactory(organization=org, display_name="Bluebird Cafe")
    new_project(
        other,
        code="CAFE",
        name="Cafe fit-out",
        status=Project.Status.ON_HOLD,
        billing_method="fixed",
        rate=None,
    )
    client = staff[READER]

    def listed(query):
        page = client.get(f"/console/projects/project/?{query}").content.decode()
        return {code for code in ("WEB", "CAFE") if f">{code}<" in page}

    assert listed("") == {"WEB", "CAFE"}
    assert listed("status__exact=on_hold") == {"CAFE"}
    assert listed(f"customer__id__exact={customer.pk}") == {"WEB"}
    assert listed("billing=fixed") == {"CAFE"}
    assert listed("q=website") == {"WEB"}
