"""Conversations (issue 15, item 1): a customer's message reaches staff by email, the staff answer
reaches the customer by email, and replying to that email (posted raw, as RFC 822, to the inbound-mail
webhook) lands in the same thread once, its quoted part cut off; a forged or altered reply address is
refused and writes nothing. Emails are received by a real SMTP server (the `mailbox` fixture)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.test import Client

from portico.core.models import AuditEvent
from portico.engagement import conversations
from portico.engagement.errors import ConversationInvalid, InboundEmailRefused
from portico.engagement.inbound import receive_email, strip_quoted
from portico.engagement.models_conversations import Conversation, ConversationMessage
from tests.billing.factories import open_invoice
from tests.engagement.conversation_factories import ACTOR, Via, conversation, staff_reply
from tests.factories import ContactFactory, staff_user

SECRET = "inbound-test-secret"
DOMAIN = "reply.portico.example"


@pytest.fixture(autouse=True)
def inbound(settings):
    settings.PORTICO_INBOUND_DOMAIN = DOMAIN
    settings.PORTICO_INBOUND_SECRET = SECRET


@pytest.fixture
def riley(org):
    return staff_user(org, email="riley@renotech.example", role="support")


def reply_to_of(message) -> str:
    [address] = [a.strip() for a in message["Reply-To"].split(",") if DOMAIN in a]
    return address.strip("<>").split("<")[-1].rstrip(">")


def email_reply(to: str, text: str, *, sender="maria@acme.example", message_id=None) -> bytes:
    reply = EmailMessage()
    reply["From"] = f"Maria Lopez <{sender}>"
    reply["To"] = to
    reply["Subject"] = "Re: Invoice"
    reply["Message-ID"] = message_id or make_msgid(domain="acme.example")
    reply.set_content(text)
    return bytes(reply)


def post_inbound(raw: bytes, secret=SECRET):
    return Client().post(
        "/inbound/email/", data=raw, content_type="message/rfc822", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )


QUOTED_REPLY = """Yes, the 12th works for us.

Thanks,
Maria

--\x20
Maria Lopez | Acme Interiors

