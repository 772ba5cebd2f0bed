"""Demo additions of notifications: RenoTech has one webhook endpoint, disabled, so the console's
Webhook endpoints page shows what one looks like (its events, its signing secret, an empty delivery
log). It points to a local receiver address; start one there (docs/webhooks.md) and enable it to
see deliveries arrive. Idempotent: an organization that has an endpoint gets no other."""

from __future__ import annotations

import contextlib

from portico.core import tenancy
from portico.core.audit import Actor
from portico.notifications import webhooks
from portico.notifications.errors import WebhookError
from portico.notifications.models import WebhookEndpoint

ACTOR = Actor.system("demo")
DEMO_URL = "http://127.0.0.1:8787/portico-webhooks"
DEMO_EVENTS = ["invoice.finalized", "invoice.paid", "payment.succeeded", "subscription.renewed"]


def extend(demo) -> None:
    organization = demo.renotech
    with tenancy.tenant(organization):
        if WebhookEndpoint.objects.exists():
            return
        # refused where loopback addresses are not allowed (a demo loaded without PORTICO_DEMO)
        with contextlib.suppress(WebhookError):
            webhooks.create_endpoint(
                organization=organization,
                url=DEMO_URL,
                events=DEMO_EVENTS,
                description="Example receiver (disabled: enable it once something listens there)",
                is_enabled=False,
                actor=ACTOR,
            )
