"""Portal roles are enforced on the server for every action: viewer < billing < admin."""

import pytest
from django.http import HttpResponse
from django.urls import include, path

from portico.accounts.models import Invitation, User
from portico.core.models import AuditEvent
from portico.customers.models import ContactPerson, PortalRole
from portico.portal.access import portal_view
from portico.portal.capabilities import portal_urls, registry
from tests.conftest import login, tenant_client
from tests.factories import PASSWORD, ContactFactory, portal_user


@pytest.fixture
def people(customer, portal_login):
    """Maria (admin, primary, the `portal_login`), Tom (billing) and Vera (viewer) of Acme."""
    tom = ContactFactory(
        customer=customer, first_name="Tom", email="tom@acme.example", portal_role=PortalRole.BILLING
    )
    vera = ContactFactory(
        customer=customer, first_name="Vera", email="vera@acme.example", portal_role=PortalRole.VIEWER
    )
    portal_user(tom)
    portal_user(vera)
    return {"maria": portal_login.contact, "tom": tom, "vera": vera}


def signed_in(org, email):
    client = tenant_client(org)
    assert login(client, email).status_code == 302
    return client


def reauthenticated(org, email):
    from tests.factories import PASSWORD

    client = signed_in(org, email)
    client.post("/portal/account/reauthenticate/", {"password": PASSWORD})
    return client


def _portal_patterns():
    """Every gated page under /portal/ with the capability its gate names (from the declaration)."""
    for route, _name, callback in portal_urls():
        gate = getattr(callback, "portal_gate", None)
        if gate is not None:
            yield route, registry().get(gate["module"], gate["action"])


def _sample_url(route: str) -> str:
    for converter, value in (
        ("<int:", "1"),
        ("<str:", "X-1"),
        ("<slug:", "x-1"),
        ("<uuid:", "00000000-0000-0000-0000-000000000000"),
        ("<", "1"),
    ):
        while converter in route:
            start = route.index(converter)
            route = route[:start] + value + route[route.index(">", start) + 1 :]
    return "/" + route.lstrip("^").rstrip("$")


def test_every_portal_page_above_viewer_refuses_a_viewer_with_403(org, people):
    gated = [
        route for route, capability in _portal_patterns() if not capability.allows_role(PortalRole.VIEWER)
    ]
    assert {
        "portal/pay/",
        "portal/credits/apply/",
        "portal/profile/company/",
        "portal/profile/contacts/",
    } <= set(gated), "the capabilities declared for billing and admin roles gate their pages"
    viewer = signed_in(org, "vera@acme.example")
    for route in gated:
        url = _sample_url(route)
        assert viewer.get(url).status_code in (403, 405), url
        assert viewer.post(url, {}).status_code == 403, url


# The subscription pages are still to come; their capability is declared (subscriptions/capabilities.py)
# with the roles that may use it, so a stand-in view gated by it already refuses a viewer.
@portal_view(module="invoices", action="pay")
def _pay(request):
    return HttpResponse("paid")


@portal_view(module="subscriptions", action="change")
def _change_subscription(request):
    return HttpResponse("changed")


urlpatterns = [
    path("portal/pay-check/", _pay),
    path("portal/subscription-check/", _change_subscription),
    path("", include("portico.urls")),
]


@pytest.mark.urls(__name__)
def test_a_viewer_cannot_pay_or_change_a_subscription_but_billing_and_admin_can(org, people):
    for email, expected in (
        ("vera@acme.example", 403),
        ("tom@acme.example", 200),
        ("maria@acme.example", 200),
    ):
        client = signed_in(org, email)
        assert client.post("/portal/pay-check/").status_code == expected, email
        assert client.post("/portal/subscription-check/").status_code == expected, email


