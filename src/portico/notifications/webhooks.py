"""Outgoing webhooks: the services that manage an organization's endpoints, and the signature.

Every change is a service: validated (the address rules of `destinations`, events from the catalog of
`events`), run in one transaction, audited (without the secret). The signature follows Stripe's
scheme, documented for receivers in docs/webhooks.md:

    Portico-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from portico.core import clock
from portico.core.audit import Actor, audit
from portico.notifications import destinations, events
from portico.notifications.errors import EventsInvalid
from portico.notifications.models import WebhookDelivery, WebhookEndpoint, new_secret

SIGNATURE_HEADER = "Portico-Signature"
TOLERANCE = 300  # seconds: what docs/webhooks.md advises receivers to accept


def sign(secret: str, body: str, timestamp: int) -> str:
    """The `Portico-Signature` header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_id(event_pk: int, event_type: str) -> str:
    """The webhook's public id: the same for every endpoint that receives it and every redelivery,
    unguessable (no sequence number shows)."""
    key = settings.SECRET_KEY.encode()
    return (
        "evt_" + hmac.new(key, f"webhook:{event_pk}:{event_type}".encode(), hashlib.sha256).hexdigest()[:24]
    )


def envelope(event, event_type: str, data: dict) -> str:
    """The body sent: `{"id", "type", "created", "data"}`, compact JSON."""
    return json.dumps(
        {
            "id": webhook_id(event.pk, event_type),
            "type": event_type,
            "created": int(event.created_at.timestamp()),
            "data": data,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


# -- endpoints ----------------------------------------------------------------------------------------


def clean_events(chosen: Iterable[str]) -> list[str]:
    """The chosen event types in catalog order, or `EventsInvalid`."""
    chosen = list(chosen or [])
    unknown = [name for name in chosen if name not in events.BY_NAME]
    if unknown:
        raise EventsInvalid(_("Unknown event: %(names)s.") % {"names": ", ".join(map(str, unknown))[:200]})
    if not chosen:
        raise EventsInvalid()
    return [name for name in events.names() if name in chosen]


def _endpoint_facts(endpoint: WebhookEndpoint) -> dict:
    return {
        "url": endpoint.url,
        "events": endpoint.events,
        "enabled": endpoint.is_enabled,
        "description": endpoint.description,
    }


def create_endpoint(
    *,
    organization,
    url: str,
    events: Iterable[str],
    actor: Actor,
    description: str = "",
    is_enabled: bool = True,
) -> WebhookEndpoint:
    """Register an endpoint; it receives the chosen events from now on, signed with a new secret."""
    url = url.strip()
    destinations.check_url(url)
    chosen = clean_events(events)
    with transaction.atomic():
        endpoint = WebhookEndpoint.all_tenants.create(
            organization=organization,
            url=url,
            description=description.strip()[:200],
            events=chosen,
            is_enabled=is_enabled,
            created_at=clock.now(),
        )
        audit(actor, "webhook_endpoint.created", endpoint, **_endpoint_facts(endpoint))
    return endpoint


def update_endpoint(
    *,
    endpoint: WebhookEndpoint,
    url: str,
    events: Iterable[str],
    description: str,
    is_enabled: bool,
    actor: Actor,
) -> WebhookEndpoint:
    """Change an endpoint's address, events, description or whether it is enabled."""
    url = url.strip()
    destinations.check_url(url)
    chosen = clean_events(events)
    with transaction.atomic():
        endpoint = WebhookEndpoint.all_tenants.select_for_update().get(pk=endpoint.pk)
        before = _endpoint_facts(endpoint)
        endpoint.url, endpoint.events, endpoint.is_enabled = url, chosen, is_enabled
        endpoint.description = description.strip()[:200]
        endpoint.save(update_fields=["url", "events", "is_enabled", "description"])
        after = _endpoint_facts(endpoint)
        changes = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
        if changes:
            audit(actor, "webhook_endpoint.changed", endpoint, changes=changes)
    return endpoint


def rotate_secret(*, endpoint: WebhookEndpoint, actor: Actor) -> WebhookEndpoint:
    """A new signing secret, used from the next attempt on (the old one stops verifying at once)."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.all_tenants.select_for_update().get(pk=endpoint.pk)
        endpoint.secret = new_secret()
        endpoint.save(update_fields=["secret"])
        audit(actor, "webhook_endpoint.secret_rotated", endpoint)
    return endpoint


def delete_endpoint(*, endpoint: WebhookEndpoint, actor: Actor) -> None:
    """Remove an endpoint and its delivery log; nothing more is sent to it."""
    with transaction.atomic():
        audit(actor, "webhook_endpoint.deleted", endpoint, **_endpoint_facts(endpoint))
        WebhookEndpoint.all_tenants.filter(pk=endpoint.pk).delete()


def redeliver(*, delivery: WebhookDelivery, actor: Actor) -> WebhookDelivery:
    """Send a delivery again, the same body and id, with a fresh three days of attempts. It keeps its
    place in the endpoint's order: it goes before later events that are still waiting."""
    from portico.notifications import delivery as sender

    now = clock.now()
    with transaction.atomic():
        changed = (
            WebhookDelivery.all_tenants.filter(pk=delivery.pk)
            .exclude(status=WebhookDelivery.Status.SENDING)
            .update(
                status=WebhookDelivery.Status.PENDING,
                attempts=0,
                next_attempt_at=now,
                retry_until=None,  # three days from its next attempt
                claimed_until=None,
                lease_token="",
            )
        )
        delivery.refresh_from_db()
        if changed:
            audit(
                actor,
                "webhook.redelivered",
                delivery,
                endpoint=delivery.endpoint.url,
                event_type=delivery.event_type,
                webhook_id=delivery.webhook_id,
            )
            sender.send_after_commit([delivery.endpoint_id])
    return delivery
