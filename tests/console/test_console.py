import pytest

from portico.accounts.models import User
from tests.conftest import tenant_client
from tests.factories import PASSWORD, CustomerFactory, staff_user


@pytest.fixture
def staff_client(org):
    client = tenant_client(org)
    client.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    return client


def test_staff_see_their_organizations_customers_and_not_anothers(org, other_org, staff_client):
    CustomerFactory(organization=org, display_name="Mine Ltd")
    theirs = CustomerFactory(organization=other_org, display_name="Theirs Ltd")
    page = staff_client.get("/console/customers/customer/").content.decode()
    assert "Mine Ltd" in page
    assert "Theirs Ltd" not in page
    assert staff_client.get(f"/console/customers/customer/{theirs.pk}/change/").status_code in (302, 404)
    assert staff_client.get(f"/console/customers/customer/{theirs.pk}/delete/").status_code in (302, 404)


def test_staff_cannot_change_another_organizations_customer_by_posting(org, other_org, staff_client):
    theirs = CustomerFactory(organization=other_org, display_name="Theirs Ltd")
    staff_client.post(f"/console/customers/customer/{theirs.pk}/change/", {"display_name": "Hacked"})
    theirs.refresh_from_db()
    assert theirs.display_name == "Theirs Ltd"


def test_a_customer_added_in_the_console_belongs_to_the_staffs_organization(org, other_org, staff_client):
    response = staff_client.post(
        "/console/customers/customer/add/",
        {
            "display_name": "New Customer",
            "currency": "USD",
            "payment_terms_days": "30",
            "is_active": "on",
            "organization": str(other_org.pk),  # a tampered field is ignored
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
            "payment_methods-TOTAL_FORMS": "0",
            "payment_methods-INITIAL_FORMS": "0",
            "sso-TOTAL_FORMS": "0",  # the single sign-on block, left empty
            "sso-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = org and CustomerFactory._meta.model.all_tenants.get(display_name="New Customer")
    assert customer.organization == org


def test_staff_of_one_organization_cannot_use_anothers_console(org, other_org):
    client = tenant_client(other_org)
    client.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    response = client.get("/console/")
    assert response.status_code == 302  # not signed in here: the session's user is not found on this host


def test_staff_sign_in_through_the_portal_login_and_land_in_the_console(org):
    staff_user(org)
    client = tenant_client(org)
    chain = client.get("/console/", follow=True).redirect_chain
    assert chain[-1][0].startswith("/portal/account/login/?next=/console/")
    response = client.post(
        "/portal/account/login/", {"login": "staff@business.example", "password": PASSWORD}
    )
    assert response["Location"] == "/console/"
    assert client.get("/console/").status_code == 200


def test_staff_user_list_shows_only_their_organizations_users(org, other_org, staff_client):
    User.objects.create_user("someone@other.example", "x" * 12, organization=other_org)
    page = staff_client.get("/console/accounts/user/").content.decode()
    assert "staff@business.example" in page
    assert "someone@other.example" not in page


def test_a_platform_superuser_manages_every_organization_on_the_platform_host(org, other_org):
    from django.test import Client

    admin = User.objects.create_superuser("root@portico.example", PASSWORD)
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin, backend="portico.accounts.backends.TenantAuthenticationBackend")
    page = client.get("/console/core/organization/").content.decode()
    assert org.name in page and other_org.name in page


def test_a_platform_superuser_sees_every_organizations_customers_on_the_platform_host(org, other_org):
    from django.test import Client

    from tests.factories import CustomerFactory

    CustomerFactory(organization=org, display_name="Acme Interiors")
    CustomerFactory(organization=other_org, display_name="Fjord Media")
    admin = User.objects.create_superuser("root@portico.example", PASSWORD)
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin, backend="portico.accounts.backends.TenantAuthenticationBackend")
    response = client.get("/console/customers/customer/")
    assert response.status_code == 200
    assert "Acme Interiors" in response.content.decode() and "Fjord Media" in response.content.decode()


def test_tenant_staff_see_only_their_own_organization_settings(org, other_org, staff_client):
    page = staff_client.get("/console/core/organization/").content.decode()
    assert org.name in page and other_org.name not in page
    assert staff_client.get(f"/console/core/organization/{other_org.pk}/change/").status_code in (302, 404)
