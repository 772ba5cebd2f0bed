"""Concurrent changes of one subscription on PostgreSQL serialize on its row (after the customer's)."""

from __future__ import annotations

import pytest
from django.db import connection

from portico.core.audit import AuditEvent
from portico.subscriptions import services
from portico.subscriptions.models import Subscription
from tests.concurrency import race
from tests.factories import CustomerFactory, OrganizationFactory
from tests.subscriptions.factories import ACTOR, subscribe, world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def customer(transactional_db, clock):
    assert connection.vendor == "postgresql"
    return CustomerFactory(organization=OrganizationFactory(slug="racing"), currency="USD")


def test_two_concurrent_quantity_changes_serialize(customer):
    w = world(customer.organization)
    # at_term_end=False: whichever comes second applies now too, even when it is a downgrade
    for _round in range(3):
        sub = subscribe(customer, w.starter, quantity=3)
        outcomes = race(
            lambda: services.change_quantity(subscription=sub, quantity=4, actor=ACTOR, at_term_end=False),
            lambda: services.change_quantity(subscription=sub, quantity=5, actor=ACTOR, at_term_end=False),
        )
        assert all(isinstance(o, Subscription) for o in outcomes), outcomes
        changes = list(
            AuditEvent.all_tenants.filter(action="subscription.quantity_changed", object_id=str(sub.pk))
            .order_by("id")
            .values_list("data", flat=True)
        )
        # the second saw the first's result: each change starts from the quantity the other left
        assert len(changes) == 2
        first, second = changes
        assert first["from_quantity"] == 3
        assert second["from_quantity"] == first["quantity"]
        sub.refresh_from_db()
        assert sub.quantity == second["quantity"]
