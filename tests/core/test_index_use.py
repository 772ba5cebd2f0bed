"""On PostgreSQL, the pages that read the tables the bill run writes most (the audit trail, the
subscriptions) find their rows through an index made for them, and no public id has the LIKE index
the schema editor adds to unique varchar columns. Each query is the one the page really sends
(captured), explained with sequential scans off: a table of a few rows would be scanned anyway."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portico.core.fields import PublicIdField
from portico.subscriptions import services
from tests.conftest import tenant_client
from tests.factories import staff_user
from tests.subscriptions.factories import ACTOR, subscribe, world

pytestmark = pytest.mark.postgres


def _plans(get, table: str) -> list[str]:
    """The plans of the queries `get()` sends that read `table`."""
    with CaptureQueriesContext(connection) as captured:
        response = get()
    assert response.status_code == 200
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in captured.captured_queries:
            sql = query["sql"]
            if f'FROM "{table}"' in sql and sql.lstrip().upper().startswith("SELECT"):
                cursor.execute("EXPLAIN " + sql)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
        cursor.execute("SET LOCAL enable_seqscan = on")
    assert plans, f"no query read {table}"
    return plans


@pytest.fixture
def sub(customer, clock):
    w = world(customer.organization)
    sub = subscribe(customer, w.starter, quantity=3)
    services.change_quantity(subscription=sub, quantity=4, actor=ACTOR)
    return sub


def test_a_subscriptions_timeline_reads_the_trail_by_its_object(portal_client, sub):
    page = reverse("portal:subscription", kwargs={"number": sub.number})
    plans = _plans(lambda: portal_client.get(page), "core_auditevent")
    assert any("audit_object_idx" in plan for plan in plans), plans


def test_the_portals_activity_reads_the_trail_by_customer(portal_client, sub):
    plans = _plans(lambda: portal_client.get(reverse("portal:security_activity")), "core_auditevent")
    assert any("audit_customer_idx" in plan for plan in plans), plans


def test_the_consoles_trail_reads_the_organizations_trail_in_time(org, sub):
    staff = tenant_client(org)
    staff.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    plans = _plans(lambda: staff.get("/console/core/auditevent/"), "core_auditevent")
    assert any("audit_trail_idx" in plan for plan in plans), plans


def test_a_customers_subscriptions_are_read_by_customer(portal_client, sub):
    plans = _plans(lambda: portal_client.get(reverse("portal:subscriptions")), "subscriptions_subscription")
    assert any("subscription_customer_idx" in plan for plan in plans), plans


def _pattern_indexes() -> list[str]:
    """Indexes with a LIKE operator class on a public id column, from the model registry."""
    found = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, PublicIdField):
                    cursor.execute(
                        "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
                        [model._meta.db_table, f"%({field.column} %_pattern_ops)%"],
                    )
                    found += [f"{model._meta.label}: {name}" for (name,) in cursor.fetchall()]
    return found


def test_no_public_id_has_a_like_index_and_the_migration_drops_one_made_before(db):
    assert _pattern_indexes() == []
    # as the schema editor made them before PublicIdField named its type `character varying`
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no foreign key check left pending
        cursor.execute(
            "CREATE INDEX customers_customer_public_id_0123abcd_like "
            "ON customers_customer (public_id varchar_pattern_ops)"
        )
    assert _pattern_indexes() == ["customers.Customer: customers_customer_public_id_0123abcd_like"]
    migration = importlib.import_module("portico.core.migrations.0009_public_ids_without_like_indexes")
    with connection.schema_editor() as editor:
        migration.drop_like_indexes(apps, editor)
    assert _pattern_indexes() == []
