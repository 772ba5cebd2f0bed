"""A double submit of a project's invoice confirmation on PostgreSQL: real threads, each with its own
connection, posting the same previewed token at once."""

import pytest
from django.db import connection

from portico.accounts.models import StaffRole
from portico.core import tenancy
from portico.projects.models import ProjectInvoice, TimeEntry
from tests.concurrency import race
from tests.console.projects_world import project_world, role_clients
from tests.factories import CustomerFactory, OrganizationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CHOICES = {"date_from": "2026-03-01", "date_to": "2026-03-31", "grouping": "task", "include_milestones": "on"}


def test_the_same_confirmation_posted_at_once_issues_one_invoice(transactional_db, clock):
    assert connection.vendor == "postgresql"
    org = OrganizationFactory(slug="racing")
    world = project_world(CustomerFactory(organization=org))
    client = role_clients(org)[StaffRole.FINANCE]
    url = f"/console/projects/project/{world['project'].pk}/invoice/"
    token = client.get(url, CHOICES).context["token"]
    outcomes = race(*[lambda: client.post(url, {**CHOICES, "token": token}) for _ in range(4)])
    assert all(getattr(o, "status_code", None) == 302 for o in outcomes), outcomes
    assert len({o["Location"] for o in outcomes}) == 1
    with tenancy.tenant(org):
        assert (
            ProjectInvoice.objects.filter(project=world["project"]).count() == 2
        )  # the world's and this one
        assert TimeEntry.objects.filter(state="invoiced").count() == 2
