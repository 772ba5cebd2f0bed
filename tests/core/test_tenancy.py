import pytest

from portico.core import tenancy
from portico.customers.models import Customer
from tests.conftest import tenant_client
from tests.factories import CustomerFactory


def test_a_tenant_subdomain_serves_that_tenants_portal(org):
    response = tenant_client(org).get("/portal/account/login/")
    assert response.status_code == 200
    assert response.wsgi_request.organization == org
    assert "RenoTech" in response.content.decode()


def test_an_unknown_host_gets_a_plain_404(db):
    from django.test import Client

    response = Client(HTTP_HOST="nobody.localhost").get("/portal/")
    assert response.status_code == 404
    assert "No portal here" in response.content.decode()
    response = Client(HTTP_HOST="evil.example.com").get("/portal/account/login/")
    assert response.status_code == 404


def test_a_nested_subdomain_is_not_a_tenant(org):
    from django.test import Client

    assert Client(HTTP_HOST=f"x.{org.slug}.localhost").get("/portal/").status_code == 404


def test_a_verified_custom_domain_serves_the_tenant(org, clock):
    from django.test import Client

    org.custom_domain = "Billing.RenoTech.example"
    org.domain_verified_at = clock.now()
    org.save()
    assert org.custom_domain == "billing.renotech.example"
    response = Client(HTTP_HOST="billing.renotech.example").get("/portal/account/login/")
    assert response.status_code == 200
    assert response.wsgi_request.organization == org


def test_an_unverified_custom_domain_is_not_served(org):
    from django.test import Client

    org.custom_domain = "billing.renotech.example"
    org.save()
    assert Client(HTTP_HOST="billing.renotech.example").get("/portal/account/login/").status_code == 404


def test_an_inactive_organization_is_not_served(org):
    org.is_active = False
    org.save()
    assert tenant_client(org).get("/portal/account/login/").status_code == 404


def test_the_default_manager_only_sees_the_active_tenants_rows(org, other_org):
    mine = CustomerFactory(organization=org)
    theirs = CustomerFactory(organization=other_org)
    with tenancy.for_tenant(org):
        assert list(Customer.objects.all()) == [mine]
        with pytest.raises(Customer.DoesNotExist):
            Customer.objects.get(pk=theirs.pk)
    with tenancy.for_tenant(other_org):
        assert list(Customer.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert set(Customer.all_tenants.values_list("pk", flat=True)) == {mine.pk, theirs.pk}


def test_new_rows_take_the_active_tenant(org):
    with tenancy.for_tenant(org):
        customer = Customer.objects.create(display_name="Walk-in")
    assert customer.organization == org


def test_health_check_reports_the_database(db):
    from django.test import Client

    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_the_tls_ask_endpoint_approves_only_hosts_portico_serves(org, clock):
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    assert client.get("/tls/ask", {"domain": "renotech.localhost"}).status_code == 200
    assert client.get("/tls/ask", {"domain": "nobody.localhost"}).status_code == 404
    assert client.get("/tls/ask", {"domain": "billing.renotech.example"}).status_code == 404
    org.custom_domain, org.domain_verified_at = "billing.renotech.example", clock.now()
    org.save()
    assert client.get("/tls/ask", {"domain": "billing.renotech.example"}).status_code == 200
    assert client.get("/tls/ask").status_code == 404
