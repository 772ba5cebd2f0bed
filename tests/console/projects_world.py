"""Project rows for the console's tests and its walks over every admin (roles, tenant isolation): an
hourly project of a customer with a task, a staff member on it, time in every state (awaiting
approval, approved, disputed by the customer, invoiced) and milestones pending, due and invoiced."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portico.core import tenancy
from portico.core.money import Money
from portico.projects import services
from portico.projects.models import Project
from tests.factories import ContactFactory, portal_user
from tests.projects.factories import ACTOR, logged, portal_actor
from tests.projects.factories import project as new_project
from tests.projects.factories import staff as new_staff
from tests.projects.factories import task as new_task

MONDAY = dt.date(2026, 3, 2)


def project_world(customer) -> dict:
    organization = customer.organization
    with tenancy.tenant(organization):
        project = new_project(
            customer,
            code="WEB",
            name="Website rebuild",
            rate=10000,
            requires_customer_approval=True,
            budget_kind=Project.BudgetKind.MONEY,
            budget=Money(500000, customer.currency),
        )
        design = new_task(project, "Design")
        riley = new_staff(organization, "Riley", rate=9000)
        services.set_project_member(project=project, staff_member=riley, actor=ACTOR)
        invoiced = logged(project, design, riley, "2", on=MONDAY)
        services.mark_milestone_due(
            milestone=services.create_milestone(
                project=project, name="Kick-off", amount=Money(50000, customer.currency), actor=ACTOR
            ),
            actor=ACTOR,
        )
        invoice = services.invoice_project(project=project, actor=ACTOR)
        approved = logged(project, design, riley, "3", on=MONDAY + dt.timedelta(days=1))
        unapproved = logged(project, design, riley, "1.5", on=MONDAY + dt.timedelta(days=2), approve=False)
        disputed = logged(project, design, riley, "4", on=MONDAY + dt.timedelta(days=3), approve=False)
        reviewer = portal_user(
            ContactFactory(customer=customer, email=f"pm-{organization.slug}@client.example")
        )
        disputed = services.dispute_time_entry(
            entry=disputed, comment="We agreed on 3 hours", actor=portal_actor(reviewer)
        )
        pending = services.create_milestone(
            project=project, name="Launch", amount=Money(150000, customer.currency), actor=ACTOR
        )
        due = services.mark_milestone_due(
            milestone=services.create_milestone(
                project=project, name="Design sign-off", amount=Money(80000, customer.currency), actor=ACTOR
            ),
            actor=ACTOR,
        )
    invoiced.refresh_from_db()
    return {
        "project": project,
        "task": design,
        "staff": riley,
        "invoice": invoice,
        "invoiced": invoiced,
        "approved": approved,
        "unapproved": unapproved,
        "disputed": disputed,
        "pending": pending,
        "due": due,
        "hours": Decimal("10.5"),
    }


BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"


def role_clients(organization) -> dict:
    """One signed-in console client per staff role."""
    from portico.accounts.models import StaffRole
    from tests.conftest import tenant_client
    from tests.factories import staff_user

    clients = {}
    for role in StaffRole:
        client = tenant_client(organization)
        client.force_login(
            staff_user(organization, email=f"{role}@renotech.example", role=role), backend=BACKEND
        )
        clients[role] = client
    return clients
