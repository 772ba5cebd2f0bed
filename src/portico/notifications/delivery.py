"""Sending webhooks: the outbox consumer that fans an event out to the endpoints that chose it, and
the sender that POSTs each delivery, signed, in order, at least once.

Fan-out. `notifications.webhooks` consumes every outbox topic of the catalog. It is registered with
`for_organization=has_endpoint_for`: an organization without an enabled endpoint for the topic gets
no outbox delivery at all (asked once per `emit`/`emit_many` call, one query), so the bill run's
50,000 invoices of organizations without webhooks cost no row. An event becomes one
`WebhookDelivery` per subscribed endpoint and type (UNIQUE(endpoint, event, type): an outbox
redelivery of the same event adds nothing).

Sending. A task sends an endpoint's deliveries right after they commit; the periodic sweep
(`notifications.webhooks`, every 30 s) and `portico deliver_webhooks` send whatever is due besides
(retries, work a killed worker left). A delivery is claimed like the outbox's (SKIP LOCKED on
PostgreSQL, a conditional UPDATE stamping a lease token, `LEASE` after which a dead worker's claim
is taken again) and only when no earlier delivery of its endpoint — by event order — is pending,
retrying or being sent, and no earlier event of its organization still waits for its fan-out: an
endpoint sees its events in order (of their ids, as committed), each after the previous one
succeeded or finally failed.

One attempt: a POST of the stored body with `Portico-Signature`, `TIMEOUT` seconds, redirects never
followed (a 3xx is a failure), to an address checked again when it is sent (`destinations`; the
connection goes to the checked IP address). A 2xx delivers; anything else retries after 1 min, 2, 4,
… at most 6 h apart, until three days after the first attempt (`RETRY_FOR`), then `failed` (audited).
"""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import socket
import ssl
from functools import partial

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django_tasks import task

from portico.core import clock, leases, outbox, tenancy
from portico.core.audit import Actor, audit
from portico.core.models import OutboxDelivery
from portico.core.periodic import periodic
from portico.notifications import destinations, events, webhook_data
from portico.notifications.errors import UrlRefused
from portico.notifications.models import WebhookDelivery, WebhookEndpoint
from portico.notifications.webhooks import SIGNATURE_HEADER, envelope, sign, webhook_id

log = logging.getLogger(__name__)

CONSUMER = "notifications.webhooks"
TIMEOUT = 10  # seconds, per connect and per read
LEASE = dt.timedelta(minutes=2)  # far longer than an attempt may take
RETRY_BASE = dt.timedelta(minutes=1)
RETRY_CAP = dt.timedelta(hours=6)
RETRY_FOR = dt.timedelta(days=3)
RESPONSE_LIMIT = 1000  # characters of the receiver's answer kept in the log
BATCH = 50

SYSTEM = Actor.system("webhooks")
Status = WebhookDelivery.Status
QUEUED = (Status.PENDING, Status.SENDING)


# -- fan-out -------------------------------------------------------------------------------------------


def has_endpoint_for(organization_id: int, topic: str) -> bool:
    """Whether the organization has an enabled endpoint for a webhook type of `topic` (one query)."""
    wanted = {event.name for event in events.types_of_topic(topic)}
    chosen = WebhookEndpoint.all_tenants.filter(organization_id=organization_id, is_enabled=True)
    return any(wanted.intersection(names) for names in chosen.values_list("events", flat=True))


