"""Emails leave through the outbox: a mail server that is down delays them, never loses or doubles
them, and a redelivered message keeps its Message-ID. Against a real SMTP server."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction

from portico.core import outbox
from portico.core.mail import (
    EMAIL_TOPIC,
    INLINE_ATTACHMENT_LIMIT,
    deliver_email,
    message_id,
    send_rendered_email,
    send_templated_email,
)
from portico.core.models import OutboxDelivery, OutboxEvent

Status = OutboxDelivery.Status


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def invite(org, contact, address: str) -> None:
    send_templated_email(
        organization=org,
        to=[address],
        template="accounts/invitation",
        context={
            "contact": contact,
            "customer": contact.customer,
            "url": "http://x/",
            "expires_at": dt.datetime(2026, 4, 1),
            "days": 7,
        },
    )


def test_a_hundred_emails_wait_for_a_mail_server_that_is_down_and_each_leaves_once_when_it_is_back(
    org, contact, mailbox, clock, capsys, django_capture_on_commit_callbacks
):
    mailbox.stop()
    addresses = [f"customer{n}@example.com" for n in range(100)]
    with django_capture_on_commit_callbacks(execute=True):
        for address in addresses:
            with transaction.atomic():
                invite(org, contact, address)

    assert mailbox.messages == []
    deliveries = list(OutboxDelivery.all_tenants.select_related("event"))
    assert len(deliveries) == 100
    assert {(d.status, d.attempts) for d in deliveries} == {(Status.PENDING, 1)}
    assert all("Connection refused" in d.last_error for d in deliveries)
    assert outbox.deliver_all_due().claimed == 0  # nothing is due before the backoff has passed

    mailbox.start()
    clock.advance(seconds=30)
    call_command("deliver_outbox", "--once")
    assert capsys.readouterr().out.strip() == (
        "Outbox: 100 delivered, 0 to retry, 0 failed; 0 waiting, 0 failed in all"
    )
    assert sorted(m["To"] for m in mailbox.messages) == sorted(addresses)
    assert sorted(m["Message-ID"] for m in mailbox.messages) == sorted(
        message_id(d.event) for d in deliveries
    )
    assert all("Hello Maria" in mailbox.body(m) for m in mailbox.messages)
    assert set(OutboxDelivery.all_tenants.values_list("status", "attempts")) == {(Status.DELIVERED, 2)}

    clock.advance(hours=2)
    call_command("deliver_outbox", "--once")
    assert len(mailbox.messages) == 100


def test_a_rolled_back_change_queues_no_email(org, mailbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        send_rendered_email(organization=org, to=["a@example.com"], subject="Rolled back", text="no")
        raise RuntimeError
    assert not OutboxEvent.all_tenants.exists()
    call_command("deliver_outbox", "--once")
    assert mailbox.messages == []


def test_an_email_sent_again_after_a_worker_died_keeps_its_message_id(
    org, mailbox, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        send_rendered_email(organization=org, to=["a@example.com"], subject="Your invoice", text="Hello")
    _token, [delivery] = outbox.claim()
    deliver_email(delivery.event)  # the worker sent it, then died before recording that it did
    clock.advance(minutes=6)
    assert outbox.deliver_all_due().delivered == 1
    first, again = mailbox.messages
    assert first["Message-ID"] == again["Message-ID"] == message_id(delivery.event)
    assert first["Subject"] == again["Subject"] == "Your invoice"


def test_attachments_small_and_big_arrive_intact(org, mailbox, media, django_capture_on_commit_callbacks):
    small = b"%PDF-1.7 small"
    big = b"%PDF-1.7 " + bytes(range(256)) * (INLINE_ATTACHMENT_LIMIT // 256 + 1)
    with django_capture_on_commit_callbacks(execute=True):
        send_rendered_email(
            organization=org,
            to=["a@example.com"],
            subject="Two PDFs",
            text="Attached.",
            html="<p>Attached.</p>",
            attachments=[("small.pdf", small, "application/pdf"), ("big.pdf", big, "application/pdf")],
            reply_to=["billing@renotech.example"],
        )
    stored = OutboxEvent.all_tenants.get(topic=EMAIL_TOPIC).payload["attachments"]
    assert "base64" in stored[0] and "path" in stored[1] and (media / stored[1]["path"]).read_bytes() == big
    [message] = mailbox.messages
    files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert files == {"small.pdf": small, "big.pdf": big}
    assert message["Reply-To"] == "billing@renotech.example"
    assert message.get_body(preferencelist=("html",)).get_content().strip() == "<p>Attached.</p>"
