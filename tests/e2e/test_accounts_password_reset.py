"""A customer who forgot their password resets it from the link in the email the SMTP server got."""

from __future__ import annotations

import re

from portico.demo.loader import load_demo
from tests.e2e.conftest import axe_check, sign_in

NEW_PASSWORD = "vera-picks-a-brand-new-passphrase"


def test_a_forgotten_password_is_reset_from_the_emailed_link(page, tenant_url, live, mailbox, settings):
    settings.PORTICO_PUBLIC_PORT = live
    demo = load_demo()
    login_url = tenant_url(demo.renotech, "/portal/account/login/")

    page.goto(login_url)
    page.get_by_role("link", name=re.compile("Forgot your password", re.I)).click()
    axe_check(page)
    page.get_by_label("Email").fill("vera@acme.example")
    page.get_by_role("button", name=re.compile("Reset my password", re.I)).click()
    page.get_by_role("heading", name=re.compile("Password reset", re.I)).wait_for()
    axe_check(page)

    [message] = mailbox.to("vera@acme.example")
    link = next(u for u in re.findall(r"https?://\S+", mailbox.body(message)) if "/password/reset/key/" in u)
    assert link.startswith(tenant_url(demo.renotech, "/portal/account/password/reset/key/"))
    page.goto(link)
    page.get_by_label(re.compile(r"^New password:?$", re.I)).fill(NEW_PASSWORD)
    page.get_by_label(re.compile(r"^New password \(again\)", re.I)).fill(NEW_PASSWORD)
    axe_check(page)
    page.get_by_role("button", name=re.compile("^Change password$", re.I)).click()
    page.get_by_text(re.compile("password is now changed", re.I)).wait_for()
    axe_check(page)

    sign_in(page, login_url, "vera@acme.example", NEW_PASSWORD)
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
