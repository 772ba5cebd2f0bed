"""OpenID Connect sign-in against a real provider (oidc-provider on a loopback port): who it signs
in, and each forgery it must refuse — a wrong client secret, a tampered id_token, a replayed state,
an injected code (nonce, PKCE), an unverified email, another organization's connection."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from portico.accounts.models import CustomerSso, SsoConnection, User
from portico.core.models import AuditEvent
from portico.customers.models import ContactPerson, PortalRole
from tests.accounts.sso_flows import oidc_connection, oidc_sign_in, path_of, signed_in_user, start
from tests.conftest import login, tenant_client
from tests.factories import ContactFactory, CustomerFactory, portal_user

SECURITY_PAGE = "/portal/security/history/"


@pytest.fixture
def okta(org, customer, oidc_idp):
    return oidc_connection(org, oidc_idp, customers=[customer])


def _events(org, action):
    return list(AuditEvent.all_tenants.filter(organization=org, action=action).order_by("pk"))


def test_a_contact_signs_in_with_the_provider_linked_by_verified_email(org, portal_login, okta, oidc_idp):
    client = tenant_client(org)
    authorize = start(client, okta)
    query = parse_qs(urlsplit(authorize).query)
    assert query["nonce"][0] and query["state"][0]
    assert query["code_challenge_method"] == ["S256"]

    response, _ = oidc_sign_in(client, okta, oidc_idp, "Maria@Acme.example")

    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert signed_in_user(client) == portal_login
    (event,) = _events(org, "login.succeeded")
    assert event.data == {"method": "sso", "connection": "Acme Okta", "protocol": "oidc"}
    assert event.object_id == str(portal_login.pk)

    # the identity is linked: the second sign-in finds it by the provider's subject
    client.post("/portal/account/logout/")
    second, _ = oidc_sign_in(tenant_client(org), okta, oidc_idp, "maria@acme.example")
    assert second.status_code == 302 and second["Location"] == "/portal/"
    from allauth.socialaccount.models import SocialAccount

    (account,) = SocialAccount.objects.filter(user=portal_login)
    assert account.provider == okta.key


def test_the_sign_in_history_says_which_connection(org, portal_login, okta, oidc_idp):
    client = tenant_client(org)
    oidc_sign_in(client, okta, oidc_idp, "maria@acme.example")
    page = client.get(SECURITY_PAGE).content.decode()
    assert "Signed in with Acme Okta" in page
    assert "Signed in with Acme Okta" in client.get("/portal/security/activity/").content.decode()


def test_an_unverified_email_is_refused(org, customer, okta, oidc_idp):
    contact = ContactFactory(customer=customer, email="unverified.bob@acme.example")
    portal_user(contact)
    client = tenant_client(org)
    response, _ = oidc_sign_in(client, okta, oidc_idp, "unverified.bob@acme.example")
    assert response.status_code == 302 and response["Location"] == "/portal/account/login/"
    assert signed_in_user(client) is None
    page = client.get("/portal/account/login/").content.decode()
    assert "did not confirm" in page and "verified" in page
    (failure,) = _events(org, "login.failed")
    assert failure.data["reason"] == "email_unverified"


def test_a_wrong_client_secret_is_refused(org, portal_login, customer, oidc_idp):
    connection = oidc_connection(org, oidc_idp, customers=[customer], client_secret="not-the-secret")
    client = tenant_client(org)
    response, _ = oidc_sign_in(client, connection, oidc_idp, "maria@acme.example")
    assert signed_in_user(client) is None
    assert response.status_code == 302 and response["Location"] == "/portal/account/login/"
    assert "did not complete" in client.get("/portal/account/login/").content.decode()


def test_a_replayed_state_is_refused(org, portal_login, okta, oidc_idp):
    client = tenant_client(org)
    _response, callback = oidc_sign_in(client, okta, oidc_idp, "maria@acme.example")
    assert signed_in_user(client) == portal_login
    # the same callback again, in the same browser after signing out and in another one
    client.post("/portal/account/logout/")
    again = client.get(path_of(callback))
    assert signed_in_user(client) is None, again.status_code
    stranger = tenant_client(org)
    stranger.get(path_of(callback))
    assert signed_in_user(stranger) is None


def test_a_code_injected_into_another_sign_in_is_refused_by_pkce(org, portal_login, okta, oidc_idp):
    """The attacker's own code, fed to the victim's callback with the victim's state."""
    victim, attacker = tenant_client(org), tenant_client(org)
    victim_authorize = start(victim, okta)
    attacker_callback = oidc_idp.sign_in_programmatically(start(attacker, okta), "maria@acme.example")
    code = parse_qs(urlsplit(attacker_callback).query)["code"][0]
    state = parse_qs(urlsplit(victim_authorize).query)["state"][0]
    victim.get(f"/portal/account/oidc/{okta.key}/login/callback/?code={code}&state={state}")
    assert signed_in_user(victim) is None


