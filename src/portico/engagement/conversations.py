"""Every change to conversations: started, written in, closed, reopened and read, here.

Rules:
- a thread belongs to one customer; what it is about (an invoice, a subscription, a project, a time
  entry) must be that customer's own, an invoice an issued one;
- a subject is 1–120 characters (a thread about something gets that thing's name when left empty),
  a message 1–10,000 characters; both are stored as written and escaped where shown;
- a new message in a closed thread reopens it, whoever writes it: a customer's answer by email to an
  old thread is never lost, and staff see it as open again;
- each message notifies the other side by email (after commit, through the outbox): a customer's
  message the organization's staff, a staff message the customer's contacts in the thread; each
  recipient gets a reply-to address of their own (`reply_addresses`), which is how an email reply is
  attributed to them (`engagement.inbound`).
The conversation's row is locked before a message is added or its state changes, so two messages at
once keep their order and a close and a reply cannot cross. Read markers are not audited: reading
changes nothing anyone else sees but the unread mark.
"""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from portico.accounts.models import User
from portico.billing.models import Invoice
from portico.core import clock, outbox
from portico.core.audit import Actor, audit
from portico.core.mail import send_templated_email
from portico.customers.models import ContactPerson
from portico.engagement import reply_addresses
from portico.engagement.attachments import check_files
from portico.engagement.errors import ConversationInvalid
from portico.engagement.models_conversations import (
    BODY_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Conversation,
    ConversationAttachment,
    ConversationMessage,
)
from portico.projects.models import Project, TimeEntry
from portico.subscriptions.models import Subscription

Topic, Author, Via = Conversation.Topic, ConversationMessage.Author, ConversationMessage.Via

CUSTOMER_EMAIL = "engagement/conversation_reply"  # a staff message, to the customer's contacts
STAFF_EMAIL = "engagement/conversation_message"  # a customer's message, to the staff


def _clean_subject(subject: str, about) -> str:
    subject = " ".join((subject or "").split())
    if not subject and about is not None:
        subject = default_subject(about)
    if not subject:
        raise ConversationInvalid(_("Give the conversation a subject."), field="subject")
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise ConversationInvalid(
            _("Keep the subject to %(max)d characters or fewer.") % {"max": SUBJECT_MAX_LENGTH},
            field="subject",
        )
    return subject


def clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise ConversationInvalid(_("Write a message."), field="body")
    if len(body) > BODY_MAX_LENGTH:
        raise ConversationInvalid(
            _("Keep the message to %(max)d characters or fewer.") % {"max": BODY_MAX_LENGTH}, field="body"
        )
    if "\x00" in body:
        raise ConversationInvalid(_("The message contains characters that cannot be stored."), field="body")
    return body


def default_subject(about) -> str:
    if isinstance(about, Invoice):
        return _("Invoice %(number)s") % {"number": about.number}
    if isinstance(about, Subscription):
        return _("Subscription %(number)s") % {"number": about.number}
    if isinstance(about, Project):
        return _("Project %(name)s") % {"name": about.name}
    if isinstance(about, TimeEntry):
        return _("Time on %(date)s (%(project)s)") % {
            "date": about.date.isoformat(),
            "project": about.project.name,
        }
    return ""


def _topic_fields(customer, about) -> dict:
    """The conversation's topic and foreign key for `about`, refused unless it is the customer's."""
    if about is None:
        return {"topic": Topic.GENERAL}
    refused = ConversationInvalid(_("This conversation can only be about your own documents and work."))
    if isinstance(about, Invoice):
        if about.customer_id != customer.pk or not about.number:
            raise refused
        return {"topic": Topic.INVOICE, "invoice": about}
    if isinstance(about, Subscription):
        if about.customer_id != customer.pk:
            raise refused
        return {"topic": Topic.SUBSCRIPTION, "subscription": about}
    if isinstance(about, Project):
        if about.customer_id != customer.pk:
            raise refused
        return {"topic": Topic.PROJECT, "project": about}
    if isinstance(about, TimeEntry):
        if about.project.customer_id != customer.pk:
            raise refused
        return {"topic": Topic.TIME_ENTRY, "time_entry": about}
    raise refused


