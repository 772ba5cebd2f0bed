from django.test import Client

from portico.core.models import AuditEvent
from tests.conftest import login, tenant_client
from tests.factories import PASSWORD, ContactFactory, CustomerFactory, portal_user, staff_user


def test_a_contact_signs_in_and_sees_their_dashboard(org, portal_login):
    client = tenant_client(org)
    response = login(client, "maria@acme.example")
    assert response.status_code == 302 and response["Location"] == "/portal/"
    page = client.get("/portal/").content.decode()
    assert "Welcome, Acme Interiors" in page
    assert org.name in page


def test_a_wrong_password_gets_a_clear_message_and_no_session(org, portal_login):
    client = tenant_client(org)
    response = login(client, "maria@acme.example", "not-the-password")
    assert response.status_code == 200
    assert "email address and/or password you specified are not correct" in response.content.decode()
    assert client.get("/portal/").status_code == 302


def test_the_same_email_at_two_organizations_is_two_separate_logins(org, other_org, portal_login):
    theirs = ContactFactory(customer=CustomerFactory(organization=other_org), email="maria@acme.example")
    portal_user(theirs, password="northwind-password")

    # Northwind's password does not open RenoTech's portal, and vice versa.
    assert login(tenant_client(org), "maria@acme.example", "northwind-password").status_code == 200
    assert login(tenant_client(other_org), "maria@acme.example", PASSWORD).status_code == 200

    renotech = tenant_client(org)
    assert login(renotech, "maria@acme.example", PASSWORD).status_code == 302
    assert "Acme Interiors" in renotech.get("/portal/").content.decode()
    northwind = tenant_client(other_org)
    assert login(northwind, "maria@acme.example", "northwind-password").status_code == 302
    assert northwind.get("/portal/").wsgi_request.user.organization == other_org


def test_a_session_from_one_organization_is_not_valid_on_anothers_host(org, other_org, portal_client):
    cookie = portal_client.cookies["portico_session"].value
    stranger = tenant_client(other_org)
    stranger.cookies["portico_session"] = cookie
    response = stranger.get("/portal/")
    assert response.status_code == 302
    assert response["Location"].startswith("/portal/account/login/")
    # The same session still works where it belongs.
    assert portal_client.get("/portal/").status_code == 200


def test_staff_without_a_contact_cannot_use_the_portal(org):
    client = tenant_client(org)
    staff_user(org)
    login(client, "staff@business.example")
    assert client.get("/portal/").status_code == 403


def test_a_contact_whose_access_was_revoked_is_refused(org, contact, portal_client):
    contact.has_portal_access = False
    contact.save()
    response = portal_client.get("/portal/")
    assert response.status_code == 403
    assert "no access" in response.content.decode()


def test_open_sign_up_is_closed(org):
    response = tenant_client(org).get("/portal/account/signup/")
    assert "closed" in response.content.decode().lower()


def test_an_expired_form_gets_a_friendly_page_not_an_error(org, portal_login):
    client = Client(HTTP_HOST=org.host, enforce_csrf_checks=True)
    response = client.post("/portal/account/login/", {"login": "maria@acme.example", "password": PASSWORD})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_a_malformed_login_form_is_answered_with_field_errors(org):
    response = tenant_client(org).post("/portal/account/login/", {"login": "not an email", "password": ""})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def test_signing_in_is_audited(org, portal_login):
    login(tenant_client(org), "maria@acme.example")
    event = AuditEvent.all_tenants.get(action="login.succeeded")
    assert event.organization == org and event.actor_user == portal_login
