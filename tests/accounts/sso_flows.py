"""Single sign-on flows driven through Django's test client against the real identity providers of
`tests/oidc_idp.py` and `tests/saml_idp.py`: the portal's side is the real one, the provider's too;
only the browser is the test client (the browser tests are in tests/e2e/test_sso.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

from portico.accounts.models import SsoConnection


def oidc_connection(
    organization, oidc_idp, *, name="Acme Okta", domains="acme.example", customers=(), ports=(), **fields
):
    """A connection of `organization` to the test provider, its client registered with the callback
    URL of the organization's host (and of the live server's `ports`, for the browser tests)."""
    secret_override = fields.pop("client_secret", None)
    fields.setdefault("discovery_url", oidc_idp.issuer)
    connection = SsoConnection(
        organization=organization,
        name=name,
        protocol=SsoConnection.Protocol.OIDC,
        email_domains=domains,
        **fields,
    )
    path = f"/portal/account/oidc/{connection.key}/login/callback/"
    hosts = [organization.host, *(f"{organization.slug}.localhost:{port}" for port in ports)]
    connection.client_id, secret = oidc_idp.register_client([f"http://{host}{path}" for host in hosts])
    connection.client_secret = secret_override or secret
    connection.save()
    connection.customers.set(customers)
    return connection


def saml_connection(
    organization, saml_idp, client, *, name="Acme Entra", domains="acme.example", customers=(), **fields
):
    """A connection of `organization` to the test IdP (its metadata URL), the portal's service
    provider metadata given to the IdP as a customer's IT would."""
    connection = SsoConnection.all_tenants.create(
        organization=organization,
        name=name,
        protocol=SsoConnection.Protocol.SAML,
        email_domains=domains,
        idp_metadata_url=saml_idp.metadata_url,
        idp_entity_id=saml_idp.entity_id,
        idp_sso_url=saml_idp.sso_url,
        **fields,
    )
    connection.customers.set(customers)
    metadata = client.get(f"/portal/account/saml/{connection.key}/metadata/")
    assert metadata.status_code == 200, metadata.content[:300]
    saml_idp.trust_sp(metadata.content)
    return connection


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def start(client, connection, next_url: str = ""):
    """Press "Sign in with …": the portal's redirect to the identity provider."""
    url = (
        f"/portal/account/oidc/{connection.key}/login/"
        if connection.protocol == SsoConnection.Protocol.OIDC
        else f"/portal/account/saml/{connection.key}/login/"
    )
    response = client.post(url, {"next": next_url} if next_url else {})
    assert response.status_code == 302, (response.status_code, response.content[:500])
    return response["Location"]


def oidc_sign_in(client, connection, oidc_idp, email: str):
    """The whole OpenID Connect round trip; returns the portal's last response and the callback URL."""
    authorize = start(client, connection)
    callback = oidc_idp.sign_in_programmatically(authorize, email)
    return client.get(path_of(callback)), callback


def saml_sign_in(client, connection, saml_idp, email: str):
    """The whole SAML round trip; returns the portal's last response and what the IdP posted."""
    redirect_url = start(client, connection)
    acs_url, saml_response, relay_state = saml_idp.respond(redirect_url, email)
    posted = {"SAMLResponse": saml_response}
    if relay_state is not None:
        posted["RelayState"] = relay_state
    return post_assertion(client, acs_url, posted), (acs_url, posted)


def post_assertion(client, acs_url: str, posted: dict):
    """What the IdP's auto-post form does, then allauth's same-site hop to finish."""
    response = client.post(path_of(acs_url), posted)
    assert response.status_code == 302, response.status_code
    return client.get(response["Location"])


def signed_in_user(client):
    """The user the client's session is signed in as, else None."""
    from django.contrib.auth import SESSION_KEY

    from portico.accounts.models import User

    user_id = client.session.get(SESSION_KEY)
    return User.all_tenants.filter(pk=user_id).first() if user_id else None
