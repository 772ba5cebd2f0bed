import base64

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal import auth as totp_auth

from portico.core.models import AuditEvent
from tests.accounts.conftest import SECRET, enable_totp, oathtool_code, set_policy
from tests.conftest import login, tenant_client
from tests.factories import PASSWORD, staff_user

AUTHENTICATE = "/portal/account/2fa/authenticate/"

# RFC 6238 appendix B, SHA-1 column: (Unix time, 8-digit TOTP) for the key "12345678901234567890".
RFC6238_SHA1_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("unix_time", "expected"), RFC6238_SHA1_VECTORS)
def test_allauths_totp_matches_the_rfc_6238_appendix_b_vectors(settings, unix_time, expected):
    settings.MFA_TOTP_DIGITS = 8
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert secret == SECRET
    counter = unix_time // 30
    assert totp_auth.format_hotp_value(totp_auth.hotp_value(secret, counter)) == expected


def test_oathtool_and_our_secret_agree(portal_login):
    # the same secret yields the same current code in both implementations
    code = oathtool_code()
    assert totp_auth.validate_totp_code(SECRET, code)


def test_a_sign_in_completes_with_an_oathtool_code_and_the_same_code_is_refused_again(org, portal_login):
    enable_totp(portal_login)
    client = tenant_client(org)
    response = login(client, "maria@acme.example")
    assert response.status_code == 302 and response["Location"] == AUTHENTICATE
    assert client.get("/portal/").status_code == 302  # not signed in yet

    code = oathtool_code()
    done = client.post(AUTHENTICATE, {"code": code})
    assert done.status_code == 302 and done["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200

    replay = tenant_client(org)
    login(replay, "maria@acme.example")
    refused = replay.post(AUTHENTICATE, {"code": code})
    assert refused.status_code == 200
    assert "Incorrect code" in refused.content.decode()
    assert replay.get("/portal/").status_code == 302


def test_repeated_wrong_codes_are_refused_for_a_while_even_the_right_one(org, portal_login, clock):
    enable_totp(portal_login)
    client = tenant_client(org)
    login(client, "maria@acme.example")
    for _ in range(5):
        assert "Incorrect code" in client.post(AUTHENTICATE, {"code": "000000"}).content.decode()
    paused = client.post(AUTHENTICATE, {"code": oathtool_code()})
    assert paused.status_code == 200
    assert "Too many wrong codes" in paused.content.decode()
    assert AuditEvent.all_tenants.filter(action="mfa.code_failed").count() == 5

    clock.advance(minutes=16)
    fresh = tenant_client(org)
    login(fresh, "maria@acme.example")
    assert fresh.post(AUTHENTICATE, {"code": oathtool_code()})["Location"] == "/portal/"


def _reauthenticate(client):
    return client.post("/portal/account/reauthenticate/", {"password": PASSWORD})


def test_setting_up_an_authenticator_app_from_the_security_page(
    org, portal_login, mailbox, django_capture_on_commit_callbacks
):
    client = tenant_client(org)
    login(client, "maria@acme.example")
    page = client.get("/portal/security/").content.decode()
    assert "Set up authenticator app" in page and "/portal/account/2fa/totp/activate/" in page

    setup = client.get("/portal/account/2fa/totp/activate/", follow=True)
    if setup.redirect_chain:  # allauth asks for the password again first
        _reauthenticate(client)
        setup = client.get("/portal/account/2fa/totp/activate/")
    secret = setup.context["form"].secret
    assert secret in setup.content.decode()  # the manual key next to the QR code
    assert "data:image/svg+xml" in setup.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/portal/account/2fa/totp/activate/", {"code": oathtool_code(secret)})
    assert done.status_code == 302
    assert Authenticator.objects.filter(user=portal_login, type="totp").exists()
    assert Authenticator.objects.filter(user=portal_login, type="recovery_codes").exists()
    assert AuditEvent.all_tenants.filter(action="mfa.totp.enabled", actor_user=portal_login).exists()
    [notice] = mailbox.to("maria@acme.example")
    assert "authenticator" in notice["Subject"].lower() or "two-factor" in mailbox.body(notice).lower()
    assert "On" in client.get("/portal/security/").content.decode()


def test_the_code_that_turned_the_app_on_cannot_sign_in_again(org, portal_login):
    client = tenant_client(org)
    login(client, "maria@acme.example")
    setup = client.get("/portal/account/2fa/totp/activate/", follow=True)
    if setup.redirect_chain:
        _reauthenticate(client)
        setup = client.get("/portal/account/2fa/totp/activate/")
    code = oathtool_code(setup.context["form"].secret)
    assert client.post("/portal/account/2fa/totp/activate/", {"code": code}).status_code == 302

    replay = tenant_client(org)
    login(replay, "maria@acme.example")
    refused = replay.post(AUTHENTICATE, {"code": code})
    assert refused.status_code == 200 and "Incorrect code" in refused.content.decode()
    assert replay.get("/portal/").status_code == 302


def test_turning_off_the_authenticator_app_asks_for_the_password_again(
    org, portal_login, clock, mailbox, django_capture_on_commit_callbacks
):
    enable_totp(portal_login)
    client = tenant_client(org)
    login(client, "maria@acme.example")
    client.post(AUTHENTICATE, {"code": oathtool_code()})
    response = client.get("/portal/account/2fa/totp/deactivate/")
    assert response.status_code == 302 and "/reauthenticate/" in response["Location"]
    assert client.post("/portal/account/2fa/reauthenticate/", {"code": "000000"}).status_code == 200
    _reauthenticate(client)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/portal/account/2fa/totp/deactivate/", {})
    assert done.status_code == 302
    assert not Authenticator.objects.filter(user=portal_login, type="totp").exists()
    assert AuditEvent.all_tenants.filter(action="mfa.totp.disabled").exists()
    assert any(
        "deactivated" in m["Subject"].lower() or "disabled" in m["Subject"].lower()
        for m in mailbox.to("maria@acme.example")
    )


def test_recovery_codes_are_shown_once_downloadable_then_hidden_and_can_be_regenerated(org, portal_login):
    enable_totp(portal_login)
    client = tenant_client(org)
    login(client, "maria@acme.example")
    client.post(AUTHENTICATE, {"code": oathtool_code()})
    _reauthenticate(client)
    generated = client.post("/portal/account/2fa/recovery-codes/generate/", follow=True)
    codes = Authenticator.objects.get(user=portal_login, type="recovery_codes").wrap().get_unused_codes()
    page = generated.content.decode()
    assert all(code in page for code in codes)
    assert 'download="recovery-codes.txt"' in page
    again = client.get("/portal/account/2fa/recovery-codes/").content.decode()
    assert not any(code in again for code in codes)

    # a recovery code signs in once
    other = tenant_client(org)
    login(other, "maria@acme.example")
    assert other.post(AUTHENTICATE, {"code": codes[0]})["Location"] == "/portal/"
    third = tenant_client(org)
    login(third, "maria@acme.example")
    assert third.post(AUTHENTICATE, {"code": codes[0]}).status_code == 200


def test_an_organization_requiring_mfa_sends_users_without_one_to_set_it_up(org, portal_login):
    set_policy(org, portal_mfa_required=True)
    client = tenant_client(org)
    login(client, "maria@acme.example")
    response = client.get("/portal/", follow=True)
    assert response.redirect_chain[-1][0] == "/portal/security/"
    assert "requires two-factor authentication" in response.content.decode()
    assert client.get("/portal/profile/")["Location"] == "/portal/security/"
    assert client.get("/portal/account/2fa/totp/activate/").status_code in (200, 302)
    assert "/security/" not in client.get("/portal/account/2fa/totp/activate/").get("Location", "")

    enable_totp(portal_login)
    assert client.get("/portal/").status_code == 200


def test_an_organization_can_require_mfa_of_its_console_staff(org):
    set_policy(org, staff_mfa_required=True)
    staff_user(org)
    client = tenant_client(org)
    login(client, "staff@business.example")
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"] == "/portal/account/2fa/"


def test_the_second_factor_pages_sit_under_security_in_the_portal_menu(org, portal_client):
    page = portal_client.get("/portal/account/2fa/").content.decode()
    assert '<a href="/portal/security/" aria-current="page">Security</a>' in page
