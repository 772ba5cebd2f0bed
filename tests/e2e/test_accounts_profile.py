"""A portal admin keeps the company's records right on axe-clean pages (which load no script)."""

from __future__ import annotations

from portico.demo.loader import load_demo
from tests.e2e.conftest import axe_check, screenshot, sign_in


def test_an_admin_corrects_the_company_address_and_reviews_sign_ins_and_activity(page, tenant_url):
    demo = load_demo()
    sign_in(page, tenant_url(demo.renotech, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()

    page.get_by_role("link", name="Profile").click()
    axe_check(page)
    page.get_by_role("link", name="Company").click()
    billing = page.get_by_role("group", name="Billing address")
    billing.get_by_label("Postal code").fill("ABCDE")
    page.get_by_role("button", name="Save company details").click()
    page.get_by_text("Enter a postal code in this country's format, like 12345 or 12345-6789.").wait_for()
    axe_check(page)
    screenshot(page, "accounts-company-error")
    billing.get_by_label("Postal code").fill("62704")
    page.get_by_role("button", name="Save company details").click()
    page.get_by_text("Your company details were saved.").wait_for()
    demo.customers["acme"].refresh_from_db()
    assert demo.customers["acme"].billing_postal_code == "62704"

    page.get_by_role("link", name="People and access").click()
    page.get_by_role("row", name="Lena Fischer").get_by_text("No access").wait_for()
    axe_check(page)

    page.get_by_role("link", name="Security").click()
    axe_check(page)
    screenshot(page, "accounts-security")
    page.get_by_role("link", name="Sign-in history", exact=True).click()
    page.get_by_role("cell", name="Signed in").first.wait_for()
    axe_check(page)
    page.get_by_role("link", name="Account activity").click()
    page.get_by_text("Customer details changed").wait_for()
    axe_check(page)
    assert page.locator("main script").count() == 0
