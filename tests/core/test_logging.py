"""Expected refusals are logged as one line; real errors keep their traceback."""

import logging

from portico.customers.models import PortalRole
from tests.conftest import tenant_client
from tests.factories import ContactFactory, portal_user


def test_a_permission_denied_is_logged_as_one_line_without_a_traceback(org, customer, caplog):
    viewer = ContactFactory(customer=customer, email="vera@acme.example", portal_role=PortalRole.VIEWER)
    client = tenant_client(org)
    client.force_login(portal_user(viewer), backend="portico.accounts.backends.TenantAuthenticationBackend")
    with caplog.at_level(logging.INFO):
        response = client.get("/portal/pay/")
    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "Forbidden (Permission denied): /portal/pay/"
    assert record.exc_info is None
    assert "Traceback" not in caplog.text
    assert "\n" not in logging.Formatter().format(record)


def test_other_errors_keep_their_traceback(caplog):
    try:
        raise ValueError("a real bug")
    except ValueError:
        logging.getLogger("django.request").error("Internal Server Error: /x", exc_info=True)
    [record] = caplog.records
    assert record.exc_info is not None and "Traceback" in caplog.text
