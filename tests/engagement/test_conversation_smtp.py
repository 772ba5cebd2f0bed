"""The SMTP receiver of conversation replies (`manage.py receive_conversation_mail`): a reply sent
to it over SMTP lands in its thread once, its quote cut off; a forged address is refused at the end
of DATA (550, so the writer gets a bounce) and one outside the inbound domain at RCPT."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from portico.core import tenancy
from portico.engagement.reply_addresses import CUSTOMER, reply_address
from portico.engagement.smtp_receiver import controller
from tests.engagement.conversation_factories import conversation
from tests.factories import ContactFactory, CustomerFactory, OrganizationFactory

DOMAIN = "reply.portico.example"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def receiver(settings):
    settings.PORTICO_INBOUND_DOMAIN = DOMAIN
    port = _free_port()
    running = controller(hostname="127.0.0.1", port=port)
    running.start()
    try:
        yield port
    finally:
        running.stop()


def reply(to: str, text: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "maria@acme.example"
    message["To"] = to
    message["Subject"] = "Re: A question"
    message["Message-ID"] = message_id
    message.set_content(text)
    return message


@pytest.mark.django_db(transaction=True)
def test_a_reply_over_smtp_lands_once_and_a_forged_one_bounces(receiver):
    organization = OrganizationFactory(name="RenoTech Solutions", slug="renotech")
    with tenancy.tenant(organization):
        contact = ContactFactory(
            customer=CustomerFactory(organization=organization), email="maria@acme.example"
        )
        thread = conversation(contact)
    address = reply_address(thread, kind=CUSTOMER, recipient_id=contact.pk)
    message_id = make_msgid(domain="acme.example")
    with smtplib.SMTP("127.0.0.1", receiver) as smtp:
        smtp.send_message(reply(address, "Tuesday is fine.\n\n> Could you check the hours?", message_id))
        smtp.send_message(reply(address, "Tuesday is fine.\n\n> Could you check the hours?", message_id))
        forged = address.replace("-c", "-s", 1)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.send_message(reply(forged, "Refund me", make_msgid(domain="acme.example")))
        assert refused.value.smtp_code == 550
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.send_message(reply("someone@elsewhere.example", "Relay me", make_msgid(domain="x.example")))
    assert list(thread.messages.order_by("pk").values_list("body", flat=True)) == [
        "Could you check the hours of March?",
        "Tuesday is fine.",
    ]