def fan_out(event) -> None:
    """One delivery per enabled endpoint that chose a type this event is (idempotent)."""
    types = events.types_for(event.topic, event.payload)
    endpoints = list(
        WebhookEndpoint.all_tenants.filter(organization_id=event.organization_id, is_enabled=True).order_by(
            "pk"
        )
    )
    now = clock.now()
    rows = []
    for event_type in types:
        targets = [endpoint for endpoint in endpoints if event_type.name in endpoint.events]
        if not targets:
            continue
        body = envelope(event, event_type.name, webhook_data.data_for(event_type.name, event))
        rows += [
            WebhookDelivery(
                organization_id=event.organization_id,
                endpoint=endpoint,
                event=event,
                event_type=event_type.name,
                webhook_id=webhook_id(event.pk, event_type.name),
                body=body,
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint in targets
        ]
    if rows:
        with transaction.atomic():
            WebhookDelivery.all_tenants.bulk_create(rows, ignore_conflicts=True)
            send_after_commit(sorted({row.endpoint_id for row in rows}))


for _topic in events.TOPICS:
    outbox.consumer(_topic, name=CONSUMER, for_organization=has_endpoint_for)(fan_out)


# -- claiming ------------------------------------------------------------------------------------------


SendReport = leases.Report


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: 1 min, 2 min, 4 min, … at most 6 h."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_CAP)


def _due(now: dt.datetime) -> Q:
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_until__lt=now
    )


def _first_in_line() -> Q:
    """No earlier delivery of the same endpoint (by event, then id) is still queued, and no earlier
    event of the organization is still waiting for its fan-out (which may add one in front)."""
    earlier = WebhookDelivery.all_tenants.filter(
        endpoint_id=OuterRef("endpoint_id"), status__in=QUEUED
    ).filter(Q(event_id__lt=OuterRef("event_id")) | Q(event_id=OuterRef("event_id"), pk__lt=OuterRef("pk")))
    unfanned = OutboxDelivery.all_tenants.filter(
        organization_id=OuterRef("organization_id"),
        consumer=CONSUMER,
        status__in=(OutboxDelivery.Status.PENDING, OutboxDelivery.Status.IN_PROGRESS),
        event_id__lt=OuterRef("event_id"),
    )
    return ~Q(Exists(earlier)) & ~Q(Exists(unfanned))


def claim(*, endpoint_ids=None, limit: int = BATCH) -> tuple[str, list[WebhookDelivery]]:
    """Take up to `limit` due deliveries, at most one per endpoint (the first in its line), under a
    new lease; returns its token and the deliveries."""
    now = clock.now()
    queued = WebhookDelivery.all_tenants.filter(endpoint__is_enabled=True).filter(_first_in_line())
    if endpoint_ids is not None:
        queued = queued.filter(endpoint_id__in=list(endpoint_ids))
    token, claimed = leases.claim(
        queued,
        due=_due(now),
        order_by=("event_id", "pk"),
        limit=limit,
        status=Status.SENDING,
        lease_until=now + LEASE,
        # the three days of retries start with the first attempt (a delivery may wait its turn)
        retry_until=Coalesce(F("retry_until"), Value(now + RETRY_FOR)),
    )
    return token, list(claimed.select_related("endpoint", "organization").order_by("event_id", "pk"))


def send_due(*, endpoint_ids=None, limit: int = BATCH) -> SendReport:
    report = SendReport()
    token, deliveries = claim(endpoint_ids=endpoint_ids, limit=limit)
    for delivery in deliveries:
        with tenancy.tenant(delivery.organization):
            report.count(_send_one(delivery, token))
    return report


def send_all_due(*, endpoint_ids=None) -> SendReport:
    """Send until nothing is due (a failure waits for its backoff, so this ends)."""
    total = SendReport()
    while True:
        report = send_due(endpoint_ids=endpoint_ids)
        total.add(report)
        if not report.claimed:
            return total


def send_after_commit(endpoint_ids: list[int]) -> None:
    transaction.on_commit(partial(_enqueue, list(endpoint_ids)))


def _enqueue(endpoint_ids: list[int]) -> None:
    try:  # a failed enqueue loses nothing: the sweep finds the deliveries due
        send_task.enqueue(endpoint_ids)
    except Exception:
        log.exception("Could not enqueue webhook sending for endpoints %s; the sweep will send", endpoint_ids)