def test_without_pkce_an_injected_code_is_refused_by_the_nonce(org, portal_login, customer, oidc_idp):
    connection = oidc_connection(org, oidc_idp, customers=[customer], use_pkce=False)
    victim, attacker = tenant_client(org), tenant_client(org)
    victim_authorize = start(victim, connection)
    assert "code_challenge" not in victim_authorize
    attacker_callback = oidc_idp.sign_in_programmatically(start(attacker, connection), "maria@acme.example")
    code = parse_qs(urlsplit(attacker_callback).query)["code"][0]
    state = parse_qs(urlsplit(victim_authorize).query)["state"][0]
    victim.get(f"/portal/account/oidc/{connection.key}/login/callback/?code={code}&state={state}")
    assert signed_in_user(victim) is None
    assert [e.data["reason"] for e in _events(org, "login.failed")] == ["nonce"]


class _TamperingProxy:
    """A man in the middle between the portal and the provider: it serves the provider's discovery
    document with itself as the token endpoint and, when told to, rewrites the id_token's claims
    (keeping the provider's signature, which then no longer matches)."""

    def __init__(self, issuer: str):
        self.issuer, self.tamper = issuer, False
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                upstream = requests.get(proxy.issuer + self.path, timeout=10)
                body = upstream.content
                if self.path.startswith("/.well-known/openid-configuration"):
                    document = upstream.json()
                    document["token_endpoint"] = proxy.url + "/token"
                    body = json.dumps(document).encode()
                self._answer(upstream.status_code, body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")
                }
                upstream = requests.post(
                    proxy.document()["token_endpoint"],
                    data=self.rfile.read(length),
                    headers=headers,
                    timeout=10,
                )
                body = upstream.content
                if proxy.tamper and upstream.ok:
                    tokens = upstream.json()
                    header, payload, signature = tokens["id_token"].split(".")
                    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
                    claims["email"] = "boss@acme.example"
                    claims["sub"] = "forged"
                    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
                    tokens["id_token"] = f"{header}.{forged}.{signature}"
                    body = json.dumps(tokens).encode()
                self._answer(upstream.status_code, body)

            def _answer(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._document = None
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def document(self):
        if self._document is None:
            self._document = requests.get(
                self.issuer + "/.well-known/openid-configuration", timeout=10
            ).json()
        return self._document

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("tamper", [False, True], ids=["untouched", "tampered"])
def test_a_tampered_id_token_is_refused(org, customer, oidc_idp, tamper):
    """Through the same proxy, the untouched token signs in and the tampered one does not: the
    signature is checked even for a token fetched from the token endpoint."""
    boss = portal_user(ContactFactory(customer=customer, email="boss@acme.example"))
    maria = portal_user(ContactFactory(customer=customer, email="maria@acme.example"))
    proxy = _TamperingProxy(oidc_idp.issuer)
    proxy.tamper = tamper
    try:
        connection = oidc_connection(
            org, oidc_idp, customers=[customer], discovery_url=proxy.url + "/.well-known/openid-configuration"
        )
        client = tenant_client(org)
        oidc_sign_in(client, connection, oidc_idp, "maria@acme.example")
    finally:
        proxy.close()
    if tamper:
        assert signed_in_user(client) is None
        assert signed_in_user(client) != boss
    else:
        assert signed_in_user(client) == maria


def test_another_organizations_connection_does_not_exist_here(org, other_org, portal_login, oidc_idp):
    northwind = CustomerFactory(organization=other_org, display_name="Northwind Client")
    theirs = oidc_connection(other_org, oidc_idp, customers=[northwind])
    client = tenant_client(org)
    assert client.post(f"/portal/account/oidc/{theirs.key}/login/").status_code == 404
    assert client.get(f"/portal/account/oidc/{theirs.key}/login/callback/?code=x&state=y").status_code == 404
    assert client.get(f"/portal/account/saml/{theirs.key}/metadata/").status_code == 404
    # and signing in through it on its own host signs in nobody of RenoTech's
    portal_user(ContactFactory(customer=northwind, email="maria@acme.example"))
    theirs_client = tenant_client(other_org)
    oidc_sign_in(theirs_client, theirs, oidc_idp, "maria@acme.example")
    user = signed_in_user(theirs_client)
    assert user is not None and user.organization_id == other_org.pk and user != portal_login
    assert tenant_client(org).get("/portal/").status_code == 302  # RenoTech's host: signed out


def test_the_connection_admits_only_its_customers_and_domains(org, customer, outsider_customer, oidc_idp):
    connection = oidc_connection(org, oidc_idp, customers=[customer], domains="acme.example")
    outsider = portal_user(ContactFactory(customer=outsider_customer, email="sam@acme.example"))
    client = tenant_client(org)
    oidc_sign_in(client, connection, oidc_idp, "sam@acme.example")
    assert signed_in_user(client) is None
    assert outsider.pk is not None
    other_domain = portal_user(ContactFactory(customer=customer, email="maria@gmail.example"))
    client = tenant_client(org)
    oidc_sign_in(client, connection, oidc_idp, "maria@gmail.example")
    assert signed_in_user(client) is None and other_domain.pk
    assert [e.data["reason"] for e in _events(org, "login.failed")] == ["not_admitted", "not_admitted"]


def test_a_new_person_becomes_a_viewer_contact_only_where_the_connection_allows(org, customer, oidc_idp):
    CustomerSso.all_tenants.create(organization=org, customer=customer, email_domains="acme.example")
    closed = oidc_connection(org, oidc_idp, name="Closed", customers=[customer])
    client = tenant_client(org)
    oidc_sign_in(client, closed, oidc_idp, "new.person@acme.example")
    assert signed_in_user(client) is None
    assert not ContactPerson.all_tenants.filter(email="new.person@acme.example").exists()

    open_ = oidc_connection(org, oidc_idp, name="Open", customers=[customer], create_contacts=True)
    client = tenant_client(org)
    response, _ = oidc_sign_in(client, open_, oidc_idp, "new.person@acme.example")
    assert response["Location"] == "/portal/"
    contact = ContactPerson.all_tenants.get(email="new.person@acme.example")
    assert (
        contact.customer == customer
        and contact.portal_role == PortalRole.VIEWER
        and contact.has_portal_access
    )
    user = signed_in_user(client)
    assert user.contact == contact and not user.has_usable_password()
    assert _events(org, "sso.contact.created")[0].data["connection"] == "Open"
    # the company's portal admin sees the newcomer join in the account's activity
    admin = tenant_client(org)
    admin.force_login(portal_user(ContactFactory(customer=customer, email="boss@acme.example")))
    activity = admin.get("/portal/security/activity/").content.decode()
    assert "Joined the portal through single sign-on" in activity and "new.person@acme.example" in activity
    # an address at a domain no customer owns is not provisioned anywhere
    stranger = oidc_connection(org, oidc_idp, name="Anyone", domains="", create_contacts=True)
    client = tenant_client(org)
    oidc_sign_in(client, stranger, oidc_idp, "someone@elsewhere.example")
    assert signed_in_user(client) is None
    assert not User.all_tenants.filter(email="someone@elsewhere.example").exists()


def test_a_customer_that_requires_sso_cannot_sign_in_with_a_password(
    org, customer, portal_login, okta, oidc_idp
):
    CustomerSso.all_tenants.create(organization=org, customer=customer, sso_required=True)
    client = tenant_client(org)
    response = login(client, "maria@acme.example")
    assert signed_in_user(client) is None
    assert "signs in to this portal with single sign-on" in response.content.decode()
    assert _events(org, "login.failed")[-1].data["reason"] == "sso_required"
    # single sign-on still works
    oidc_sign_in(client, okta, oidc_idp, "maria@acme.example")
    assert signed_in_user(client) == portal_login


def test_other_customers_keep_their_passwords(org, customer, outsider_customer, portal_login):
    CustomerSso.all_tenants.create(organization=org, customer=outsider_customer, sso_required=True)
    client = tenant_client(org)
    login(client, "maria@acme.example")
    assert signed_in_user(client) == portal_login


@pytest.mark.parametrize("second_factor", [False, True], ids=["idp-is-enough", "portal-factor-too"])
def test_the_customer_chooses_whether_sso_also_asks_for_the_second_factor(
    org, customer, portal_login, okta, oidc_idp, second_factor
):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(
        user=portal_login, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    CustomerSso.all_tenants.create(organization=org, customer=customer, sso_second_factor=second_factor)
    client = tenant_client(org)
    response, _ = oidc_sign_in(client, okta, oidc_idp, "maria@acme.example")
    if second_factor:
        assert response["Location"] == "/portal/account/2fa/authenticate/"
        assert signed_in_user(client) is None
    else:
        assert response["Location"] == "/portal/"
        assert signed_in_user(client) == portal_login


def test_home_realm_discovery_routes_by_email(org, customer, portal_login, okta, oidc_idp):
    client = tenant_client(org)
    page = client.get("/portal/account/login/").content.decode()
    assert "Continue with single sign-on" in page
    assert "Sign in with Acme Okta" not in page  # not listed: reached by email only
    response = client.post("/portal/account/sso/", {"email": "maria@acme.example"})
    assert response.status_code == 302 and response["Location"].startswith(oidc_idp.issuer)
    callback = oidc_idp.sign_in_programmatically(response["Location"], "maria@acme.example")
    client.get(path_of(callback))
    assert signed_in_user(client) == portal_login

    nobody = tenant_client(org).post("/portal/account/sso/", {"email": "x@unknown.example"}, follow=True)
    assert "Single sign-on is not set up for x@unknown.example" in nobody.content.decode()
    hostile = tenant_client(org).post("/portal/account/sso/", {"email": "<script>@"}, follow=True)
    assert hostile.status_code == 200 and "Enter your work email" in hostile.content.decode()


def test_a_listed_connection_has_its_button_and_the_page_may_send_the_browser_there(org, okta, oidc_idp):
    SsoConnection.all_tenants.filter(pk=okta.pk).update(listed=True)
    response = tenant_client(org).get("/portal/account/login/")
    page = response.content.decode()
    assert "Sign in with Acme Okta" in page
    assert f'action="/portal/account/oidc/{okta.key}/login/"' in page
    form_action = next(p for p in response["Content-Security-Policy"].split(";") if "form-action" in p)
    assert oidc_idp.issuer in form_action


def test_two_connections_for_one_address_are_offered_to_choose(org, customer, portal_login, okta, oidc_idp):
    oidc_connection(org, oidc_idp, name="Acme Google", customers=[customer])
    response = tenant_client(org).post("/portal/account/sso/", {"email": "maria@acme.example"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Sign in with Acme Okta" in page and "Sign in with Acme Google" in page


def test_an_inactive_connection_signs_in_nobody(org, portal_login, okta, oidc_idp):
    client = tenant_client(org)
    authorize = start(client, okta)
    SsoConnection.all_tenants.filter(pk=okta.pk).update(is_active=False)
    callback = oidc_idp.sign_in_programmatically(authorize, "maria@acme.example")
    assert client.get(path_of(callback)).status_code == 404
    assert signed_in_user(client) is None


def test_a_staff_logins_address_is_not_signed_in_to_the_portal(org, customer, oidc_idp):
    from tests.factories import staff_user

    CustomerSso.all_tenants.create(organization=org, customer=customer, email_domains="acme.example")
    staff = staff_user(org, email="it@acme.example")
    connection = oidc_connection(org, oidc_idp, customers=[customer], create_contacts=True)
    client = tenant_client(org)
    response, _ = oidc_sign_in(client, connection, oidc_idp, "it@acme.example")
    assert response.status_code == 302 and response["Location"] == "/portal/account/login/"
    assert signed_in_user(client) is None
    assert not ContactPerson.all_tenants.filter(email="it@acme.example").exists() and staff.contact_id is None


def test_a_contact_whose_access_was_turned_off_is_refused_even_when_linked(
    org, contact, portal_login, okta, oidc_idp
):
    oidc_sign_in(tenant_client(org), okta, oidc_idp, "maria@acme.example")  # linked now
    ContactPerson.all_tenants.filter(pk=contact.pk).update(has_portal_access=False)
    client = tenant_client(org)
    oidc_sign_in(client, okta, oidc_idp, "maria@acme.example")
    assert signed_in_user(client) is None
    assert "turned off" in client.get("/portal/account/login/").content.decode()


@pytest.mark.parametrize("protocol", ["oidc", "saml"])
def test_a_provider_that_does_not_answer_gets_a_clear_message_not_an_error(org, customer, protocol):
    fields = (
        {"discovery_url": "http://127.0.0.1:9/", "client_id": "c", "client_secret": "s"}
        if protocol == "oidc"
        else {"idp_metadata_url": "http://127.0.0.1:9/metadata", "idp_sso_url": "http://127.0.0.1:9/sso"}
    )
    connection = SsoConnection.all_tenants.create(
        organization=org, name="Down", protocol=protocol, email_domains="acme.example", **fields
    )
    client = tenant_client(org)
    response = client.post(f"/portal/account/{protocol}/{connection.key}/login/")
    assert response.status_code == 302 and response["Location"] == "/portal/account/login/"
    assert "Down is not answering right now" in client.get("/portal/account/login/").content.decode()
    via_email = client.post("/portal/account/sso/", {"email": "maria@acme.example"}, follow=True)
    assert via_email.status_code == 200 and "is not answering" in via_email.content.decode()


def test_an_invitation_does_not_sign_in_a_contact_whose_customer_requires_sso(org, customer, clock):
    from portico.accounts import services
    from portico.core.audit import Actor

    CustomerSso.all_tenants.create(organization=org, customer=customer, sso_required=True)
    invitee = ContactFactory(customer=customer, email="tom@acme.example", has_portal_access=False)
    token = services.invite_contact(contact=invitee, actor=Actor.system()).token
    client = tenant_client(org)
    password = "a-long-and-unusual-passphrase"
    response = client.post(
        f"/portal/account/invitation/{token}/", {"new_password1": password, "new_password2": password}
    )
    assert response.status_code == 302 and response["Location"] == "/portal/account/login/"
    assert signed_in_user(client) is None
    assert (
        "signs in to this portal with single sign-on" in client.get("/portal/account/login/").content.decode()
    )
