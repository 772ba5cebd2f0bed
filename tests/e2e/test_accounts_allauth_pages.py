"""allauth's own pages in the portal's layout and words, in a real browser: sign-in, the two-factor
page, adding a passkey, and signing out straight from the menu. Axe-checked on each page."""

from __future__ import annotations

import re

from portico.demo.loader import load_demo
from tests.e2e.conftest import axe_check, screenshot


def test_sign_in_two_factor_page_passkey_page_and_sign_out_speak_the_portals_words(page, tenant_url):
    org = load_demo().renotech

    page.goto(tenant_url(org, "/portal/account/login/"))
    keep = page.get_by_role("checkbox", name="Keep me signed in")
    assert keep.is_visible() and not keep.is_checked()
    assert page.get_by_text("Remember Me").count() == 0
    axe_check(page)
    screenshot(page, "accounts-allauth-sign-in")
    page.get_by_label("Email", exact=True).fill("maria@acme.example")
    page.get_by_label("Password").fill("portico-demo")
    keep.check()
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()

    page.goto(tenant_url(org, "/portal/account/2fa/"))
    page.get_by_role("heading", name="Two-factor authentication").wait_for()
    page.get_by_role("heading", name="Passkeys").wait_for()
    assert page.get_by_text("Security Keys").count() == 0
    page.get_by_role("navigation", name="Portal").wait_for()  # the portal's layout, with its menu
    axe_check(page)
    screenshot(page, "accounts-allauth-two-factor")

    page.get_by_role("link", name="Add a passkey").click()
    if "/reauthenticate/" in page.url:
        axe_check(page)
        page.get_by_label("Password").fill("portico-demo")
        page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Add a passkey").wait_for()
    name = page.get_by_label("Name of this passkey").input_value()
    assert name.startswith("Passkey (") and "Master key" not in page.content()
    assert page.get_by_text("Add Security Key").count() == 0
    cancel = page.get_by_role("link", name="Cancel")
    assert "secondary" in (cancel.get_attribute("class") or "")
    assert "secondary" not in (page.get_by_role("button", name="Add passkey").get_attribute("class") or "")
    axe_check(page)
    screenshot(page, "accounts-allauth-passkey-add")
    cancel.click()
    page.wait_for_url(re.compile(r"/portal/security/$"))

    page.get_by_role("button", name="Sign out").click()  # posts from the menu: no page asking again
    page.wait_for_url(re.compile(r"/portal/account/login/"))
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.get_by_text("Are you sure you want to sign out").count() == 0
    axe_check(page)
    page.goto(tenant_url(org, "/portal/"))
    page.wait_for_url(re.compile(r"/portal/account/login/"))