On Tue, 10 Mar 2026 at 15:00, RenoTech Solutions <noreply@portico.example> wrote:
> Riley of RenoTech Solutions wrote:
>
> Could we move the visit to the 12th?
"""


def test_a_portal_message_reaches_staff_and_the_staff_reply_reaches_the_customer_and_the_email_reply_lands_once(
    org, customer, contact, riley, mailbox, django_capture_on_commit_callbacks
):
    invoice = open_invoice(customer, 12000)
    with django_capture_on_commit_callbacks(execute=True):
        thread = conversation(contact, subject="", body="Why is there a travel fee?", about=invoice)
    assert thread.subject == f"Invoice {invoice.number}" and thread.topic == Conversation.Topic.INVOICE
    [to_staff] = mailbox.to("riley@renotech.example")
    assert "Why is there a travel fee?" in mailbox.body(to_staff)
    assert "Acme Interiors" in to_staff["Subject"]
    assert f"reply+{thread.pk}-s{riley.pk}-" in to_staff["Reply-To"]

    with django_capture_on_commit_callbacks(execute=True):
        staff_reply(thread, riley, body="Could we move the visit to the 12th?")
    [to_maria] = mailbox.to("maria@acme.example")
    assert to_maria["Subject"] == f"Re: Invoice {invoice.number}"
    assert "Could we move the visit to the 12th?" in mailbox.body(to_maria)
    assert f"/portal/conversations/{thread.public_id}/" in mailbox.body(to_maria)
    address = reply_to_of(to_maria)
    assert address.startswith(f"reply+{thread.pk}-c{contact.pk}-")

    raw = email_reply(address, QUOTED_REPLY)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_inbound(raw)
    assert response.status_code == 202, response.content
    assert response.json() == {"received": True, "appended": True}
    last = thread.messages.order_by("pk").last()
    assert last.body == "Yes, the 12th works for us.\n\nThanks,\nMaria"
    assert (last.author_kind, last.author_contact, last.via) == ("customer", contact, Via.EMAIL)
    # staff hear of the emailed reply like of any other
    assert "Yes, the 12th works for us." in mailbox.body(mailbox.to("riley@renotech.example")[-1])

    again = post_inbound(raw)  # the provider delivers it a second time
    assert again.status_code == 202 and again.json()["appended"] is False
    assert thread.messages.count() == 3


def test_a_staff_member_may_answer_by_email_too(
    org, customer, contact, riley, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        thread = conversation(contact)
    address = reply_to_of(mailbox.to("riley@renotech.example")[0])
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            post_inbound(
                email_reply(address, "Looking into it.", sender="riley@renotech.example")
            ).status_code
            == 202
        )
    message = thread.messages.order_by("pk").last()
    assert (message.author_kind, message.author_user, message.author_name) == (
        "staff",
        riley,
        "riley@renotech.example",
    )
    assert "Looking into it." in mailbox.body(mailbox.to("maria@acme.example")[0])


@pytest.mark.parametrize(
    "tamper",
    [
        lambda a: a.replace("-c", "-s", 1),  # another kind of writer
        lambda a: a.replace("reply+", "reply+9", 1),  # another thread
        lambda a: a[: a.index("@") - 1] + ("0" if a[a.index("@") - 1] != "0" else "1") + a[a.index("@") :],
        lambda a: a.split("@")[0] + "@evil.example",
        lambda a: "maria@acme.example",
    ],
    ids=["writer", "thread", "signature", "domain", "no-reply-address"],
)
def test_a_forged_or_altered_reply_address_is_refused_and_writes_nothing(
    org, customer, contact, riley, mailbox, django_capture_on_commit_callbacks, tamper
):
    thread = conversation(contact)
    with django_capture_on_commit_callbacks(execute=True):
        staff_reply(thread, riley)
    address = reply_to_of(mailbox.to("maria@acme.example")[0])
    messages, events = ConversationMessage.all_tenants.count(), AuditEvent.objects.count()
    response = post_inbound(email_reply(tamper(address), "Please refund everything."))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "inbound_email_refused"
    assert (ConversationMessage.all_tenants.count(), AuditEvent.objects.count()) == (messages, events)


def test_the_webhook_refuses_a_request_without_the_secret(org, customer, contact):
    thread = conversation(contact)
    from portico.engagement.reply_addresses import CUSTOMER, reply_address

    raw = email_reply(reply_address(thread, kind=CUSTOMER, recipient_id=contact.pk), "Hello")
    assert post_inbound(raw, secret="wrong").status_code == 403
    assert Client().post("/inbound/email/", data=raw, content_type="message/rfc822").status_code == 403
    assert thread.messages.count() == 1


def test_a_reply_with_nothing_but_the_quote_is_refused(org, customer, contact):
    thread = conversation(contact)
    from portico.engagement.reply_addresses import CUSTOMER, reply_address

    raw = email_reply(reply_address(thread, kind=CUSTOMER, recipient_id=contact.pk), "> just the quote\n")
    with pytest.raises(InboundEmailRefused):
        receive_email(raw)
    assert thread.messages.count() == 1


def test_garbage_posted_to_the_webhook_is_refused_with_a_reason(db):
    for raw in (b"", b"\x00\xff not an email", b"To: nobody\r\n\r\nhello"):
        response = post_inbound(raw)
        assert response.status_code == 400 and response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("Fine.\n\nOn Mon, 9 Mar 2026, Riley <r@x.example>\nwrote:\n> old", "Fine."),
        ("Fine.\n-----Original Message-----\nFrom: Riley", "Fine."),
        ("Top\n> quoted\nbottom", "Top\nbottom"),
        ("Once upon a time\nOn the roof", "Once upon a time\nOn the roof"),
        ("Hi\r\n-- \r\nsig", "Hi"),
    ],
)
def test_quoted_text_and_signatures_are_cut_off(written, kept):
    assert strip_quoted(written) == kept


def test_a_thread_cannot_be_about_another_customers_invoice_or_a_draft(
    org, customer, contact, outsider_customer
):
    from tests.billing.factories import draft_invoice

    for about in (open_invoice(outsider_customer, 5000), draft_invoice(customer, 5000)):
        with pytest.raises(ConversationInvalid):
            conversation(contact, about=about)
    assert not Conversation.all_tenants.exists()


def test_another_customers_contact_cannot_write_in_the_thread(org, customer, contact, outsider_customer):
    thread = conversation(contact)
    with pytest.raises(ConversationInvalid):
        conversations.post_message(
            conversation=thread,
            body="Hi",
            contact=ContactFactory(customer=outsider_customer),
            via=Via.PORTAL,
            actor=ACTOR,
        )


def test_a_message_in_a_closed_thread_reopens_it_and_every_change_is_audited(org, customer, contact, riley):
    thread = conversation(contact)
    conversations.set_status(conversation=thread, status=Conversation.Status.CLOSED, actor=ACTOR)
    staff_reply(thread, riley, body="One more thing.")
    thread.refresh_from_db()
    assert thread.is_open
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-5:] == [
        "conversation.started",
        "conversation.message_posted",
        "conversation.closed",
        "conversation.reopened",
        "conversation.message_posted",
    ]


def test_empty_or_oversized_messages_are_refused(org, customer, contact):
    for body in ("   ", "x" * 10_001):
        with pytest.raises(ConversationInvalid):
            conversation(contact, body=body)


def test_the_demo_has_one_answered_question_about_an_invoice_once(db):
    from portico.demo.loader import load_demo
    from portico.engagement.models import Conversation
    from portico.portal.models import preferences_of

    demo = load_demo()
    load_demo()
    threads = Conversation.all_tenants.filter(customer=demo.customers["acme"])
    assert threads.count() == 1
    thread = threads.get()
    assert thread.topic == "invoice" and thread.messages.count() == 2
    assert preferences_of(demo.renotech).allows("conversations")
