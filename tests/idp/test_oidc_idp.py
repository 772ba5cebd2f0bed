"""The OIDC provider of the SSO tests (tests/oidc_idp.py) is a real one: codes are single use and bound
to the client's secret and PKCE verifier, id_tokens are signed with the keys it publishes."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

REDIRECT_URI = "http://acme.localhost:54321/portal/account/oidc/portico-test/login/callback/"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(idp, client_id, *, scope="openid email", pkce=True, **extra) -> dict:
    """An authorization request's URL and the values the relying party keeps to check the answer."""
    verifier, challenge = pkce_pair()
    request = {"state": secrets.token_urlsafe(16), "nonce": secrets.token_urlsafe(16), "verifier": verifier}
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": request["state"],
        "nonce": request["nonce"],
        **extra,
    }
    if pkce:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    request["url"] = f"{idp.discovery()['authorization_endpoint']}?{urlencode(params)}"
    return request


def code_from(callback: str, state: str) -> str:
    assert callback.startswith(REDIRECT_URI + "?"), callback
    query = parse_qs(urlsplit(callback).query)
    assert query["state"] == [state]
    assert "error" not in query, query
    return query["code"][0]


def exchange(idp, client_id, secret, code, verifier, auth_method="client_secret_post") -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier is not None:
        data["code_verifier"] = verifier
    auth = None
    if auth_method == "client_secret_post":
        data |= {"client_id": client_id, "client_secret": secret}
    else:
        auth = (client_id, secret)
    return requests.post(idp.discovery()["token_endpoint"], data=data, auth=auth, timeout=10)


def verified_id_token(idp, id_token: str, client_id: str) -> dict:
    key = jwt.PyJWKClient(idp.discovery()["jwks_uri"]).get_signing_key_from_jwt(id_token)
    return jwt.decode(id_token, key.key, algorithms=["RS256"], audience=client_id, issuer=idp.issuer)


def signed_in(idp, email, auth_method="client_secret_post", **authorize_extra):
    client_id, secret = idp.register_client([REDIRECT_URI], auth_method=auth_method)
    request = authorize(idp, client_id, **authorize_extra)
    code = code_from(idp.sign_in_programmatically(request["url"], email), request["state"])
    return client_id, secret, request, code


