"""`field__any=ids` finds exactly what `field__in=ids` finds, on SQLite and PostgreSQL, for primary
keys and foreign keys, with an empty list matching nothing, and sends the list as one parameter on
PostgreSQL (the reason it exists)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.core.models import OutboxDelivery, OutboxEvent


def _events(org, clock, n):
    events = [
        OutboxEvent.all_tenants.create(organization=org, topic="t", payload={}, created_at=clock.now())
        for _ in range(n)
    ]
    for event in events[::2]:
        OutboxDelivery.all_tenants.create(
            organization=org, event=event, consumer="c", available_at=clock.now(), created_at=clock.now()
        )
    return events


def test_any_matches_what_in_matches_for_ids_and_foreign_keys(org, clock):
    events = _events(org, clock, 6)
    some = [events[0].pk, events[3].pk, events[4].pk, 10**12]
    assert set(OutboxEvent.all_tenants.filter(pk__any=some)) == set(
        OutboxEvent.all_tenants.filter(pk__in=some)
    )
    assert OutboxEvent.all_tenants.filter(pk__any=some).count() == 3
    by_event = OutboxDelivery.all_tenants.filter(event_id__any=some)
    assert {d.event_id for d in by_event} == {events[0].pk, events[4].pk}
    assert set(OutboxDelivery.all_tenants.filter(event__any=some)) == set(by_event)
    assert OutboxEvent.all_tenants.exclude(pk__any=some).count() == 3


def test_an_empty_list_matches_nothing_and_excludes_nothing(org, clock):
    _events(org, clock, 2)
    assert list(OutboxEvent.all_tenants.filter(pk__any=[])) == []
    assert OutboxEvent.all_tenants.exclude(pk__any=[]).count() == 2


def test_on_postgresql_the_list_is_one_parameter(org, clock):
    events = _events(org, clock, 3)
    with CaptureQueriesContext(connection) as queries:
        list(OutboxEvent.all_tenants.filter(pk__any=[e.pk for e in events]))
    sql = queries.captured_queries[-1]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and " IN (" not in sql
    else:
        assert " IN (" in sql
