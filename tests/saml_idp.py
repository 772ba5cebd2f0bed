"""A real SAML 2.0 identity provider (pysaml2's `saml2.server.Server`) for the single sign-on tests.

- `saml_idp` (session): one IdP per test process, a small WSGI app on a free 127.0.0.1 port in a
  daemon thread, with a fresh RSA key and self-signed certificate. Its entity id is its metadata
  URL, `http://127.0.0.1:<port>/metadata`; single sign-on (HTTP-Redirect and HTTP-POST) is `/sso`.

The IdP answers only service providers it was given the metadata of: `saml_idp.trust_sp(xml)`
(Portico serves it at `/portal/account/saml/<slug>/metadata/`); trusting an SP again with the same
entity id replaces its metadata. `/sso` checks the AuthnRequest (its issuer must be trusted, its
AssertionConsumerServiceURL one of that SP's) and shows a sign-in form, its `Email` input labelled
(First name and Last name are optional, made from the email when left empty), posted to `/login`
with the AuthnRequest in a hidden field. Signing in answers
with a Response for that email, NameID in the emailAddress format, attributes under plain names
(`email`, `first_name`, `last_name`) and the standard URNs allauth maps by default
(`urn:oid:0.9.2342.19200300.100.1.3`, `urn:oid:2.5.4.42`, `urn:oid:2.5.4.4`), the assertion and
the response both signed (RSA-SHA256, SHA-256 digests), in an HTML form that posts itself to the
SP's ACS (with a "Continue" button when scripts do not run).

Tests that need no browser call `saml_idp.respond(redirect_url, email)` with the URL the SP
redirected to and get back what that form would post: `(acs_url, saml_response_b64, relay_state)`.

`saml_idp.next_response(...)` makes the next response (only the next) hostile: `audience=` another
audience, `expired=True` (NotBefore and AuthnInstant 20 minutes ago, the NotOnOrAfter of Conditions
and SubjectConfirmationData 15 minutes ago: past python3-saml's 300 seconds of allowed clock drift;
the IssueInstants stay now), `tamper=True` (the email inside the signed assertion changed after
signing, or `tamper="other@example.test"`), `unsigned=True` (no signature at all),
`destination=` another Destination and Recipient (still posted to the real ACS),
`email_verified_attr=` an `email_verified` attribute (also as allauth's default
`http://schemas.auth0.com/email_verified`), `"true"`/`"false"` or a bool.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import re
import socketserver
import tempfile
import threading
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

EMAIL_ATTRIBUTES = ("email", "urn:oid:0.9.2342.19200300.100.1.3")
FIRST_NAME_ATTRIBUTES = ("first_name", "urn:oid:2.5.4.42")
LAST_NAME_ATTRIBUTES = ("last_name", "urn:oid:2.5.4.4")
EMAIL_VERIFIED_ATTRIBUTES = ("email_verified", "http://schemas.auth0.com/email_verified")
TAMPERED_EMAIL = "mallory@attacker.test"

MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"


@dataclass
class _Hooks:
    audience: str | None = None
    expired: bool = False
    tamper: bool | str = False
    unsigned: bool = False
    destination: str | None = None
    email_verified_attr: str | bool | None = None


class SamlError(Exception):
    """The IdP refuses a request (unknown SP, unknown ACS, malformed message)."""


def _key_and_certificate(directory: Path, common_name: str) -> tuple[Path, Path, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_path = directory / "idp.key"
    cert_path = directory / "idp.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    cert_path.write_text(pem)
    return key_path, cert_path, pem


def _sp_entity_id(metadata_xml: str) -> str:
    from lxml import etree

    root = etree.fromstring(metadata_xml.encode())
    if root.tag == f"{{{MD_NS}}}EntityDescriptor":
        return root.get("entityID")
    descriptors = root.findall(f".//{{{MD_NS}}}EntityDescriptor")
    if len(descriptors) != 1:
        raise SamlError("SP metadata must hold exactly one EntityDescriptor")
    return descriptors[0].get("entityID")


def _names_from_email(email: str) -> tuple[str, str]:
    parts = [part for part in re.split(r"[._+-]+", email.partition("@")[0]) if part]
    if not parts:
        return "Test", "User"
    return parts[0].title(), " ".join(parts[1:]).title() or "User"


def _import_pysaml2() -> None:
    """pysaml2 names a cipher mode cryptography has deprecated when it is imported: not our warning."""
    from cryptography.utils import CryptographyDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        import saml2.server  # noqa: F401


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a browser's idle keep-alive connection never holds the session open


class SamlIdp:
    Error = SamlError
    TAMPERED_EMAIL = TAMPERED_EMAIL

    def __init__(self, directory: Path):
        _import_pysaml2()
        self.directory = Path(directory)
        self._lock = threading.RLock()
        self._sp_metadata: dict[str, str] = {}
        self._hooks = _Hooks()
        self.last_response_xml: str | None = None
        self.last_request_xml: str | None = None
        self.httpd = make_server(
            "127.0.0.1", 0, self._wsgi, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.metadata_url = f"{self.base_url}/metadata"
        self.entity_id = self.metadata_url
        self.sso_url = f"{self.base_url}/sso"
        self.login_url = f"{self.base_url}/login"
        self.key_path, self.cert_path, self.certificate_pem = _key_and_certificate(
            self.directory, f"Portico test IdP 127.0.0.1:{self.port}"
        )
        self.certificate_b64 = "".join(
            line for line in self.certificate_pem.splitlines() if line and not line.startswith("-----")
        )
        self._rebuild()
        self.metadata_xml = self._idp_metadata()
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="saml-idp", daemon=True)
        self._thread.start()

    # -- configuration ---------------------------------------------------------------------------

    @property
    def _policy_restrictions(self) -> dict:
        from saml2.saml import NAME_FORMAT_UNSPECIFIED

        return {
            "default": {
                "lifetime": {"minutes": 5},
                "attribute_restrictions": None,
                "name_form": NAME_FORMAT_UNSPECIFIED,
            },
        }

    def _config_dict(self) -> dict:
        from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
        from saml2.saml import NAMEID_FORMAT_EMAILADDRESS
        from saml2.sigver import get_xmlsec_binary
        from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

        return {
            "entityid": self.entity_id,
            "name": "Portico test IdP",
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [
                            (self.sso_url, BINDING_HTTP_REDIRECT),
                            (self.sso_url, BINDING_HTTP_POST),
                        ],
                    },
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "want_authn_requests_signed": False,
                    "sign_response": True,
                    "sign_assertion": True,
                    "policy": self._policy_restrictions,
                },
            },
            "key_file": str(self.key_path),
            "cert_file": str(self.cert_path),
            "xmlsec_binary": get_xmlsec_binary(["/usr/bin", "/usr/local/bin"]),
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
            "metadata": {"inline": list(self._sp_metadata.values())} if self._sp_metadata else {},
            "accepted_time_diff": 60,
        }

    def _rebuild(self) -> None:
        """A new pysaml2 Server whose metadata store holds every SP trusted so far."""
        from saml2.attribute_converter import AttributeConverterNOOP
        from saml2.config import IdPConfig
        from saml2.saml import NAME_FORMAT_UNSPECIFIED
        from saml2.server import Server

        config = IdPConfig().load(self._config_dict())
        # Attribute names go out as given (no mapping of "email" to some OID): one converter that
        # copies names, for the name format the policy uses.
        config.attribute_converters = [AttributeConverterNOOP(NAME_FORMAT_UNSPECIFIED)]
        self.server = Server(config=config)

    def _idp_metadata(self) -> str:
        from saml2.metadata import create_metadata_string

        xml = create_metadata_string(None, config=self.server.config, sign=False)
        return xml.decode() if isinstance(xml, bytes) else xml

    def trust_sp(self, metadata_xml: str | bytes) -> str:
        """Trust the SP this metadata describes (replacing its earlier metadata); returns its entity id."""
        if isinstance(metadata_xml, bytes):
            metadata_xml = metadata_xml.decode()
        entity_id = _sp_entity_id(metadata_xml)
        with self._lock:
            previous = dict(self._sp_metadata)
            self._sp_metadata[entity_id] = metadata_xml
            try:
                self._rebuild()
            except Exception:
                self._sp_metadata = previous
                self._rebuild()
                raise
        return entity_id

    def forget_sps(self) -> None:
        with self._lock:
            self._sp_metadata.clear()
            self._rebuild()

    def next_response(
        self,
        audience: str | None = None,
        expired: bool = False,
        tamper: bool | str = False,
        unsigned: bool = False,
        destination: str | None = None,
        email_verified_attr: str | bool | None = None,
    ) -> None:
        """Make the next response (only the next one) hostile; see the module's docstring."""
        with self._lock:
            self._hooks = _Hooks(audience, expired, tamper, unsigned, destination, email_verified_attr)

    # -- the protocol ----------------------------------------------------------------------------

    def _parse_request(self, saml_request: str, binding: str):
        from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

        if binding not in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
            raise SamlError(f"unsupported binding {binding}")
        with self._lock:
            try:
                request = self.server.parse_authn_request(saml_request, binding)
            except Exception as exc:
                raise SamlError(f"unreadable AuthnRequest: {exc!r}") from exc
            if request is None:
                raise SamlError("unreadable AuthnRequest")
            issuer = request.message.issuer.text.strip() if request.message.issuer is not None else None
            if issuer not in self._sp_metadata:
                raise SamlError(f"unknown service provider {issuer!r}")
            try:
                args = self.server.response_args(request.message, [BINDING_HTTP_POST])
            except Exception as exc:
                raise SamlError(f"no HTTP-POST AssertionConsumerService for {issuer!r}: {exc}") from exc
            self.last_request_xml = request.xmlstr.decode() if isinstance(request.xmlstr, bytes) else None
        return request, args

    def _response(self, request_args: dict, email: str, first_name: str = "", last_name: str = "") -> str:
        from saml2 import saml
        from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

        with self._lock:
            hooks, self._hooks = self._hooks, _Hooks()
            default_first, default_last = _names_from_email(email)
            identity = {
                **{name: [email] for name in EMAIL_ATTRIBUTES},
                **{name: [first_name or default_first] for name in FIRST_NAME_ATTRIBUTES},
                **{name: [last_name or default_last] for name in LAST_NAME_ATTRIBUTES},
            }
            if hooks.email_verified_attr is not None:
                value = hooks.email_verified_attr
                if isinstance(value, bool):
                    value = "true" if value else "false"
                identity.update({name: [value] for name in EMAIL_VERIFIED_ATTRIBUTES})

            policy = _hooked_policy_class()(self._policy_restrictions, mds=self.server.metadata)
            policy.acs = self.server.config.attribute_converters
            policy.audience = hooks.audience
            policy.expired = hooks.expired
            sign = not hooks.unsigned
            destination = hooks.destination or request_args["destination"]
            issued = time.time() - (20 * 60 if hooks.expired else 0)
            response = self.server.create_authn_response(
                identity,
                in_response_to=request_args["in_response_to"],
                destination=destination,
                sp_entity_id=request_args["sp_entity_id"],
                name_id=saml.NameID(format=saml.NAMEID_FORMAT_EMAILADDRESS, text=email),
                authn={
                    "class_ref": saml.AUTHN_PASSWORD_PROTECTED,
                    "authn_auth": self.entity_id,
                    "authn_instant": issued,
                },
                release_policy=policy,
                sign_response=sign,
                sign_assertion=sign,
                sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
            )
            xml = str(response)
            if hooks.tamper:
                replacement = hooks.tamper if isinstance(hooks.tamper, str) else TAMPERED_EMAIL
                tampered = xml.replace(f">{html.escape(email, quote=False)}<", f">{replacement}<")
                if tampered == xml:
                    raise AssertionError("the email to tamper with is not in the response")
                xml = tampered
            self.last_response_xml = xml
            return xml

    def respond(
        self, redirect_url: str, email: str, first_name: str = "", last_name: str = ""
    ) -> tuple[str, str, str | None]:
        """Sign `email` in for the AuthnRequest in `redirect_url` (HTTP-Redirect binding).

        Returns `(acs_url, saml_response_b64, relay_state)`, what the browser's form would post.
        """
        from saml2 import BINDING_HTTP_REDIRECT

        query = parse_qs(urlsplit(redirect_url).query)
        if "SAMLRequest" not in query:
            raise SamlError(f"no SAMLRequest in {redirect_url}")
        relay_state = query.get("RelayState", [None])[0]
        _, args = self._parse_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        xml = self._response(args, email, first_name, last_name)
        return args["destination"], base64.b64encode(xml.encode()).decode(), relay_state

    # -- HTTP ------------------------------------------------------------------------------------

    def _wsgi(self, environ, start_response):
        from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

        path = environ.get("PATH_INFO", "")
        method = environ["REQUEST_METHOD"]
        try:
            if path == "/metadata" and method == "GET":
                return _reply(start_response, "200 OK", self.metadata_xml, "application/samlmetadata+xml")
            if path == "/sso" and method in ("GET", "POST"):
                params = _params(environ)
                binding = BINDING_HTTP_REDIRECT if method == "GET" else BINDING_HTTP_POST
                if "SAMLRequest" not in params:
                    raise SamlError("no SAMLRequest")
                self._parse_request(params["SAMLRequest"], binding)
                page = _login_page(self.login_url, params["SAMLRequest"], binding, params.get("RelayState"))
                return _reply(start_response, "200 OK", page)
            if path == "/login" and method == "POST":
                params = _params(environ)
                email = params.get("email", "").strip()
                if not email or "SAMLRequest" not in params:
                    raise SamlError("an email and the SAMLRequest are needed")
                _, args = self._parse_request(params["SAMLRequest"], params.get("binding", ""))
                xml = self._response(args, email, params.get("first_name", ""), params.get("last_name", ""))
                page = _post_page(
                    args["destination"], base64.b64encode(xml.encode()).decode(), params.get("RelayState")
                )
                return _reply(start_response, "200 OK", page)
            return _reply(start_response, "404 Not Found", "not found", "text/plain")
        except SamlError as exc:
            return _reply(start_response, "400 Bad Request", f"SAML error: {exc}", "text/plain")

    @staticmethod
    def inflate_redirect_request(saml_request: str) -> str:
        return inflate_redirect_request(saml_request)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=10)


