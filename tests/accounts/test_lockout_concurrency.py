"""Concurrent sign-in attempts on PostgreSQL: real threads, each its own browser and connection.

Every attempt is counted before its password is checked, so a burst cannot outrun the throttle.
"""

import pytest
from django.db import connection

from portico.accounts.models import SignInThrottle
from portico.core.models import AuditEvent
from tests.concurrency import race
from tests.conftest import login, tenant_client
from tests.factories import PASSWORD, ContactFactory, CustomerFactory, OrganizationFactory, portal_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def org(transactional_db):
    assert connection.vendor == "postgresql"
    organization = OrganizationFactory(slug="racing")
    portal_user(
        ContactFactory(customer=CustomerFactory(organization=organization), email="maria@acme.example")
    )
    return organization


def attempt(org, password, browser=None):
    response = login(browser or tenant_client(org), "maria@acme.example", password)
    body = response.content.decode()
    if response.status_code == 302:
        return "signed in"
    return "checked" if "not correct" in body else "throttled" if "Too many failed" in body else body


def checks_recorded(org) -> int:
    return AuditEvent.all_tenants.filter(organization=org, action="login.failed").count()


def test_twenty_concurrent_wrong_passwords_get_only_five_checks(org, clock):
    outcomes = race(*[lambda: attempt(org, "wrong-guess") for _ in range(20)], timeout=120)

    assert sorted(outcomes) == ["checked"] * 5 + ["throttled"] * 15, outcomes
    assert checks_recorded(org) == 5
    assert SignInThrottle.all_tenants.get(key=f"{org.pk}|account|maria@acme.example|unknown").failures == 5
    assert attempt(org, PASSWORD) == "throttled"
    clock.advance(seconds=61)
    assert attempt(org, PASSWORD) == "signed in"


def test_the_owner_on_a_known_device_signs_in_during_a_burst_from_unknown_browsers(org, clock):
    owner = tenant_client(org)
    assert attempt(org, PASSWORD, browser=owner) == "signed in"
    owner.post("/portal/account/logout/")

    outcomes = race(
        lambda: attempt(org, PASSWORD, browser=owner),
        *[lambda: attempt(org, "wrong-guess") for _ in range(20)],
        timeout=120,
    )

    assert outcomes[0] == "signed in", outcomes
    assert sorted(outcomes[1:]) == ["checked"] * 5 + ["throttled"] * 15, outcomes
    assert attempt(org, PASSWORD) == "throttled"
