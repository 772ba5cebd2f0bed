"""Webhook endpoints and deliveries for tests that need one of each (the console walkers)."""

from __future__ import annotations

from portico.core import clock, outbox
from portico.core.audit import Actor
from portico.notifications import delivery, webhooks
from portico.notifications.models import WebhookDelivery, WebhookEndpoint

ACTOR = Actor.system("tests")


def endpoint(organization, url="https://93.184.215.14/hooks", events=("invoice.finalized",), **kwargs):
    """An endpoint; tests that send give the address of their receiver."""
    return webhooks.create_endpoint(organization=organization, url=url, events=events, actor=ACTOR, **kwargs)


def webhook_world(organization) -> WebhookDelivery:
    """One endpoint (disabled: nothing is ever sent to it) and one failed delivery of it."""
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
    WebhookEndpoint.all_tenants.filter(pk=target.pk).update(is_enabled=False)
    return row


def email_world(organization, customer) -> None:
    """An overridden customer email and one logged email to `customer` (the console walkers)."""
    from portico.core.email_kinds import kinds
    from portico.core.mail import send_rendered_email
    from portico.notifications import email_templates

    email_templates.save_email_template(
        organization=organization,
        kind=kinds().get("payments/card_expiring"),
        is_enabled=False,
        subject="Your card {{ card }}",
        body="",
        actor=ACTOR,
    )
    send_rendered_email(
        organization=organization,
        to=[customer.email or "billing@customer.example"],
        subject="Hello",
        text="Hello",
        kind="invoice",
        customer=customer,
    )
