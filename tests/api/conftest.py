"""Fixtures of the API's tests: keys of two organizations and clients that send them."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from portico.api.models import Scope
from portico.api.services import create_key
from portico.core.audit import Actor


class ApiClient:
    """A test client that sends a key and JSON, on a given host (the platform host by default)."""

    def __init__(self, token: str | None, host: str = "localhost"):
        self.token, self.client = token, Client(HTTP_HOST=host)

    def _headers(self, headers):
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        return sent

    def get(self, path, params=None, headers=None):
        return self.client.get(path, params or {}, headers=self._headers(headers))

    def post(self, path, body=None, headers=None, raw: bytes | str | None = None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(path, data, content_type="application/json", headers=self._headers(headers))

    def delete(self, path, headers=None):
        return self.client.delete(path, headers=self._headers(headers))

    def request(self, method, path, body=None, headers=None):
        if method == "GET":
            return self.get(path, headers=headers)
        if method == "DELETE":
            return self.delete(path, headers=headers)
        return self.post(path, body, headers=headers)


def new_key(organization, scope=Scope.WRITE, name="Tests") -> str:
    return create_key(organization=organization, name=name, scope=scope, actor=Actor.system()).secret


@pytest.fixture
def api(org):
    """A write key of `org`, on the platform host."""
    return ApiClient(new_key(org))


@pytest.fixture
def read_api(org):
    return ApiClient(new_key(org, Scope.READ, name="Reader"))


@pytest.fixture
def other_api(other_org):
    return ApiClient(new_key(other_org))


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, body
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]
