"""The webhook event catalog: every event type an endpoint may subscribe to, and the outbox topic
(`core.outbox`) it comes from.

Each type follows one outbox topic, emitted by the service that owns the change in the change's own
transaction. Most types are their topic; `subscription.renewed` is derived: the bill run issues a
subscription's new period through `billing.services.issue_invoices`, whose `invoice.finalized`
payload names the subscription and the period, so that event is both an `invoice.finalized` and a
`subscription.renewed` webhook. Endpoints' chosen events are validated against `CATALOG`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


def _always(payload: dict) -> bool:
    return True


def _subscription_period(payload: dict) -> bool:
    return bool(payload.get("subscription"))


@dataclass(frozen=True)
class EventType:
    name: str  # the webhook's `type`
    label: object  # shown in the console
    topic: str  # the outbox topic it follows
    applies: Callable[[dict], bool] = _always  # which events of the topic are this type


CATALOG: tuple[EventType, ...] = (
    EventType("invoice.finalized", _("Invoice finalized"), "invoice.finalized"),
    EventType("invoice.paid", _("Invoice paid"), "invoice.paid"),
    EventType("invoice.overdue", _("Invoice overdue"), "invoice.overdue"),
    EventType("invoice.voided", _("Invoice voided"), "invoice.voided"),
    EventType("payment.succeeded", _("Payment succeeded"), "payment.succeeded"),
    EventType("payment.failed", _("Payment failed"), "payment.failed"),
    EventType("payment.refunded", _("Payment refunded"), "payment.refunded"),
    EventType("subscription.created", _("Subscription created"), "subscription.created"),
    EventType("subscription.changed", _("Subscription changed"), "subscription.changed"),
    EventType(
        "subscription.renewed", _("Subscription renewed"), "invoice.finalized", applies=_subscription_period
    ),
    EventType("subscription.paused", _("Subscription paused"), "subscription.paused"),
    EventType("subscription.resumed", _("Subscription resumed"), "subscription.resumed"),
    EventType("subscription.cancelled", _("Subscription cancelled"), "subscription.cancelled"),
    EventType("subscription.trial_ending", _("Trial ending"), "subscription.trial_ending"),
    EventType("customer.updated", _("Customer updated"), "customer.updated"),
    EventType("portal.login", _("Portal login"), "portal.login"),
    EventType("project.invoiced", _("Project invoiced"), "project.invoiced"),
    EventType("time_entry.disputed", _("Time entry disputed by the customer"), "time_entry.disputed"),
    EventType("review.submitted", _("Review submitted or changed by the customer"), "review.submitted"),
    EventType("comment.posted", _("Comment posted in a conversation"), "comment.posted"),
)

BY_NAME: dict[str, EventType] = {event.name: event for event in CATALOG}
TOPICS: tuple[str, ...] = tuple(sorted({event.topic for event in CATALOG}))


def names() -> list[str]:
    return [event.name for event in CATALOG]


def choices() -> list[tuple[str, object]]:
    return [(event.name, event.label) for event in CATALOG]


def types_of_topic(topic: str) -> list[EventType]:
    return [event for event in CATALOG if event.topic == topic]


def types_for(topic: str, payload: dict) -> list[EventType]:
    """The webhook types one outbox event is, in catalog order."""
    return [event for event in types_of_topic(topic) if event.applies(payload)]
