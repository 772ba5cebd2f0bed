"""Concurrent changes of one subscription on PostgreSQL serialize on its row (after the customer's)."""

from __future__ import annotations

import pytest
from django.db import connection

from portico.catalog.models import Coupon
from portico.core.audit import AuditEvent
from portico.core.errors import DomainError
from portico.subscriptions import services
from portico.subscriptions.models import CouponRedemption, Subscription
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


def test_the_last_redemption_of_a_coupon_is_taken_once(customer):
    w = world(customer.organization)
    Coupon.all_tenants.filter(pk=w.launch20.pk).update(max_redemptions=1)
    first = subscribe(customer, w.starter)
    second = subscribe(customer, w.starter)
    outcomes = race(
        lambda: services.redeem_coupon(subscription=first, code="LAUNCH20", actor=ACTOR),
        lambda: services.redeem_coupon(subscription=second, code="LAUNCH20", actor=ACTOR),
    )
    redeemed = [o for o in outcomes if isinstance(o, CouponRedemption)]
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(redeemed) == 1 and len(refused) == 1, outcomes
    assert "already been used as many times" in str(refused[0])
    assert Coupon.all_tenants.get(pk=w.launch20.pk).times_redeemed == 1


def test_one_form_token_posted_twice_at_once_acts_once(customer):
    """Two tabs submitting the same confirmation form at the same moment: the second waits for the
    first's locks, then finds its token row; one resume, one invoice."""
    from portico.billing.models import Invoice
    from portico.payments.models import new_form_token
    from portico.subscriptions.models import UsedFormToken
    from tests.conftest import Clock

    w = world(customer.organization)
    sub = services.pause(subscription=subscribe(customer, w.starter, quantity=3), actor=ACTOR)
    Clock().set("2026-03-25T15:00:00+00:00")
    token = new_form_token()
    invoices = Invoice.all_tenants.count()

    def submit():
        return services.once(
            subscription=sub, form_token=token, action="resume", result="Resumed.",
            perform=lambda: services.resume(subscription=sub, actor=ACTOR),
        )  # fmt: skip

    outcomes = race(submit, submit)
    assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "UsedFormToken"], outcomes
    assert Invoice.all_tenants.count() == invoices + 1
    assert UsedFormToken.all_tenants.get(token=token).result == "Resumed."
    assert AuditEvent.all_tenants.filter(action="subscription.resumed", object_id=str(sub.pk)).count() == 1
