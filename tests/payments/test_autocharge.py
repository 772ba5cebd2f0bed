"""Charging automatically (issue 10, item 4): the default card charged off-session, the payment
booked and its receipt emailed; a decline recorded and told, with a link to update the card.
Emails received by a real SMTP server (`mailbox`)."""

import pytest

from portico.billing.models import Invoice, Payment, PaymentAllocation
from portico.core.audit import Actor, AuditEvent
from portico.core.models import OutboxDelivery, OutboxEvent
from portico.payments.autocharge import charge_automatically, charge_issued_invoice
from portico.payments.gateways import CardDetails
from portico.payments.methods import save_method, set_auto_charge, start_setup
from portico.payments.models import GatewayCharge, PaymentAttempt
from portico.payments.services import available_to_pay, reserved_amounts
from tests.billing.factories import open_invoice, pay
from tests.payments.test_stripe_gateway import confirm_in_browser, stripe_api

ACTOR = Actor.system("tests")
BILLING = "accounts@acme.example"


def saved_card(customer, number="4242424242424242", exp_month=12, exp_year=2030):
    return save_method(
        organization=customer.organization,
        customer=customer,
        actor=ACTOR,
        card=CardDetails(
            number=number, exp_month=exp_month, exp_year=exp_year, cvc="123", name="Maria Lopez"
        ),
    )


@pytest.fixture
def billing(customer, contact, clock):
    """Acme, whose billing email is accounts@…; Maria is its primary contact (a portal admin)."""
    customer.email = BILLING
    customer.save(update_fields=["email"])
    return customer


def test_the_default_card_is_charged_off_session_and_the_receipt_emailed(
    billing, mailbox, django_capture_on_commit_callbacks
):
    card = saved_card(billing)
    invoice = open_invoice(billing, 12500)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = charge_automatically(invoice)
    assert outcome.succeeded
    attempt = outcome.attempt
    assert (attempt.off_session, attempt.payment_method, attempt.card_last4) == (True, card, "4242")
    assert attempt.idempotency_key == f"payment_attempt:{attempt.pk}"
    charge = GatewayCharge.objects.get()
    assert (charge.idempotency_key, charge.source, charge.off_session, charge.status) == (
        attempt.idempotency_key,
        card.token,
        True,
        GatewayCharge.Status.SUCCEEDED,
    )
    payment = Payment.objects.get()
    assert (payment.amount_minor, payment.allocated_minor, payment.channel) == (12500, 12500, "online")
    assert attempt.payment == payment and payment.idempotency_key == attempt.idempotency_key
    [allocation] = PaymentAllocation.objects.filter(payment=payment)
    assert (allocation.invoice, allocation.amount_minor) == (invoice, 12500)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance_minor) == (Invoice.Status.PAID, 0)
    [receipt] = mailbox.messages  # nobody was at the keyboard: the billing contact gets it
    assert receipt["To"] == BILLING
    assert payment.number in receipt["Subject"] and "$125.00" in receipt["Subject"]
    assert invoice.number in mailbox.body(receipt)
    # Charging it again finds nothing to charge.
    assert charge_automatically(invoice) is None
    assert GatewayCharge.objects.count() == 1


