"""The organization's portal settings through the API, validated against the declared capabilities
by the console's service."""

from __future__ import annotations

from portico.core.models import AuditEvent
from portico.portal.models import preferences_of
from tests.api.conftest import assert_error


def test_portal_settings_are_read_and_changed_within_the_declared_capabilities(api, org):
    body = api.get("/api/v1/portal_settings").json()
    assert (body["disabled"], body["enabled"]) == ([], [])
    keys = {c["key"]: c for c in body["capabilities"]}
    assert keys["invoices.pay"]["is_on"] and not keys["overview.view"]["switchable"]

    changed = api.post("/api/v1/portal_settings", {"disabled": ["invoices.pay", "projects"]})
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["disabled"] == ["invoices.pay", "projects"]
    assert {c["key"]: c["is_on"] for c in body["capabilities"]}["projects.view"] is False
    org.refresh_from_db()
    assert not preferences_of(org).allows("invoices", "pay")
    assert AuditEvent.objects.filter(action="portal_preferences.changed").count() == 1


def test_portal_settings_naming_no_declared_capability_are_refused(api, org):
    for body in (
        {"disabled": ["invoices.teleport"]},
        {"disabled": ["overview"]},
        {"enabled": ["invoices.pay"]},
    ):
        error = assert_error(api.post("/api/v1/portal_settings", body), 422, "invalid_portal_settings")
        assert error["message"]
    assert_error(api.post("/api/v1/portal_settings", {"disabled": None}), 422)
    assert (preferences_of(org).disabled, AuditEvent.objects.filter(action__startswith="portal").count()) == (
        [],
        0,
    )
