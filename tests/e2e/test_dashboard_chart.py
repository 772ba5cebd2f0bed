"""The overview's "invoiced and paid" chart in a real browser: drawn, axe-clean on a desktop and on a
375 px phone (where it fits without scrolling sideways), and its table, once opened, says the same
numbers as the ledger. The `clock` fixture stands at 10 Mar 2026 (the live server reads it too)."""

from __future__ import annotations

import datetime as dt

import pytest

from portico.billing.services import finalize_invoice
from tests.billing.factories import ACTOR, draft_invoice, pay
from tests.e2e.conftest import axe_check, screenshot, sign_in
from tests.factories import PASSWORD, ContactFactory, CustomerFactory, portal_user

pytestmark = pytest.mark.e2e


def test_the_overview_chart_is_accessible_and_its_table_shows_the_ledger(page, tenant_url, org, clock):
    customer = CustomerFactory(organization=org, display_name="Acme Interiors")
    contact = ContactFactory(customer=customer, email="maria@acme.example", first_name="Maria")
    portal_user(contact)
    for minor, day in (
        (50000, dt.date(2025, 4, 1)),
        (35050, dt.date(2025, 11, 15)),
        (7525, dt.date(2026, 3, 2)),
    ):
        invoice = finalize_invoice(invoice=draft_invoice(customer, minor), actor=ACTOR, issue_date=day)
        if day.month == 4:
            pay(customer, 50000, (invoice, 50000), received_on=dt.date(2025, 4, 15))
    pay(customer, 30000, received_on=dt.date(2026, 2, 28))

    sign_in(page, tenant_url(org, "/portal/account/login/"), "maria@acme.example", PASSWORD)
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    chart = page.get_by_role("img", name="Invoiced and paid, last 12 months")
    assert chart.is_visible()
    axe_check(page)

    page.get_by_text("The numbers: Invoiced and paid, last 12 months").click()
    table = page.get_by_role("table", name="Invoiced and paid, last 12 months")
    table.wait_for()
    row = table.get_by_role("row", name="November 2025")
    assert row.get_by_role("cell").all_inner_texts() == ["$350.50", "$0.00"]
    assert table.get_by_role("row", name="February 2026").get_by_role("cell").all_inner_texts() == [
        "$0.00",
        "$300.00",
    ]
    assert table.get_by_role("row", name="Total").get_by_role("cell").all_inner_texts() == [
        "$925.75",
        "$800.00",
    ]
    axe_check(page)
    screenshot(page, "dashboard-chart")

    page.set_viewport_size({"width": 375, "height": 812})
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["width"] <= 375 and box["x"] >= 0
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], "the page scrolls sideways on a phone"
    # the month labels stay readable: at least 11 CSS pixels tall on the phone
    tick = page.locator("#invoiced-vs-paid svg text.chart-label").first
    assert tick.bounding_box()["height"] >= 11
    assert row.is_visible()
    axe_check(page)
    page.emulate_media(color_scheme="dark")
    assert chart.is_visible()
    axe_check(page)
