"""The overview's "invoiced and paid" chart: its table says, month by month, exactly what the ledger
holds for this customer (issued, non-void invoices by issue date; payments by the day received),
for the twelve months ending with the organization's today, at a fixed number of queries."""

import datetime as dt
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.billing.services import finalize_invoice, void_invoice
from portico.portal.models import preferences_of
from tests.billing.factories import ACTOR, draft_invoice, open_invoice, pay
from tests.factories import ContactFactory
from tests.portal.conftest import client_for


def chart_rows(response) -> list[tuple[str, ...]]:
    """(month, invoiced, paid) of each row of the chart's table, its total row last."""
    html = response.content.decode()
    figure = re.search(r'<figure class="chart" id="invoiced-vs-paid">(.*?)</figure>', html, re.S)
    assert figure, "no invoiced-vs-paid chart on the page"
    rows = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td class="num" data-label="Invoiced">([^<]+)</td>'
        r'<td class="num" data-label="Paid">([^<]+)</td></tr>',
        figure.group(1),
    )
    return rows


def issued(customer, minor: int, on: dt.date):
    return finalize_invoice(invoice=draft_invoice(customer, minor), actor=ACTOR, issue_date=on)


def test_the_chart_table_adds_up_the_ledger_month_by_month(portal_client, customer, outsider_customer, clock):
    before_window = issued(customer, 120000, dt.date(2025, 3, 31))
    april = issued(customer, 50000, dt.date(2025, 4, 1))
    november = issued(customer, 25050, dt.date(2025, 11, 15))
    issued(customer, 10000, dt.date(2025, 11, 30))
    voided = issued(customer, 80000, dt.date(2026, 1, 20))
    void_invoice(invoice=voided, actor=ACTOR, reason="Issued twice")
    issued(customer, 7525, dt.date(2026, 3, 10))
    draft_invoice(customer, 99999)  # a draft is not invoiced yet
    issued(outsider_customer, 44400, dt.date(2026, 2, 1))  # another customer's
    pay(customer, 10000, (before_window, 10000), received_on=dt.date(2025, 3, 31))
    pay(customer, 50000, (april, 50000), received_on=dt.date(2025, 4, 15))
    pay(customer, 20000, (november, 20000), received_on=dt.date(2025, 12, 1))
    pay(customer, 30000, received_on=dt.date(2026, 2, 28))  # an advance is money paid too
    pay(outsider_customer, 44400, received_on=dt.date(2026, 2, 2))

    # 03:00 UTC on April 1 is still March 31 in Chicago: the window ends with March
    clock.set("2026-04-01T03:00:00+00:00")
    rows = chart_rows(portal_client.get("/portal/"))

    assert rows == [
        ("April 2025", "$500.00", "$500.00"),
        ("May 2025", "$0.00", "$0.00"),
        ("June 2025", "$0.00", "$0.00"),
        ("July 2025", "$0.00", "$0.00"),
        ("August 2025", "$0.00", "$0.00"),
        ("September 2025", "$0.00", "$0.00"),
        ("October 2025", "$0.00", "$0.00"),
        ("November 2025", "$350.50", "$0.00"),
        ("December 2025", "$0.00", "$200.00"),
        ("January 2026", "$0.00", "$0.00"),
        ("February 2026", "$0.00", "$300.00"),
        ("March 2026", "$75.25", "$0.00"),
        ("Total", "$925.75", "$1,000.00"),
    ]


def test_a_customer_without_invoices_sees_nothing_yet_rather_than_an_empty_chart(portal_client, clock):
    html = portal_client.get("/portal/").content.decode()
    assert "Nothing invoiced or paid in the last 12 months yet." in html
    assert 'role="img"' not in html


def test_the_chart_follows_the_invoices_module_and_shows_to_every_role(org, customer, portal_client, clock):
    open_invoice(customer, 1000)
    viewer = client_for(ContactFactory(customer=customer, email="vera@acme.example", portal_role="viewer"))
    assert chart_rows(viewer.get("/portal/"))[-1] == ("Total", "$10.00", "$0.00")
    prefs = preferences_of(org)
    prefs.disabled = ["invoices"]
    prefs.save()
    html = portal_client.get("/portal/").content.decode()
    assert 'id="invoiced-vs-paid"' not in html and "Invoiced and paid" not in html


def dashboard_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/portal/").status_code == 200
    return [
        q["sql"]
        for q in captured.captured_queries
        if "usersessions_usersession" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]


def invoices_across_the_year(customer, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        day = dt.date(2025, 4, 1) + dt.timedelta(days=(n * 7) % 340)
        invoice = issued(customer, 1000 + n, day)
        if n % 2:
            pay(customer, invoice.total_minor, (invoice, invoice.total_minor), received_on=day)


def test_the_dashboard_costs_the_same_queries_for_5_and_for_50_invoices(portal_client, customer, clock):
    invoices_across_the_year(customer, 5)
    portal_client.get("/portal/")  # warm per-process caches
    few = dashboard_queries(portal_client)
    invoices_across_the_year(customer, 45, start=5)
    many = dashboard_queries(portal_client)
    assert len(many) == len(few), "\n".join(many)
    assert chart_rows(portal_client.get("/portal/"))[-1][1] == "$512.25"  # Σ 1000 + n, n < 50 cents
