"""Refunds to the card on PostgreSQL: two staff members (or a double click) at the same moment."""

from __future__ import annotations

import pytest
from django.db import connection

from portico.billing.models import Payment, Refund
from portico.core import tenancy
from portico.payments import refunds
from portico.payments.models import GatewayCharge
from tests.concurrency import race
from tests.factories import CustomerFactory, OrganizationFactory
from tests.payments.test_refunds import ACTOR, card_payment, usd

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paid(transactional_db):
    assert connection.vendor == "postgresql"
    org = OrganizationFactory(slug="refunding")
    with tenancy.tenant(org):
        customer = CustomerFactory(organization=org, currency="USD")
        yield card_payment(customer, 5000)


def _refund(payment, request_id):
    def call():
        with tenancy.tenant(payment.organization):
            return refunds.refund_to_card(
                payment=Payment.all_tenants.get(pk=payment.pk),
                amount=usd(5000),
                actor=ACTOR,
                request_id=request_id,
            )

    return call


def _gateway_refunds(payment):
    return GatewayCharge.all_tenants.filter(kind="refund", source=payment.gateway_reference).count()


def test_two_staff_members_refunding_the_whole_payment_at_once_refund_it_once(paid):
    outcomes = race(_refund(paid, "alice"), _refund(paid, "bob"))
    booked = [o for o in outcomes if isinstance(o, Refund)]
    refused = [o for o in outcomes if isinstance(o, refunds.RefundRefused)]
    assert len(booked) == 1 and len(refused) == 1, outcomes
    paid.refresh_from_db()
    assert paid.refunded_minor == 5000
    assert _gateway_refunds(paid) == 1


def test_the_same_refund_form_submitted_twice_at_once_refunds_once(paid):
    outcomes = race(_refund(paid, "same-form"), _refund(paid, "same-form"))
    assert any(isinstance(o, Refund) for o in outcomes), outcomes
    assert all(isinstance(o, (Refund, refunds.RefundInProgress)) for o in outcomes), outcomes
    paid.refresh_from_db()
    assert paid.refunded_minor == 5000
    assert Refund.all_tenants.filter(payment=paid).count() == 1
    assert _gateway_refunds(paid) == 1
