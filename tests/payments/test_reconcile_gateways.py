"""Reconciliation against each gateway (issue 10, item 6): a charge the gateway has under the
attempt's key is booked once; a key it never saw is closed without a charge; a charge still
processing waits. The crash is real: the gateway is charged directly under a pending attempt's key,
as a worker killed between the charge and the booking leaves it."""

from io import StringIO

import pytest
from django.core.management import call_command

from portico.billing.models import Invoice, Payment
from portico.core.audit import Actor
from portico.core.tenancy import tenant
from portico.payments.gateways import CardDetails, gateway_for, payment_settings
from portico.payments.methods import save_method, start_setup
from portico.payments.models import GatewayCharge, PaymentAttempt
from portico.payments.services import pay_invoices, reconcile_pending_attempts, reserved_amounts
from portico.payments.stripe_gateway import StripeGateway
from portico.payments.test_gateway import TestGateway
from tests.billing.factories import open_invoice
from tests.payments.test_stripe_gateway import confirm_in_browser, stripe_api

ACTOR = Actor.system("tests")


class Crash(Exception):
    """The worker died before the gateway was called."""


class CrashBeforeCharge(TestGateway):
    def charge(self, **kwargs):
        raise Crash


def pending_attempt(customer, invoices, method, gateway) -> PaymentAttempt:
    """An attempt written, its reservation committed, and the worker gone before the charge."""
    with pytest.raises(Crash):
        pay_invoices(
            organization=customer.organization,
            customer=customer,
            invoice_numbers=[i.number for i in invoices],
            method=method,
            form_token="form-1",
            actor=ACTOR,
            gateway=gateway,
        )
    return PaymentAttempt.objects.get(customer=customer, form_token="form-1")


def charge_under_the_key(attempt: PaymentAttempt):
    """What the dead worker had asked the attempt's own gateway for, before dying."""
    gateway = gateway_for(attempt.organization, attempt.gateway)
    method = attempt.payment_method
    return gateway.charge(
        source=method.token,
        amount=attempt.amount,
        idempotency_key=attempt.idempotency_key,
        customer_reference=gateway.customer_reference(attempt.customer),
        off_session=attempt.off_session,
    )


def reconcile() -> str:
    out = StringIO()
    with tenant(None):
        call_command("reconcile_payments", stdout=out)
    return out.getvalue().strip()


# -- the test gateway ---------------------------------------------------------------------------------


@pytest.fixture
def card(customer):
    return save_method(
        organization=customer.organization,
        customer=customer,
        actor=ACTOR,
        card=CardDetails(number="4242424242424242", exp_month=12, exp_year=2030, cvc="123"),
    )


@pytest.fixture
def invoices(customer, clock):
    return [open_invoice(customer, 10000), open_invoice(customer, 2550)]


def test_a_test_gateway_charge_left_unbooked_is_booked_once(customer, invoices, card, clock):
    attempt = pending_attempt(customer, invoices, card, CrashBeforeCharge())
    assert charge_under_the_key(attempt).succeeded
    assert not Payment.objects.exists()
    clock.advance(minutes=16)
    assert (
        reconcile()
        == "Payment attempts: 1 booked, 0 declined, 0 not charged, 0 waiting, 0 could not be checked"
    )
    attempt.refresh_from_db()
    payment = Payment.objects.get()
    assert attempt.status == PaymentAttempt.Status.SUCCEEDED and attempt.payment == payment
    assert (
        payment.amount_minor == 12550 and payment.gateway_reference == GatewayCharge.objects.get().reference
    )
    assert set(Invoice.objects.values_list("status", flat=True)) == {Invoice.Status.PAID}
    assert reconcile().startswith("Payment attempts: 0 booked, 0 declined, 0 not charged")
    assert Payment.objects.count() == 1 and GatewayCharge.objects.count() == 1


