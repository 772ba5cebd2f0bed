"""Single sign-on for the portal: each organization's identity providers, through allauth's
`socialaccount` OpenID Connect and SAML providers.

- **Tenant-aware apps.** allauth asks its adapter for `SocialApp`s; ours builds them from the
  `SsoConnection`s of the organization whose host the request is on (`list_apps`). There are no
  global provider settings, and a connection of organization B does not exist on A's host: its
  URLs answer 404 there.
- **What allauth leaves out, added here.** OpenID Connect: a `nonce` sent with every
  authorization request and checked in the id_token, and the id_token's signature checked always
  (allauth skips it for a token fetched from the token endpoint). SAML: signed assertions required,
  strict checks (audience, destination, `NotOnOrAfter`), IdP-initiated sign-in refused, and each
  assertion used once (`SsoAssertion`, in the database so that a replay to another worker fails).
- **Who may sign in** (`PortalSocialAccountAdapter.pre_social_login`): only an address the provider
  marks verified; an identity already linked, else the contact whose login has that address, else —
  where the connection allows it — a new viewer contact of the customer that owns the address's
  domain. The connection's customers and email domains limit all three.
- **Per customer** (`CustomerSso`): single sign-on required (password and passkey sign-in refused,
  in `adapters.PortalAccountAdapter`) and whether it also asks for the portal's second factor
  (`PortalMFAStage`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.stages import AuthenticateStage
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from portico.accounts.models import CustomerSso, SsoAssertion, SsoConnection, User, domain_of

PROVIDER_OF = {SsoConnection.Protocol.OIDC: "openid_connect", SsoConnection.Protocol.SAML: "saml"}

# The attribute names the big identity providers send, tried after the connection's own.
SAML_ATTRIBUTES = {
    "email": [
        "email",
        "mail",
        "emailaddress",
        "urn:oid:0.9.2342.19200300.100.1.3",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    ],
    "first_name": [
        "first_name",
        "firstName",
        "givenName",
        "urn:oid:2.5.4.42",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    ],
    "last_name": [
        "last_name",
        "lastName",
        "sn",
        "urn:oid:2.5.4.4",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    ],
}


# -- the connections as allauth's apps -----------------------------------------------------------


def social_app(connection: SsoConnection) -> SocialApp:
    """An unsaved `SocialApp` for one connection (allauth's "apps from settings" are unsaved too)."""
    if connection.protocol == SsoConnection.Protocol.OIDC:
        settings = {
            "server_url": connection.discovery_url,
            "oauth_pkce_enabled": connection.use_pkce,
            "scope": connection.scopes.split() or ["openid", "email", "profile"],
            "fetch_userinfo": True,
        }
        if connection.token_auth_method:
            settings["token_auth_method"] = connection.token_auth_method
        return SocialApp(
            provider="openid_connect",
            provider_id=connection.key,
            name=connection.name,
            client_id=connection.client_id,
            secret=connection.client_secret,
            settings=settings,
        )
    mapping = {key: list(names) for key, names in SAML_ATTRIBUTES.items()}
    for key, own in (
        ("email", connection.attribute_email),
        ("first_name", connection.attribute_first_name),
        ("last_name", connection.attribute_last_name),
    ):
        if own:
            mapping[key] = [own, *mapping[key]]
    if connection.attribute_email_verified:
        mapping["email_verified"] = [connection.attribute_email_verified]
    if connection.idp_metadata_url:
        idp = {"metadata_url": connection.idp_metadata_url, "entity_id": connection.idp_entity_id or None}
    else:
        idp = {
            "entity_id": connection.idp_entity_id,
            "sso_url": connection.idp_sso_url,
            "x509cert": connection.idp_certificate,
        }
    return SocialApp(
        provider="saml",
        provider_id=connection.key,
        name=connection.name,
        client_id=connection.key,  # allauth's `organization_slug` in the SAML URLs
        settings={
            "idp": idp,
            "attribute_mapping": mapping,
            "use_nameid_for_email": False,
            "advanced": {
                "strict": True,  # audience, destination, timestamps, InResponseTo
                "want_assertion_signed": True,
                "reject_idp_initiated_sso": True,
                "reject_deprecated_algorithm": True,
                "allow_single_label_domains": False,
                "want_attribute_statement": False,
            },
        },
    )


def connection_of_app(app) -> SsoConnection:
    return SsoConnection.objects.get(key=app.provider_id)


def _request_organization(request):
    from allauth.core import context

    request = request or context.request
    return getattr(request, "organization", None) if request is not None else None


def idp_origins(connections) -> list[str]:
    """Where the portal's sign-in forms may send a browser (CSP `form-action`): each connection's
    sign-in host."""
    origins = []
    for connection in connections:
        url = connection.idp_sso_url or connection.idp_metadata_url or connection.discovery_url
        parts = urlsplit(url)
        if parts.scheme and parts.netloc:
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in origins:
                origins.append(origin)
    return origins


# -- which connections fit an address --------------------------------------------------------------


def _customer_of_email(organization, email: str):
    """The customer whose contact signs in with `email`, else the one that owns its domain."""
    user = (
        User.objects.filter(organization=organization, email__iexact=email, contact__isnull=False)
        .select_related("contact__customer")
        .first()
    )
    if user is not None:
        return user.contact.customer
    return customer_owning_domain(organization, domain_of(email))


def customer_owning_domain(organization, domain: str):
    if not domain:
        return None
    for sso in CustomerSso.objects.filter(
        organization=organization, email_domains__icontains=domain
    ).select_related("customer"):
        if domain in sso.domains:
            return sso.customer
    return None


def admits(connection: SsoConnection, email: str, customer) -> bool:
    """Whether the connection's limits (email domains, customers) let `email` of `customer` in."""
    domains = connection.domains
    if domains and domain_of(email) not in domains:
        return False
    customer_ids = {c.pk for c in connection.customers.all()}
    return not customer_ids or (customer is not None and customer.pk in customer_ids)


def connections_for_email(organization, email: str) -> list[SsoConnection]:
    """Home-realm discovery: the active connections that would admit `email`."""
    customer = _customer_of_email(organization, email)
    candidates = SsoConnection.objects.filter(organization=organization, is_active=True).prefetch_related(
        "customers"
    )
    return [c for c in candidates if admits(c, email, customer)]


def login_url(connection: SsoConnection) -> str:
    if connection.protocol == SsoConnection.Protocol.OIDC:
        return reverse("openid_connect_login", kwargs={"provider_id": connection.key})
    return reverse("saml_login", kwargs={"organization_slug": connection.key})


def sso_rules_of(customer) -> CustomerSso | None:
    if customer is None:
        return None
    try:
        return customer.sso
    except CustomerSso.DoesNotExist:
        return None


def sso_required_for(user) -> bool:
    if user is None or not getattr(user, "contact_id", None):
        return False
    rules = sso_rules_of(user.contact.customer)
    return bool(rules and rules.sso_required)


# -- the sign-in in progress ----------------------------------------------------------------------


@dataclass(frozen=True)
class SsoSignIn:
    """Set on the request once a connection vouched for the person (read by the audit of the
    sign-in and by the second-factor stage)."""

    connection_name: str
    protocol: str
    second_factor: bool

    def audit_data(self) -> dict:
        return {"method": "sso", "connection": self.connection_name, "protocol": self.protocol}


def current_sign_in(request) -> SsoSignIn | None:
    return getattr(request, "_portico_sso", None)


def refuse(request, message: str, *, email: str = "", connection: SsoConnection | None = None, reason: str):
    """Stop the sign-in: back to the sign-in page with `message`, the refusal audited."""
    from dataclasses import replace

    from portico.core.audit import Actor, audit

    organization = _request_organization(request)
    if organization is not None:
        actor = replace(Actor.from_request(request), kind="system", label=email[:254])
        audit(
            actor,
            "login.failed",
            organization=organization,
            email=email[:254],
            method="sso",
            connection=connection.name if connection is not None else "",
            reason=reason,
        )
    messages.error(request, message)
    raise ImmediateHttpResponse(redirect("account_login"))


class PortalSocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        organization = _request_organization(request)
        if organization is None:
            return []
        connections = SsoConnection.objects.filter(organization=organization, is_active=True)
        if provider in PROVIDER_OF.values():
            protocol = next(k for k, v in PROVIDER_OF.items() if v == provider)
            connections = connections.filter(protocol=protocol)
        elif provider:
            connections = connections.filter(key=provider)
        apps = [social_app(c) for c in connections]
        if client_id:
            apps = [a for a in apps if a.client_id == client_id]
        return apps

    def is_open_for_signup(self, request, sociallogin):
        return getattr(request, "_portico_sso_new_contact", None) is not None

    def is_auto_signup_allowed(self, request, sociallogin):
        return True

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        user.email = (user.email or "").strip().lower()
        return user

    def pre_social_login(self, request, sociallogin):
        organization = _request_organization(request)
        app = sociallogin.provider.app
        try:
            connection = SsoConnection.objects.get(organization=organization, key=app.provider_id)
        except SsoConnection.DoesNotExist:
            raise ImmediateHttpResponse(redirect("account_login")) from None
        email = self._email(sociallogin)
        if sociallogin.state.get("process") not in (None, "login"):
            refuse(
                request,
                _("Single sign-on only signs you in."),
                email=email,
                connection=connection,
                reason="process",
            )
        if connection.protocol == SsoConnection.Protocol.OIDC:
            self._check_nonce(request, sociallogin, connection, email)
        if not email or not self._email_verified(sociallogin, connection, email):
            refuse(
                request,
                _(
                    "%(provider)s did not confirm that %(email)s is your verified email address, so it "
                    "cannot sign you in here. Ask your IT team to verify the address."
                )
                % {"provider": connection.name, "email": email or _("your address")},
                email=email,
                connection=connection,
                reason="email_unverified",
            )
        if sociallogin.is_existing:
            user = sociallogin.user  # linked before, by the provider's subject
        else:
            user = User.objects.filter(organization=organization, email__iexact=email).first()
        if user is not None:
            customer = user.contact.customer if user.contact_id else None
            if (
                user.organization_id != organization.pk
                or customer is None  # a staff login's address: the portal is not theirs
                or not admits(connection, email, customer)
            ):
                refuse(
                    request,
                    _(
                        "%(provider)s cannot sign in %(email)s to this portal. Sign in another way, or ask "
                        "the business for access."
                    )
                    % {"provider": connection.name, "email": email},
                    email=email,
                    connection=connection,
                    reason="not_admitted",
                )
            if not user.contact.has_portal_access or not user.is_active:
                from portico.accounts.adapters import ACCESS_OFF_MESSAGE

                refuse(
                    request, str(ACCESS_OFF_MESSAGE), email=email, connection=connection, reason="access_off"
                )
            if not sociallogin.is_existing:
                sociallogin.connect(request, user)
        else:
            customer = customer_owning_domain(organization, domain_of(email))
            if not connection.create_contacts or customer is None or not admits(connection, email, customer):
                refuse(
                    request,
                    _(
                        "There is no portal account for %(email)s. Ask your company's portal administrator "
                        "to invite you."
                    )
                    % {"email": email},
                    email=email,
                    connection=connection,
                    reason="no_account",
                )
            request._portico_sso_new_contact = (connection, customer)
        rules = sso_rules_of(customer)
        request._portico_sso = SsoSignIn(
            connection_name=connection.name,
            protocol=connection.protocol,
            second_factor=bool(rules and rules.sso_second_factor),
        )

    def save_user(self, request, sociallogin, form=None):
        from portico.accounts import sso_services

        connection, customer = request._portico_sso_new_contact
        return sso_services.provision_contact(
            request=request, sociallogin=sociallogin, connection=connection, customer=customer
        )

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        organization = _request_organization(request)
        if organization is None or provider is None or getattr(provider, "app", None) is None:
            return
        connection = SsoConnection.objects.filter(
            organization=organization, key=provider.app.provider_id
        ).first()
        detail = ""
        if extra_context:
            detail = str(extra_context.get("saml_last_error_reason") or "")
        if exception is not None and not detail:
            detail = type(exception).__name__
        refuse(
            request,
            _("Single sign-on with %(provider)s did not complete. Try again, or sign in another way.")
            % {"provider": connection.name if connection else provider.name},
            connection=connection,
            reason=f"{error or 'error'}: {detail}"[:200],
        )

    # -- helpers --------------------------------------------------------------------------------------

    @staticmethod
    def _email(sociallogin) -> str:
        email = (sociallogin.user.email if sociallogin.user is not None else "") or ""
        if not email and sociallogin.email_addresses:
            email = sociallogin.email_addresses[0].email
        return email.strip().lower()

    @staticmethod
    def _email_verified(sociallogin, connection: SsoConnection, email: str) -> bool:
        if connection.protocol == SsoConnection.Protocol.OIDC:
            return any(a.email.lower() == email and a.verified for a in sociallogin.email_addresses)
        attributes = sociallogin.account.extra_data or {}
        if connection.attribute_email_verified:
            values = attributes.get(connection.attribute_email_verified) or []
            return bool(values) and str(values[0]).strip().lower() in ("true", "1", "yes", "y", "t")
        # No such attribute: the business trusts this provider for its connection's domains only.
        return bool(connection.domains) and domain_of(email) in connection.domains

    @staticmethod
    def _check_nonce(request, sociallogin, connection, email):
        sent = sociallogin.state.get("nonce")
        claims = (sociallogin.account.extra_data or {}).get("id_token") or {}
        if not sent or not claims or not secrets.compare_digest(str(claims.get("nonce", "")), str(sent)):
            refuse(
                request,
                _("Single sign-on with %(provider)s did not complete. Try again, or sign in another way.")
                % {"provider": connection.name},
                email=email,
                connection=connection,
                reason="nonce",
            )


# -- providers: allauth's, with the checks it leaves out -----------------------------------------


def _unreachable(request, app, error):
    connection = SsoConnection.objects.filter(key=app.provider_id).first()
    refuse(
        request,
        _("%(provider)s is not answering right now. Try again in a few minutes, or sign in another way.")
        % {"provider": app.name},
        connection=connection,
        reason=f"provider_unreachable: {type(error).__name__}",
    )


class PortalOIDCAdapter(OpenIDConnectOAuth2Adapter):
    @property
    def openid_config(self):
        import requests

        try:
            return super().openid_config
        except (requests.RequestException, ValueError) as error:
            _unreachable(self.request, self.get_provider().app, error)

    def _decode_id_token(self, app, id_token: str) -> dict:
        # Always verified, also when fetched from the token endpoint: an id_token is only trusted
        # with the provider's signature, whatever the transport.
        return jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )


