"""The shape of the bill run's cost: a batch makes the same queries however many subscriptions it
holds (nothing is fetched per subscription: not a plan, an addon, a customer, nor a deferred field
of the claimed rows), so a batch of 40 costs what a batch of 4 does."""

import difflib
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.core import tenancy
from portico.subscriptions.billrun import run_bill_run
from portico.subscriptions.models import BillingPeriod
from tests.factories import OrganizationFactory
from tests.subscriptions.billrun_world import ONE_LATE, seed


def _queries_of_one_batch(organization, count: int) -> list[str]:
    with tenancy.tenant(organization):
        seed(organization, count, auto_charge_every=2)
        with CaptureQueriesContext(connection) as captured:
            report = run_bill_run(ONE_LATE, batch_size=100, organization=organization)
    assert (report.renewed, report.batches, report.failed) == (count, 1, 0)
    assert BillingPeriod.all_tenants.filter(organization=organization).count() == count
    return [q["sql"] for q in captured.captured_queries]


def test_a_batch_of_forty_makes_the_queries_a_batch_of_four_does(db):
    _queries_of_one_batch(OrganizationFactory(slug="first", name="First"), 1)  # the process's caches
    few = _queries_of_one_batch(OrganizationFactory(slug="few", name="Few"), 4)
    many = _queries_of_one_batch(OrganizationFactory(slug="many", name="Many"), 40)
    assert len(many) == len(few), "\n".join(difflib.unified_diff(_shapes(few), _shapes(many), lineterm=""))


def _shapes(queries: list[str]) -> list[str]:
    """The queries with their numbers and savepoint names blotted out, for a readable difference."""
    return [re.sub(r"\d+", "#", q)[:200] for q in queries]