@task()
def send_task(endpoint_ids: list[int]) -> str:
    """Send the endpoints' due deliveries (just fanned out or redelivered)."""
    return str(send_all_due(endpoint_ids=endpoint_ids))


@periodic("notifications.webhooks", every=dt.timedelta(seconds=30))
def sweep() -> str:
    return f"webhooks: {send_all_due()}"


# -- one attempt ---------------------------------------------------------------------------------------


def _connect(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A connection to the first of the checked addresses that answers (IPv6 and IPv4 alike)."""
    error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as failure:
            error = failure
    raise error or OSError("no address to connect to")


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the addresses that were checked, whatever the name resolves to by then."""

    def __init__(self, host, port, addresses, timeout):
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self):
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """The same over TLS: the certificate is verified for the endpoint's host name (SNI)."""

    def __init__(self, host, port, addresses, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._addresses = addresses

    def connect(self):
        sock = _connect(self._addresses, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    """POST `body` to `url` (checked again here) and return the status and the start of the answer."""
    destination = destinations.check_url(url, lookup=False)
    addresses = destinations.resolve(destination)
    kind = _PinnedHTTPS if destination.scheme == "https" else _PinnedHTTP
    conn = kind(destination.host, destination.port, addresses, TIMEOUT)
    try:
        conn.request("POST", destination.path, body=body.encode(), headers=headers)
        response = conn.getresponse()
        text = response.read(RESPONSE_LIMIT * 4).decode("utf-8", "replace")[:RESPONSE_LIMIT]
        if 300 <= response.status < 400:
            location = response.getheader("Location", "")[:200]
            text = f"Redirect to {location} not followed. {text}"[:RESPONSE_LIMIT]
        return response.status, text
    finally:
        conn.close()


def _headers(delivery: WebhookDelivery, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Portico-Webhooks/1",
        SIGNATURE_HEADER: sign(delivery.endpoint.secret, delivery.body, timestamp),
        "Portico-Event-Id": delivery.webhook_id,
        "Portico-Event-Type": delivery.event_type,
    }


def _send_one(delivery: WebhookDelivery, token: str) -> str:
    started = clock.now()
    status, text, error = None, "", ""
    try:
        status, text = post(
            delivery.endpoint.url, delivery.body, _headers(delivery, int(started.timestamp()))
        )
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except UrlRefused as refused:
        error = f"Refused: {refused.message}"
    except (OSError, http.client.HTTPException, ValueError) as failure:  # timeouts, TLS, refused…
        error = f"{type(failure).__name__}: {failure}"[:500]
    except Exception as failure:  # anything else fails this attempt, not the worker's whole batch
        log.exception("webhook delivery %s: unexpected error", delivery.pk)
        error = f"{type(failure).__name__}: {failure}"[:500]
    now = clock.now()
    mine = leases.mine(WebhookDelivery, delivery.pk, token, Status.SENDING)
    answer = {
        "response_status": status,
        "response_body": text,
        "last_attempt_at": started,
        "claimed_until": None,
    }
    if not error:
        mine.update(status=Status.DELIVERED, delivered_at=now, next_attempt_at=None, last_error="", **answer)
        return "delivered"
    retry_at = now + backoff(delivery.attempts)
    give_up = retry_at > delivery.retry_until
    log.warning("webhook delivery %s attempt %s failed: %s", delivery.pk, delivery.attempts, error)
    with transaction.atomic():
        changed = mine.update(
            status=Status.FAILED if give_up else Status.PENDING,
            next_attempt_at=None if give_up else retry_at,
            last_error=error,
            **answer,
        )
        if changed and give_up:
            audit(
                SYSTEM,
                "webhook.delivery_failed",
                delivery,
                endpoint=delivery.endpoint.url,
                event_type=delivery.event_type,
                attempts=delivery.attempts,
                error=error,
            )
    return "failed" if give_up else "retrying"
