"""The portal's project pages: the list and a project's page show the ledger's figures (hand-computed
from `tests.portal.projects_world`), milestones with their status, invoices with the payments and
credits applied to each, and the two charts with their tables; other customers' and organizations'
projects are not found; the module switched off takes the pages and the link with it."""

from __future__ import annotations

import re

import pytest

from portico.portal.models import preferences_of
from portico.projects.models import TimeEntry
from tests.factories import ContactFactory, CustomerFactory
from tests.portal.conftest import client_for
from tests.portal.projects_world import acme_projects, outsider_project

pytestmark = pytest.mark.usefixtures("clock")

NBSP = "\u00a0"


@pytest.fixture
def world(customer):
    return acme_projects(customer)


def cells(html: str, table_caption: str) -> list[list[str]]:
    """The text of each body row (th and td cells) of the table with this caption."""
    found = re.search(
        r"<table[^>]*>\s*<caption[^>]*>" + re.escape(table_caption) + r"</caption>(.*?)</table>", html, re.S
    )
    assert found, f"no table captioned {table_caption!r}"
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in rows
    ]


def chart_rows(html: str, chart_id: str) -> list[list[str]]:
    figure = re.search(rf'<figure class="chart" id="{chart_id}">(.*?)</figure>', html, re.S)
    assert figure, f"no chart {chart_id}"
    body = figure.group(1)
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", body, re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.split(r"</th>|</td>", row) if c.strip()]
        for row in rows
    ]


# -- the list --------------------------------------------------------------------------------------


def test_the_list_shows_each_projects_budget_billed_paid_outstanding_and_unbilled(portal_client, world):
    html = portal_client.get("/portal/projects/").content.decode()
    rows = cells(html, "2 projects")
    assert rows[1:] == [
        [
            "P-1 · Kitchen remodel", "Active", "$5,000.00", "$650.00", "$400.00", "$200.00", "$125.00",
            f"3.75{NBSP}h",
        ],
        ["P-2 · Bathroom", "Active", "None", "$2,000.00", "$2,000.00", "$0.00", "$1,500.00", "Not asked"],
    ]  # fmt: skip
    assert 'href="/portal/projects/P-1/"' in html and 'href="/portal/projects/P-2/"' in html


def test_the_list_never_shows_another_customers_project(portal_client, world, outsider_customer, other_org):
    outsider_project(outsider_customer)
    html = portal_client.get("/portal/projects/").content.decode()
    assert "Q-9" not in html and "Café fit-out" not in html
    assert "2 projects" in html


def test_without_projects_the_list_says_so(portal_client):
    assert "No projects yet." in portal_client.get("/portal/projects/").content.decode()


# -- one project -----------------------------------------------------------------------------------


def test_the_project_page_shows_the_ledgers_figures(portal_client, world):
    html = portal_client.get("/portal/projects/P-1/").content.decode()
    figures = dict(re.findall(r'<h2 class="stat-label">([^<]+)</h2><p class="stat-value">([^<]+)</p>', html))
    assert figures == {
        "Budget": "$5,000.00",
        "Billed": "$650.00",
        "Paid": "$400.00",
        "Outstanding": "$200.00",
        "Unbilled": "$125.00",
        "Hours logged": f"12.5{NBSP}h",
    }
    assert "13.0% used" in html and "and $50.00 credited" in html
    assert "Outstanding on this project: <strong>$200.00</strong>" in html


def test_each_invoice_lists_the_payments_and_credits_applied_to_it_with_links(portal_client, world):
    html = portal_client.get("/portal/projects/P-1/").content.decode()
    (row,) = cells(html, "Invoices of this project, with the payments and credits applied to each")[1:]
    number = world.invoice_a.number
    assert row[0] == number and row[2] == "$650.00" and row[4] == "$200.00" and row[5] == "Partially paid"
    assert f"Payment of $400.00 on Mar 5, 2026 ({world.payment.number})" in row[3]
    assert f"Credit of $50.00 on Mar 5, 2026 ({world.credit.number})" in row[3]
    assert f'href="/portal/invoices/{number}/"' in html
    assert f'href="/portal/payments/{world.payment.number}/receipt/"' in html
    assert world.invoice_b.number not in html  # the other project's invoice


def test_milestones_show_their_status_paid_derived_from_the_invoice(portal_client, world):
    html = portal_client.get("/portal/projects/P-2/").content.decode()
    assert cells(html, "Milestones of this project")[1:] == [
        ["Design sign-off", "Jan 15, 2026", "$2,000.00", "Paid", world.invoice_b.number],
        ["Tiling", "Mar 1, 2026", "$1,500.00", "Due", ""],
        ["Handover", "Apr 30, 2026", "$500.00", "Pending", ""],
    ]
    assert f'href="/portal/invoices/{world.invoice_b.number}/"' in html


def test_the_budget_burn_charts_table_carries_the_ledgers_running_totals(portal_client, world):
    html = portal_client.get("/portal/projects/P-1/").content.decode()
    assert 'aria-labelledby="budget-burn-title budget-burn-desc"' in html
    assert chart_rows(html, "budget-burn") == [
        ["February 2026", "$5,000.00", "$650.00", "$0.00"],
        ["March 2026", "$5,000.00", "$650.00", "$400.00"],
    ]


