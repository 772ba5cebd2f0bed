"""The test SAML identity provider (tests/saml_idp.py) against a real SP library, python3-saml, the one
allauth's SAML provider uses: its responses are accepted, and each hostile one is refused."""

from __future__ import annotations

import base64
import re
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

import pytest
from lxml import etree
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.settings import OneLogin_Saml2_Settings

HOST = "acme.localhost:8000"
EMAIL = "maria.lopez@acme.test"
NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
}


def sp_base(slug: str, host: str = HOST) -> str:
    return f"http://{host}/portal/account/saml/{slug}/"


def sp_settings(idp, slug: str = "acme", host: str = HOST) -> dict:
    settings = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": f"{sp_base(slug, host)}metadata/",
            "assertionConsumerService": {
                "url": f"{sp_base(slug, host)}acs/",
                "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
            },
            "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        },
        "security": {"wantAssertionsSigned": True, "wantMessagesSigned": True},
    }
    return OneLogin_Saml2_IdPMetadataParser.merge_settings(
        settings, OneLogin_Saml2_IdPMetadataParser.parse(idp.metadata_xml)
    )


def request_data(path: str, host: str = HOST, post_data: dict | None = None) -> dict:
    """The request dict allauth's SAML provider builds (`prepare_django_request`)."""
    return {
        "https": "off",
        "http_host": host,
        "script_name": "",
        "path_info": path,
        "get_data": {},
        "post_data": post_data or {},
    }


@pytest.fixture
def acme(saml_idp):
    """The `acme` SP, trusted by the IdP: its settings."""
    settings = sp_settings(saml_idp)
    saml_idp.trust_sp(OneLogin_Saml2_Settings(settings, sp_validation_only=True).get_sp_metadata())
    return settings


def start_login(settings: dict, slug: str = "acme", host: str = HOST) -> tuple[str, str]:
    """The SP's login: the URL it redirects the browser to, and its AuthnRequest's ID."""
    auth = OneLogin_Saml2_Auth(
        request_data(f"/portal/account/saml/{slug}/login/", host), OneLogin_Saml2_Settings(settings)
    )
    url = auth.login(return_to=f"http://{host}/portal/")
    return url, auth.get_last_request_id()


def consume(settings: dict, acs_url: str, saml_response: str, relay_state, request_id: str):
    """The SP's ACS receiving the POST: the processed python3-saml auth."""
    parts = urllib.parse.urlsplit(acs_url)
    post_data = {"SAMLResponse": saml_response}
    if relay_state is not None:
        post_data["RelayState"] = relay_state
    auth = OneLogin_Saml2_Auth(
        request_data(parts.path, parts.netloc, post_data), OneLogin_Saml2_Settings(settings)
    )
    auth.process_response(request_id=request_id)
    return auth


def sign_in(idp, settings: dict, email: str = EMAIL, **names):
    url, request_id = start_login(settings)
    acs_url, saml_response, relay_state = idp.respond(url, email, **names)
    return consume(settings, acs_url, saml_response, relay_state, request_id), request_id


def test_metadata_is_served_and_names_the_sso_endpoints_and_certificate(saml_idp):
    with urllib.request.urlopen(saml_idp.metadata_url, timeout=10) as response:
        served = response.read().decode()
    assert served == saml_idp.metadata_xml
    root = etree.fromstring(served.encode())
    assert root.get("entityID") == saml_idp.entity_id == f"http://127.0.0.1:{saml_idp.port}/metadata"
    services = {
        sso.get("Binding").rsplit(":", 1)[-1]: sso.get("Location")
        for sso in root.findall(".//md:IDPSSODescriptor/md:SingleSignOnService", NS)
    }
    assert services == {"HTTP-Redirect": saml_idp.sso_url, "HTTP-POST": saml_idp.sso_url}
    assert root.findtext(".//md:KeyDescriptor//ds:X509Certificate", namespaces=NS) == saml_idp.certificate_b64
    assert saml_idp.certificate_pem.startswith("-----BEGIN CERTIFICATE-----")
    parsed = OneLogin_Saml2_IdPMetadataParser.parse(served)["idp"]
    assert parsed["entityId"] == saml_idp.entity_id
    assert parsed["singleSignOnService"]["url"] == saml_idp.sso_url
    assert parsed["x509cert"] == saml_idp.certificate_b64


