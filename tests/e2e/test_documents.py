"""Shared documents in a real browser: a customer finds the demo's documents in the portal's menu,
downloads one (a file saved, not a page shown), makes a share link, opens it signed out, and revokes it."""

from __future__ import annotations

from portico.core.models import AuditEvent
from portico.demo.loader import load_demo
from tests.e2e.conftest import axe_check, screenshot, sign_in


def test_a_customer_downloads_a_document_and_shares_then_revokes_a_link(page, browser, tenant_url):
    demo = load_demo()
    sign_in(page, tenant_url(demo.renotech, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Documents").click()
    page.get_by_role("heading", name="Documents", exact=True).wait_for()
    axe_check(page)
    screenshot(page, "documents")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download Price list 2026").click()
    assert download.value.suggested_filename == "Price list 2026.pdf"
    assert AuditEvent.all_tenants.filter(action="document.downloaded").count() == 1

    page.get_by_label("Share", exact=True).select_option(label="Price list 2026")
    page.get_by_label("Open for").select_option(label="1 day")
    page.get_by_role("button", name="Make a share link").click()
    link = page.get_by_label("Link", exact=True).input_value()
    assert "/s/" in link
    link = tenant_url(demo.renotech, "/s/" + link.split("/s/", 1)[1])  # on the test server's port
    axe_check(page)

    outsider = browser.new_context(accept_downloads=True)
    try:
        visitor = outsider.new_page()
        with visitor.expect_download() as shared:
            visitor.evaluate(
                "url => { const a = document.createElement('a'); a.href = url; a.click(); }", link
            )
        assert shared.value.suggested_filename == "Price list 2026.pdf"
        page.get_by_role("button", name="Revoke the link to Price list 2026").click()
        page.get_by_text("The link is revoked").wait_for()
        response = visitor.goto(link)
        assert response.status == 410
        visitor.get_by_role("heading", name="This link has closed").wait_for()
        axe_check(visitor)
    finally:
        outsider.close()
