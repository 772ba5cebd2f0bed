"""A business's custom domain in a real browser: the owner adds billing.example.test in the console,
the records are served by a real DNS server (dnslib), "Verify" checks them; then a customer signs in
on https-less http://billing.example.test:<port>/ with a password, adds a passkey there and signs in
with it.

Chromium is launched for this module with two flags: `--host-resolver-rules` maps the name to the
loopback address (no /etc/hosts edit), and `--unsafely-treat-insecure-origin-as-secure` makes that
plain-http origin a secure context, as https would in production — WebAuthn exists only in secure
contexts, and only `localhost` names are secure over http by default. The passkey's relying party
is the custom domain: the stored credential's RP id hash is SHA-256 of `billing.example.test`.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlparse

import pytest
from allauth.mfa.models import Authenticator

from portico.core.models import AuditEvent, Organization
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, axe_check, screenshot, sign_in
from tests.e2e.test_accounts_passkeys import virtual_authenticator
from tests.factories import (
    PASSWORD,
    ContactFactory,
    CustomerFactory,
    OrganizationFactory,
    portal_user,
    staff_user,
)

DOMAIN = "billing.example.test"


@pytest.fixture
def domain_page(browser, live_server):
    """A page of a Chromium that resolves DOMAIN to this machine and treats its origin as secure."""
    port = urlparse(live_server.url).port
    args = [
        *CHROMIUM_ARGS,
        f"--host-resolver-rules=MAP {DOMAIN} 127.0.0.1",
        f"--unsafely-treat-insecure-origin-as-secure=http://{DOMAIN}:{port}",
    ]
    own = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    context = own.new_context(viewport=DESKTOP, locale="en-US")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()
        own.close()


@pytest.fixture
def renotech(live, settings, dns_server):
    settings.PORTICO_CNAME_TARGET = "edge.portico.test"
    org = OrganizationFactory(name="RenoTech Solutions", slug="renotech")
    customer = CustomerFactory(organization=org, display_name="Acme Interiors")
    contact = ContactFactory(
        customer=customer, email="maria@acme.example", first_name="Maria", is_primary=True
    )
    maria = portal_user(contact)
    staff_user(org, email="owner@renotech.example")
    return {"org": org, "maria": maria, "port": live, "dns": dns_server}


def _verify_in_the_console(page, world):
    org, port = world["org"], world["port"]
    sign_in(
        page,
        f"http://renotech.localhost:{port}/portal/account/login/?next=/console/",
        "owner@renotech.example",
        PASSWORD,
    )
    page.goto(f"http://renotech.localhost:{port}/console/core/organization/{org.pk}/change/")
    page.get_by_role("link", name="Custom domain").click()
    page.get_by_label("Custom domain").fill(DOMAIN)
    page.get_by_role("button", name="Save the domain").click()
    page.get_by_role("heading", name="DNS records to create").wait_for()
    token = Organization.objects.get(pk=org.pk).domain_verification_token
    assert page.get_by_role("cell", name=token).is_visible()
    axe_check(page)
    screenshot(page, "console-custom-domain-records")
    world["dns"].set(
        f"{DOMAIN}. 60 IN CNAME edge.portico.test.", f'_portico-challenge.{DOMAIN}. 60 IN TXT "{token}"'
    )
    page.get_by_role("button", name="Verify").click()
    page.get_by_text(f"Verified: your portal answers on {DOMAIN} now.").wait_for()
    assert Organization.objects.get(pk=org.pk).domain_verified_at is not None


def test_the_owner_verifies_the_domain_and_a_customer_signs_in_there(domain_page, renotech):
    page, port = domain_page, renotech["port"]
    assert page.goto(f"http://{DOMAIN}:{port}/portal/account/login/").status == 404  # not verified yet
    _verify_in_the_console(page, renotech)

    sign_in(page, f"http://{DOMAIN}:{port}/portal/account/login/", "maria@acme.example", PASSWORD)
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    assert urlparse(page.url).hostname == DOMAIN
    axe_check(page)
    screenshot(page, "portal-on-custom-domain")
    # Host-only cookies: the custom domain's session and CSRF cookies are its own, beside the
    # console's on the subdomain (Playwright reports a host-only cookie's domain without a dot).
    sessions = {c["domain"] for c in page.context.cookies() if c["name"] == "portico_session"}
    assert sessions == {DOMAIN, "renotech.localhost"}


def test_a_customer_adds_a_passkey_on_the_custom_domain_and_signs_in_with_it(domain_page, renotech):
    page, port = domain_page, renotech["port"]
    org, maria = renotech["org"], renotech["maria"]
    org.custom_domain = DOMAIN
    org.save()
    renotech["dns"].set(
        f"{DOMAIN}. 60 IN CNAME edge.portico.test.",
        f'_portico-challenge.{DOMAIN}. 60 IN TXT "{org.domain_verification_token}"',
    )
    from portico.core import domains
    from portico.core.audit import Actor

    domains.verify_custom_domain(organization=org, actor=Actor.system("tests"))
    login_url = f"http://{DOMAIN}:{port}/portal/account/login/"
    virtual_authenticator(page)
    sign_in(page, login_url, "maria@acme.example", PASSWORD)
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    assert page.evaluate("window.isSecureContext") is True

    page.get_by_role("link", name="Security").click()
    page.get_by_role("link", name="Add a passkey").click()
    if "/reauthenticate/" in page.url:
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Name").fill("Laptop")
    page.get_by_label("Also sign in with it without a password").check()
    axe_check(page)
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    passkey = Authenticator.objects.get(user=maria, type=Authenticator.Type.WEBAUTHN)
    rp_id_hash = passkey.wrap().authenticator_data.rp_id_hash
    assert rp_id_hash == hashlib.sha256(DOMAIN.encode()).digest()  # bound to the custom domain

    page.get_by_role("button", name="Sign out").click()
    page.goto(login_url)
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    assert urlparse(page.url).hostname == DOMAIN
    axe_check(page)
    assert AuditEvent.all_tenants.filter(action="login.succeeded", actor_user=maria).count() == 2
