import json
import os
import re
import subprocess
import sys

from tests.conftest import login, tenant_client


def test_pages_carry_security_headers_and_a_nonce_based_csp(org, portal_client):
    response = portal_client.get("/portal/security/")
    csp = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert (
        "script-src 'self' 'nonce-" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    )
    assert f'nonce="{nonce}"' in response.content.decode()
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_sign_in_page_runs_no_inline_script_without_the_nonce(org):
    response = tenant_client(org).get("/portal/account/login/")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    for tag in re.findall(r"<script[^>]*>", response.content.decode()):
        assert "src=" in tag or 'type="application/json"' in tag or f'nonce="{nonce}"' in tag, tag


def test_over_https_cookies_are_secure_and_hsts_is_sent():
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps([settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS]))"
    )
    env = {**os.environ, "PORTICO_HTTPS": "true", "DJANGO_SETTINGS_MODULE": "portico.settings_test"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == [True, True, 31536000]


def test_the_login_page_offers_keep_me_signed_in_and_passkeys_with_labels(org):
    page = tenant_client(org).get("/portal/account/login/").content.decode()
    assert re.search(
        r'<input type="checkbox" name="remember"[^>]*id="id_remember"> <label for="id_remember">Keep me signed in</label>',
        page,
    )
    assert re.search(r'<label[^>]*for="id_login"', page) and re.search(r'<label[^>]*for="id_password"', page)
    assert "Sign in with a passkey" in page


def test_a_cross_site_post_without_the_csrf_token_is_refused(org, portal_login):
    from django.test import Client

    client = Client(HTTP_HOST=org.host, enforce_csrf_checks=True)
    client.force_login(portal_login, backend="portico.accounts.backends.TenantAuthenticationBackend")
    assert client.post("/portal/security/sessions/", {"end": "others"}).status_code == 403


def test_bad_input_never_causes_a_server_error(org, portal_client):
    for url, data in (
        ("/portal/security/sessions/", {"session": "' OR 1=1"}),
        ("/portal/profile/", {"first_name": "x" * 500}),
        ("/portal/profile/company/", {"billing_country": "<script>"}),
        ("/portal/account/invitation/%00/", {}),
    ):
        assert portal_client.post(url, data).status_code < 500, url
    assert login(tenant_client(org), "x" * 300 + "@example.com", "x").status_code == 200
