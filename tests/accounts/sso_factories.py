"""Single sign-on rows for the console's walks: a connection of each protocol, a customer's rules.

Their identity providers' addresses are on the loopback's discard port: a form saved by a walk that
checks the provider gets a refused connection at once, never traffic off this machine."""

from __future__ import annotations

from portico.accounts.models import CustomerSso, SsoConnection


def sso_world(organization, customer):
    oidc = SsoConnection.all_tenants.create(
        organization=organization,
        name="Acme Okta",
        protocol=SsoConnection.Protocol.OIDC,
        discovery_url="http://127.0.0.1:9/oidc",
        client_id="portico",
        client_secret="s3cret",
        email_domains="acme.example",
    )
    oidc.customers.add(customer)
    SsoConnection.all_tenants.create(
        organization=organization,
        name="Acme Entra",
        protocol=SsoConnection.Protocol.SAML,
        idp_entity_id="http://127.0.0.1:9/saml",
        idp_sso_url="http://127.0.0.1:9/saml/sso",
        idp_certificate="MIIB",
        email_domains="acme.example",
    )
    CustomerSso.all_tenants.create(
        organization=organization, customer=customer, email_domains="acme.example", sso_required=False
    )
    return oidc