def test_a_signed_response_is_accepted_by_python3_saml(saml_idp, acme):
    auth, request_id = sign_in(saml_idp, acme)

    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.is_authenticated()
    assert auth.get_nameid() == EMAIL
    assert auth.get_nameid_format() == "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
    attributes = auth.get_attributes()
    assert attributes["email"] == [EMAIL]
    assert attributes["first_name"] == ["Maria"]
    assert attributes["last_name"] == ["Lopez"]
    # allauth's default attribute mapping reads these names
    assert attributes["urn:oid:0.9.2342.19200300.100.1.3"] == [EMAIL]
    assert attributes["urn:oid:2.5.4.42"] == ["Maria"]
    assert attributes["urn:oid:2.5.4.4"] == ["Lopez"]
    assert "email_verified" not in attributes

    assert f'ID="{request_id}"' in saml_idp.last_request_xml
    response = etree.fromstring(saml_idp.last_response_xml.encode())
    assert response.get("InResponseTo") == request_id
    assert response.get("Destination") == f"{sp_base('acme')}acs/"
    assertion = response.find("saml:Assertion", NS)
    assert assertion.findtext(".//saml:Audience", namespaces=NS) == f"{sp_base('acme')}metadata/"
    confirmation = assertion.find(".//saml:SubjectConfirmationData", NS)
    assert confirmation.get("Recipient") == f"{sp_base('acme')}acs/"
    assert confirmation.get("InResponseTo") == request_id
    for signed in (response, assertion):  # both signed, RSA-SHA256 over SHA-256 digests
        signature = signed.find("ds:Signature", NS)
        assert signature is not None
        assert signature.find(".//ds:SignatureMethod", NS).get("Algorithm").endswith("rsa-sha256")
        assert signature.find(".//ds:DigestMethod", NS).get("Algorithm").endswith("sha256")
        assert signature.find(".//ds:Reference", NS).get("URI") == f"#{signed.get('ID')}"


def test_names_given_at_sign_in_are_released(saml_idp, acme):
    auth, _ = sign_in(saml_idp, acme, "m@acme.test", first_name="María José", last_name="López")
    assert auth.is_authenticated(), auth.get_last_error_reason()
    assert auth.get_attributes()["first_name"] == ["María José"]
    assert auth.get_attributes()["last_name"] == ["López"]


def test_the_response_answers_the_request_and_no_other(saml_idp, acme):
    url, _ = start_login(acme)
    _, other_request_id = start_login(acme)
    acs_url, saml_response, relay_state = saml_idp.respond(url, EMAIL)
    auth = consume(acme, acs_url, saml_response, relay_state, other_request_id)
    assert not auth.is_authenticated()
    assert "InResponseTo" in auth.get_last_error_reason()


def test_relay_state_comes_back(saml_idp, acme):
    url, _ = start_login(acme)
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["RelayState"] == [
        "http://acme.localhost:8000/portal/"
    ]
    _, _, relay_state = saml_idp.respond(url, EMAIL)
    assert relay_state == "http://acme.localhost:8000/portal/"


@pytest.mark.parametrize(
    ("hooks", "reason"),
    [
        ({"tamper": True}, r"[Ss]ignature validation failed"),
        ({"audience": "http://other/"}, r"not a valid audience"),
        ({"expired": True}, r"timestamp: expired"),
        ({"unsigned": True}, r"not signed"),
        ({"destination": "http://evil.localhost:8000/acs/"}, r"instead of http://evil\.localhost:8000/acs/"),
    ],
    ids=["tampered", "wrong-audience", "expired", "unsigned", "wrong-destination"],
)
def test_a_hostile_response_is_refused(saml_idp, acme, hooks, reason):
    saml_idp.next_response(**hooks)
    auth, _ = sign_in(saml_idp, acme)

    assert not auth.is_authenticated()
    assert auth.get_errors()
    assert re.search(reason, auth.get_last_error_reason()), auth.get_last_error_reason()


def test_hooks_change_the_document_as_told(saml_idp, acme):
    saml_idp.next_response(tamper=True)
    sign_in(saml_idp, acme)
    tampered = etree.fromstring(saml_idp.last_response_xml.encode())
    assert tampered.findtext(".//saml:NameID", namespaces=NS) == saml_idp.TAMPERED_EMAIL
    assert len(tampered.findall(".//ds:Signature", NS)) == 2  # signatures kept; they no longer verify

    saml_idp.next_response(unsigned=True)
    sign_in(saml_idp, acme)
    assert etree.fromstring(saml_idp.last_response_xml.encode()).findall(".//ds:Signature", NS) == []

    saml_idp.next_response(expired=True)
    sign_in(saml_idp, acme)
    expired = etree.fromstring(saml_idp.last_response_xml.encode())
    not_on_or_after = [
        expired.find(".//saml:Conditions", NS).get("NotOnOrAfter"),
        expired.find(".//saml:SubjectConfirmationData", NS).get("NotOnOrAfter"),
    ]
    fresh, _ = sign_in(saml_idp, acme)
    now = etree.fromstring(saml_idp.last_response_xml.encode()).get("IssueInstant")
    assert all(moment < now for moment in not_on_or_after), (not_on_or_after, now)  # ISO 8601, UTC
    assert fresh.is_authenticated()


def test_a_hook_spoils_only_the_next_response(saml_idp, acme):
    saml_idp.next_response(tamper=True)
    spoiled, _ = sign_in(saml_idp, acme)
    assert not spoiled.is_authenticated()

    fine, _ = sign_in(saml_idp, acme)
    assert fine.is_authenticated(), fine.get_last_error_reason()


