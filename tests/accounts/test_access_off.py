"""A contact whose portal access was turned off: refused at sign-in, never left in a loop, and
access is turned off only after a confirmation."""

from portico.accounts.models import Invitation
from portico.core.models import AuditEvent
from portico.customers.models import ContactPerson, PortalRole
from tests.conftest import login, tenant_client
from tests.factories import PASSWORD, ContactFactory, portal_user, staff_user

TURNED_OFF = "access to this portal has been turned off"


def test_a_contact_whose_access_was_turned_off_is_refused_at_sign_in_with_no_session(
    org, contact, portal_login
):
    ContactPerson.objects.filter(pk=contact.pk).update(has_portal_access=False)
    client = tenant_client(org)
    response = login(client, "maria@acme.example")
    page = response.content.decode()
    assert response.status_code == 200 and TURNED_OFF in page
    assert "Successfully signed in" not in page
    assert "_auth_user_id" not in client.session
    assert client.get("/portal/").status_code == 302  # to the sign-in page, not a 403 loop
    assert not AuditEvent.all_tenants.filter(action="login.succeeded").exists()


def test_a_wrong_password_of_a_turned_off_contact_says_only_that_it_is_wrong(org, contact, portal_login):
    ContactPerson.objects.filter(pk=contact.pk).update(has_portal_access=False)
    page = login(tenant_client(org), "maria@acme.example", "a-wrong-guess").content.decode()
    assert "not correct" in page and TURNED_OFF not in page


def test_the_not_allowed_page_offers_a_signed_in_user_a_way_to_sign_out(org):
    client = tenant_client(org)
    staff_user(org)
    assert login(client, "staff@business.example").status_code == 302
    refused = client.get("/portal/")
    assert refused.status_code == 403
    page = refused.content.decode()
    assert 'action="/portal/account/logout/"' in page and "Sign out" in page
    assert 'href="/portal/"' not in page  # no "Back to the portal" that would only refuse again
    client.post("/portal/account/logout/")
    assert "_auth_user_id" not in client.session


def test_a_person_who_signs_in_is_not_offered_an_invitation(org, customer, portal_login, portal_client):
    tom = ContactFactory(
        customer=customer, first_name="Tom", email="tom@acme.example", has_portal_access=True
    )
    portal_user(tom)
    newcomer = ContactFactory(customer=customer, first_name="Nina", email="nina@acme.example")
    portal_client.post("/portal/account/reauthenticate/", {"password": PASSWORD})

    toms_page = portal_client.get(f"/portal/profile/contacts/{tom.public_id}/").content.decode()
    assert "They can sign in to the portal." in toms_page
    assert 'value="resend"' not in toms_page and "invitation" not in toms_page.lower()
    ninas_page = portal_client.get(f"/portal/profile/contacts/{newcomer.public_id}/").content.decode()
    assert ">Invite</button>" in ninas_page  # no login yet: invited from here

    response = portal_client.post(
        f"/portal/profile/contacts/{tom.public_id}/access/", {"operation": "resend"}, follow=True
    )
    assert "already signs in to the portal" in response.content.decode()
    assert not Invitation.all_tenants.filter(contact=tom).exists()


def test_an_invited_person_can_get_a_new_invitation_or_have_it_withdrawn(org, customer, portal_client, clock):
    from portico.accounts import services
    from portico.core.audit import Actor

    eve = ContactFactory(
        customer=customer, first_name="Eve", email="eve@acme.example", portal_role=PortalRole.VIEWER
    )
    services.invite_contact(contact=eve, actor=Actor.system("test"))
    portal_client.post("/portal/account/reauthenticate/", {"password": PASSWORD})
    page = portal_client.get(f"/portal/profile/contacts/{eve.public_id}/").content.decode()
    assert "Send a new invitation" in page and "Withdraw pending invitation" in page


def test_cancelling_the_confirmation_keeps_access_on(org, customer, portal_client):
    tom = ContactFactory(
        customer=customer, first_name="Tom", email="tom@acme.example", has_portal_access=True
    )
    portal_user(tom)
    portal_client.post("/portal/account/reauthenticate/", {"password": PASSWORD})
    asked = portal_client.post(f"/portal/profile/contacts/{tom.public_id}/access/", {"operation": "disable"})
    page = asked.content.decode()
    assert "will be signed out everywhere" in page
    assert f'href="/portal/profile/contacts/{tom.public_id}/"' in page  # Cancel: back, nothing changed
    tom.refresh_from_db()
    assert tom.has_portal_access
    assert not AuditEvent.all_tenants.filter(action="access.revoked").exists()


def test_a_sign_in_without_a_password_is_refused_too_when_access_is_off(org, contact, portal_login, rf):
    """Passkey sign-ins skip the password check; allauth's login flow refuses them at pre_login."""
    from allauth.account.utils import perform_login
    from allauth.core import context as allauth_context
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    from portico.core import tenancy

    ContactPerson.objects.filter(pk=contact.pk).update(has_portal_access=False)
    portal_login.refresh_from_db()
    request = rf.get("/portal/account/login/", HTTP_HOST=org.host)
    request.organization, request.session, request.user = org, SessionStore(), AnonymousUser()
    request._messages = FallbackStorage(request)
    with tenancy.for_tenant(org), allauth_context.request_context(request):
        response = perform_login(request, portal_login)
    assert response.status_code == 302 and response["Location"] == "/portal/account/login/"
    assert "_auth_user_id" not in request.session
    assert any(TURNED_OFF in str(m) for m in request._messages)
