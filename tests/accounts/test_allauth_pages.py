"""allauth's own pages (sign-in, second step, passkeys, sign-out) in the portal's layout and words."""

import re

from portico.accounts.models import User
from tests.accounts.conftest import enable_totp
from tests.conftest import login, tenant_client
from tests.factories import PASSWORD

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def signed_in(org, **kwargs):
    client = tenant_client(org, **kwargs)
    assert login(client, "maria@acme.example").status_code == 302
    return client


def test_the_add_a_passkey_page_suggests_a_name_from_the_browser_and_day(org, portal_login, clock):
    client = signed_in(org, HTTP_USER_AGENT=CHROME)
    client.post("/portal/account/reauthenticate/", {"password": PASSWORD})
    page = client.get("/portal/account/2fa/webauthn/add/").content.decode()
    assert "<h1>Add a passkey</h1>" in page
    assert "Security Key" not in page and "Master key" not in page
    assert 'value="Passkey (Chrome on Linux, March 10, 2026)"' in page
    assert re.search(r'<a class="button secondary" href="/portal/security/">Cancel</a>', page)


def test_the_second_step_page_offers_cancel_as_a_secondary_button(org, portal_login):
    enable_totp(portal_login)
    client = tenant_client(org)
    response = login(client, "maria@acme.example")
    page = client.get(response["Location"]).content.decode()
    assert "Confirm it&#x27;s you" in page or "Confirm it's you" in page
    assert re.search(
        r'<button type="submit" form="logout-from-stage" class="secondary">Cancel</button>', page
    )
    assert "Use a passkey" in page and "security key" not in page.lower()


def test_the_two_factor_page_speaks_of_passkeys(org, portal_login):
    page = signed_in(org).get("/portal/account/2fa/").content.decode()
    assert "Two-factor authentication" in page and "Add a passkey" in page
    assert "Security Keys" not in page


def test_opening_the_sign_out_address_asks_and_does_not_sign_out(org, portal_login):
    client = signed_in(org)
    page = client.get("/portal/account/logout/").content.decode()
    assert "You are signed in as maria@acme.example" in page and "Stay signed in" in page
    assert client.get("/portal/").status_code == 200


def test_the_menus_sign_out_posts_and_signs_out_at_once(org, portal_login):
    client = signed_in(org)
    page = client.get("/portal/").content.decode()
    assert re.search(r'<form method="post" action="/portal/account/logout/"[^>]*>', page)
    response = client.post("/portal/account/logout/")
    assert response.status_code == 302
    assert client.get("/portal/").status_code == 302
    assert User.objects.filter(email="maria@acme.example").exists()
