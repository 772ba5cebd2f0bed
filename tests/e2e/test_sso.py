"""Single sign-on in a real browser against real identity providers on loopback ports: the
OpenID Connect provider (oidc-provider) from a listed "Sign in with …" button, the SAML IdP
(pysaml2) through home-realm discovery, each landing on the portal's dashboard signed in. The
sign-in page with single sign-on is checked with axe and at phone width."""

from __future__ import annotations

import requests

from portico.accounts.models import CustomerSso, SsoConnection
from portico.demo.loader import load_demo
from tests.accounts.sso_flows import oidc_connection
from tests.e2e.conftest import axe_check, screenshot


def test_sign_in_with_openid_connect_from_the_button(page, tenant_url, live, oidc_idp):
    demo = load_demo()
    org = demo.renotech
    acme = demo.contacts["acme:maria@acme.example"].customer
    connection = oidc_connection(org, oidc_idp, name="Acme Okta", customers=[acme], ports=[live], listed=True)
    CustomerSso.all_tenants.update_or_create(
        customer=acme, defaults={"organization": org, "sso_required": True, "email_domains": "acme.example"}
    )

    page.goto(tenant_url(org, "/portal/account/login/"))
    axe_check(page)
    screenshot(page, "sso-sign-in")
    page.get_by_role("button", name="Sign in with Acme Okta").click()
    page.wait_for_url(f"{oidc_idp.issuer}/**")
    page.get_by_label("Email").fill("maria@acme.example")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(tenant_url(org, "/portal/"))
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()

    page.goto(tenant_url(org, "/portal/security/history/"))
    page.get_by_text("Signed in with Acme Okta").first.wait_for()
    assert connection.key


def test_sign_in_with_saml_by_typing_the_work_email(page, tenant_url, live, saml_idp):
    demo = load_demo()
    org = demo.renotech
    acme = demo.contacts["acme:maria@acme.example"].customer
    SsoConnection.all_tenants.filter(organization=org).update(is_active=False)  # the demo's own
    connection = SsoConnection.all_tenants.create(
        organization=org,
        name="Acme Entra",
        protocol=SsoConnection.Protocol.SAML,
        email_domains="acme.example",
        idp_metadata_url=saml_idp.metadata_url,
        idp_entity_id=saml_idp.entity_id,
        idp_sso_url=saml_idp.sso_url,
    )
    connection.customers.set([acme])
    # as the customer's IT downloads it (on the tenant's host, which only the browser resolves here)
    metadata = requests.get(
        f"http://127.0.0.1:{live}/portal/account/saml/{connection.key}/metadata/",
        headers={"Host": f"{org.slug}.localhost:{live}"},
        timeout=10,
    )
    saml_idp.trust_sp(metadata.content)

    page.goto(tenant_url(org, "/portal/account/login/"))
    page.get_by_label("Work email").fill("maria@acme.example")
    page.get_by_role("button", name="Continue with single sign-on").click()
    page.wait_for_url(f"{saml_idp.base_url}/**")
    page.get_by_label("Email").fill("maria@acme.example")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(tenant_url(org, "/portal/"))
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
