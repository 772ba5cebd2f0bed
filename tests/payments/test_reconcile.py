"""Attempts a crash left pending are settled from what the gateway says happened."""

import pytest
from django.core.management import call_command

from portico.billing.models import Invoice, Payment
from portico.core.audit import AuditEvent
from portico.core.tenancy import tenant
from portico.payments.models import PaymentAttempt
from portico.payments.services import reconcile_pending_attempts
from portico.payments.test_gateway import TestGateway
from tests.billing.factories import open_invoice
from tests.factories import CustomerFactory, OrganizationFactory
from tests.payments.test_pay import pay_online


class Crash(Exception):
    """The worker died: nothing after this point of the request ran."""


class CrashAfterCharge(TestGateway):
    def charge(self, **kwargs):
        super().charge(**kwargs)
        raise Crash


class CrashBeforeCharge(TestGateway):
    def charge(self, **kwargs):
        raise Crash


def interrupted(customer, invoices, gateway, card_number="4242424242424242", form_token="form-1"):
    with pytest.raises(Crash):
        pay_online(
            customer,
            [i.number for i in invoices],
            gateway=gateway,
            card_number=card_number,
            form_token=form_token,
        )
    return PaymentAttempt.objects.get(customer=customer, form_token=form_token)


@pytest.fixture
def invoices(customer, clock):
    return [open_invoice(customer, 10000), open_invoice(customer, 2550)]


def test_a_charge_the_crash_left_unbooked_is_booked_once(customer, invoices, clock):
    attempt = interrupted(customer, invoices, CrashAfterCharge())
    assert attempt.status == PaymentAttempt.Status.PENDING and not Payment.objects.exists()
    clock.advance(minutes=16)
    report = reconcile_pending_attempts()
    assert (report.booked, report.expired, report.declined, report.failed) == (1, 0, 0, 0)
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.SUCCEEDED
    payment = Payment.objects.get(customer=customer)
    assert attempt.payment == payment and payment.amount_minor == 12550
    assert payment.idempotency_key == attempt.idempotency_key
    assert {i.number: i.status for i in Invoice.objects.filter(customer=customer)} == {
        invoices[0].number: Invoice.Status.PAID,
        invoices[1].number: Invoice.Status.PAID,
    }
    assert AuditEvent.objects.filter(action="payment_attempt.reconciled").count() == 1
    # Running it again (or the original request finishing late) books nothing more.
    assert (
        str(reconcile_pending_attempts())
        == "0 booked, 0 declined, 0 not charged, 0 waiting, 0 could not be checked"
    )
    assert Payment.objects.count() == 1


def test_an_attempt_the_gateway_never_received_is_marked_not_charged(customer, invoices, clock):
    attempt = interrupted(customer, invoices, CrashBeforeCharge())
    clock.advance(minutes=16)
    assert reconcile_pending_attempts().expired == 1
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.EXPIRED and attempt.payment is None
    assert not Payment.objects.exists()
    assert Invoice.objects.get(pk=invoices[0].pk).balance_minor == 10000
    assert AuditEvent.objects.filter(action="payment_attempt.expired").exists()


def test_a_declined_charge_is_marked_declined(customer, invoices, clock):
    attempt = interrupted(customer, invoices, CrashAfterCharge(), card_number="4000000000000002")
    clock.advance(minutes=16)
    assert reconcile_pending_attempts().declined == 1
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.DECLINED and attempt.decline_code == "generic_decline"
    assert not Payment.objects.exists()


def test_an_attempt_still_in_flight_is_left_alone(customer, invoices, clock):
    attempt = interrupted(customer, invoices, CrashAfterCharge())
    clock.advance(minutes=5)
    assert (
        str(reconcile_pending_attempts())
        == "0 booked, 0 declined, 0 not charged, 0 waiting, 0 could not be checked"
    )
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.PENDING


def test_the_command_settles_every_organizations_attempts(customer, invoices, clock):
    elsewhere = CustomerFactory(organization=OrganizationFactory(slug="elsewhere"))
    ours = interrupted(customer, invoices, CrashAfterCharge())
    with tenant(elsewhere.organization):
        theirs = open_invoice(elsewhere, 700)
        other = interrupted(elsewhere, [theirs], CrashBeforeCharge(), form_token="form-2")
    clock.advance(minutes=20)
    from io import StringIO

    out = StringIO()
    call_command("reconcile_payments", "--older-than", "15", stdout=out)
    assert "1 booked, 0 declined, 1 not charged" in out.getvalue()
    statuses = dict(PaymentAttempt.all_tenants.values_list("pk", "status"))
    assert statuses == {ours.pk: "succeeded", other.pk: "expired"}
    assert Payment.all_tenants.get().organization == customer.organization
