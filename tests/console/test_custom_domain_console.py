"""The custom-domain page of the console: an owner or administrator enters the domain, sees the
records to create, verifies them against a real DNS server and removes the domain; other roles and
other organizations' staff can neither see nor change it. (The role and tenant walks in
`test_roles.py` and `test_tenant_isolation.py` walk this page too, as a page of the organization
admin.)"""

from __future__ import annotations

import html

import pytest

from portico.accounts.models import StaffRole
from portico.core.models import AuditEvent, Organization
from tests.conftest import tenant_client
from tests.factories import staff_user

BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"
DOMAIN = "billing.example.test"
TARGET = "edge.portico.test"


@pytest.fixture(autouse=True)
def _target(settings):
    settings.PORTICO_CNAME_TARGET = TARGET


def _client(org, role=StaffRole.OWNER):
    client = tenant_client(org)
    client.force_login(staff_user(org, email=f"{role}@{org.slug}.example", role=role), backend=BACKEND)
    return client


def _url(org):
    return f"/console/core/organization/{org.pk}/custom-domain/"


def _fresh(org):
    return Organization.objects.get(pk=org.pk)


def _text(response) -> str:
    return html.unescape(response.content.decode())


def test_an_owner_adds_the_domain_sees_the_records_verifies_and_removes_it(org, dns_server, clock):
    client = _client(org)
    change_page = client.get(f"/console/core/organization/{org.pk}/change/").content.decode()
    assert f'href="{_url(org)}"' in change_page  # the organization's page links to it

    assert "No custom domain." in _text(client.get(_url(org)))
    response = client.post(_url(org), {"intent": "save", "domain": " Billing.Example.Test "})
    assert response.status_code == 302
    token = _fresh(org).domain_verification_token
    page = _text(client.get(_url(org)))
    assert "Saved. Create the two DNS records below at your DNS host, then verify." in page
    assert "Waiting for verification" in page
    assert f"<td>CNAME</td><td><code>{DOMAIN}</code></td><td><code>{TARGET}</code></td>" in page
    assert (
        f"<td>TXT</td><td><code>_portico-challenge.{DOMAIN}</code></td><td><code>{token}</code></td>" in page
    )

    # Verify before the TXT record exists: the page says which record is missing.
    dns_server.set(f"{DOMAIN}. 60 IN CNAME {TARGET}.")
    page = _text(client.post(_url(org), {"intent": "verify"}, follow=True))
    assert f"There is no TXT record at _portico-challenge.{DOMAIN}" in page
    assert _fresh(org).domain_verified_at is None

    dns_server.set(f"{DOMAIN}. 60 IN CNAME {TARGET}.", f'_portico-challenge.{DOMAIN}. 60 IN TXT "{token}"')
    page = _text(client.post(_url(org), {"intent": "verify"}, follow=True))
    assert f"Verified: your portal answers on {DOMAIN} now." in page
    assert _fresh(org).domain_verified_at == clock.now()
    assert f'href="http://{DOMAIN}/portal/"' in page
    assert tenant_client(_fresh(org)).get("/portal/account/login/").status_code == 200

    # Removing asks first, then stops serving the domain.
    confirm = _text(client.post(_url(org), {"intent": "remove"}))
    assert f"Remove {DOMAIN}?" in confirm
    assert _fresh(org).custom_domain == DOMAIN
    page = _text(client.post(_url(org), {"intent": "remove", "confirm": "yes"}, follow=True))
    assert "The custom domain was removed." in page and "No custom domain." in page
    assert _fresh(org).custom_domain is None
    assert [
        e.action for e in AuditEvent.all_tenants.filter(action__startswith="custom_domain.").order_by("id")
    ] == [
        "custom_domain.set",
        "custom_domain.verified",
        "custom_domain.removed",
    ]
    assert AuditEvent.all_tenants.filter(action="custom_domain.set").get().actor_label == (
        "owner@renotech.example (owner)"
    )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "javascript:alert(1)",
            "Enter the host name only, like billing.example.com: no https://, path or port.",
        ),
        ("exa mple.com", "A host name has no spaces."),
        ("a" * 300, "A host name is at most 253 characters long."),
        ("renotech.localhost", "renotech.localhost belongs to Portico's own domain (localhost)"),
        ("taken.example.test", "This domain is already used by another organization on Portico."),
    ],
    ids=["javascript", "space", "300 characters", "own subdomain", "another organization's"],
)
def test_a_refused_domain_is_a_form_error_and_nothing_changes(org, other_org, typed, message):
    from portico.core import domains
    from portico.core.audit import Actor

    domains.set_custom_domain(
        organization=other_org, domain="taken.example.test", actor=Actor.system("tests")
    )
    response = _client(org).post(_url(org), {"intent": "save", "domain": typed})
    assert response.status_code == 200
    assert message in _text(response)
    assert '<div class="form-row errors">' in response.content.decode()
    assert _fresh(org).custom_domain is None
    assert not AuditEvent.all_tenants.filter(organization=org, action="custom_domain.set").exists()