def start_conversation(
    *,
    customer,
    subject: str = "",
    body: str,
    about=None,
    contact=None,
    user=None,
    via: str,
    actor: Actor,
    attachments=(),
) -> Conversation:
    """Open a thread of `customer` with its first message: by one of its contacts (from the portal
    or the API) or by staff (`user`, from the console or the API)."""
    fields = _topic_fields(customer, about)
    subject = _clean_subject(subject, about)
    body = clean_body(body)
    files = check_files(attachments)
    now = clock.now()
    with transaction.atomic():
        conversation = Conversation.all_tenants.create(
            organization_id=customer.organization_id,
            customer=customer,
            subject=subject,
            started_by=contact,
            created_at=now,
            last_message_at=now,
            **fields,
        )
        audit(actor, "conversation.started", conversation, subject=subject, topic=fields["topic"])
        _append(
            conversation, body=body, contact=contact, user=user, via=via, actor=actor, now=now, files=files
        )
    return conversation


def post_message(
    *,
    conversation: Conversation,
    body: str,
    contact=None,
    user=None,
    via: str,
    actor: Actor,
    email_message_id: str | None = None,
    attachments=(),
) -> ConversationMessage | None:
    """Add a message by a contact of the thread's customer, or by staff (`user`). With an
    `email_message_id`, the same email delivered again adds nothing (returns None)."""
    body = clean_body(body)
    files = check_files(attachments)
    if contact is not None and contact.customer_id != conversation.customer_id:
        raise ConversationInvalid(_("Only the customer's own contacts write in its conversations."))
    with transaction.atomic():
        conversation = _lock(conversation)
        if email_message_id and conversation.messages.filter(email_message_id=email_message_id).exists():
            return None
        if (
            email_message_id
            and ConversationMessage.all_tenants.filter(
                organization_id=conversation.organization_id, email_message_id=email_message_id
            ).exists()
        ):
            return None  # the same email, sent to two of our threads: it lands in the first only
        return _append(
            conversation,
            body=body,
            contact=contact,
            user=user,
            via=via,
            actor=actor,
            now=clock.now(),
            email_message_id=email_message_id,
            files=files,
        )


def _lock(conversation: Conversation) -> Conversation:
    return Conversation.all_tenants.select_for_update(of=("self",)).get(pk=conversation.pk)


def _append(
    conversation, *, body, contact, user, via, actor, now, email_message_id=None, files=()
) -> ConversationMessage:
    author = Author.CUSTOMER if contact is not None else Author.STAFF
    if author == Author.STAFF and user is None and via != Via.API:
        raise ConversationInvalid(_("A message is written by a contact of the customer or by staff."))
    if contact is not None:
        name = contact.full_name
    elif user is not None:
        name = user.get_full_name() or user.email
    else:  # the business's own systems, through the API: written in the organization's name
        name = conversation.organization.display_title
    message = ConversationMessage.all_tenants.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        author_kind=author,
        author_contact=contact,
        author_user=user if author == Author.STAFF else None,
        author_name=name[:200],
        body=body,
        via=via,
        email_message_id=email_message_id or None,
        created_at=now,
    )
    for filename, content, content_type in files:
        ConversationAttachment.all_tenants.create(
            organization_id=conversation.organization_id,
            message=message,
            file=ContentFile(content, name=filename),
            filename=filename,
            content_type=content_type,
            size=len(content),
            created_at=now,
        )
    update = {"last_message_at": now}
    # the writer has read everything up to their own message
    update["customer_read_at" if author == Author.CUSTOMER else "staff_read_at"] = now
    if not conversation.is_open:
        update["status"] = Conversation.Status.OPEN
        audit(actor, "conversation.reopened", conversation, by_message=True)
    Conversation.all_tenants.filter(pk=conversation.pk).update(**update)
    for key, value in update.items():
        setattr(conversation, key, value)
    audit(
        actor,
        "conversation.message_posted",
        conversation,
        message=message.pk,
        author=author,
        via=via,
        attachments=[name for name, _content, _type in files],
    )
    _notify(conversation, message)
    outbox.emit_for("comment.posted", message, author=author, via=via)  # the webhooks' event
    return message


def set_status(*, conversation: Conversation, status: str, actor: Actor) -> Conversation:
    """Close a thread (answered, nothing more to say) or open it again."""
    if status not in Conversation.Status.values:
        raise ConversationInvalid(_("Choose open or closed."), field="status")
    with transaction.atomic():
        conversation = _lock(conversation)
        if conversation.status == status:
            return conversation
        conversation.status = status
        conversation.save(update_fields=["status"])
        action = "conversation.closed" if status == Conversation.Status.CLOSED else "conversation.reopened"
        audit(actor, action, conversation)
    return conversation


