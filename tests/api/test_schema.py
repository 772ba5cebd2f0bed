"""Schemathesis against the OpenAPI document the API generates, served by the real WSGI
application, with a valid write key: no 5xx, and every response conforms to its declared schema
and status codes. A small budget here (`make test`); raise `API_SCHEMA_EXAMPLES` for a longer run."""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.serializers.json import DjangoJSONEncoder
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from portico.api.api import api
from tests.api.conftest import new_key
from tests.api.world import build_world

EXAMPLES = int(os.environ.get("API_SCHEMA_EXAMPLES", "5"))

# The document as `/api/v1/openapi.json` serves it (loaded without a request: collection has no
# database), and the real WSGI application to call.
schema = schemathesis.openapi.from_dict(
    json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1/"), cls=DjangoJSONEncoder))
)
schema.app = get_wsgi_application()
# The small budget runs each operation's random examples only; the larger one (make
# test-api-schema) adds schemathesis' coverage phase (every boundary and missing value).
schema.config.phases.coverage.enabled = EXAMPLES > 10
# What the API promises about itself. Not "every schema-valid request is accepted": business rules
# (a unique product name, an ISO 4217 code) refuse some values that the schema's types allow.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI application closes "old" connections when a request starts and ends; the test's
    connection holds its transaction, so keep it open (as Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(org, settings):
    settings.PORTICO_API_RATE_LIMIT = 1_000_000  # the limit is tested on its own
    build_world(org)
    return new_key(org)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_own_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