@pytest.mark.parametrize("role", [StaffRole.FINANCE, StaffRole.SUPPORT, StaffRole.READ_ONLY])
def test_roles_other_than_owner_and_administrator_can_neither_see_nor_change_it(org, role):
    client = _client(org, role)
    assert client.get(_url(org)).status_code == 403
    assert client.post(_url(org), {"intent": "save", "domain": DOMAIN}).status_code == 403
    assert _fresh(org).custom_domain is None
    change_page = client.get(f"/console/core/organization/{org.pk}/change/").content.decode()
    assert _url(org) not in change_page


def test_an_administrator_manages_the_domain(org):
    client = _client(org, StaffRole.ADMINISTRATOR)
    assert client.post(_url(org), {"intent": "save", "domain": DOMAIN}).status_code == 302
    assert _fresh(org).custom_domain == DOMAIN


def test_another_organizations_staff_cannot_see_or_change_it(org, other_org):
    from portico.core import domains
    from portico.core.audit import Actor

    domains.set_custom_domain(organization=org, domain=DOMAIN, actor=Actor.system("tests"))
    theirs = _client(other_org)
    for data in ({"intent": "save", "domain": "evil.example.test"}, {"intent": "remove", "confirm": "yes"}):
        assert theirs.post(_url(org), data).status_code in (302, 404)
    assert theirs.get(_url(org)).status_code in (302, 404)
    # on their own host, RenoTech's id is no row of theirs
    northwind = tenant_client(other_org)
    northwind.force_login(staff_user(other_org, email="boss@northwind.example"), backend=BACKEND)
    assert northwind.get(_url(org)).status_code == 404
    assert northwind.post(_url(org), {"intent": "remove", "confirm": "yes"}).status_code == 404
    assert _fresh(org).custom_domain == DOMAIN


def test_the_organization_form_does_not_change_the_domain(org):
    client = _client(org)
    url = f"/console/core/organization/{org.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="custom_domain"' not in page
    response = client.post(
        url,
        {
            "name": "RenoTech Renamed",
            "base_currency": "USD",
            "time_zone": "UTC",
            "locale": "en_US",
            "brand_colour": "#1f5fbf",
            "custom_domain": "sneaky.example.test",
            "_save": "Save",
        },
    )
    assert response.status_code == 302  # saved: the name, and not the domain
    assert (_fresh(org).name, _fresh(org).custom_domain) == ("RenoTech Renamed", None)


def test_the_role_and_tenant_walks_reach_the_page(org):
    """`test_roles` and `test_tenant_isolation` walk every named page of every registered admin:
    this one is among them, needing the `custom_domain` permission no limited role has."""
    from portico.console import roles
    from portico.console.site import console_site
    from tests.console.test_roles import pages_of
    from tests.console.test_tenant_isolation import urls_by_id

    admin = console_site._registry[Organization]
    assert (_url(org), "custom_domain") in pages_of(admin, org.pk)
    assert _url(org) in urls_by_id(admin, org.pk)
    for role in (StaffRole.FINANCE, StaffRole.SUPPORT, StaffRole.READ_ONLY):
        user = staff_user(org, email=f"walk-{role}@renotech.example", role=role)
        assert not roles.allows(user, "core.organization", "custom_domain")
