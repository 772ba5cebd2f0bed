from portico.accounts import services
from portico.accounts.models import AccessPolicy, Invitation
from portico.core.audit import Actor
from portico.core.models import AuditEvent
from tests.conftest import tenant_client
from tests.factories import ContactFactory, staff_user


def staff_client(org):
    client = tenant_client(org)
    client.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    return client


def test_staff_set_their_organizations_access_policy_in_the_console(org, other_org):
    client = staff_client(org)
    page = client.get("/console/accounts/accesspolicy/").content.decode()
    assert org.name in page and other_org.name not in page
    policy = AccessPolicy.objects.get(organization=org)
    response = client.post(
        f"/console/accounts/accesspolicy/{policy.pk}/change/",
        {"invitation_days": "3", "auto_invite_contacts": "on", "portal_mfa_required": "on"},
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (
        policy.invitation_days,
        policy.auto_invite_contacts,
        policy.portal_mfa_required,
        policy.staff_mfa_required,
    ) == (3, True, True, False)
    assert AuditEvent.all_tenants.filter(action="access_policy.changed", organization=org).exists()


def test_an_invitation_lifetime_out_of_range_is_refused(org):
    client = staff_client(org)
    client.get("/console/accounts/accesspolicy/")
    policy = AccessPolicy.objects.get(organization=org)
    response = client.post(f"/console/accounts/accesspolicy/{policy.pk}/change/", {"invitation_days": "0"})
    assert response.status_code == 200 and "greater than or equal to 1" in response.content.decode()


def test_staff_revoke_and_resend_invitations_from_the_console(org, customer, clock):
    contact = ContactFactory(customer=customer, email="tom@acme.example")
    invitation = services.invite_contact(contact=contact, actor=Actor.system())
    client = staff_client(org)
    client.post("/console/accounts/invitation/", {"action": "revoke", "_selected_action": [invitation.pk]})
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    client.post("/console/accounts/invitation/", {"action": "resend", "_selected_action": [invitation.pk]})
    assert Invitation.all_tenants.filter(contact=contact, revoked_at=None, accepted_at=None).count() == 1


def test_staff_turn_off_a_contacts_access_from_the_console(org, customer, portal_client, contact):
    client = staff_client(org)
    client.post(
        "/console/customers/contactperson/", {"action": "revoke_access", "_selected_action": [contact.pk]}
    )
    contact.refresh_from_db()
    assert not contact.has_portal_access
    assert portal_client.get("/portal/").status_code in (302, 403)
