"""Webhook endpoints and deliveries for tests that need one of each (the console walkers)."""

from __future__ import annotations

from portico.core import clock, outbox
from portico.core.audit import Actor
from portico.notifications import delivery, webhooks
from portico.notifications.models import WebhookDelivery, WebhookEndpoint

ACTOR = Actor.system("tests")


def endpoint(organization, url="https://203.0.113.10/hooks", events=("invoice.finalized",), **kwargs):
    """An endpoint at an address that is never called (TEST-NET-3), unless a test gives its own."""
    return webhooks.create_endpoint(organization=organization, url=url, events=events, actor=ACTOR, **kwargs)


def webhook_world(organization) -> WebhookDelivery:
    """One endpoint and one failed delivery of it."""
    target = endpoint(organization)
    event = outbox.emit(
        "invoice.finalized",
        organization=organization,
        payload={"object": "billing.invoice", "id": 0, "number": "INV-TEST"},
    )
    delivery.fan_out(event)
    row = WebhookDelivery.all_tenants.get(endpoint=target)
    WebhookDelivery.all_tenants.filter(pk=row.pk).update(
        status=WebhookDelivery.Status.FAILED, attempts=1, response_status=500, last_attempt_at=clock.now()
    )
    return row


__all__ = ["WebhookEndpoint", "endpoint", "webhook_world"]