@pytest.mark.parametrize("auth_method", ["client_secret_post", "client_secret_basic"])
def test_sign_in_gives_a_code_for_a_signed_id_token(oidc_idp, auth_method):
    discovery = oidc_idp.discovery()
    assert discovery["issuer"] == oidc_idp.issuer.rstrip("/")
    assert discovery["jwks_uri"] == f"{oidc_idp.issuer}/jwks"
    assert "S256" in discovery["code_challenge_methods_supported"]

    client_id, secret, request, code = signed_in(oidc_idp, "ann@acme.example", auth_method=auth_method)
    response = exchange(oidc_idp, client_id, secret, code, request["verifier"], auth_method=auth_method)
    assert response.status_code == 200, response.text
    tokens = response.json()

    assert jwt.get_unverified_header(tokens["id_token"])["alg"] == "RS256"
    claims = verified_id_token(oidc_idp, tokens["id_token"], client_id)
    assert claims["sub"] == oidc_idp.sub_for("ann@acme.example") == oidc_idp.sub_for(" Ann@ACME.example")
    assert claims["nonce"] == request["nonce"]
    assert claims["email"] == "ann@acme.example"
    assert claims["email_verified"] is True

    userinfo = requests.get(
        discovery["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json() == {"sub": claims["sub"], "email": "ann@acme.example", "email_verified": True}


def test_a_signature_by_another_key_is_refused(oidc_idp):
    client_id, secret, request, code = signed_in(oidc_idp, "ann@acme.example")
    id_token = exchange(oidc_idp, client_id, secret, code, request["verifier"]).json()["id_token"]
    header, payload, signature = id_token.split(".")
    raw = base64.urlsafe_b64decode(signature + "==")
    flipped = base64.urlsafe_b64encode(bytes([raw[0] ^ 1]) + raw[1:]).rstrip(b"=").decode()
    forged = f"{header}.{payload}.{flipped}"
    with pytest.raises(jwt.InvalidSignatureError):
        verified_id_token(oidc_idp, forged, client_id)


def test_profile_scope_gives_names(oidc_idp):
    client_id, secret, request, code = signed_in(
        oidc_idp, "ann.smith@acme.example", scope="openid email profile"
    )
    tokens = exchange(oidc_idp, client_id, secret, code, request["verifier"]).json()
    claims = verified_id_token(oidc_idp, tokens["id_token"], client_id)
    assert (claims["name"], claims["given_name"], claims["family_name"]) == ("Ann Smith", "Ann", "Smith")


def test_a_code_is_exchanged_once(oidc_idp):
    client_id, secret, request, code = signed_in(oidc_idp, "ann@acme.example")
    assert exchange(oidc_idp, client_id, secret, code, request["verifier"]).status_code == 200
    again = exchange(oidc_idp, client_id, secret, code, request["verifier"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("auth_method", ["client_secret_post", "client_secret_basic"])
def test_a_wrong_client_secret_is_refused(oidc_idp, auth_method):
    client_id, secret, request, code = signed_in(oidc_idp, "ann@acme.example", auth_method=auth_method)
    response = exchange(oidc_idp, client_id, secret + "x", code, request["verifier"], auth_method=auth_method)
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"
    # The code was not spent by the refused attempt.
    good = exchange(oidc_idp, client_id, secret, code, request["verifier"], auth_method=auth_method)
    assert good.status_code == 200, good.text


def test_an_unverified_email(oidc_idp):
    client_id, secret, request, code = signed_in(oidc_idp, "unverified.bob@acme.example")
    tokens = exchange(oidc_idp, client_id, secret, code, request["verifier"]).json()
    claims = verified_id_token(oidc_idp, tokens["id_token"], client_id)
    assert claims["email"] == "unverified.bob@acme.example"
    assert claims["email_verified"] is False
    assert claims["sub"] != oidc_idp.sub_for("ann@acme.example")


@pytest.mark.parametrize("verifier", ["wrong", None], ids=["wrong-verifier", "no-verifier"])
def test_pkce_is_enforced_when_a_challenge_was_sent(oidc_idp, verifier):
    client_id, secret, _request, code = signed_in(oidc_idp, "ann@acme.example")
    sent = pkce_pair()[0] if verifier == "wrong" else None  # another verifier than the challenge's
    response = exchange(oidc_idp, client_id, secret, code, sent)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_pkce_is_optional_for_confidential_clients(oidc_idp):
    client_id, secret, _request, code = signed_in(oidc_idp, "ann@acme.example", pkce=False)
    assert exchange(oidc_idp, client_id, secret, code, None).status_code == 200


def test_consent_page_when_asked_and_cancel(oidc_idp):
    client_id, secret, request, code = signed_in(oidc_idp, "ann@acme.example", prompt="consent")
    assert exchange(oidc_idp, client_id, secret, code, request["verifier"]).status_code == 200

    request = authorize(oidc_idp, client_id)
    callback = oidc_idp.sign_in_programmatically(request["url"], "ann@acme.example", cancel=True)
    query = parse_qs(urlsplit(callback).query)
    assert callback.startswith(REDIRECT_URI)
    assert query["error"] == ["access_denied"] and query["state"] == [request["state"]]


def test_the_provider_session_signs_in_again_without_a_login(oidc_idp):
    client_id, _secret = oidc_idp.register_client([REDIRECT_URI])
    session = requests.Session()
    first = authorize(oidc_idp, client_id)
    code_from(
        oidc_idp.sign_in_programmatically(first["url"], "ann@acme.example", session=session), first["state"]
    )
    second = authorize(oidc_idp, client_id)
    # No email this time: the login form would have failed without one.
    code_from(oidc_idp.sign_in_programmatically(second["url"], "", session=session), second["state"])


def test_a_redirect_uri_not_registered_is_refused(oidc_idp):
    client_id, _secret = oidc_idp.register_client(["http://other.localhost:54321/callback/"])
    request = authorize(oidc_idp, client_id)
    with pytest.raises(AssertionError, match="redirect_uri did not match"):
        oidc_idp.sign_in_programmatically(request["url"], "ann@acme.example")