def test_viewers_and_billing_users_cannot_invite_or_manage_access(org, people):
    vera = people["vera"]
    for email in ("vera@acme.example", "tom@acme.example"):
        client = reauthenticated(org, email)
        assert client.get("/portal/profile/contacts/").status_code == 403
        assert (
            client.post(
                "/portal/profile/contacts/add/",
                {"first_name": "Eve", "email": "eve@acme.example", "portal_role": "admin", "invite": "on"},
            ).status_code
            == 403
        )
        assert (
            client.post(
                f"/portal/profile/contacts/{vera.public_id}/access/", {"operation": "role", "role": "admin"}
            ).status_code
            == 403
        )
        assert (
            client.post(
                f"/portal/profile/contacts/{vera.public_id}/access/", {"operation": "invite"}
            ).status_code
            == 403
        )
        assert client.post("/portal/profile/company/", {"company_name": "Hacked"}).status_code == 403
    vera.refresh_from_db()
    assert vera.portal_role == PortalRole.VIEWER
    assert not ContactPerson.objects.filter(email="eve@acme.example").exists()
    assert not Invitation.all_tenants.exists()


def test_an_admin_invites_a_colleague_and_sets_roles(
    org, people, mailbox, django_capture_on_commit_callbacks
):
    admin = reauthenticated(org, "maria@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/portal/profile/contacts/add/",
            {
                "first_name": "Eve",
                "last_name": "Stone",
                "email": "Eve@Acme.example",
                "phone": "+1 555 0101",
                "portal_role": "billing",
                "invite": "on",
            },
        )
    assert response.status_code == 302
    eve = ContactPerson.objects.get(email="eve@acme.example")
    assert eve.portal_role == PortalRole.BILLING and eve.has_portal_access
    assert len(mailbox.to("eve@acme.example")) == 1

    response = admin.post(
        f"/portal/profile/contacts/{people['vera'].public_id}/access/", {"operation": "role", "role": "admin"}
    )
    assert response.status_code == 302
    people["vera"].refresh_from_db()
    assert people["vera"].portal_role == PortalRole.ADMIN
    event = AuditEvent.all_tenants.get(action="access.role_changed")
    assert (
        event.data == {"previous": "viewer", "role": "admin"}
        and event.actor_user.email == "maria@acme.example"
    )

    page = admin.get("/portal/profile/contacts/").content.decode()
    assert "Eve Stone" in page and "Invited" in page


def test_changing_a_role_asks_for_the_password_again_when_the_sign_in_is_not_fresh(org, people):
    admin = signed_in(org, "maria@acme.example")
    vera = people["vera"]
    response = admin.post(
        f"/portal/profile/contacts/{vera.public_id}/access/", {"operation": "role", "role": "billing"}
    )
    assert response.status_code == 302 and "/portal/account/reauthenticate/" in response["Location"]
    vera.refresh_from_db()
    assert vera.portal_role == PortalRole.VIEWER
    # after the password, the suspended change goes through
    from tests.factories import PASSWORD

    admin.post(response["Location"], {"password": PASSWORD})
    vera.refresh_from_db()
    assert vera.portal_role == PortalRole.BILLING


def test_turning_off_access_signs_the_person_out_and_emails_them(
    org, people, mailbox, django_capture_on_commit_callbacks
):
    tom_session = signed_in(org, "tom@acme.example")
    admin = reauthenticated(org, "maria@acme.example")
    access_url = f"/portal/profile/contacts/{people['tom'].public_id}/access/"
    asked = admin.post(access_url, {"operation": "disable"})
    assert asked.status_code == 200 and "Turn off portal access for Tom" in asked.content.decode()
    assert ContactPerson.objects.get(pk=people["tom"].pk).has_portal_access  # only asked, nothing changed
    assert tom_session.get("/portal/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(access_url, {"operation": "disable", "confirmed": "yes"})
    assert tom_session.get("/portal/").status_code == 302
    refused = login(tenant_client(org), "tom@acme.example")
    assert (
        refused.status_code == 200 and "access to this portal has been turned off" in refused.content.decode()
    )
    [notice] = mailbox.to("tom@acme.example")
    assert "turned off" in notice["Subject"]

    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"/portal/profile/contacts/{people['tom'].public_id}/access/", {"operation": "enable"})
    assert signed_in(org, "tom@acme.example").get("/portal/").status_code == 200
    assert any("is on" in m["Subject"] for m in mailbox.to("tom@acme.example"))
    assert {"access.revoked", "access.granted"} <= set(
        AuditEvent.all_tenants.values_list("action", flat=True)
    )


