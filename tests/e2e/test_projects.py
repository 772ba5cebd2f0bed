"""Projects in a real browser (axe-clean, on a desktop and on a 375 px phone): Maria opens the kitchen
project, reads its charts' tables (the ledger's numbers), filters its hours by month, approves one
entry and disputes another, exports the filtered entries as CSV and opens a linked invoice.

The data is `tests.portal.projects_world` (P-1: $650.00 billed on Feb 28, $400.00 paid on Mar 5,
$50.00 credited; March has 1.25 h approved, 3.00 h and 0.75 h awaiting approval, 1.00 h internal).
The `clock` fixture stands at 10 Mar 2026; the live server runs in this process and reads it too.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from portico.projects.models import TimeEntry
from tests.e2e.conftest import axe_check, screenshot, sign_in
from tests.factories import PASSWORD, ContactFactory, CustomerFactory, portal_user
from tests.portal.projects_world import acme_projects

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
FITS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def table_rows(table) -> list[list[str]]:
    """Each body row of a table as its header cell then its data cells."""
    rows = []
    for row in table.locator("tbody tr").all():
        rows.append(
            [
                row.locator("th").inner_text().strip(),
                *(c.strip() for c in row.locator("td").all_inner_texts()),
            ]
        )
    return rows


def assert_fits_a_phone(page) -> None:
    page.set_viewport_size(PHONE)
    scroll, width = page.evaluate(FITS)
    assert scroll <= width, f"{page.url} scrolls sideways on a 375 px phone"
    axe_check(page)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_customer_reviews_a_projects_figures_hours_and_invoices(page, tenant_url, org, clock):
    customer = CustomerFactory(organization=org, display_name="Acme Interiors")
    maria = ContactFactory(customer=customer, email="maria@acme.example", first_name="Maria", is_primary=True)
    portal_user(maria)
    world = acme_projects(customer)

    sign_in(page, tenant_url(org, "/portal/account/login/"), "maria@acme.example", PASSWORD)
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Projects").click()
    page.get_by_role("heading", name="Projects", exact=True).wait_for()
    axe_check(page)
    assert_fits_a_phone(page)

    # The project: its figures, and its charts' tables carry the ledger's numbers.
    page.get_by_role("link", name="P-1 · Kitchen remodel").click()
    page.get_by_role("heading", name="P-1 · Kitchen remodel").wait_for()
    assert page.get_by_role("img", name="Budget burn: billed and paid to date").is_visible()
    assert page.get_by_role("img", name="Hours per month by task").is_visible()
    axe_check(page)
    page.get_by_text("The numbers: Budget burn: billed and paid to date").click()
    burn = page.get_by_role("table", name="Budget burn: billed and paid to date")
    assert table_rows(burn) == [
        ["February 2026", "$5,000.00", "$650.00", "$0.00"],
        ["March 2026", "$5,000.00", "$650.00", "$400.00"],
    ]
    page.get_by_text("The numbers: Hours per month by task").click()
    hours = page.get_by_role("table", name="Hours per month by task")
    assert [[re.sub(r"\s+", " ", c) for c in row] for row in table_rows(hours)] == [
        ["February 2026", "4 h", "2.5 h", "0 h", "6.5 h"],
        ["March 2026", "3 h", "2 h", "1 h", "6 h"],
    ]
    axe_check(page)
    screenshot(page, "portal-project")
    assert_fits_a_phone(page)

    # The hours of March, one entry approved and another disputed.
    page.get_by_role("link", name="Review and approve hours").click()
    page.get_by_role("heading", name="Billable hours of P-1").wait_for()
    axe_check(page)
    page.get_by_label("Month").fill("2026-03")
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("table", name="4 time entries").wait_for()
    assert page.locator("#total-hours").inner_text().replace("\xa0", " ") == "6 h"
    axe_check(page)
    screenshot(page, "portal-project-hours")
    assert_fits_a_phone(page)

    page.get_by_role("button", name=re.compile(r"^Approve .* of Build on Mar 4, 2026$")).click()
    page.get_by_text("1 entry approved (3.00 h): it can now be invoiced.").wait_for()
    assert "month=2026-03" in page.url
    build = TimeEntry.all_tenants.get(pk=world.entries["mar_build"].pk)
    assert (build.state, build.approved_by_contact_id) == ("approved", maria.pk)

    page.get_by_role("link", name=re.compile(r"^Dispute .* of Design on Mar 5, 2026$")).click()
    page.get_by_role("heading", name="Dispute a time entry").wait_for()
    axe_check(page)
    page.get_by_label("What is wrong with this entry?").fill("Nobody visited the site on March 5.")
    page.get_by_role("button", name="Send the dispute").click()
    page.get_by_text("Your dispute was sent.").wait_for()
    disputed = TimeEntry.all_tenants.get(pk=world.entries["mar_design_sam"].pk)
    assert (disputed.state, disputed.dispute_comment) == ("disputed", "Nobody visited the site on March 5.")
    assert page.get_by_text("Nobody visited the site on March 5.").is_visible()
    axe_check(page)

    # The filtered entries as CSV.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export these entries (CSV)").click()
    rows = list(csv.reader(io.StringIO(download_info.value.path().read_text())))
    assert rows[0][:6] == ["Date", "Task", "Staff member", "Hours", "Billable", "State"]
    assert [r[:6] for r in rows[1:]] == [
        ["2026-03-03", "Design", "Riley", "1.25", "yes", "Approved"],
        ["2026-03-04", "Build", "Sam", "3.00", "yes", "Approved"],
        ["2026-03-05", "Design", "Sam", "0.75", "yes", "Disputed"],
        ["2026-03-06", "Internal", "Riley", "1.00", "no", "Approved"],
    ]

    # A linked invoice, from the project's page.
    page.get_by_role("link", name="Back to P-1 · Kitchen remodel").click()
    invoices = page.get_by_role(
        "table", name="Invoices of this project, with the payments and credits applied to each"
    )
    assert invoices.get_by_text(f"Payment of $400.00 on Mar 5, 2026 ({world.payment.number})").is_visible()
    invoices.get_by_role("link", name=world.invoice_a.number).click()
    page.get_by_role("heading", name=re.compile(world.invoice_a.number)).first.wait_for()
    assert "$650.00" in page.content()
    axe_check(page)
