"""`core.bulk`: rows inserted without a model per row hold what the ORM would have written (defaults,
choices as their values, JSON, timestamps), on SQLite and PostgreSQL; `instances` equal the rows
read back; `insert_rows` lets the database number them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from portico.core import bulk
from portico.core.models import AuditEvent, OutboxDelivery, OutboxEvent


def test_insert_fills_defaults_converts_choices_and_sets_ids(org, clock):
    with transaction.atomic():
        rows = [
            {
                "organization_id": org.pk,
                "topic": "t",
                "key": f"k{n}",
                "payload": {"n": n, "s": "é"},
                "created_at": clock.now(),
            }
            for n in range(3)
        ]
        ids = bulk.insert(OutboxEvent, rows)
        deliveries = [
            {
                "organization_id": org.pk,
                "event_id": pk,
                "consumer": "c",
                "available_at": clock.now(),
                "created_at": clock.now(),
            }
            for pk in ids
        ]
        delivery_ids = bulk.insert(OutboxDelivery, deliveries)
    assert [r["id"] for r in rows] == ids and len(set(ids)) == 3
    events = list(OutboxEvent.all_tenants.filter(pk__in=ids).order_by("pk"))
    assert [(e.key, e.payload, e.delivery_count, e.created_at) for e in events] == [
        (f"k{n}", {"n": n, "s": "é"}, 0, clock.now()) for n in range(3)
    ]
    stored = OutboxDelivery.all_tenants.get(pk=delivery_ids[0])
    # The status default is a TextChoices member: stored as its value, not its name.
    assert stored.status == "pending" and stored.attempts == 0 and stored.last_error == ""
    assert stored.claimed_until is None and stored.created_at == clock.now()


def test_instances_are_the_rows_as_read_back(org, clock):
    at = clock.now()
    with transaction.atomic():
        rows = [
            {"organization_id": org.pk, "topic": "t", "key": "x", "payload": {"a": [1, 2]}, "created_at": at}
        ]
        bulk.insert(OutboxEvent, rows)
        [made] = bulk.instances(OutboxEvent, rows)
    read = OutboxEvent.all_tenants.get(pk=made.pk)
    assert (made.pk, made.organization_id, made.topic, made.key, made.payload) == (
        read.pk,
        read.organization_id,
        read.topic,
        read.key,
        read.payload,
    )
    assert not made._state.adding
    made.key = "y"
    made.save(update_fields=["key"])  # a real model instance: it saves
    assert OutboxEvent.all_tenants.get(pk=read.pk).key == "y"


def test_insert_rows_lets_the_database_number_them_after_numbered_ones(org, clock):
    at = clock.now() - dt.timedelta(days=1)
    with transaction.atomic():
        first = bulk.insert(
            AuditEvent, [{"organization_id": org.pk, "action": "a.one", "at": at, "data": {}}]
        )
        assert (
            bulk.insert_rows(
                AuditEvent,
                [{"organization_id": org.pk, "action": f"a.{n}", "at": at, "data": {}} for n in range(4)],
            )
            == 4
        )
        after = bulk.insert(
            AuditEvent, [{"organization_id": org.pk, "action": "a.last", "at": at, "data": {}}]
        )
    actions = list(
        AuditEvent.all_tenants.filter(organization=org, action__startswith="a.")
        .order_by("pk")
        .values_list("pk", "action")
    )
    assert [a for _pk, a in actions] == ["a.one", "a.0", "a.1", "a.2", "a.3", "a.last"]
    assert actions[0][0] == first[0] and actions[-1][0] == after[0]
    assert len({pk for pk, _a in actions}) == 6


def test_load_gives_the_objects_djangos_iterator_gives_with_their_related_ones(org, customer, clock):
    from portico.subscriptions.models import Subscription
    from tests.catalog.factories import plan

    team = plan(org, "team", price_minor=5000)
    made = Subscription.objects.create(
        customer=customer,
        plan=team,
        currency="USD",
        number="SUB-1",
        status="live",
        start_date=dt.date(2026, 1, 1),
        deferred_lines=[{"a": 1}],
    )
    query = Subscription.all_tenants.filter(pk=made.pk).select_related("customer")
    [django] = list(query)
    [loaded] = bulk.load(query)
    fields = [f.attname for f in Subscription._meta.concrete_fields]
    assert [getattr(loaded, f) for f in fields] == [getattr(django, f) for f in fields]
    assert loaded.deferred_lines == [{"a": 1}] and not loaded._state.adding
    # The customer came with it (no query), whole.
    assert "customer" in loaded._state.fields_cache
    assert loaded.customer.display_name == customer.display_name == django.customer.display_name
    loaded.quantity = 3
    loaded.save(update_fields=["quantity"])  # a real model instance: it saves
    assert Subscription.all_tenants.get(pk=made.pk).quantity == 3


def test_load_leaves_deferred_fields_to_load_on_use_and_refuses_what_it_cannot_build(
    org, customer, django_assert_num_queries
):
    from django.db.models import Count

    from portico.customers.models import Customer

    [loaded] = bulk.load(Customer.all_tenants.filter(pk=customer.pk).defer("created_at", "notes"))
    assert "created_at" not in loaded.__dict__ and loaded.display_name == customer.display_name
    with django_assert_num_queries(1):
        assert loaded.created_at == customer.created_at
    assert bulk.load(Customer.all_tenants.filter(pk=-1)) == []
    for refused in (
        Customer.all_tenants.annotate(n=Count("invoices")),
        Customer.all_tenants.values("pk"),
        Customer.all_tenants.extra(select={"one": "1"}),
    ):
        try:
            bulk.load(refused)
        except ValueError:
            continue
        raise AssertionError(f"bulk.load built {refused.query}")


@pytest.mark.postgres
def test_an_array_literal_reads_back_as_the_values_it_was_made_of(db):
    from decimal import Decimal

    from django.db import connection

    hostile = ['a"b', "back\\slash", "NULL", "", "{x,y}", "é, ü", " spaced ", "it's"]
    moment = dt.datetime(2026, 2, 10, 12, 30, 15, 123456, tzinfo=dt.UTC)
    cases = [
        ([1, None, 2**40], "bigint[]"),
        ([*hostile, None], "text[]"),
        ([dt.date(2026, 2, 28), None], "date[]"),
        ([moment], "timestamptz[]"),
        ([Decimal("0.0015"), Decimal("-2.50")], "numeric[]"),
        ([True, False], "boolean[]"),
    ]
    with connection.cursor() as cursor:
        for values, kind in cases:
            cursor.execute(f"SELECT %s::{kind}", [bulk.array_literal(values)])
            assert cursor.fetchone()[0] == values, kind


def test_json_goes_in_as_the_orm_would_write_it(org, clock):
    """The bulk path's JSON (orjson on PostgreSQL) reads back as the ORM's own (json) does."""
    at = clock.now()
    values = [
        {"invoices": ["INV-00001"], "total": {"minor": 4950, "currency": "USD"}, "on": "2026-02-01"},
        {'quote"back\\slash': "line\nbreak\ttab \u2028 é ü 日本 🙂", "nested": [[], {}, [None, True, 1.5]]},
        {1: "an int key", "big": 2**70, "neg": -(2**63)},  # beyond 64 bits: json's own path
        {"": "", "zero": 0, "false": False},
    ]
    with transaction.atomic():
        bulk.insert_rows(
            AuditEvent,
            [{"organization_id": org.pk, "action": "json.bulk", "at": at, "data": v} for v in values],
        )
        for v in values:
            AuditEvent.all_tenants.create(organization=org, action="json.orm", at=at, data=v)
    read = {
        action: list(
            AuditEvent.all_tenants.filter(action=action).order_by("pk").values_list("data", flat=True)
        )
        for action in ("json.bulk", "json.orm")
    }
    assert read["json.bulk"] == read["json.orm"]
    assert read["json.bulk"][0] == values[0] and read["json.bulk"][2]["1"] == "an int key"
