import pytest

from portico.accounts.models import User
from portico.core.models import AuditEvent
from portico.customers.models import ContactPerson, Customer
from tests.accounts.conftest import links_in, path_of
from tests.conftest import login, tenant_client
from tests.factories import PASSWORD, ContactFactory, portal_user, staff_user

COMPANY = {
    "company_name": "Acme Interiors LLC",
    "email": "accounts@acme.example",
    "phone": "+1 555 0100",
    "tax_id": "us-12-3456789",
    "billing_line1": "100 Main Street",
    "billing_line2": "",
    "billing_city": "Springfield",
    "billing_region": "IL",
    "billing_postal_code": "62701",
    "billing_country": "US",
    "shipping_line1": "",
    "shipping_line2": "",
    "shipping_city": "",
    "shipping_region": "",
    "shipping_postal_code": "",
    "shipping_country": "",
}


@pytest.fixture
def staff(org):
    return staff_user(org, email="finance@renotech.example")


def signed_in(org, email="maria@acme.example"):
    client = tenant_client(org)
    login(client, email)
    return client


def test_a_user_updates_their_own_name_and_phone_and_the_business_is_told(
    org, portal_login, staff, mailbox, django_capture_on_commit_callbacks
):
    client = signed_in(org)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/portal/profile/", {"first_name": "María", "last_name": "López", "phone": "+1 (555) 0199"}
        )
    assert response.status_code == 302
    contact = ContactPerson.objects.get(pk=portal_login.contact_id)
    assert (contact.first_name, contact.last_name, contact.phone) == ("María", "López", "+1 (555) 0199")
    portal_login.refresh_from_db()
    assert portal_login.get_full_name() == "María López"
    event = AuditEvent.all_tenants.get(action="contact.changed")
    assert event.data["changes"]["phone"] == {"from": "", "to": "+1 (555) 0199"}
    [notice] = mailbox.to("finance@renotech.example")
    assert "Acme Interiors" in notice["Subject"] and "0199" in mailbox.body(notice)


def test_a_bad_phone_number_is_explained_not_saved(org, portal_login):
    response = signed_in(org).post("/portal/profile/", {"first_name": "Maria", "phone": "call me maybe"})
    assert response.status_code == 200 and "Enter a phone number" in response.content.decode()
    assert ContactPerson.objects.get(pk=portal_login.contact_id).phone == ""


def test_an_admin_updates_the_company_details_with_addresses_checked_per_country(
    org, customer, portal_login, staff, mailbox, django_capture_on_commit_callbacks
):
    client = signed_in(org)
    bad = client.post(
        "/portal/profile/company/", {**COMPANY, "billing_postal_code": "ABC", "billing_region": ""}
    )
    page = bad.content.decode()
    assert bad.status_code == 200
    assert "postal code in this country" in page and "12345 or 12345-6789" in page
    assert "need a state" in page
    uk = client.post(
        "/portal/profile/company/", {**COMPANY, "billing_country": "GB", "billing_postal_code": "62701"}
    )
    assert "SW1A 1AA" in uk.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(
            "/portal/profile/company/",
            {
                **COMPANY,
                "billing_country": "GB",
                "billing_region": "",
                "billing_city": "London",
                "billing_postal_code": "sw1a 1aa",
            },
        )
    assert ok.status_code == 302
    customer.refresh_from_db()
    assert (customer.billing_country, customer.billing_postal_code, customer.tax_id) == (
        "GB",
        "SW1A 1AA",
        "US-12-3456789",
    )
    event = AuditEvent.all_tenants.get(action="customer.details_changed")
    assert event.customer == customer and event.data["changes"]["billing_city"]["to"] == "London"
    [notice] = mailbox.to("finance@renotech.example")
    assert "company details" in notice["Subject"] and "London" in mailbox.body(notice)
    # staff see the change in the console's audit trail
    console = tenant_client(org)
    console.force_login(staff, backend="portico.accounts.backends.TenantAuthenticationBackend")
    assert "customer.details_changed" in console.get("/console/core/auditevent/").content.decode()


def test_an_unknown_country_is_refused(org, portal_login):
    response = signed_in(org).post("/portal/profile/company/", {**COMPANY, "billing_country": "XX"})
    assert "Select a valid choice" in response.content.decode()


def test_a_non_admin_cannot_see_or_change_the_company_details(org, customer, portal_login):
    portal_user(ContactFactory(customer=customer, email="vera@acme.example", portal_role="viewer"))
    client = signed_in(org, "vera@acme.example")
    assert client.get("/portal/profile/company/").status_code == 403
    assert client.get("/portal/profile/").status_code == 200


