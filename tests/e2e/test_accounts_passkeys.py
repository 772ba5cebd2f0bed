"""Passkeys need JavaScript by nature: added from the security page with Chromium's virtual
authenticator (the DevTools WebAuthn domain), then used to sign in without a password."""

from __future__ import annotations

from allauth.mfa.models import Authenticator

from portico.core.models import AuditEvent
from portico.demo.loader import load_demo
from tests.e2e.conftest import axe_check, screenshot, sign_in


def virtual_authenticator(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp


def test_a_customer_adds_a_passkey_and_signs_in_with_it(page, tenant_url):
    demo = load_demo()
    org = demo.renotech
    virtual_authenticator(page)
    sign_in(page, tenant_url(org, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()

    page.get_by_role("link", name="Security").click()
    page.get_by_role("link", name="Add a passkey").click()
    if "/reauthenticate/" in page.url:
        page.get_by_label("Password").fill("portico-demo")
        page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Name").fill("Laptop")
    page.get_by_label("Also sign in with it without a password").check()
    axe_check(page)
    screenshot(page, "accounts-passkey-add")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    maria = demo.contacts["acme:maria@acme.example"].user
    assert Authenticator.objects.filter(user=maria, type=Authenticator.Type.WEBAUTHN).count() == 1
    assert AuditEvent.all_tenants.filter(action="mfa.passkey.enabled", actor_user=maria).exists()

    page.get_by_role("button", name="Sign out").click()
    page.goto(tenant_url(org, "/portal/account/login/"))
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    assert AuditEvent.all_tenants.filter(action="login.succeeded", actor_user=maria).count() == 2
