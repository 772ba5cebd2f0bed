"""The transactional outbox: side effects that leave the system, delivered at least once.

A service writes its event (`emit`) in its own transaction, beside the change it reports: a
rolled-back change leaves no event, a committed one cannot lose it. Each event gets one delivery row
per consumer registered for its topic (`@consumer("email.send")`, registered in `AppConfig.ready()`)
that wants it (`wants=`: a consumer of every `invoice.finalized` that acts on a few says which, so the
others cost no delivery row) and whose organization check passes (`for_organization=`: a consumer
that serves only some organizations — webhooks, for those with an endpoint — says so, asked once per
`emit`/`emit_many` call, so the bill run's batch costs one query and no row where it is not wanted).
After commit a task delivers those rows at once; the `deliver_outbox` sweeper delivers whatever is due
besides (retries, work a dead worker left behind).

A delivery is claimed under a lease (`core.leases`: `SKIP LOCKED` first on PostgreSQL, so workers
never wait on each other), handed to its consumer outside any transaction, and marked delivered only
under the same token. A worker killed mid-delivery leaves a lease that
expires (`LEASE`), after which the delivery is claimed again: consumers must be idempotent, or at
least make a repeat recognisable (emails carry a Message-ID derived from the event). A consumer that
raises is retried after 30 s, 1 min, 2 min, … capped at an hour, and marked `failed` with its error
after `MAX_ATTEMPTS`; staff see it in the console and may retry it (`retry_delivery`).

Signals after commit (`billing.signals`) stay for in-process work that may be lost with the process.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q
from django_tasks import task

from portico.core import clock, leases, tenancy
from portico.core.audit import Actor, _jsonable, audit
from portico.core.models import Organization, OutboxDelivery, OutboxEvent

log = logging.getLogger(__name__)

# Longer than any delivery may take (SMTP's timeout is 10 s); a lease left this long was abandoned.
LEASE = dt.timedelta(minutes=5)
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(hours=1)
# 30 s · 2^n capped at an hour: the tenth attempt comes about three hours after the first.
MAX_ATTEMPTS = 10
BATCH = 100

SYSTEM = Actor.system("outbox")
Status = OutboxDelivery.Status

Consumer = Callable[[OutboxEvent], None]
_consumers: dict[str, dict[str, Consumer]] = {}
_wants: dict[tuple[str, str], Callable[[dict], bool]] = {}
_for_organization: dict[tuple[str, str], Callable[[int, str], bool]] = {}


def consumer(
    topic: str,
    *,
    name: str | None = None,
    wants: Callable[[dict], bool] | None = None,
    for_organization: Callable[[int, str], bool] | None = None,
) -> Callable[[Consumer], Consumer]:
    """Register a function that receives every event of `topic` (once per event, at least once).
    Its name is stored on each delivery, so keep it stable (it defaults to module.function).

    `wants(payload)`, when given, is asked as the event is written: an event it does not want gets
    no delivery for this consumer (a pure function of the payload; no queries).
    `for_organization(organization_id, topic)`, when given, is asked once per `emit`/`emit_many`
    call, inside its transaction: False gives none of that call's events a delivery for this
    consumer (one cheap query at most: it runs for every batch of the bill run)."""

    def register(function: Consumer) -> Consumer:
        consumer_name = name or f"{function.__module__}.{function.__qualname__}"
        _consumers.setdefault(topic, {})[consumer_name] = function
        if wants is not None:
            _wants[(topic, consumer_name)] = wants
        if for_organization is not None:
            _for_organization[(topic, consumer_name)] = for_organization
        return function

    return register


def consumers_of(topic: str, payload: dict | None = None, *, organization_id: int | None = None) -> list[str]:
    """The consumers of `topic`; with an `organization_id`, only those that serve it; with a
    `payload`, only those that want it."""
    names = sorted(_consumers.get(topic, {}))
    if organization_id is not None:
        names = [
            n
            for n in names
            if (check := _for_organization.get((topic, n))) is None or check(organization_id, topic)
        ]
    if payload is None:
        return names
    return _wanting(topic, names, payload)


def _wanting(topic: str, names: list[str], payload: dict) -> list[str]:
    return [n for n in names if (wants := _wants.get((topic, n))) is None or wants(payload)]


def emit(topic: str, *, organization: Organization, payload: dict, key: str | None = None) -> OutboxEvent:
    """Write an event in the current transaction, with a delivery for each consumer of its topic.
    A `key` already used by the organization hands back the earlier event: nothing is emitted twice."""
    now = clock.now()
    with transaction.atomic():
        if key is not None:
            earlier = OutboxEvent.all_tenants.filter(organization=organization, key=key).first()
            if earlier is not None:
                return earlier
        names = consumers_of(topic, payload, organization_id=organization.pk)
        fields = {
            "topic": topic,
            "key": key,
            "payload": payload,
            "created_at": now,
            "delivery_count": len(names),
        }
        if key is None:
            event = OutboxEvent.all_tenants.create(organization=organization, **fields)
        else:
            try:  # a concurrent emit with the same key may win between our check and our insert
                with transaction.atomic():
                    event = OutboxEvent.all_tenants.create(organization=organization, **fields)
            except IntegrityError:
                return OutboxEvent.all_tenants.get(organization=organization, key=key)
        deliveries = OutboxDelivery.all_tenants.bulk_create(
            OutboxDelivery(
                organization=organization, event=event, consumer=name, available_at=now, created_at=now
            )
            for name in names
        )
        if deliveries:
            ids = [d.pk for d in deliveries] if deliveries[0].pk else _delivery_ids(event)
            transaction.on_commit(partial(_enqueue, ids))
    return event


def emit_many(
    topic: str, *, organization: Organization, events: Iterable[tuple[str | None, dict]]
) -> list[OutboxEvent]:
    """`emit` for many new events of one topic at once (the bill run's batch): `(key, payload)`
    pairs, two bulk inserts (`core.bulk`) for the lot. The keys must be new (of objects created in this transaction):
    a repeated key fails the transaction rather than being handed back."""
    now = clock.now()
    rows, wanted = [], []
    serving = None  # asked once for the lot, and only if there is an event
    for key, payload in events:
        if serving is None:
            serving = consumers_of(topic, organization_id=organization.pk)
        names = _wanting(topic, serving, payload)
        rows.append(
            {
                "organization_id": organization.pk,
                "topic": topic,
                "key": key,
                "payload": _jsonable(payload),
                "created_at": now,
                "delivery_count": len(names),
            }
        )
        wanted.append(names)
    if not rows:
        return []
    from portico.core import bulk

    with transaction.atomic():
        event_ids = bulk.insert(OutboxEvent, rows)
        deliveries = [
            {
                "organization_id": organization.pk,
                "event_id": pk,
                "consumer": name,
                "available_at": now,
                "created_at": now,
            }
            for pk, names in zip(event_ids, wanted, strict=True)
            for name in names
        ]
        ids = bulk.insert(OutboxDelivery, deliveries)
        for start in range(0, len(ids), BATCH):  # a delivery task claims at most BATCH
            transaction.on_commit(partial(_enqueue, ids[start : start + BATCH]))
    return bulk.instances(OutboxEvent, rows)


def emit_for(topic: str, obj, *, once: bool = True, **data) -> OutboxEvent:
    """A domain event about one object: its organization, model, id and customer, and `data`, as the
    payload. `once` (the default) emits it once per object, for events that can happen only once."""
    key = f"{topic}:{obj._meta.label_lower}:{obj.pk}" if once else None
    payload = {"object": obj._meta.label_lower, "id": obj.pk, "customer": getattr(obj, "customer_id", None)}
    payload.update(_jsonable(data))
    return emit(topic, organization=obj.organization, payload=payload, key=key)


def _delivery_ids(event: OutboxEvent) -> list[int]:
    return list(OutboxDelivery.all_tenants.filter(event=event).values_list("pk", flat=True))


def _enqueue(ids: list[int]) -> None:
    # A failed enqueue loses nothing: the sweeper finds the deliveries due.
    try:
        deliver_task.enqueue(ids)
    except Exception:
        log.exception("Could not enqueue outbox deliveries %s; the sweeper will deliver them", ids)


@task()
def deliver_task(delivery_ids: list[int]) -> str:
    """Deliver the deliveries an event just committed got (unless a sweeper took them first)."""
    return str(deliver(ids=delivery_ids))


# -- delivering ---------------------------------------------------------------------------------------


# What one delivery pass did (the shape every lease-claimed queue reports in).
DeliveryReport = leases.Report


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, … at most an hour."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def _due(now: dt.datetime) -> Q:
    return Q(status=Status.PENDING, available_at__lte=now) | Q(
        status=Status.IN_PROGRESS, claimed_until__lt=now
    )


def claim(*, ids: Iterable[int] | None = None, limit: int = BATCH) -> tuple[str, list[OutboxDelivery]]:
    """Take up to `limit` due deliveries (of `ids` only, when given) under a new lease; returns its
    token and the deliveries. Another worker's claim in between simply leaves them out."""
    now = clock.now()
    queued = OutboxDelivery.all_tenants.all()
    if ids is not None:
        queued = queued.filter(pk__in=list(ids))
    token, claimed = leases.claim(
        queued,
        due=_due(now),
        order_by=("available_at", "pk"),
        limit=limit,
        status=Status.IN_PROGRESS,
        lease_until=now + LEASE,
    )
    return token, list(claimed.select_related("event", "organization").order_by("pk"))


def deliver(*, ids: Iterable[int] | None = None, limit: int = BATCH) -> DeliveryReport:
    """Claim what is due and hand each delivery to its consumer, outside any transaction."""
    report = DeliveryReport()
    token, deliveries = claim(ids=ids, limit=limit)
    for delivery in deliveries:
        report.count(_deliver_one(delivery, token))
    return report


def deliver_all_due() -> DeliveryReport:
    """Deliver batches until nothing is due (failures wait for their backoff, so this ends)."""
    total = DeliveryReport()
    while True:
        report = deliver()
        total.add(report)
        if report.claimed < BATCH:
            return total


def _deliver_one(delivery: OutboxDelivery, token: str) -> str:
    event = delivery.event
    event.organization = delivery.organization
    handler = _consumers.get(event.topic, {}).get(delivery.consumer)
    with tenancy.for_tenant(delivery.organization):
        try:
            if handler is None:
                raise LookupError(f"no consumer {delivery.consumer!r} is registered for {event.topic!r}")
            handler(event)
        except Exception as error:
            return _record_failure(delivery, token, error)
    leases.mine(OutboxDelivery, delivery.pk, token, Status.IN_PROGRESS).update(
        status=Status.DELIVERED, delivered_at=clock.now(), claimed_until=None
    )
    return "delivered"


def _record_failure(delivery: OutboxDelivery, token: str, error: Exception) -> str:
    message = f"{type(error).__name__}: {error}"[:2000]
    now = clock.now()
    give_up = delivery.attempts >= MAX_ATTEMPTS
    log.warning(
        "outbox delivery %s (%s → %s) attempt %s failed: %s",
        delivery.pk,
        delivery.event.topic,
        delivery.consumer,
        delivery.attempts,
        message,
    )
    with transaction.atomic():
        changed = leases.mine(OutboxDelivery, delivery.pk, token, Status.IN_PROGRESS).update(
            status=Status.FAILED if give_up else Status.PENDING,
            available_at=now if give_up else now + backoff(delivery.attempts),
            claimed_until=None,
            last_error=message,
        )
        if changed and give_up:
            audit(
                SYSTEM,
                "outbox.delivery_failed",
                delivery,
                topic=delivery.event.topic,
                consumer=delivery.consumer,
                attempts=delivery.attempts,
                error=message,
            )
    return "failed" if give_up else "retrying"


def retry_delivery(*, delivery: OutboxDelivery, actor: Actor) -> OutboxDelivery:
    """Give a failed delivery a fresh round of attempts, starting now."""
    now = clock.now()
    with transaction.atomic():
        changed = OutboxDelivery.all_tenants.filter(pk=delivery.pk, status=Status.FAILED).update(
            status=Status.PENDING, attempts=0, available_at=now
        )
        delivery.refresh_from_db()
        if changed:
            audit(
                actor,
                "outbox.delivery_retried",
                delivery,
                topic=delivery.event.topic,
                consumer=delivery.consumer,
            )
            transaction.on_commit(partial(_enqueue, [delivery.pk]))
    return delivery