def test_the_profile_obeys_the_organizations_portal_preferences(org, portal_login):
    from portico.portal.models import PortalConfiguration, preferences_of

    PortalConfiguration.objects.filter(pk=preferences_of(org).pk).update(disabled=["profile.change"])
    client = signed_in(org)
    assert client.get("/portal/profile/").status_code == 200
    assert client.post("/portal/profile/", {"first_name": "X"}).status_code == 404
    assert client.get("/portal/profile/company/").status_code == 200  # its own capability now

    PortalConfiguration.objects.filter(organization=org).update(disabled=["profile.company"])
    assert client.get("/portal/profile/company/").status_code == 404
    assert client.post("/portal/profile/company/", {"company_name": "Hacked"}).status_code == 404
    assert client.post("/portal/profile/", {"first_name": "Mary", "last_name": "Lopez"}).status_code == 302
    portal_login.contact.refresh_from_db()
    assert portal_login.contact.first_name == "Mary"  # own details stay changeable


def test_changing_the_email_is_confirmed_from_the_new_address(
    org, portal_login, mailbox, django_capture_on_commit_callbacks
):
    client = signed_in(org)
    client.post("/portal/account/reauthenticate/", {"password": PASSWORD})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/portal/profile/email/", {"email": "maria.lopez@acme.example"})
    assert response.status_code == 302
    portal_login.refresh_from_db()
    assert portal_login.email == "maria@acme.example"  # nothing changes before the link is followed

    [message] = mailbox.to("maria.lopez@acme.example")
    [link] = [url for url in links_in(mailbox.body(message)) if "/profile/email/confirm/" in url]
    assert client.get(path_of(link)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path_of(link))
    portal_login.refresh_from_db()
    assert portal_login.email == "maria.lopez@acme.example"
    assert ContactPerson.objects.get(pk=portal_login.contact_id).email == "maria.lopez@acme.example"
    assert login(tenant_client(org), "maria.lopez@acme.example").status_code == 302
    [old_notice] = mailbox.to("maria@acme.example")
    assert "was changed" in old_notice["Subject"]
    # the link is single use
    again = client.post(path_of(link), follow=True)
    assert "no longer valid" in again.content.decode()
    assert AuditEvent.all_tenants.filter(action="email.changed").count() == 1


def test_changing_the_email_needs_a_fresh_sign_in(org, portal_login):
    response = signed_in(org).get("/portal/profile/email/")
    assert response.status_code == 302 and "/reauthenticate/" in response["Location"]


def test_an_email_change_link_cannot_be_used_by_another_user(
    org, customer, portal_login, mailbox, django_capture_on_commit_callbacks
):
    client = signed_in(org)
    client.post("/portal/account/reauthenticate/", {"password": PASSWORD})
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/portal/profile/email/", {"email": "maria.lopez@acme.example"})
    [link] = [
        u for u in links_in(mailbox.body(mailbox.to("maria.lopez@acme.example")[0])) if "/confirm/" in u
    ]
    portal_user(ContactFactory(customer=customer, email="tom@acme.example"))
    tom = signed_in(org, "tom@acme.example")
    tom.post(path_of(link))
    assert User.objects.get(email="tom@acme.example")
    assert not User.objects.filter(email="maria.lopez@acme.example").exists()


def test_an_address_already_used_by_another_login_is_refused(org, customer, portal_login):
    portal_user(ContactFactory(customer=customer, email="tom@acme.example"))
    client = signed_in(org)
    client.post("/portal/account/reauthenticate/", {"password": PASSWORD})
    response = client.post("/portal/profile/email/", {"email": "TOM@acme.example"})
    assert response.status_code == 200 and "already uses that address" in response.content.decode()


def test_an_admin_edits_a_contact_but_not_the_sign_in_email_of_someone_with_a_login(
    org, customer, portal_login
):
    tom = ContactFactory(customer=customer, first_name="Tom", email="tom@acme.example")
    portal_user(tom)
    client = signed_in(org)
    client.post("/portal/account/reauthenticate/", {"password": PASSWORD})
    response = client.post(
        f"/portal/profile/contacts/{tom.public_id}/",
        {"first_name": "Thomas", "last_name": "Becker", "email": "attacker@evil.example", "phone": ""},
    )
    assert response.status_code == 302
    tom.refresh_from_db()
    assert tom.first_name == "Thomas" and tom.email == "tom@acme.example"


def test_a_duplicate_contact_email_is_explained(org, customer, portal_login):
    client = signed_in(org)
    response = client.post(
        "/portal/profile/contacts/add/",
        {"first_name": "Again", "email": "MARIA@acme.example", "portal_role": "viewer"},
    )
    assert response.status_code == 200 and "already has this email" in response.content.decode()
    assert Customer.objects.get(pk=customer.pk).contacts.count() == 1
