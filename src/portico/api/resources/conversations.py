"""Conversations: list (filters: customer, status), retrieve (with its messages), start one for a
customer (general, or about an invoice, subscription, project or time entry named by its id), write in
one, close and reopen — through `engagement.conversations`, as the console does. What the API writes
is the business's: a staff message in the organization's name, emailed to the customer's contacts in
the thread, and reported as `comment.posted` like every other message.

A conversation's id is `conv_…`, a message's `msg_…`."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from portico.api import ids
from portico.api.errors import ResourceMissing
from portico.api.resources import actor, responses
from portico.api.resources.ledger import get_invoice
from portico.api.resources.project_time import get_project
from portico.api.schemas import ListParams, list_of, paginate
from portico.billing.models import Invoice
from portico.customers.models import Customer
from portico.engagement import conversations as service
from portico.engagement.models_conversations import (
    BODY_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Conversation,
    ConversationMessage,
)
from portico.projects.models import Project, TimeEntry
from portico.subscriptions.models import Subscription

router = Router(tags=["conversations"])

StatusName = Literal[tuple(Conversation.Status.values)]
Via = ConversationMessage.Via


class ConversationIn(Schema):
    customer: str = Field(..., max_length=40)
    subject: str = Field(
        "", max_length=SUBJECT_MAX_LENGTH, description="Empty: the name of what it is about."
    )
    body: str = Field(..., max_length=BODY_MAX_LENGTH)
    about: str | None = Field(
        None, max_length=40, description="An invoice (`in_…` or its number), `sub_…`, `prj_…` or `te_…`."
    )


class MessageIn(Schema):
    body: str = Field(..., max_length=BODY_MAX_LENGTH)


class MessageOut(Schema):
    id: str
    object: Literal["message"] = "message"
    author_kind: str
    author_name: str
    body: str
    via: str
    created_at: dt.datetime


class ConversationOut(Schema):
    id: str
    object: Literal["conversation"] = "conversation"
    customer: str
    subject: str
    topic: str
    about: str | None
    status: str
    created_at: dt.datetime
    last_message_at: dt.datetime
    unread_by_staff: bool
    messages: list[MessageOut] | None = None


class ConversationFilters(ListParams):
    customer: str | None = Field(None, max_length=40)
    status: StatusName | None = None


def message_out(message: ConversationMessage) -> dict:
    return {
        "id": ids.public_id(message),
        "object": "message",
        **{k: getattr(message, k) for k in ("author_kind", "author_name", "body", "via", "created_at")},
    }


def conversation_out(conversation: Conversation, *, with_messages: bool = False) -> dict:
    about = conversation.about
    data = {
        "id": ids.public_id(conversation),
        "object": "conversation",
        "customer": ids.public_id(conversation.customer),
        "about": ids.public_id(about) if about is not None else None,
        "unread_by_staff": service.unread_for_staff(conversation),
        **{
            k: getattr(conversation, k)
            for k in ("subject", "topic", "status", "created_at", "last_message_at")
        },
    }
    if with_messages:
        data["messages"] = [message_out(m) for m in conversation.messages.order_by("created_at", "id")]
    return data


def _queryset():
    return Conversation.objects.select_related(
        "customer", "invoice", "subscription", "project", "time_entry"
    ).order_by("-last_message_at", "-id")


def _conversation(conversation_id: str) -> Conversation:
    return ids.get(_queryset(), conversation_id)


def _about(customer: Customer, value: str | None):
    if value is None or value == "":
        return None
    if value.startswith(ids.prefix_of(Subscription) + "_"):
        return ids.get(Subscription.objects.filter(customer=customer), value, field="about")
    if value.startswith(ids.prefix_of(Project) + "_"):
        return get_project(Project.objects.filter(customer=customer), value, field="about")
    if value.startswith(ids.prefix_of(TimeEntry) + "_"):
        entries = TimeEntry.objects.filter(project__customer=customer).select_related("project")
        return ids.get(entries, value, field="about")
    try:
        return get_invoice(Invoice.objects.filter(customer=customer).exclude(number=""), value, field="about")
    except ResourceMissing:
        raise ResourceMissing(field="about") from None


@router.get("", response=responses({200: list_of(ConversationOut)}), summary="List conversations")
def list_conversations(request, filters: Query[ConversationFilters]):
    found = _queryset()
    if filters.customer is not None:
        found = found.filter(customer=ids.get(Customer.objects.all(), filters.customer, field="customer"))
    if filters.status is not None:
        found = found.filter(status=filters.status)
    return paginate(found, filters, conversation_out)


@router.get(
    "/{conversation_id}", response=responses({200: ConversationOut}), summary="Retrieve a conversation"
)
def get_conversation(request, conversation_id: str):
    """With its messages, oldest first."""
    return conversation_out(_conversation(conversation_id), with_messages=True)


@router.post("", response=responses({201: ConversationOut}), summary="Start a conversation")
def start_conversation(request, payload: ConversationIn):
    customer = ids.get(Customer.objects.all(), payload.customer, field="customer")
    thread = service.start_conversation(
        customer=customer,
        subject=payload.subject,
        body=payload.body,
        about=_about(customer, payload.about),
        via=Via.API,
        actor=actor(request),
    )
    return Status(201, conversation_out(_conversation(ids.public_id(thread)), with_messages=True))


@router.post(
    "/{conversation_id}/messages",
    response=responses({201: ConversationOut}),
    summary="Write in a conversation",
)
def post_message(request, conversation_id: str, payload: MessageIn):
    """In the organization's name; reopens a closed conversation."""
    thread = _conversation(conversation_id)
    service.post_message(conversation=thread, body=payload.body, via=Via.API, actor=actor(request))
    return Status(201, conversation_out(_conversation(conversation_id), with_messages=True))


@router.post(
    "/{conversation_id}/close", response=responses({200: ConversationOut}), summary="Close a conversation"
)
def close_conversation(request, conversation_id: str):
    thread = service.set_status(
        conversation=_conversation(conversation_id), status=Conversation.Status.CLOSED, actor=actor(request)
    )
    return conversation_out(_conversation(ids.public_id(thread)), with_messages=True)


@router.post(
    "/{conversation_id}/reopen", response=responses({200: ConversationOut}), summary="Reopen a conversation"
)
def reopen_conversation(request, conversation_id: str):
    thread = service.set_status(
        conversation=_conversation(conversation_id), status=Conversation.Status.OPEN, actor=actor(request)
    )
    return conversation_out(_conversation(ids.public_id(thread)), with_messages=True)