def mark_read(*, conversation: Conversation, side: str) -> None:
    """This side (`Author.CUSTOMER` or `Author.STAFF`) has read the thread up to its last message."""
    field = "customer_read_at" if side == Author.CUSTOMER else "staff_read_at"
    current = getattr(conversation, field)
    if current is not None and current >= conversation.last_message_at:
        return
    Conversation.all_tenants.filter(pk=conversation.pk).update(**{field: conversation.last_message_at})
    setattr(conversation, field, conversation.last_message_at)


# -- notifications --------------------------------------------------------------------------------


def customer_recipients(conversation: Conversation) -> list[ContactPerson]:
    """The contacts in the thread (who started it, who wrote in it), else the customer's primary
    contact: those a staff message is mailed to."""
    ids = set(
        conversation.messages.filter(author_kind=Author.CUSTOMER, author_contact__isnull=False).values_list(
            "author_contact_id", flat=True
        )
    )
    if conversation.started_by_id:
        ids.add(conversation.started_by_id)
    contacts = ContactPerson.all_tenants.filter(customer_id=conversation.customer_id).exclude(email="")
    found = list(contacts.filter(pk__in=ids).order_by("pk")) if ids else []
    return found or list(contacts.filter(is_primary=True).order_by("pk")[:1])


def staff_recipients(conversation: Conversation) -> list[User]:
    return list(
        User.all_tenants.filter(
            organization_id=conversation.organization_id, is_staff=True, is_active=True, contact=None
        ).order_by("pk")
    )


def thread_url(conversation: Conversation, *, side: str) -> str:
    if side == Author.CUSTOMER:
        return conversation.organization.public_url(f"/portal/conversations/{conversation.public_id}/")
    return conversation.organization.public_url(f"/console/engagement/conversation/{conversation.pk}/change/")


def _notify(conversation: Conversation, message: ConversationMessage) -> None:
    organization = conversation.organization
    if message.author_kind == Author.STAFF:
        recipients = [(c, c.email, reply_addresses.CUSTOMER) for c in customer_recipients(conversation)]
        template, side = CUSTOMER_EMAIL, Author.CUSTOMER
    else:
        recipients = [(u, u.email, reply_addresses.STAFF) for u in staff_recipients(conversation)]
        template, side = STAFF_EMAIL, Author.STAFF
    for recipient, address, kind in recipients:
        reply_to = reply_addresses.reply_address(conversation, kind=kind, recipient_id=recipient.pk)
        send_templated_email(
            organization=organization,
            to=[address],
            template=template,
            context={
                "conversation": conversation,
                "message": message,
                "customer": conversation.customer,
                "recipient": recipient,
                "thread_url": thread_url(conversation, side=side),
                "can_reply_by_email": reply_to is not None,
            },
            reply_to=[reply_to] if reply_to else (),
            key=f"conversation_message:{message.pk}:{kind}{recipient.pk}",
            customer=conversation.customer if side == Author.CUSTOMER else None,
        )


# -- reads ------------------------------------------------------------------------------------------


def conversations_of(customer):
    """The customer's threads, newest activity first, each with `unread`: the staff messages after
    the customer's read marker."""
    from django.db.models import Count, F, Q

    staff_since_read = Q(messages__author_kind=Author.STAFF) & (
        Q(customer_read_at__isnull=True) | Q(messages__created_at__gt=F("customer_read_at"))
    )
    return (
        Conversation.all_tenants.filter(organization_id=customer.organization_id, customer=customer)
        .annotate(unread=Count("messages", filter=staff_since_read))
        .order_by("-last_message_at", "-id")
    )


def conversation_for(customer, public_id: str) -> Conversation | None:
    """One thread of this customer's by its public id; None for anyone else's (the portal's 404)."""
    if not isinstance(public_id, str) or len(public_id) > 20:
        return None
    return (
        Conversation.all_tenants.filter(
            organization_id=customer.organization_id, customer=customer, public_id=public_id
        )
        .select_related("invoice", "subscription", "project", "time_entry__project")
        .first()
    )


def attachment_for(customer, thread_id: str, attachment_id: str) -> ConversationAttachment | None:
    """One file of one of this customer's threads; None for anyone else's."""
    if not isinstance(attachment_id, str) or len(attachment_id) > 20:
        return None
    thread = conversation_for(customer, thread_id)
    if thread is None:
        return None
    return ConversationAttachment.all_tenants.filter(
        organization_id=customer.organization_id, message__conversation=thread, public_id=attachment_id
    ).first()


def unread_for_staff(conversation: Conversation) -> bool:
    return conversation.staff_read_at is None or conversation.staff_read_at < conversation.last_message_at