@functools.cache
def _hooked_policy_class():
    from saml2 import saml
    from saml2.assertion import Policy
    from saml2.s_utils import factory
    from saml2.time_util import in_a_while, instant

    class HookedPolicy(Policy):
        """pysaml2's release policy, with the Conditions and SubjectConfirmationData a hook may spoil."""

        audience: str | None = None
        expired: bool = False

        def not_on_or_after(self, sp_entity_id):
            if self.expired:
                return in_a_while(minutes=-15)
            return super().not_on_or_after(sp_entity_id)

        def conditions(self, sp_entity_id):
            return factory(
                saml.Conditions,
                not_before=in_a_while(minutes=-20) if self.expired else instant(),
                not_on_or_after=self.not_on_or_after(sp_entity_id),
                audience_restriction=[
                    factory(
                        saml.AudienceRestriction,
                        audience=[factory(saml.Audience, text=self.audience or sp_entity_id)],
                    ),
                ],
            )

    return HookedPolicy


def _params(environ) -> dict[str, str]:
    from urllib.parse import parse_qsl

    pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if environ["REQUEST_METHOD"] == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode()
        pairs += parse_qsl(body, keep_blank_values=True)
    return dict(pairs)


def _reply(start_response, status: str, body: str, content_type: str = "text/html"):
    data = body.encode()
    start_response(
        status,
        [
            ("Content-Type", f"{content_type}; charset=utf-8"),
            ("Content-Length", str(len(data))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [data]


def _hidden(name: str, value: str | None) -> str:
    if value is None:
        return ""
    return f'<input type="hidden" name="{name}" value="{html.escape(value)}">'


def _login_page(action: str, saml_request: str, binding: str, relay_state: str | None) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider: sign in</title></head>
<body><main>
<h1>Test identity provider</h1>
<form method="post" action="{html.escape(action)}">
{_hidden("SAMLRequest", saml_request)}{_hidden("binding", binding)}{_hidden("RelayState", relay_state)}
<p><label for="email">Email</label> <input type="text" id="email" name="email" autocomplete="email" required></p>
<p><label for="first_name">First name</label> <input type="text" id="first_name" name="first_name"></p>
<p><label for="last_name">Last name</label> <input type="text" id="last_name" name="last_name"></p>
<p><button type="submit">Sign in</button></p>
</form>
</main></body></html>
"""


def _post_page(acs_url: str, saml_response: str, relay_state: str | None) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider: signing you in</title></head>
<body><main>
<form method="post" action="{html.escape(acs_url)}" id="saml-post">
{_hidden("SAMLResponse", saml_response)}{_hidden("RelayState", relay_state)}
<p>Signed in. <button type="submit">Continue</button></p>
</form>
<script>document.getElementById("saml-post").submit();</script>
</main></body></html>
"""


def inflate_redirect_request(saml_request: str) -> str:
    """The AuthnRequest XML inside an HTTP-Redirect binding's SAMLRequest (base64 of raw DEFLATE)."""
    return zlib.decompress(base64.b64decode(saml_request), -15).decode()


@pytest.fixture(scope="session")
def saml_idp():
    with tempfile.TemporaryDirectory(prefix="saml-idp-") as directory:
        idp = SamlIdp(Path(directory))
        try:
            yield idp
        finally:
            idp.close()