def test_the_hours_chart_stacks_each_months_hours_by_task(portal_client, world):
    html = portal_client.get("/portal/projects/P-1/").content.decode()
    h = f"{NBSP}h"
    assert chart_rows(html, "hours-by-task") == [
        ["February 2026", f"4{h}", f"2.5{h}", f"0{h}", f"6.5{h}"],
        ["March 2026", f"3{h}", f"2{h}", f"1{h}", f"6{h}"],
        ["Total", f"7{h}", f"4.5{h}", f"1{h}", f"12.5{h}"],
    ]
    figure = re.search(r'<figure class="chart" id="hours-by-task">(.*?)</figure>', html, re.S).group(1)
    assert [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', figure)] == [
        "Month", "Build", "Design", "Internal", "Total",
    ]  # fmt: skip


def test_a_project_without_invoices_or_time_says_so_instead_of_empty_charts(portal_client, customer):
    from tests.projects.factories import project

    project(customer, code="NEW", name="Garden")
    html = portal_client.get("/portal/projects/NEW/").content.decode()
    assert "Nothing has been invoiced on this project yet." in html
    assert "No time has been logged on this project yet." in html
    assert 'role="img"' not in html


def test_without_the_invoices_module_the_invoice_numbers_show_without_links(portal_client, world, org):
    prefs = preferences_of(org)
    prefs.disabled = ["invoices", "payments"]
    prefs.save()
    html = portal_client.get("/portal/projects/P-1/").content.decode()
    assert world.invoice_a.number in html
    assert "/portal/invoices/" not in html and "/receipt/" not in html


# -- access ----------------------------------------------------------------------------------------

PAGES = [
    "/portal/projects/{}/",
    "/portal/projects/{}/hours/",
    "/portal/projects/{}/hours/csv/",
    "/portal/projects/{}/hours/approve/",
    "/portal/projects/{}/hours/dispute/",
]


@pytest.mark.parametrize("page", PAGES)
def test_another_customers_project_is_not_found_on_every_project_page(
    page, portal_client, world, outsider_customer
):
    theirs, entry = outsider_project(outsider_customer)
    url = page.format(theirs.code)
    assert portal_client.get(url).status_code in (404, 405)
    assert portal_client.post(url, {"entry": entry.public_id, "comment": "x"}).status_code in (404, 405)
    entry.refresh_from_db()
    assert entry.state == "unapproved"


@pytest.mark.parametrize("page", PAGES)
def test_another_organizations_project_is_not_found(page, portal_client, other_org):
    from portico.core.tenancy import tenant

    with tenant(other_org):
        _theirs, entry = outsider_project(CustomerFactory(organization=other_org, currency="GBP"), code="P-1")
    assert portal_client.get(page.format("P-1")).status_code in (404, 405)
    assert portal_client.post(page.format("P-1"), {"entry": entry.public_id, "comment": "x"}).status_code in (
        404,
        405,
    )
    assert TimeEntry.all_tenants.get(pk=entry.pk).state == "unapproved"


@pytest.mark.parametrize("page", ["/portal/projects/", *PAGES])
def test_the_module_switched_off_answers_404_and_its_link_vanishes(page, portal_client, world, org):
    assert 'href="/portal/projects/"' in portal_client.get("/portal/").content.decode()
    prefs = preferences_of(org)
    prefs.disabled = ["projects"]
    prefs.save()
    assert portal_client.get(page.format("P-1")).status_code == 404
    assert portal_client.post(page.format("P-1"), {}).status_code == 404
    assert 'href="/portal/projects/"' not in portal_client.get("/portal/").content.decode()


def test_every_role_reads_projects_and_the_link_shows_to_a_viewer(world, customer):
    viewer = client_for(ContactFactory(customer=customer, email="vera@acme.example", portal_role="viewer"))
    assert 'href="/portal/projects/"' in viewer.get("/portal/").content.decode()
    for url in ("/portal/projects/", "/portal/projects/P-1/", "/portal/projects/P-1/hours/"):
        assert viewer.get(url).status_code == 200, url


def test_each_project_page_declares_its_gate_reading_for_every_role_reviewing_for_billing_and_admin():
    from portico.portal.capabilities import portal_urls, registry

    gates = {
        route: (callback.portal_gate["module"], callback.portal_gate["action"])
        for route, _name, callback in portal_urls()
        if route.startswith("portal/projects/")
    }
    assert gates == {
        "portal/projects/": ("projects", "view"),
        "portal/projects/<str:code>/": ("projects", "view"),
        "portal/projects/<str:code>/hours/": ("projects", "view"),
        "portal/projects/<str:code>/hours/csv/": ("projects", "view"),
        "portal/projects/<str:code>/hours/approve/": ("projects", "approve"),
        "portal/projects/<str:code>/hours/dispute/": ("projects", "approve"),
    }
    assert registry().get("projects", "approve").roles == ("billing", "admin")
