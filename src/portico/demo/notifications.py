"""Demo additions of notifications: RenoTech has one webhook endpoint, disabled, so the console's
Webhook endpoints page shows what one looks like (its events, its signing secret, an empty delivery
log). It points to a local receiver address; start one there (docs/webhooks.md) and enable it to
see deliveries arrive. Idempotent: an organization that has an endpoint gets no other.

RenoTech's customer emails show both choices an organization has: its payment receipt has its own
subject and text, and the renewal reminder is switched off (Customer emails in the console)."""

from __future__ import annotations

import contextlib

from portico.core import tenancy
from portico.core.audit import Actor
from portico.core.email_kinds import kinds
from portico.notifications import email_templates, webhooks
from portico.notifications.errors import WebhookError
from portico.notifications.models import EmailTemplate, WebhookEndpoint

ACTOR = Actor.system("demo")
DEMO_URL = "http://127.0.0.1:8787/portico-webhooks"
DEMO_EVENTS = ["invoice.finalized", "invoice.paid", "payment.succeeded", "subscription.renewed"]


RECEIPT_SUBJECT = "Thank you for your payment {{ payment_number }}, {{ customer_name }}"
RECEIPT_BODY = """Hi {{ customer_name }},

we received {{ payment_amount }} on {{ payment_date }}: thank you! Your receipt is attached as a PDF.

Every payment and invoice is in your RenoTech portal:
{{ portal_url }}

Questions? Just reply to this email.
The RenoTech team"""


def extend(demo) -> None:
    organization = demo.renotech
    with tenancy.tenant(organization):
        _emails(organization)
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


def _emails(organization) -> None:
    if EmailTemplate.objects.exists():
        return
    email_templates.save_email_template(
        organization=organization,
        kind=kinds().get("payments/receipt"),
        is_enabled=True,
        subject=RECEIPT_SUBJECT,
        body=RECEIPT_BODY,
        actor=ACTOR,
    )
    email_templates.save_email_template(
        organization=organization,
        kind=kinds().get("subscriptions/renewal_upcoming"),
        is_enabled=False,
        subject="",
        body="",
        actor=ACTOR,
    )
