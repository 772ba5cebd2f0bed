"""Lists cost the same number of queries for one object and for many (no query per row), for every
list operation the router declares."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.operations import operations
from tests.api.world import build_world
from tests.factories import ContactFactory

LISTS = [o for o in operations() if o.method == "GET" and o.path.endswith("s")]


def _count(api, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url, {"limit": 100})
    assert response.status_code == 200, response.content
    return len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]])


@pytest.mark.parametrize("operation", LISTS, ids=str)
def test_a_list_costs_the_same_for_one_and_for_many(operation, api, org, clock):
    ours = build_world(org)
    url = operation.url(ours)
    _count(api, url)  # the key's first use and rate window, written once
    few = _count(api, url)
    for n in range(5):
        build_world(org, tag=f"-{n}")
        ContactFactory(customer=ours["customer"])
        ours["coupon"].codes.create(organization=org, code=f"MORE{n}")
    assert _count(api, url) == few
