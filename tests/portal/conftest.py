import pytest

from tests.conftest import tenant_client
from tests.factories import ContactFactory, portal_user


def client_for(contact):
    client = tenant_client(contact.organization)
    client.force_login(portal_user(contact), backend="portico.accounts.backends.TenantAuthenticationBackend")
    return client


@pytest.fixture
def viewer_client(customer):
    return client_for(ContactFactory(customer=customer, email="vera@acme.example", portal_role="viewer"))


@pytest.fixture
def billing_client(customer):
    return client_for(ContactFactory(customer=customer, email="tom@acme.example", portal_role="billing"))