@pytest.mark.parametrize(("value", "released"), [(True, "true"), ("false", "false")])
def test_email_verified_attribute(saml_idp, acme, value, released):
    saml_idp.next_response(email_verified_attr=value)
    auth, _ = sign_in(saml_idp, acme)
    assert auth.is_authenticated(), auth.get_last_error_reason()
    assert auth.get_attributes()["email_verified"] == [released]
    assert auth.get_attributes()["http://schemas.auth0.com/email_verified"] == [released]


def test_several_service_providers_are_trusted_side_by_side(saml_idp, acme):
    globex = sp_settings(saml_idp, "globex", "globex.localhost:8000")
    saml_idp.trust_sp(OneLogin_Saml2_Settings(globex, sp_validation_only=True).get_sp_metadata())

    for settings, slug, host in [(globex, "globex", "globex.localhost:8000"), (acme, "acme", HOST)]:
        url, request_id = start_login(settings, slug, host)
        acs_url, saml_response, relay_state = saml_idp.respond(url, f"someone@{slug}.test")
        assert acs_url == f"{sp_base(slug, host)}acs/"
        auth = consume(settings, acs_url, saml_response, relay_state, request_id)
        assert auth.is_authenticated(), auth.get_last_error_reason()
        assert auth.get_nameid() == f"someone@{slug}.test"


def test_an_unknown_service_provider_is_refused(saml_idp, acme):
    stranger = sp_settings(saml_idp, "stranger", "stranger.localhost:8000")
    url, _ = start_login(stranger, "stranger", "stranger.localhost:8000")
    with pytest.raises(saml_idp.Error, match="unknown service provider"):
        saml_idp.respond(url, EMAIL)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url.replace(saml_idp.sso_url, saml_idp.sso_url), timeout=10)
    assert refused.value.code == 400


def test_an_acs_the_metadata_does_not_name_is_refused(saml_idp, acme):
    moved = sp_settings(saml_idp)
    moved["sp"]["assertionConsumerService"]["url"] = "http://acme.localhost:8000/elsewhere/acs/"
    url, _ = start_login(moved)
    assert "elsewhere" in saml_idp.inflate_redirect_request(
        urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["SAMLRequest"][0]
    )
    with pytest.raises(saml_idp.Error, match="AssertionConsumerService"):
        saml_idp.respond(url, EMAIL)


class _Forms(HTMLParser):
    """The forms of a page: action, fields (name: value), labels (for: text), buttons' texts."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.labels: dict[str, str] = {}
        self._label_for = None
        self._in_button = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"action": attrs.get("action"), "method": attrs.get("method"), "fields": {}, "buttons": []}
            )
        elif tag == "input" and self.forms:
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")
        elif tag == "label":
            self._label_for = attrs.get("for")
        elif tag == "button" and self.forms:
            self._in_button = True
            self.forms[-1]["buttons"].append("")

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_for = None
        elif tag == "button":
            self._in_button = False

    def handle_data(self, data):
        if self._label_for:
            self.labels[self._label_for] = self.labels.get(self._label_for, "") + data
        if self._in_button:
            self.forms[-1]["buttons"][-1] += data


def _page(url: str, data: dict | None = None) -> _Forms:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=10) as response:
        assert response.headers.get_content_type() == "text/html"
        parser = _Forms()
        parser.feed(response.read().decode())
    return parser


def test_the_sign_in_form_over_http_posts_an_accepted_response(saml_idp, acme):
    """What the browser does, without one: GET /sso, fill the form, post it, post what comes back."""
    url, request_id = start_login(acme)
    assert url.startswith(f"{saml_idp.sso_url}?SAMLRequest=")

    login = _page(url)
    assert login.labels["email"].strip() == "Email"
    (form,) = login.forms
    assert form["method"] == "post"
    assert form["buttons"] == ["Sign in"]
    assert {"email", "SAMLRequest", "RelayState"} <= set(form["fields"])

    fields = dict(form["fields"], email="Ana.Ruiz@acme.test")
    auto_post = _page(urllib.parse.urljoin(url, form["action"]), fields)
    (answer,) = auto_post.forms
    assert answer["action"] == f"{sp_base('acme')}acs/"
    assert answer["buttons"] == ["Continue"]
    assert answer["fields"]["RelayState"] == "http://acme.localhost:8000/portal/"
    assert base64.b64decode(answer["fields"]["SAMLResponse"]).decode() == saml_idp.last_response_xml

    auth = consume(
        acme, answer["action"], answer["fields"]["SAMLResponse"], answer["fields"]["RelayState"], request_id
    )
    assert auth.is_authenticated(), auth.get_last_error_reason()
    assert auth.get_nameid() == "Ana.Ruiz@acme.test"
    assert auth.get_attributes()["first_name"] == ["Ana"]


def test_the_http_post_binding_is_accepted_at_sso(saml_idp, acme):
    url, _ = start_login(acme)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    xml = saml_idp.inflate_redirect_request(query["SAMLRequest"][0])
    login = _page(
        saml_idp.sso_url,
        {"SAMLRequest": base64.b64encode(xml.encode()).decode(), "RelayState": query["RelayState"][0]},
    )
    assert login.forms[0]["fields"]["binding"].endswith("HTTP-POST")
