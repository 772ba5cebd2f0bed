"""No shared cache may keep a private page: every portal page (walked from the URL conf), the PDF and
CSV downloads, the console and any signed-in response say `Cache-Control: private, no-store` and
`Vary: Cookie` (PrivateCacheMiddleware)."""

from __future__ import annotations

import pytest
from django.utils.cache import get_max_age

from tests.conftest import tenant_client
from tests.factories import staff_user
from tests.portal.crawl import build_world, portal_routes, portal_urls

ROUTES = [name for name, _route in portal_routes()]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(customer):
    return build_world(customer)


def assert_private(response):
    cache_control = {d.strip().split("=")[0] for d in response.get("Cache-Control", "").split(",")}
    assert {"private", "no-store"} <= cache_control, (response.status_code, response.get("Cache-Control"))
    assert "public" not in cache_control
    assert get_max_age(response) in (None, 0)
    assert "cookie" in response.get("Vary", "").lower()


@pytest.mark.parametrize("route", ROUTES)
def test_every_portal_page_is_private_and_not_stored(portal_client, world, route):
    (url,) = [u for (name, _r), u in zip(portal_routes(), portal_urls(world), strict=True) if name == route]
    assert_private(portal_client.get(url))


@pytest.mark.parametrize(
    "path",
    [
        "/portal/statements/pdf/?period=this_year",
        "/portal/statements/csv/?period=this_year",
    ],
)
def test_statement_downloads_are_private(portal_client, world, path):
    response = portal_client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] in ("application/pdf", "text/csv; charset=utf-8")
    assert_private(response)


def test_invoice_pdf_receipt_and_prepared_statement_are_private(portal_client, world):
    invoice_pdf = portal_client.get(f"/portal/invoices/{world.open_invoice.number}/pdf/")
    assert (invoice_pdf.status_code, invoice_pdf["Content-Type"]) == (200, "application/pdf")
    assert_private(invoice_pdf)
    receipt = portal_client.get(f"/portal/payments/{world.payment.number}/receipt/")
    assert receipt.status_code == 200
    assert_private(receipt)
    export = portal_client.get(f"/portal/statements/exports/{world.statement_export.public_id}/")
    assert export.status_code == 200
    assert_private(export)


def test_the_sign_in_page_is_not_stored_either(org):
    response = tenant_client(org).get("/portal/account/login/")
    assert response.status_code == 200
    assert_private(response)


def test_the_console_is_private(org):
    client = tenant_client(org)
    client.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    response = client.get("/console/")
    assert response.status_code == 200
    assert_private(response)
    assert_private(tenant_client(org).get("/console/login/"))


def test_a_signed_in_response_outside_the_portal_is_private(portal_client):
    assert_private(portal_client.get("/"))


def test_an_anonymous_response_outside_the_portal_is_left_to_its_view(org):
    response = tenant_client(org).get("/")  # the redirect to the portal
    assert response.status_code == 302
    assert "no-store" not in response.get("Cache-Control", "")
