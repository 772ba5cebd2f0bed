"""SAML sign-in against a real identity provider (pysaml2's, on a loopback port): who it signs in,
and each forgery it must refuse — a bad signature, an unsigned answer, a wrong audience or
destination, expired conditions, a replayed assertion, another organization's connection."""

from __future__ import annotations

import pytest

from portico.accounts.models import CustomerSso, SsoConnection
from portico.core.models import AuditEvent
from tests.accounts.sso_flows import post_assertion, saml_connection, saml_sign_in, signed_in_user, start
from tests.conftest import login, tenant_client
from tests.factories import ContactFactory, CustomerFactory, portal_user


@pytest.fixture
def entra(org, customer, saml_idp):
    return saml_connection(org, saml_idp, tenant_client(org), customers=[customer])


def _failures(org):
    return [
        e.data.get("reason", "")
        for e in AuditEvent.all_tenants.filter(organization=org, action="login.failed")
    ]


def test_a_contact_signs_in_with_a_signed_assertion(org, portal_login, entra, saml_idp):
    client = tenant_client(org)
    response, _ = saml_sign_in(client, entra, saml_idp, "maria@acme.example")
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert signed_in_user(client) == portal_login
    event = AuditEvent.all_tenants.get(organization=org, action="login.succeeded")
    assert event.data == {"method": "sso", "connection": "Acme Entra", "protocol": "saml"}
    assert "Signed in with Acme Entra" in client.get("/portal/security/history/").content.decode()


def test_the_service_provider_metadata_names_the_tenant_host(org, entra):
    xml = tenant_client(org).get(f"/portal/account/saml/{entra.key}/metadata/").content.decode()
    assert f"http://{org.host}/portal/account/saml/{entra.key}/acs/" in xml
    assert f'entityID="http://{org.host}/portal/account/saml/{entra.key}/metadata/"' in xml
    assert 'WantAssertionsSigned="true"' in xml


@pytest.mark.parametrize(
    ("hostile", "why"),
    [
        ({"tamper": True}, "bad signature"),
        ({"unsigned": True}, "no signature"),
        ({"audience": "http://evil.example/metadata"}, "another audience"),
        ({"expired": True}, "expired conditions"),
        ({"destination": "http://evil.example/acs/"}, "another destination"),
    ],
    ids=["tampered", "unsigned", "wrong-audience", "expired", "wrong-destination"],
)
def test_a_hostile_assertion_is_refused(org, customer, portal_login, entra, saml_idp, hostile, why):
    portal_user(ContactFactory(customer=customer, email=saml_idp.TAMPERED_EMAIL)) if hostile.get(
        "tamper"
    ) else None
    saml_idp.next_response(**hostile)
    client = tenant_client(org)
    response, _ = saml_sign_in(client, entra, saml_idp, "maria@acme.example")
    assert signed_in_user(client) is None, why
    assert response.status_code == 302 and response["Location"] == "/portal/account/login/"
    assert "did not complete" in client.get("/portal/account/login/").content.decode()
    assert len(_failures(org)) == 1


def test_an_assertion_is_used_once_whichever_browser_replays_it(org, portal_login, entra, saml_idp):
    client = tenant_client(org)
    _, (acs_url, posted) = saml_sign_in(client, entra, saml_idp, "maria@acme.example")
    assert signed_in_user(client) == portal_login
    client.post("/portal/account/logout/")
    post_assertion(client, acs_url, posted)
    assert signed_in_user(client) is None
    thief = tenant_client(org)
    post_assertion(thief, acs_url, posted)
    assert signed_in_user(thief) is None
    assert "saml_replay" in _failures(org)


def test_idp_initiated_sign_in_is_refused(org, portal_login, entra, saml_idp):
    """An answer to no request of ours (unsolicited): refused, as allauth's default says."""
    redirect_url = start(tenant_client(org), entra)
    acs_url, saml_response, _relay = saml_idp.respond(redirect_url, "maria@acme.example")
    stranger = tenant_client(org)
    post_assertion(stranger, acs_url, {"SAMLResponse": saml_response})
    assert signed_in_user(stranger) is None


def test_an_address_outside_the_trusted_domains_is_refused_as_unverified(org, customer, entra, saml_idp):
    """Without an "email verified" attribute, the IdP is trusted for its connection's domains only."""
    SsoConnection.all_tenants.filter(pk=entra.pk).update(email_domains="")
    portal_user(ContactFactory(customer=customer, email="maria@acme.example"))
    client = tenant_client(org)
    saml_sign_in(client, entra, saml_idp, "maria@acme.example")
    assert signed_in_user(client) is None
    assert _failures(org) == ["email_unverified"]


@pytest.mark.parametrize("verified", [True, False], ids=["verified", "not-verified"])
def test_an_email_verified_attribute_decides_where_it_is_mapped(
    org, customer, portal_login, saml_idp, verified
):
    connection = saml_connection(
        org, saml_idp, tenant_client(org), customers=[customer], attribute_email_verified="email_verified"
    )
    saml_idp.next_response(email_verified_attr=verified)
    client = tenant_client(org)
    saml_sign_in(client, connection, saml_idp, "maria@acme.example")
    assert (signed_in_user(client) == portal_login) is verified


def test_another_organizations_connection_cannot_sign_in_here(org, other_org, portal_login, saml_idp):
    northwind = CustomerFactory(organization=other_org, display_name="Northwind Client")
    theirs = saml_connection(other_org, saml_idp, tenant_client(other_org), customers=[northwind])
    client = tenant_client(org)
    for path in ("metadata/", "login/", "acs/finish/"):
        assert client.get(f"/portal/account/saml/{theirs.key}/{path}").status_code == 404, path
    # their IdP's assertion, posted to RenoTech's host under their connection's key: nobody signed in
    redirect_url = start(tenant_client(other_org), theirs)
    acs_url, saml_response, relay = saml_idp.respond(redirect_url, "maria@acme.example")
    here = acs_url.replace(other_org.host, org.host)
    posted = {"SAMLResponse": saml_response, **({"RelayState": relay} if relay is not None else {})}
    response = client.post(here.split(org.host, 1)[1], posted)
    if response.status_code == 302:
        assert client.get(response["Location"]).status_code == 404
    assert signed_in_user(client) is None


def test_sso_required_customers_sign_in_with_saml_only(org, customer, portal_login, entra, saml_idp):
    CustomerSso.all_tenants.create(organization=org, customer=customer, sso_required=True)
    client = tenant_client(org)
    login(client, "maria@acme.example")
    assert signed_in_user(client) is None
    saml_sign_in(client, entra, saml_idp, "maria@acme.example")
    assert signed_in_user(client) == portal_login


def test_used_assertions_are_kept_only_until_they_expire(org, portal_login, entra, saml_idp):
    import datetime as dt

    from django.utils import timezone

    from portico.accounts.models import SsoAssertion

    stale = SsoAssertion.all_tenants.create(
        organization=org,
        connection=entra,
        assertion_id="_old",
        expires_at=timezone.now() - dt.timedelta(days=2),
    )
    saml_sign_in(tenant_client(org), entra, saml_idp, "maria@acme.example")
    kept = SsoAssertion.all_tenants.filter(connection=entra)
    assert not kept.filter(pk=stale.pk).exists()
    (used,) = kept
    assert used.expires_at > timezone.now()