def test_a_charge_never_reads_invoices_through_its_attempt(billing, mailbox):
    """What a charge reads does not depend on how many invoices the organization has: its attempt's
    invoices are written, never read back through the join (a walk of every invoice of the
    organization when PostgreSQL's statistics predate a bill run)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    saved_card(billing)
    for _ in range(3):
        open_invoice(billing, 1000)
    invoice = open_invoice(billing, 12500)
    with CaptureQueriesContext(connection) as captured:
        assert charge_automatically(invoice).succeeded
    joined = [q["sql"] for q in captured if 'JOIN "payments_paymentattempt_invoices"' in q["sql"]]
    assert joined == []
    assert list(PaymentAttempt.objects.get().invoices.all()) == [invoice]


def test_a_decline_is_recorded_and_the_billing_contacts_are_told_with_a_link_to_update_the_card(
    billing, org, mailbox, django_capture_on_commit_callbacks
):
    saved_card(billing, "4000000000000341")  # saves, then fails when charged
    invoice = open_invoice(billing, 12500)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = charge_automatically(invoice)
    assert not outcome.succeeded
    attempt = outcome.attempt
    assert (attempt.status, attempt.decline_code) == (PaymentAttempt.Status.DECLINED, "generic_decline")
    assert attempt.decline_reason.startswith("Your card was declined")
    assert not Payment.objects.exists()
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance_minor) == (Invoice.Status.OPEN, 12500)
    assert available_to_pay(invoice, reserved_amounts([invoice.pk])).minor == 12500  # nothing held
    assert sorted(m["To"] for m in mailbox.messages) == [BILLING, "maria@acme.example"]
    for message in mailbox.messages:
        assert "failed" in message["Subject"] and invoice.number in message["Subject"]
        body = mailbox.body(message)
        assert "Your card was declined" in body and "Visa •••• 0341" in body
        assert org.public_url("/portal/payment-methods/") in body
        assert org.public_url(f"/portal/invoices/{invoice.number}/pay/") in body
        assert body.count("://renotech.localhost") == 2


def test_without_a_default_card_nothing_is_charged_or_written(
    billing, mailbox, django_capture_on_commit_callbacks
):
    invoice = open_invoice(billing, 12500)
    with django_capture_on_commit_callbacks(execute=True):
        assert charge_automatically(invoice) is None
    assert not PaymentAttempt.objects.exists() and not GatewayCharge.objects.exists()
    assert mailbox.messages == []
    assert AuditEvent.objects.get(action="invoice.auto_charge_skipped").data["reason"] == "no default method"


def test_an_expired_default_card_is_not_charged(billing, clock, mailbox, django_capture_on_commit_callbacks):
    saved_card(billing, exp_month=3, exp_year=2026)
    clock.set("2026-04-02T12:00:00+00:00")
    invoice = open_invoice(billing, 12500)
    with django_capture_on_commit_callbacks(execute=True):
        assert charge_automatically(invoice) is None
    assert not PaymentAttempt.objects.exists() and mailbox.messages == []


def test_a_paid_invoice_is_not_charged(billing, mailbox):
    saved_card(billing)
    invoice = open_invoice(billing, 12500)
    pay(billing, 12500, (invoice, 12500))
    assert charge_automatically(invoice) is None
    assert not PaymentAttempt.objects.exists()


def test_a_partly_paid_invoice_is_charged_what_is_left(billing, mailbox):
    saved_card(billing)
    invoice = open_invoice(billing, 12500)
    pay(billing, 2500, (invoice, 2500))
    outcome = charge_automatically(invoice)
    assert outcome.succeeded and outcome.attempt.amount_minor == 10000
    invoice.refresh_from_db()
    assert invoice.balance_minor == 0


def test_an_issued_invoice_is_charged_by_the_worker_when_auto_charge_is_on(
    billing, mailbox, django_capture_on_commit_callbacks
):
    saved_card(billing)
    set_auto_charge(customer=billing, enabled=True, actor=ACTOR)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = open_invoice(billing, 8000)
    delivery = OutboxDelivery.objects.get(consumer="payments.auto_charge")
    assert delivery.status == OutboxDelivery.Status.DELIVERED
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance_minor) == (Invoice.Status.PAID, 0)
    payment = Payment.objects.get()
    assert payment.attempt.off_session
    assert [m["To"] for m in mailbox.messages] == [BILLING]  # the receipt
    # The same event delivered again (a worker killed after charging) charges nothing more.
    charge_issued_invoice(delivery.event)
    assert GatewayCharge.objects.count() == 1 and Payment.objects.count() == 1


def test_an_issued_invoice_is_not_charged_when_auto_charge_is_off(
    billing, mailbox, django_capture_on_commit_callbacks
):
    saved_card(billing)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = open_invoice(billing, 8000)
    # The event says the invoice is not to be charged: the consumer gets no delivery at all.
    event = OutboxEvent.objects.get(topic="invoice.finalized", payload__id=invoice.pk)
    assert event.payload["auto_charge"] is False and event.delivery_count == 0
    assert not OutboxDelivery.objects.filter(consumer="payments.auto_charge").exists()
    invoice.refresh_from_db()
    assert invoice.balance_minor == 8000
    assert not PaymentAttempt.objects.exists() and mailbox.messages == []


def test_a_decline_of_an_issued_invoice_is_emailed_once_even_if_the_event_comes_again(
    billing, mailbox, django_capture_on_commit_callbacks
):
    saved_card(billing, "4000000000000341")
    set_auto_charge(customer=billing, enabled=True, actor=ACTOR)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = open_invoice(billing, 8000)
    assert len(mailbox.messages) == 2
    delivery = OutboxDelivery.objects.get(consumer="payments.auto_charge")
    with django_capture_on_commit_callbacks(execute=True):
        charge_issued_invoice(delivery.event)
    assert len(mailbox.messages) == 2 and GatewayCharge.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.balance_minor == 8000


# -- through stripe (localstripe) ---------------------------------------------------------------------


def stripe_card(organization, customer, base, number):
    session = start_setup(organization=organization, customer=customer, actor=ACTOR)
    confirm_in_browser(base, session, number)
    return save_method(
        organization=organization, customer=customer, actor=ACTOR, setup_reference=session.reference
    )


def test_stripe_charges_the_default_card_off_session(
    stripe_org, billing, localstripe, mailbox, django_capture_on_commit_callbacks
):
    card = stripe_card(stripe_org, billing, localstripe, "4242424242424242")
    invoice = open_invoice(billing, 12500)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = charge_automatically(invoice)
    assert outcome.succeeded and outcome.attempt.gateway == "stripe"
    [intent] = stripe_api(localstripe, "GET", "/v1/payment_intents?limit=100")["data"]
    assert (intent["status"], intent["amount"], intent["payment_method"]) == ("succeeded", 12500, card.token)
    assert Payment.objects.get().gateway_reference == intent["id"]
    assert [m["To"] for m in mailbox.messages] == [BILLING]


def test_stripe_declining_the_default_card_is_told_to_the_customer(
    stripe_org, billing, localstripe, mailbox, django_capture_on_commit_callbacks
):
    stripe_card(stripe_org, billing, localstripe, "4000000000000341")
    invoice = open_invoice(billing, 12500)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = charge_automatically(invoice)
    assert outcome.attempt.status == PaymentAttempt.Status.DECLINED
    assert not Payment.objects.exists()
    assert sorted(m["To"] for m in mailbox.messages) == [BILLING, "maria@acme.example"]
    assert all(stripe_org.public_url("/portal/payment-methods/") in mailbox.body(m) for m in mailbox.messages)


def test_an_event_from_before_events_said_auto_charge_charges_only_customers_who_turned_it_on(
    billing, mailbox, django_capture_on_commit_callbacks
):
    # Written before the upgrade: no "auto_charge" in the payload, and a delivery for every invoice.
    saved_card(billing)
    invoice = open_invoice(billing, 8000)
    event = OutboxEvent.objects.get(topic="invoice.finalized", payload__id=invoice.pk)
    del event.payload["auto_charge"]
    event.save(update_fields=["payload"])
    with django_capture_on_commit_callbacks(execute=True):
        charge_issued_invoice(event)  # AutoCharge off: nothing is charged
    invoice.refresh_from_db()
    assert invoice.balance_minor == 8000 and not PaymentAttempt.objects.exists()
    set_auto_charge(customer=billing, enabled=True, actor=ACTOR)
    with django_capture_on_commit_callbacks(execute=True):
        charge_issued_invoice(event)  # AutoCharge on: charged, as before the upgrade
    invoice.refresh_from_db()
    assert invoice.balance_minor == 0 and GatewayCharge.objects.count() == 1
