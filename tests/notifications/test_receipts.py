"""A card payment emails its receipt, PDF attached, to who paid and to the billing contact, once
(issue 8, item 12). Delivered to a real SMTP server (the `mailbox` fixture)."""

import pytest
from django.db import transaction

from portico.billing.models import Payment
from portico.payments.models import PaymentAttempt
from tests.billing.factories import open_invoice, pay
from tests.factories import ContactFactory
from tests.payments.test_pay import pay_online
from tests.portal.conftest import client_for
from tests.portal.test_ledger_pages import CARD, form_token

BILLING = "accounts@acme.example"  # the customer's billing email


@pytest.fixture
def billing_client(customer, contact):
    """Tom pays; Maria is the primary contact."""
    return client_for(ContactFactory(customer=customer, email="tom@acme.example", portal_role="billing"))


@pytest.fixture
def invoice(customer, clock):
    customer.email = BILLING
    customer.save(update_fields=["email"])
    return open_invoice(customer, 12500)


def pay_through_the_page(client, invoice, **overrides):
    html = client.get(f"/portal/invoices/{invoice.number}/pay/").content.decode()
    data = {"form_token": form_token(html), **CARD, **overrides}
    return client.post(f"/portal/invoices/{invoice.number}/pay/", data), data


def pdf_attachments(message) -> list[bytes]:
    return [
        part.get_content()
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]


def test_the_payer_and_the_billing_contact_each_get_one_receipt_with_the_pdf(
    billing_client, customer, invoice, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response, _data = pay_through_the_page(billing_client, invoice)
    assert response.status_code == 302
    payment = Payment.objects.get(channel=Payment.Channel.ONLINE)
    assert len(mailbox.messages) == 2
    for address in ("tom@acme.example", BILLING):
        [message] = mailbox.to(address)
        assert message["To"] == address
        assert payment.number in message["Subject"] and "$125.00" in message["Subject"]
        assert invoice.number in mailbox.body(message)
        [pdf] = pdf_attachments(message)
        assert pdf.startswith(b"%PDF")
        filenames = [part.get_filename() for part in message.iter_attachments()]
        assert filenames == [f"receipt-{payment.number}.pdf"]


def test_a_payer_who_is_the_billing_contact_gets_one_receipt(
    portal_client, customer, invoice, mailbox, django_capture_on_commit_callbacks
):
    customer.email = ""  # the billing contact is then the primary contact: Maria, who pays
    customer.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        pay_through_the_page(portal_client, invoice)
    assert [m["To"] for m in mailbox.messages] == ["maria@acme.example"]


def test_a_declined_card_sends_no_receipt(
    billing_client, customer, invoice, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response, _data = pay_through_the_page(billing_client, invoice, number="4000 0000 0000 0002")
    assert response.status_code == 400
    assert PaymentAttempt.objects.get().status == PaymentAttempt.Status.DECLINED
    assert mailbox.messages == []


def test_a_rolled_back_booking_sends_no_receipt(
    customer, invoice, mailbox, django_capture_on_commit_callbacks
):
    class Undone(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Undone), transaction.atomic():
        assert pay_online(customer, [invoice.number]).succeeded
        raise Undone
    assert not Payment.objects.exists() and mailbox.messages == []


def test_the_same_form_submitted_again_sends_no_second_receipt(
    billing_client, customer, invoice, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _first, data = pay_through_the_page(billing_client, invoice)
        again = billing_client.post(f"/portal/invoices/{invoice.number}/pay/", data)
    assert again.status_code == 302
    assert Payment.objects.count() == 1
    assert len(mailbox.to("tom@acme.example")) == 1 and len(mailbox.to(BILLING)) == 1


def test_a_retried_booking_with_the_same_key_sends_no_second_receipt(
    customer, invoice, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = pay_online(customer, [invoice.number], form_token="same")
    assert len(mailbox.messages) == 1  # no payer contact (a system actor): the billing contact only
    with django_capture_on_commit_callbacks(execute=True):
        again = pay_online(customer, [invoice.number], form_token="same")
        pay(customer, 12500, idempotency_key=outcome.attempt.idempotency_key, method=Payment.Method.CARD)
    assert again.repeated and Payment.objects.count() == 1
    assert len(mailbox.messages) == 1


def test_a_payment_staff_record_by_bank_transfer_sends_no_card_receipt(
    customer, invoice, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pay(customer, 12500, (invoice, 12500))
    assert mailbox.messages == []


def test_the_worker_renders_the_receipt_and_a_delivery_run_again_sends_no_second_copy(
    billing_client, customer, invoice, mailbox
):
    """The booking's commit queues the receipt (its `payment.succeeded` delivery), nothing more: the
    PDF is rendered when the worker delivers it. Run again (a worker killed after sending), the
    consumer queues no second message."""
    from portico.core import outbox
    from portico.core.models import OutboxDelivery, OutboxEvent
    from portico.notifications.receipts import receipt_for_payment

    response, _data = pay_through_the_page(billing_client, invoice)  # on-commit work not run
    assert response.status_code == 302
    receipt = OutboxDelivery.objects.get(consumer="notifications.payment_receipt")
    assert receipt.event.topic == "payment.succeeded" and receipt.status == OutboxDelivery.Status.PENDING
    assert not OutboxEvent.objects.filter(topic="email.send").exists()  # nothing rendered yet
    outbox.deliver(ids=[receipt.pk])
    receipt_for_payment(receipt.event)  # the same event handed over a second time
    assert OutboxEvent.objects.filter(topic="email.send").count() == 2  # payer and billing contact
    outbox.deliver_all_due()
    assert len(mailbox.to("tom@acme.example")) == 1 and len(mailbox.to(BILLING)) == 1
