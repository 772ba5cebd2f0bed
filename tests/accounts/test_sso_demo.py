"""The demo's single sign-on: `make run` serves the OpenID Connect provider with the demo's client
(scripts/serve.sh) and the demo's connection points at it, so "Sign in with Demo identity provider"
signs Acme's people in — a known contact, and a new one (a viewer) at Acme's domain."""

from __future__ import annotations

import json
from pathlib import Path

from portico.accounts.models import SsoConnection
from portico.customers.models import ContactPerson, PortalRole
from portico.demo.accounts import DEMO_SSO_CLIENT, DEMO_SSO_KEY
from tests.accounts.sso_flows import oidc_sign_in, signed_in_user
from tests.conftest import tenant_client
from tests.oidc_idp import running_provider

SERVE = Path(__file__).resolve().parents[2] / "scripts" / "serve.sh"


def test_serve_registers_the_demo_connections_client():
    script = SERVE.read_text()
    for value in (DEMO_SSO_KEY, *DEMO_SSO_CLIENT):
        assert value in script, value


def test_the_demo_connection_signs_acme_people_in(db, settings, tmp_path):
    from portico.core import tenancy
    from portico.demo.loader import load_demo

    callback = f"http://renotech.localhost/portal/account/oidc/{DEMO_SSO_KEY}/login/callback/"
    clients = [
        {"client_id": DEMO_SSO_CLIENT[0], "client_secret": DEMO_SSO_CLIENT[1], "redirect_uris": [callback]}
    ]
    with running_provider(tmp_path / "idp.log", OIDC_IDP_CLIENTS=json.dumps(clients)) as idp:
        settings.PORTICO_DEMO_IDP_PORT = int(idp.issuer.rsplit(":", 1)[1])
        demo = load_demo()
        org = demo.renotech
        connection = SsoConnection.all_tenants.get(key=DEMO_SSO_KEY)
        assert connection.organization == org and connection.listed
        with tenancy.tenant(org):
            client = tenant_client(org)
            assert (
                "Sign in with Demo identity provider" in client.get("/portal/account/login/").content.decode()
            )
            response, _ = oidc_sign_in(client, connection, idp, "maria@acme.example")
            assert response["Location"] == "/portal/"
            assert signed_in_user(client).contact == demo.contacts["acme:maria@acme.example"]

            newcomer = tenant_client(org)
            oidc_sign_in(newcomer, connection, idp, "new.hire@acme.example")
            contact = ContactPerson.all_tenants.get(organization=org, email="new.hire@acme.example")
            assert contact.customer == demo.customers["acme"] and contact.portal_role == PortalRole.VIEWER
            assert signed_in_user(newcomer).contact == contact
