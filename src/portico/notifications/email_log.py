"""The delivery log of emails: every message as it is queued, with the customer it was written to,
and its status read from its outbox delivery (queued, retrying with the last error, sent, failed).

`record` is `core.mail`'s email recorder (registered in `NotificationsConfig.ready()`). `resend_email`
queues the same stored message again — as a new outbox event with a new log row — under a key made
of the log row and the form's one-time token, so a double submit sends it once.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from portico.core import clock, outbox
from portico.core.audit import Actor, audit
from portico.core.mail import EMAIL_TOPIC
from portico.core.models import OutboxDelivery
from portico.notifications.errors import EmailResendRefused
from portico.notifications.models import SentEmail

# `core.mail.deliver_email` is registered under this name.
EMAIL_CONSUMER = "notifications.email"
TOKEN = re.compile(r"^[0-9a-f]{16,64}$")

Status = SentEmail.Status


def record(*, organization, event, kind: str, customer, payload: dict) -> SentEmail:
    """One log row per outbox event: an event handed back for a repeated key logs nothing new."""
    row, _created = SentEmail.all_tenants.get_or_create(
        event=event,
        defaults={
            "organization": organization,
            "customer": customer if getattr(customer, "pk", None) else None,
            "kind": kind or "",
            "to": list(payload.get("to", [])),
            "subject": str(payload.get("subject", ""))[:255],
            "created_at": event.created_at,
        },
    )
    return row


@dataclass(frozen=True)
class DeliveryStatus:
    status: str
    label: str
    attempts: int = 0
    last_error: str = ""
    sent_at: object = None


def status_of(sent_email: SentEmail) -> DeliveryStatus:
    """From the email consumer's delivery (prefetch `event__deliveries` for a list)."""
    delivery = next((d for d in sent_email.event.deliveries.all() if d.consumer == EMAIL_CONSUMER), None)
    if delivery is None or delivery.status in (
        OutboxDelivery.Status.PENDING,
        OutboxDelivery.Status.IN_PROGRESS,
    ):
        if delivery is not None and delivery.attempts and delivery.last_error:
            return DeliveryStatus(
                Status.RETRYING, Status.RETRYING.label, delivery.attempts, delivery.last_error
            )
        return DeliveryStatus(Status.QUEUED, Status.QUEUED.label, getattr(delivery, "attempts", 0))
    if delivery.status == OutboxDelivery.Status.DELIVERED:
        return DeliveryStatus(
            Status.SENT, Status.SENT.label, delivery.attempts, sent_at=delivery.delivered_at
        )
    return DeliveryStatus(Status.FAILED, Status.FAILED.label, delivery.attempts, delivery.last_error)


def new_resend_token() -> str:
    return secrets.token_hex(16)


def resend_email(*, sent_email: SentEmail, actor: Actor, token: str | None = None) -> SentEmail:
    """Queue the message again, exactly as it was stored; the new log row (the same one again for
    a token already used: nothing is sent twice)."""
    if token is None:
        token = new_resend_token()
    if not TOKEN.match(token):
        raise EmailResendRefused(_("This form has expired; open the email again and resend from there."))
    with transaction.atomic():
        original = SentEmail.all_tenants.select_for_update().select_related("event").get(pk=sent_email.pk)
        if original.organization_id != sent_email.organization_id:  # pragma: no cover - same row
            raise EmailResendRefused
        key = f"resend:{original.pk}:{token}"
        event = outbox.emit(
            EMAIL_TOPIC, organization=original.organization, payload=original.event.payload, key=key
        )
        row, created = SentEmail.all_tenants.get_or_create(
            event=event,
            defaults={
                "organization_id": original.organization_id,
                "customer_id": original.customer_id,
                "kind": original.kind,
                "to": original.to,
                "subject": original.subject,
                "resent_from": original,
                "created_at": clock.now(),
            },
        )
        if created:
            audit(
                actor,
                "email.resent",
                row,
                organization=original.organization,
                customer=original.customer,
                original=original.pk,
                to=original.to,
                subject=original.subject,
            )
    return row
