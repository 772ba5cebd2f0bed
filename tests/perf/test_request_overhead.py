"""The cost every signed-in portal request pays before its page does anything."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]


def test_session_activity_is_written_at_most_once_a_minute(portal_client, clock):
    portal_client.get("/portal/")
    with CaptureQueriesContext(connection) as queries:
        assert portal_client.get("/portal/").status_code == 200
    assert _writes(queries) == []

    clock.advance(seconds=61)
    with CaptureQueriesContext(connection) as queries:
        portal_client.get("/portal/")
    assert any("usersessions_usersession" in sql for sql in _writes(queries))


def test_a_new_browser_on_the_same_session_is_recorded_at_once(portal_client):
    portal_client.get("/portal/")
    with CaptureQueriesContext(connection) as queries:
        portal_client.get("/portal/", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
    assert any("usersessions_usersession" in sql for sql in _writes(queries))


def test_organization_settings_come_with_the_tenant_in_one_query(portal_client):
    portal_client.get("/portal/")
    with CaptureQueriesContext(connection) as queries:
        portal_client.get("/portal/")
    sql = [q["sql"] for q in queries]
    assert not any(s.startswith('SELECT "accounts_accesspolicy"') for s in sql)
    assert not any(s.startswith('SELECT "portal_portalconfiguration"') for s in sql)


def test_billing_settings_come_with_the_tenant_and_cost_no_query(org, portal_client):
    from portico.billing.models import BillingSettings
    from portico.billing.services import billing_settings
    from portico.core.middleware import resolve_organization

    BillingSettings.all_tenants.create(organization=org, invoice_prefix="RT-")
    with CaptureQueriesContext(connection) as queries:
        portal_client.get("/portal/")
    assert not any(q["sql"].startswith('SELECT "billing_billingsettings"') for q in queries)

    organization = resolve_organization(org.host)  # as the middleware loads it for each request
    with CaptureQueriesContext(connection) as queries:
        assert billing_settings(organization).invoice_prefix == "RT-"
    assert len(queries) == 0