def test_an_admin_cannot_lock_out_themself_or_remove_the_last_admin(org, people):
    admin = reauthenticated(org, "maria@acme.example")
    maria = people["maria"]
    response = admin.post(
        f"/portal/profile/contacts/{maria.public_id}/access/",
        {"operation": "disable", "confirmed": "yes"},
        follow=True,
    )
    assert "cannot change your own portal access" in response.content.decode()
    maria.refresh_from_db()
    assert maria.has_portal_access

    # with Vera as the only other admin, Vera cannot demote Maria… and Maria can demote Vera
    ContactPerson.objects.filter(pk=people["vera"].pk).update(portal_role=PortalRole.ADMIN)
    vera = reauthenticated(org, "vera@acme.example")
    ContactPerson.objects.filter(pk=people["vera"].pk).update(has_portal_access=True)
    response = vera.post(
        f"/portal/profile/contacts/{maria.public_id}/access/",
        {"operation": "role", "role": "viewer"},
        follow=True,
    )
    assert response.status_code == 200
    maria.refresh_from_db()
    assert maria.portal_role == PortalRole.VIEWER  # allowed: Vera stays admin
    response = admin.post(
        f"/portal/profile/contacts/{people['vera'].public_id}/access/",
        {"operation": "role", "role": "viewer"},
    )
    assert response.status_code == 403  # Maria is no longer admin


def test_the_last_admin_cannot_be_demoted(org, customer, people):
    from portico.accounts import services
    from portico.accounts.errors import LastAdmin
    from portico.core.audit import Actor

    tom_user = User.objects.get(email="tom@acme.example")
    actor = Actor(kind="portal", user=tom_user, label=tom_user.email)
    with pytest.raises(LastAdmin):
        services.set_portal_role(contact=people["maria"], role="viewer", actor=actor)


def test_an_invalid_role_is_refused_with_a_message(org, people):
    admin = reauthenticated(org, "maria@acme.example")
    response = admin.post(
        f"/portal/profile/contacts/{people['vera'].public_id}/access/",
        {"operation": "role", "role": "owner"},
        follow=True,
    )
    assert "Choose one of the roles offered" in response.content.decode()


def test_another_customers_contact_is_not_found(org, outsider_customer, people):
    outsider = ContactFactory(customer=outsider_customer, email="sam@bluebird.example")
    admin = reauthenticated(org, "maria@acme.example")
    assert admin.get(f"/portal/profile/contacts/{outsider.public_id}/").status_code == 404
    assert (
        admin.post(
            f"/portal/profile/contacts/{outsider.public_id}/access/", {"operation": "disable"}
        ).status_code
        == 404
    )
    assert (
        admin.post(
            f"/portal/profile/contacts/{outsider.public_id}/access/", {"operation": "invite"}
        ).status_code
        == 404
    )
    assert not Invitation.all_tenants.exists()


def test_an_admin_inviting_a_new_person_sends_one_invitation_even_with_auto_invite_on(
    org, people, mailbox, django_capture_on_commit_callbacks
):
    from tests.accounts.conftest import set_policy

    set_policy(org, auto_invite_contacts=True)
    admin = signed_in(org, "maria@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            "/portal/profile/contacts/add/",
            {"first_name": "Eve", "email": "eve@acme.example", "portal_role": "viewer", "invite": "on"},
        )
    assert len(mailbox.to("eve@acme.example")) == 1
    assert Invitation.all_tenants.filter(email="eve@acme.example", revoked_at=None).count() == 1


def test_contacts_are_addressed_by_a_random_public_id_not_the_primary_key(contact, portal_client):
    assert contact.public_id and contact.public_id != str(contact.pk) and len(contact.public_id) >= 12
    portal_client.post("/portal/account/reauthenticate/", {"password": PASSWORD})
    assert portal_client.get(f"/portal/profile/contacts/{contact.public_id}/").status_code == 200
    assert portal_client.get(f"/portal/profile/contacts/{contact.pk}/").status_code == 404