def test_a_key_the_test_gateway_never_saw_is_closed_without_a_charge(customer, invoices, card, clock):
    attempt = pending_attempt(customer, invoices, card, CrashBeforeCharge())
    clock.advance(minutes=16)
    assert reconcile().startswith("Payment attempts: 0 booked, 0 declined, 1 not charged")
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.EXPIRED
    assert not Payment.objects.exists() and not GatewayCharge.objects.exists()


def test_a_charge_still_processing_at_the_test_gateway_waits(customer, invoices, card, clock):
    attempt = pending_attempt(customer, invoices, card, CrashBeforeCharge())
    charge_under_the_key(attempt)
    # The bank has not decided yet (a debit, a 3-D Secure check in progress).
    GatewayCharge.objects.filter(idempotency_key=attempt.idempotency_key).update(
        status=GatewayCharge.Status.PROCESSING
    )
    clock.advance(minutes=16)
    report = reconcile_pending_attempts()
    assert (report.waiting, report.booked, report.expired, report.declined) == (1, 0, 0, 0)
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.PENDING and not Payment.objects.exists()
    # Past the window, a processing charge still holds what it reserved: nobody can charge it again.
    assert attempt.processing_since is not None
    assert reserved_amounts(i.pk for i in invoices) == {i.pk: i.balance_minor for i in invoices}
    # Once it succeeds, the next run books it.
    GatewayCharge.objects.filter(idempotency_key=attempt.idempotency_key).update(
        status=GatewayCharge.Status.SUCCEEDED
    )
    assert reconcile_pending_attempts().booked == 1
    assert Payment.objects.get().amount_minor == 12550


# -- stripe, against localstripe ----------------------------------------------------------------------


class CrashBeforeStripeCharge(StripeGateway):
    def charge(self, **kwargs):
        raise Crash


@pytest.fixture
def stripe_card(stripe_org, customer, localstripe):
    """A card saved the way the portal saves it: a SetupIntent confirmed by Stripe.js."""
    session = start_setup(organization=stripe_org, customer=customer, actor=ACTOR)
    confirm_in_browser(localstripe, session)
    return save_method(
        organization=stripe_org, customer=customer, actor=ACTOR, setup_reference=session.reference
    )


def crashing_stripe(organization) -> StripeGateway:
    return CrashBeforeStripeCharge(organization, payment_settings(organization))


def test_a_stripe_charge_left_unbooked_is_booked_once(
    stripe_org, customer, invoices, stripe_card, localstripe, clock
):
    attempt = pending_attempt(customer, invoices, stripe_card, crashing_stripe(stripe_org))
    assert attempt.gateway == "stripe"
    result = charge_under_the_key(attempt)
    assert result.succeeded and result.reference.startswith("pi_")
    clock.advance(minutes=16)
    assert reconcile().startswith("Payment attempts: 1 booked, 0 declined, 0 not charged, 0 waiting")
    payment = Payment.objects.get()
    assert (payment.gateway, payment.gateway_reference, payment.amount_minor) == (
        "stripe",
        result.reference,
        12550,
    )
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.SUCCEEDED and attempt.payment == payment
    intents = stripe_api(localstripe, "GET", "/v1/payment_intents?limit=100")["data"]
    assert [(i["id"], i["status"], i["amount"]) for i in intents] == [(result.reference, "succeeded", 12550)]
    assert reconcile().startswith("Payment attempts: 0 booked, 0 declined, 0 not charged, 0 waiting")
    assert Payment.objects.count() == 1
    assert len(stripe_api(localstripe, "GET", "/v1/payment_intents?limit=100")["data"]) == 1


def test_a_key_stripe_never_saw_is_closed_without_a_charge(
    stripe_org, customer, invoices, stripe_card, localstripe, clock
):
    attempt = pending_attempt(customer, invoices, stripe_card, crashing_stripe(stripe_org))
    clock.advance(minutes=16)
    assert reconcile().startswith("Payment attempts: 0 booked, 0 declined, 1 not charged")
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.EXPIRED and not Payment.objects.exists()
    assert stripe_api(localstripe, "GET", "/v1/payment_intents?limit=100")["data"] == []