class PortalOIDCProvider(OpenIDConnectProvider):
    package = "allauth.socialaccount.providers.openid_connect"  # allauth's URLs
    oauth2_adapter_class = PortalOIDCAdapter

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(32)
        auth_params = dict(kwargs.pop("auth_params", None) or self.get_auth_params())
        auth_params["nonce"] = nonce
        return super().redirect(
            request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs
        )


def oidc_callback(request, provider_id):
    """allauth's callback with our adapter (its view builds the stock adapter)."""
    try:
        view = OAuth2CallbackView.adapter_view(PortalOIDCAdapter(request, provider_id))
        return view(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None


class PortalSAMLProvider(SAMLProvider):
    package = "allauth.socialaccount.providers.saml"  # allauth's URLs

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        from urllib.error import URLError

        from onelogin.saml2.errors import OneLogin_Saml2_Error

        try:
            return super().redirect(request, process, next_url, data, **kwargs)
        except (URLError, OSError, ValueError, OneLogin_Saml2_Error) as error:
            _unreachable(request, self.app, error)

    def sociallogin_from_response(self, request, response):
        """`response` is python3-saml's `OneLogin_Saml2_Auth`, its signature, audience, destination
        and timestamps already checked: here each assertion is used once."""
        assertion_id = response.get_last_assertion_id()
        not_after = response.get_last_assertion_not_on_or_after()
        connection = connection_of_app(self.app)
        if not assertion_id:
            refuse(
                request,
                _("The identity provider's answer had no assertion id."),
                connection=connection,
                reason="saml_no_assertion_id",
            )
        expires = dt.datetime.fromtimestamp(not_after, tz=dt.UTC) if not_after else None
        # Assertions past their NotOnOrAfter (python3-saml's real clock, with an hour's margin over its
        # drift allowance) are refused by their timestamps anyway: their rows are not kept.
        from django.utils import timezone

        SsoAssertion.objects.filter(
            organization=connection.organization, expires_at__lt=timezone.now() - dt.timedelta(hours=1)
        ).delete()
        try:
            with transaction.atomic():
                SsoAssertion.objects.create(
                    organization=connection.organization,
                    connection=connection,
                    assertion_id=assertion_id[:255],
                    expires_at=expires,
                )
        except IntegrityError:
            refuse(
                request,
                _("This sign-in from %(provider)s was already used. Sign in again.")
                % {"provider": connection.name},
                connection=connection,
                reason="saml_replay",
            )
        return super().sociallogin_from_response(request, response)


# -- the second factor after single sign-on -------------------------------------------------------


class PortalMFAStage(AuthenticateStage):
    """allauth's second-factor stage, skipped after a single sign-on unless the customer wants both."""

    def _should_handle(self, request) -> bool:
        sso = current_sign_in(request)
        if sso is not None and not sso.second_factor:
            return False
        return super()._should_handle(request)
