"""Two staff members editing at once on PostgreSQL: real threads, each with its own connection."""

import pytest
from django.db import connection

from portico.accounts import services as access
from portico.accounts.errors import LastAdmin
from portico.core.audit import Actor
from portico.customers.models import ContactPerson, PortalRole
from tests.concurrency import race
from tests.conftest import tenant_client
from tests.factories import ContactFactory, CustomerFactory, OrganizationFactory, staff_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_admins(transactional_db):
    assert connection.vendor == "postgresql"
    org = OrganizationFactory(slug="racing")
    customer = CustomerFactory(organization=org)
    admins = [
        ContactFactory(customer=customer, email=f"admin{i}@customer.example", portal_role=PortalRole.ADMIN)
        for i in range(2)
    ]
    return org, customer, admins


def _admins_left(customer) -> int:
    return ContactPerson.all_tenants.filter(
        customer=customer, has_portal_access=True, portal_role=PortalRole.ADMIN
    ).count()


def test_two_console_edits_demoting_the_last_two_admins_leave_one_admin(two_admins):
    org, customer, admins = two_admins
    clients = []
    for i in range(2):
        client = tenant_client(org)
        client.force_login(
            staff_user(org, email=f"staff{i}@business.example"),
            backend="portico.accounts.backends.TenantAuthenticationBackend",
        )
        clients.append(client)

    def demote(client, contact):
        data = {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "phone": "",
            "has_portal_access": "on",
            "portal_role": "viewer",
        }
        return client.post(f"/console/customers/contactperson/{contact.pk}/change/", data).status_code

    for _round in range(3):
        outcomes = race(*[lambda c=c, a=a: demote(c, a) for c, a in zip(clients, admins, strict=True)])
        assert all(isinstance(o, int) for o in outcomes), outcomes
        assert _admins_left(customer) == 1, outcomes
        ContactPerson.all_tenants.filter(pk__in=[a.pk for a in admins]).update(portal_role=PortalRole.ADMIN)


def test_two_services_demoting_the_last_two_admins_at_once_refuse_one(two_admins):
    _org, customer, admins = two_admins
    actor = Actor(kind="staff", label="staff")
    for _round in range(5):
        outcomes = race(
            *[lambda a=a: access.set_portal_role(contact=a, role="viewer", actor=actor) for a in admins]
        )
        assert sum(isinstance(o, LastAdmin) for o in outcomes) == 1, outcomes
        assert _admins_left(customer) == 1
        ContactPerson.all_tenants.filter(pk__in=[a.pk for a in admins]).update(portal_role=PortalRole.ADMIN)
