"""Query-count guards: a ledger page costs the same number of queries for 5 invoices as for 500."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.billing.selectors import account_balance
from portico.billing.statements import statement_for
from portico.core import clock as core_clock
from tests.billing.factories import credit_note
from tests.perf.bulk import bulk_ledger

PAGES = [
    "/portal/",
    "/portal/invoices/",
    "/portal/invoices/?status=overdue&sort=-total",
    "/portal/statements/?period=this_year",
    "/portal/payments/",
    "/portal/credits/",
    "/portal/invoices/INV-C{customer}-000004/",
    "/portal/pay/",
]


def queries(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    # allauth's session tracking writes `last_seen_at` when enough wall-clock time has passed: not ours
    return [
        q["sql"]
        for q in captured.captured_queries
        if "usersessions_usersession" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]


@pytest.mark.parametrize("page", PAGES)
def test_ledger_pages_issue_the_same_queries_for_5_and_for_500_invoices(page, portal_client, customer, clock):
    url = page.format(customer=customer.pk)
    today = clock.now().date()
    bulk_ledger(customer, 5, end=today, tag=f"C{customer.pk}-")
    credit_note(customer, 1000)
    portal_client.get(url)  # warm per-process caches (content types, preferences row)
    few = queries(portal_client, url)
    bulk_ledger(customer, 495, end=today, tag=f"C{customer.pk}-B")
    credit_note(customer, 2000)
    many = queries(portal_client, url)
    assert len(many) == len(few), "\n".join(many)


def test_the_bulk_rows_keep_the_ledger_invariants(customer, clock):
    bulk_ledger(customer, 120, end=clock.now().date())
    today = core_clock.today(customer.organization.time_zone)
    statement = statement_for(customer, today.replace(year=2020), today)
    assert statement.closing_balance == account_balance(customer)
