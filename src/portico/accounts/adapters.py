from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.utils.translation import gettext_lazy as _

from portico.core.audit import client_ip


class PortalAccountAdapter(DefaultAccountAdapter):
    """Portal accounts are created by invitation, never by open sign-up."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": _(
            "Too many failed sign-in attempts. For your security, sign-in is paused for a few minutes; "
            "try again later or reset your password."
        ),
    }

    def is_open_for_signup(self, request):
        return False

    def get_login_redirect_url(self, request):
        user = request.user
        if user.is_staff and not user.is_portal_user:
            return "/console/"
        return "/portal/"

    def is_safe_url(self, url):
        # Only same-host redirects: Django's check with no extra allowed hosts.
        from django.utils.http import url_has_allowed_host_and_scheme

        from portico.core.middleware import host_without_port

        request = self.request
        return url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ) and bool(host_without_port(request))

    # -- lockout: counted in the database, timed by core.clock (accounts/lockout.py) ---------------

    def pre_authenticate(self, request, **credentials):
        from portico.accounts import lockout
        from portico.accounts.models import AuthFailure

        key = (credentials.get("email") or credentials.get("username") or "").lower()
        organization = getattr(request, "organization", None)
        if lockout.is_locked(
            kind=AuthFailure.Kind.LOGIN, organization=organization, key=key, ip_address=client_ip(request)
        ):
            from django.core.exceptions import ValidationError

            if organization is not None:
                from dataclasses import replace

                from portico.core.audit import Actor, audit

                actor = replace(Actor.from_request(request), kind="system", label=key[:254])
                audit(actor, "login.locked", organization=organization, email=key[:254])

            raise ValidationError(
                _(
                    "Too many failed sign-in attempts. For your security, signing in to this account is "
                    "paused for %(minutes)d minutes. Try again later, or reset your password by email."
                )
                % {"minutes": lockout.minutes_of(AuthFailure.Kind.LOGIN)},
                code="too_many_login_attempts",
            )
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request, **credentials):
        from portico.accounts import lockout
        from portico.accounts.models import AuthFailure

        lockout.record_failure(
            kind=AuthFailure.Kind.LOGIN,
            organization=getattr(request, "organization", None),
            key=(credentials.get("email") or credentials.get("username") or "").lower(),
            ip_address=client_ip(request),
        )

    def reauthenticate(self, user, password):
        # Our users' address lives on the user (allauth's EmailAddress rows are optional here).
        reauth_user = self.authenticate(allauth_context.request, email=user.email, password=password)
        return reauth_user is not None and reauth_user.pk == user.pk

    # -- email: every message leaves through notifications.email, branded for the organization ----

    def format_email_subject(self, subject):
        return str(subject)

    def send_mail(self, template_prefix, email, context):
        from portico.notifications.email import send_rendered_email

        # allauth sends some notices from on_commit callbacks; the adapter keeps the request.
        request = allauth_context.request or self.request
        organization = getattr(request, "organization", None)
        if organization is None:
            return super().send_mail(template_prefix, email, context)
        ctx = {
            "request": request,
            "email": email,
            "organization": organization,
            "portal_url": organization.portal_url,
            **context,
        }
        with allauth_context.request_context(request):
            message = self.render_mail(template_prefix, email, ctx)
        html = next(
            (body for body, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), None
        )
        send_rendered_email(
            organization=organization,
            to=message.to,
            subject=message.subject,
            text=message.body,
            html=html,
        )

    def send_notification_mail(self, template_prefix, user, context=None, email=None):
        super().send_notification_mail(template_prefix, user, context=context, email=email or user.email)


class PortalMFAAdapter(DefaultMFAAdapter):
    """Authenticator apps and passkeys name the organization whose portal they open."""

    def _organization(self):
        request = allauth_context.request
        return getattr(request, "organization", None) if request is not None else None

    def get_totp_issuer(self):
        organization = self._organization()
        return organization.display_title if organization is not None else super().get_totp_issuer()

    def get_public_key_credential_rp_entity(self):
        entity = super().get_public_key_credential_rp_entity()
        organization = self._organization()
        if organization is not None:
            entity["name"] = organization.display_title
        return entity
