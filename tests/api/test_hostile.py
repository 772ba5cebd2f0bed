"""Hostile values in every field of every body (and in paths, queries and headers): a 4xx with the
error body, never a 500."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_error
from tests.api.operations import body_of, operations
from tests.api.world import build_world

HOSTILE = [
    "a\x00b",
    "x" * 5000,
    "",
    "<script>'--\u202e\ufeff𝕏",
    -1,
    10**40,
    1.5e308,
    "NaN",
    True,
    None,
    [None],
    {"$ne": 1},
    "2026-02-30",
]
WRITES = [o for o in operations() if o.is_write and o.body_schema]


@pytest.fixture
def ours(org):
    return build_world(org)


def _assert_client_error(response, context):
    assert 200 <= response.status_code < 500, (context, response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert_error(response, response.status_code)


@pytest.mark.parametrize("operation", WRITES, ids=str)
def test_hostile_values_in_every_field_are_refused_cleanly(operation, api, ours):
    fields = list(operation.body_schema.get("properties", {}))
    assert fields, operation
    for name in fields:
        for value in HOSTILE:
            body = body_of(operation)
            body[name] = value
            _assert_client_error(
                api.post(operation.url(ours), body), (str(operation), name, repr(value)[:40])
            )


@pytest.mark.parametrize(
    "raw",
    [b"{", b"[]", b"null", b'"text"', b"\xff\xfe", b'{"display_name": "\\u0000"}', b"[" * 5000, b"{}" * 3],
    ids=repr,
)
def test_malformed_bodies_are_a_400_or_422(api, raw):
    response = api.post("/api/v1/customers", raw=raw)
    assert response.status_code in (400, 422), (response.status_code, response.content[:200])
    assert_error(response, response.status_code)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers/%00",
        "/api/v1/customers/cus_%E2%80%AE",
        "/api/v1/customers/" + "a" * 5000,
        "/api/v1/nowhere",
        "/api/v1/customers?limit=abc",
        "/api/v1/customers?starting_after=%00",
        "/api/v1/customers?created_gte=yesterday",
        "/api/v1/customers?limit=99999999999999999999999",
    ],
)
def test_hostile_paths_and_queries_answer_4xx_with_the_error_body(api, path):
    response = api.get(path)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:200])
    assert_error(response, response.status_code)


def test_a_wrong_method_is_a_405_with_the_error_body(api):
    assert_error(api.delete("/api/v1/customers"), 405, "method_not_allowed")


def test_hostile_authorization_headers_are_a_401(org):
    from tests.api.conftest import ApiClient

    for header in (
        "Bearer",
        "Bearer " + "x" * 10_000,
        "Bearer ptk_\u00e9\u00e9\u00e9\u00e9_" + "y" * 20,
        "bearer  ",
    ):
        response = ApiClient(None).get("/api/v1/customers", headers={"Authorization": header})
        assert_error(response, 401)
