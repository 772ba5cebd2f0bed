"""API keys in the console: owners and administrators create (the secret shown once), list with
last use, and revoke them, audited; other roles cannot reach the page."""

import pytest

from portico.api.models import ApiKey
from portico.core.models import AuditEvent
from tests.api.conftest import ApiClient
from tests.conftest import tenant_client
from tests.factories import staff_user

BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"


def _client(org, role, email):
    client = tenant_client(org)
    client.force_login(staff_user(org, email=email, role=role), backend=BACKEND)
    return client


def test_an_owner_creates_a_key_sees_its_secret_once_and_revokes_it(org):
    client = _client(org, "owner", "owner@business.example")
    response = client.post("/console/api/apikey/add/", {"name": "CRM sync", "scope": "write"})
    assert response.status_code == 200, response.content[:500]
    key = ApiKey.objects.get()
    secret = response.context["secret"]
    assert secret.startswith(f"ptk_{key.prefix}_") and secret.encode() in response.content
    assert secret not in key.secret_hash and len(key.secret_hash) == 64
    assert ApiClient(secret).get("/api/v1/customers").status_code == 200
    listing = client.get("/console/api/apikey/")
    assert b"CRM sync" in listing.content and secret.encode() not in listing.content
    assert secret.encode() not in client.get(f"/console/api/apikey/{key.pk}/change/").content
    client.post("/console/api/apikey/", {"action": "revoke_keys", "_selected_action": [key.pk]})
    assert ApiKey.objects.get().revoked_at is not None
    assert ApiClient(secret).get("/api/v1/customers").status_code == 401
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"api_key.created", "api_key.revoked"} <= actions


@pytest.mark.parametrize("role", ["finance", "support", "read_only"])
def test_other_roles_cannot_see_or_create_keys(org, role):
    client = _client(org, role, f"{role}@business.example")
    assert client.get("/console/api/apikey/").status_code == 403
    assert client.post("/console/api/apikey/add/", {"name": "Mine", "scope": "write"}).status_code == 403
    assert not ApiKey.objects.exists()
