"""Who may call what, for every operation the API's router declares (`tests.api.operations`):
another organization's ids answer 404, a missing, unknown or revoked key 401, a read key on any
write 403 — and none of them changes anything."""

from __future__ import annotations

import pytest

from portico.api.models import ApiKey
from portico.api.services import revoke_key
from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.customers.models import Customer
from tests.api.conftest import ApiClient, assert_error, new_key
from tests.api.operations import BODY_REFERENCES, PATH_PARAMETERS, body_of, operations, reference
from tests.api.world import build_world

OPERATIONS = operations()


def _ids(operation):
    return str(operation)


@pytest.fixture
def ours(org):
    return build_world(org)


@pytest.fixture
def theirs(other_org):
    return build_world(other_org)


def _changes() -> int:
    return AuditEvent.all_tenants.exclude(action__startswith="api_key.").count()


def test_the_api_declares_the_operations_these_tests_walk():
    assert len(OPERATIONS) > 40
    assert {"GET /api/v1/customers", "POST /api/v1/contacts/{contact_id}/invite"} <= {
        str(o) for o in OPERATIONS
    }
    for operation in OPERATIONS:
        unknown = set(operation.parameters) - set(PATH_PARAMETERS)
        assert not unknown, f"{operation}: add {unknown} to tests.api.operations.PATH_PARAMETERS"


@pytest.mark.parametrize("operation", OPERATIONS, ids=_ids)
def test_another_organizations_ids_answer_404(operation, api, ours, theirs):
    before = _changes()
    if operation.parameters:
        response = api.request(operation.method, operation.url(theirs), body_of(operation))
        assert_error(response, 404, "resource_missing")
    elif operation.method == "GET" and operation.is_list:
        collection = operation.path.rstrip("/").rsplit("/", 1)[-1]
        kind = collection[:-3] + "y" if collection.endswith("ies") else collection.removesuffix("s")
        response = api.get(operation.path, {"starting_after": _id(theirs[kind])})
        assert_error(response, 404, "resource_missing")
    else:
        properties = (operation.body_schema or {}).get("properties", {})
        references = [name for name in properties if name in BODY_REFERENCES]
        for name in references:
            body = body_of(operation)
            for each in references:  # every reference ours, but one
                body[each], _ = reference(properties[each], each, _id(ours[BODY_REFERENCES[each]]))
            body[name], field = reference(properties[name], name, _id(theirs[BODY_REFERENCES[name]]))
            error = assert_error(api.post(operation.path, body), 404, "resource_missing")
            assert error["field"] == field
    assert _changes() == before


def _id(obj):
    from portico.api import ids

    return ids.public_id(obj)


@pytest.mark.parametrize("operation", [o for o in OPERATIONS if o.method == "GET"], ids=_ids)
def test_our_own_ids_are_found(operation, api, ours):
    response = api.get(operation.url(ours))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("operation", OPERATIONS, ids=_ids)
def test_no_unknown_or_revoked_key_answers_401(operation, org, ours):
    revoked = new_key(org, name="Old")
    revoke_key(key=ApiKey.objects.get(name="Old"), actor=Actor.system())
    before = _changes()
    for token in (None, "", "ptk_nope_" + "x" * 40, revoked, revoked[:-1] + "A", "Basic dXNlcjpwYXNz"):
        client = ApiClient(token)
        if token and token.startswith("Basic"):
            client = ApiClient(None)
            response = client.request(
                operation.method, operation.url(ours), body_of(operation), headers={"Authorization": token}
            )
        else:
            response = client.request(operation.method, operation.url(ours), body_of(operation))
        assert_error(response, 401, "authentication_required")
    assert _changes() == before


@pytest.mark.parametrize("operation", [o for o in OPERATIONS if o.is_write], ids=_ids)
def test_a_read_key_may_not_write(operation, read_api, ours):
    before = (_changes(), Customer.objects.count())
    assert_error(
        read_api.request(operation.method, operation.url(ours), body_of(operation)), 403, "permission_denied"
    )
    assert (_changes(), Customer.objects.count()) == before


def test_a_read_key_reads(read_api, ours):
    assert read_api.get("/api/v1/customers").status_code == 200


def test_a_key_on_another_organizations_host_acts_for_nobody(org, other_org, ours, theirs):
    token = new_key(org)
    on_their_host = ApiClient(token, host=other_org.host)
    assert on_their_host.get("/api/v1/customers").status_code == 404
    assert on_their_host.post("/api/v1/customers", {"display_name": "Sneaky"}).status_code == 404
    assert not Customer.all_tenants.filter(display_name="Sneaky").exists()
    on_our_host = ApiClient(token, host=org.host)
    assert [row["id"] for row in on_our_host.get("/api/v1/customers").json()["data"]] == [
        _id(ours["customer"])
    ]


def test_the_key_middleware_activates_the_keys_organization_only(org, other_org, ours, theirs, api):
    listed = {row["id"] for row in api.get("/api/v1/customers").json()["data"]}
    assert listed == {_id(ours["customer"])}


def test_last_used_is_written_at_most_once_a_minute(org, api, clock):
    key = ApiKey.objects.get()
    api.get("/api/v1/customers")
    first = ApiKey.objects.get().last_used_at
    assert first == clock.now()
    clock.advance(seconds=30)
    api.get("/api/v1/customers")
    assert ApiKey.objects.get().last_used_at == first
    clock.advance(seconds=31)
    api.get("/api/v1/customers")
    assert ApiKey.objects.get(pk=key.pk).last_used_at == clock.now()
