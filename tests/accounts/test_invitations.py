import pytest

from portico.accounts import services
from portico.accounts.models import Invitation, User
from portico.core.audit import Actor
from portico.core.models import AuditEvent
from tests.accounts.conftest import links_in, path_of, set_policy
from tests.conftest import login, tenant_client
from tests.factories import ContactFactory, CustomerFactory, staff_user

NEW_PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def invitee(customer):
    return ContactFactory(
        customer=customer,
        first_name="Tom",
        last_name="Becker",
        email="tom@acme.example",
        has_portal_access=False,
    )


def invite(contact, capture, actor=None):
    with capture(execute=True):
        return services.invite_contact(contact=contact, actor=actor or Actor.system("test"))


def test_an_invited_contact_gets_an_email_and_sets_a_password_from_its_link(
    org, invitee, mailbox, django_capture_on_commit_callbacks
):
    invite(invitee, django_capture_on_commit_callbacks)

    [message] = mailbox.to("tom@acme.example")
    assert "invited" in message["Subject"].lower() and org.name in message["Subject"]
    assert org.name in message["From"]
    [link] = [url for url in links_in(mailbox.body(message)) if "/invitation/" in url]
    assert link.startswith(f"http://{org.host}")

    client = tenant_client(org)
    page = client.get(path_of(link))
    assert page.status_code == 200 and "tom@acme.example" in page.content.decode()
    response = client.post(path_of(link), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200

    invitee.refresh_from_db()
    assert invitee.has_portal_access
    assert login(tenant_client(org), "tom@acme.example", NEW_PASSWORD).status_code == 302
    assert {"invitation.sent", "invitation.accepted"} <= set(
        AuditEvent.all_tenants.filter(organization=org).values_list("action", flat=True)
    )


def test_an_invitation_link_works_only_once(org, invitee, clock):
    token = services.invite_contact(contact=invitee, actor=Actor.system()).token
    client = tenant_client(org)
    url = f"/portal/account/invitation/{token}/"
    client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = tenant_client(org).get(url)
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    refused = tenant_client(org).post(
        url, {"new_password1": "x" + NEW_PASSWORD, "new_password2": "x" + NEW_PASSWORD}
    )
    assert refused.status_code == 410
    assert login(tenant_client(org), "tom@acme.example", NEW_PASSWORD).status_code == 302


def test_an_expired_invitation_explains_what_to_do(org, invitee, clock):
    token = services.invite_contact(contact=invitee, actor=Actor.system()).token
    clock.advance(days=7, seconds=1)
    response = tenant_client(org).get(f"/portal/account/invitation/{token}/")
    assert response.status_code == 410
    page = response.content.decode()
    assert "expired" in page and "send you a new one" in page
    assert not User.all_tenants.get(contact=invitee).has_usable_password()


def test_the_invitation_lifetime_is_the_organizations_choice(org, invitee, clock):
    set_policy(org, invitation_days=2)
    invitation = services.invite_contact(contact=invitee, actor=Actor.system())
    assert invitation.expires_at == clock.now() + __import__("datetime").timedelta(days=2)
    clock.advance(days=2, seconds=1)
    assert tenant_client(org).get(f"/portal/account/invitation/{invitation.token}/").status_code == 410


def test_resending_an_invitation_makes_the_earlier_link_stop_working(org, invitee, clock):
    first = services.invite_contact(contact=invitee, actor=Actor.system()).token
    second = services.invite_contact(contact=invitee, actor=Actor.system()).token
    old = tenant_client(org).get(f"/portal/account/invitation/{first}/")
    assert old.status_code == 410 and "most recent invitation" in old.content.decode()
    assert tenant_client(org).get(f"/portal/account/invitation/{second}/").status_code == 200


def test_a_revoked_invitation_cannot_be_used(org, invitee, clock):
    invitation = services.invite_contact(contact=invitee, actor=Actor.system())
    services.revoke_invitation(invitation=invitation, actor=Actor.system())
    response = tenant_client(org).get(f"/portal/account/invitation/{invitation.token}/")
    assert response.status_code == 410 and "withdrawn" in response.content.decode()


def test_a_weak_password_is_refused_with_the_validators_reasons(org, invitee, clock):
    token = services.invite_contact(contact=invitee, actor=Actor.system()).token
    response = tenant_client(org).post(
        f"/portal/account/invitation/{token}/", {"new_password1": "12345", "new_password2": "12345"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "too short" in page and "entirely numeric" in page
    assert Invitation.all_tenants.get().accepted_at is None


def test_a_mistyped_confirmation_is_refused(org, invitee, clock):
    token = services.invite_contact(contact=invitee, actor=Actor.system()).token
    response = tenant_client(org).post(
        f"/portal/account/invitation/{token}/",
        {"new_password1": NEW_PASSWORD, "new_password2": "different-one-1"},
    )
    assert response.status_code == 200 and "didn’t match" in response.content.decode()


def test_an_unknown_or_garbled_link_is_a_clear_404(org):
    response = tenant_client(org).get("/portal/account/invitation/not-a-real-token/")
    assert response.status_code == 404 and "not valid" in response.content.decode()


def test_an_invitation_of_one_organization_does_not_work_on_anothers_host(org, other_org, invitee, clock):
    token = services.invite_contact(contact=invitee, actor=Actor.system()).token
    assert tenant_client(other_org).get(f"/portal/account/invitation/{token}/").status_code == 404


def test_new_contacts_are_invited_automatically_when_the_organization_wants_it(
    org, customer, mailbox, django_capture_on_commit_callbacks
):
    set_policy(org, auto_invite_contacts=True)
    with django_capture_on_commit_callbacks(execute=True):
        ContactFactory(customer=customer, email="new@acme.example", has_portal_access=True)
        ContactFactory(customer=customer, email="noaccess@acme.example", has_portal_access=False)
    assert len(mailbox.to("new@acme.example")) == 1
    assert mailbox.to("noaccess@acme.example") == []


def test_contacts_are_not_invited_automatically_by_default(
    org, customer, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ContactFactory(customer=customer, email="new@acme.example", has_portal_access=True)
    assert mailbox.messages == []


def test_staff_invite_contacts_from_the_console(org, invitee, mailbox, django_capture_on_commit_callbacks):
    client = tenant_client(org)
    client.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/console/customers/contactperson/",
            {"action": "invite_contacts", "_selected_action": [invitee.pk]},
            follow=True,
        )
    assert "1 invitation sent" in response.content.decode()
    assert len(mailbox.to("tom@acme.example")) == 1
    event = AuditEvent.all_tenants.get(action="invitation.sent")
    assert event.actor_kind == "staff" and event.customer == invitee.customer
    # and staff see (and can revoke) it in the console
    page = client.get("/console/accounts/invitation/").content.decode()
    assert "tom@acme.example" in page and "Pending" in page


def test_staff_cannot_invite_another_organizations_contact(org, other_org, clock):
    theirs = ContactFactory(customer=CustomerFactory(organization=other_org), email="x@other.example")
    client = tenant_client(org)
    client.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    client.post(
        "/console/customers/contactperson/", {"action": "invite_contacts", "_selected_action": [theirs.pk]}
    )
    assert not Invitation.all_tenants.exists()


def test_an_invited_primary_contact_becomes_the_customers_portal_admin_by_default(org, customer, clock):
    primary = ContactFactory(
        customer=customer,
        email="boss@acme.example",
        is_primary=True,
        portal_role="viewer",
        has_portal_access=False,
    )
    services.invite_contact(contact=primary, actor=Actor.system())
    primary.refresh_from_db()
    assert primary.portal_role == "admin" and primary.has_portal_access


def test_a_primary_contact_keeps_their_role_when_the_customer_already_has_an_admin(
    org, customer, contact, clock
):
    contact.portal_role = "admin"
    contact.is_primary = False
    contact.save()
    primary = ContactFactory(
        customer=customer, email="boss@acme.example", is_primary=True, portal_role="viewer"
    )
    services.invite_contact(contact=primary, actor=Actor.system())
    primary.refresh_from_db()
    assert primary.portal_role == "viewer"
