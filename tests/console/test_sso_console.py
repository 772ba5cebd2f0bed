"""Single sign-on connections set up in the console: each is checked against its real provider
when saved, SAML metadata fills in the IdP's details, the page shows the URLs for the customer's
IT, and a customer's rules are saved (and audited) from the customer's page."""

from __future__ import annotations

import pytest

from portico.accounts.models import CustomerSso, SsoConnection
from portico.core.models import AuditEvent
from tests.conftest import tenant_client
from tests.console.test_console_edits import customer_form
from tests.factories import staff_user

BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"
ADD = "/console/accounts/ssoconnection/add/"


@pytest.fixture
def owner(org):
    client = tenant_client(org)
    client.force_login(staff_user(org, email="owner@renotech.example"), backend=BACKEND)
    return client


def _form(**fields):
    data = {
        "name": "Acme Okta",
        "protocol": "oidc",
        "is_active": "on",
        "email_domains": "Acme.example, acme.co.uk",
    }
    data.update({"scopes": "openid email profile", "use_pkce": "on", "token_auth_method": ""})
    data.update(fields)
    return data


def test_an_oidc_connection_is_saved_once_its_provider_answers(org, owner, customer, oidc_idp):
    bad = owner.post(ADD, _form(discovery_url="http://127.0.0.1:9/", client_id="c", client_secret="s"))
    assert bad.status_code == 200 and "could not be read" in bad.content.decode()
    assert not SsoConnection.all_tenants.exists()

    response = owner.post(
        ADD,
        _form(
            discovery_url=oidc_idp.issuer,
            client_id="portico",
            client_secret="s3cret",
            customers=[customer.pk],
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    connection = SsoConnection.all_tenants.get()
    assert connection.organization == org and connection.client_secret == "s3cret"
    assert connection.domains == ["acme.example", "acme.co.uk"]
    assert list(connection.customers.all()) == [customer]
    event = AuditEvent.all_tenants.get(action="sso.connection.created")
    assert "s3cret" not in str(event.data)

    page = owner.get(f"/console/accounts/ssoconnection/{connection.pk}/change/").content.decode()
    assert f"http://{org.host}/portal/account/oidc/{connection.key}/login/callback/" in page
    assert "s3cret" not in page  # the secret is never shown again
    # saved again without typing the secret: the stored one stays
    owner.post(
        f"/console/accounts/ssoconnection/{connection.pk}/change/",
        _form(name="Acme Okta (prod)", discovery_url=oidc_idp.issuer, client_id="portico", client_secret=""),
    )
    connection.refresh_from_db()
    assert connection.name == "Acme Okta (prod)" and connection.client_secret == "s3cret"


def test_a_saml_connection_reads_the_idp_metadata(org, owner, saml_idp):
    response = owner.post(
        ADD, _form(name="Acme Entra", protocol="saml", idp_metadata_url=saml_idp.metadata_url)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    connection = SsoConnection.all_tenants.get()
    assert connection.idp_entity_id == saml_idp.entity_id
    assert connection.idp_sso_url.startswith(saml_idp.base_url)
    assert connection.idp_certificate.replace("\n", "") in saml_idp.certificate_b64.replace("\n", "")
    page = owner.get(f"/console/accounts/ssoconnection/{connection.pk}/change/").content.decode()
    assert f"http://{org.host}/portal/account/saml/{connection.key}/acs/" in page

    pasted = owner.post(ADD, _form(name="Pasted", protocol="saml", idp_metadata_xml="<not xml"))
    assert "metadata could not be read" in pasted.content.decode()
    untrusted = owner.post(
        ADD,
        _form(name="No domains", protocol="saml", email_domains="", idp_metadata_xml=saml_idp.metadata_xml),
    )
    assert "Name the email domains" in untrusted.content.decode()


def test_a_customers_rules_are_saved_from_its_page_and_a_domain_belongs_to_one_customer(
    org, owner, customer, outsider_customer
):
    data = customer_form(customer)
    data.update({"sso-TOTAL_FORMS": "1", "sso-0-email_domains": "acme.example", "sso-0-sso_required": "on"})
    assert owner.post(f"/console/customers/customer/{customer.pk}/change/", data).status_code == 302
    rules = CustomerSso.all_tenants.get(customer=customer)
    assert rules.sso_required and rules.domains == ["acme.example"] and not rules.sso_second_factor
    assert AuditEvent.all_tenants.filter(action="sso.customer_rules.changed", customer=customer).count() == 1

    theirs = customer_form(outsider_customer)
    theirs.update({"sso-TOTAL_FORMS": "1", "sso-0-email_domains": "ACME.example"})
    owner.post(f"/console/customers/customer/{outsider_customer.pk}/change/", theirs, follow=True)
    assert not CustomerSso.all_tenants.filter(
        customer=outsider_customer, email_domains__contains="acme"
    ).exists()


def test_support_staff_read_connections_but_cannot_add_one(org, oidc_idp):
    client = tenant_client(org)
    client.force_login(staff_user(org, email="support@renotech.example", role="support"), backend=BACKEND)
    assert client.get("/console/accounts/ssoconnection/").status_code == 200
    assert (
        client.post(ADD, _form(discovery_url=oidc_idp.issuer, client_id="x", client_secret="y")).status_code
        == 403
    )
    assert not SsoConnection.all_tenants.exists()


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/realms/x", "ftp://idp.example/"],
    ids=["cloud-metadata", "private-network", "not-http"],
)
def test_a_connection_cannot_make_portico_fetch_an_internal_address(owner, url):
    """No request leaves for these: the address is refused before any fetch."""
    for fields in (
        {"discovery_url": url, "client_id": "c", "client_secret": "s"},
        {"name": "SAML", "protocol": "saml", "idp_metadata_url": url},
    ):
        response = owner.post(ADD, _form(**fields))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Portico will not fetch" in page or "Enter a valid URL" in page, page[:3000]
    assert not SsoConnection.all_tenants.exists()


def test_a_discovery_document_pointing_inside_the_network_is_refused(owner, oidc_idp):
    """The provider is public, but the document sends the server's token request elsewhere."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            document = dict(oidc_idp.discovery(), token_endpoint="http://169.254.169.254/token")
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        issuer = f"http://127.0.0.1:{server.server_address[1]}"
        response = owner.post(ADD, _form(discovery_url=issuer, client_id="c", client_secret="s"))
    finally:
        server.shutdown()
        server.server_close()
    assert "Portico will not fetch http://169.254.169.254/token" in response.content.decode()
    assert not SsoConnection.all_tenants.exists()
