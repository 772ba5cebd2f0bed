from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.utils.translation import gettext_lazy as _

ACCESS_OFF_MESSAGE = _(
    "Your access to this portal has been turned off. If you think it should be on, ask your "
    "company's portal administrator or the business that bills you."
)


SSO_ONLY_MESSAGE = _(
    "Your company signs in to this portal with single sign-on. Use “Continue with single sign-on” "
    "below and your company's account."
)


def sso_required_for(user) -> bool:
    from portico.accounts.sso import sso_required_for as required

    return required(user)


def _audit_sso_only(request, user) -> None:
    from dataclasses import replace

    from portico.core.audit import Actor, audit

    organization = getattr(request, "organization", None)
    if organization is not None:
        actor = replace(Actor.from_request(request), kind="system", label=user.email[:254])
        audit(actor, "login.failed", organization=organization, email=user.email, reason="sso_required")


def portal_access_is_off(user) -> bool:
    """A contact's login whose portal access was switched off (by their company or by staff)."""
    contact = getattr(user, "contact", None) if getattr(user, "contact_id", None) else None
    return contact is not None and not contact.has_portal_access


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

    # -- throttling: counted in the database before each check, timed by core.clock (lockout.py) ---

    def pre_authenticate(self, request, **credentials):
        from django.core.exceptions import ValidationError
        from django.utils.translation import ngettext

        from portico.accounts import lockout

        key = (credentials.get("email") or credentials.get("username") or "").lower()
        organization = getattr(request, "organization", None)
        attempt = lockout.begin_attempt(request, organization=organization, email=key)
        request._portico_sign_in_attempt = attempt
        if not attempt.admitted:
            if organization is not None:
                from dataclasses import replace

                from portico.core.audit import Actor, audit

                actor = replace(Actor.from_request(request), kind="system", label=key[:254])
                audit(actor, "login.locked", organization=organization, email=key[:254])
            raise ValidationError(
                ngettext(
                    "Too many failed sign-in attempts. For your security, the next attempt to sign in "
                    "to this account from this browser is possible in %(minutes)d minute. Try again "
                    "then, or reset your password by email.",
                    "Too many failed sign-in attempts. For your security, the next attempt to sign in "
                    "to this account from this browser is possible in %(minutes)d minutes. Try again "
                    "then, or reset your password by email.",
                    attempt.minutes,
                )
                % {"minutes": attempt.minutes},
                code="too_many_login_attempts",
            )

    def authenticate(self, request, **credentials):
        from portico.accounts import lockout

        user = super().authenticate(request, **credentials)
        attempt = getattr(request, "_portico_sign_in_attempt", None)
        if user is not None and attempt is not None:
            lockout.attempt_succeeded(attempt)
        if user is not None and portal_access_is_off(user):
            # Said only once the password was right: it tells nothing to someone guessing.
            from django.core.exceptions import ValidationError

            raise ValidationError(ACCESS_OFF_MESSAGE, code="portal_access_off")
        if user is not None and sso_required_for(user):
            from django.core.exceptions import ValidationError

            _audit_sso_only(request, user)
            raise ValidationError(SSO_ONLY_MESSAGE, code="sso_required")
        return user

    def authentication_failed(self, request, **credentials):
        pass  # already counted by pre_authenticate, before the password was checked

    def pre_login(self, request, user, **kwargs):
        # Passkey sign-ins do not pass through authenticate(): refuse them here too.
        if portal_access_is_off(user):
            from allauth.account.internal.stagekit import clear_login
            from django.contrib import messages
            from django.shortcuts import redirect

            clear_login(request)
            messages.error(request, ACCESS_OFF_MESSAGE)
            return redirect("account_login")
        # Passkeys and invitations too: a customer that requires single sign-on signs in with it only.
        from portico.accounts.sso import current_sign_in

        if sso_required_for(user) and current_sign_in(request) is None:
            from allauth.account.internal.stagekit import clear_login
            from django.contrib import messages
            from django.shortcuts import redirect

            clear_login(request)
            _audit_sso_only(request, user)
            messages.error(request, SSO_ONLY_MESSAGE)
            return redirect("account_login")
        return super().pre_login(request, user, **kwargs)

    def get_login_stages(self):
        # allauth's second-factor stage, skipped after single sign-on where the customer says so
        return [
            "portico.accounts.sso.PortalMFAStage" if path == "allauth.mfa.stages.AuthenticateStage" else path
            for path in super().get_login_stages()
        ]

    def post_login(self, request, user, **kwargs):
        from portico.accounts import lockout

        response = super().post_login(request, user, **kwargs)
        lockout.remember_device(request, response, getattr(request, "organization", None), user.email)
        return response

    def reauthenticate(self, user, password):
        # Our users' address lives on the user (allauth's EmailAddress rows are optional here).
        reauth_user = self.authenticate(allauth_context.request, email=user.email, password=password)
        return reauth_user is not None and reauth_user.pk == user.pk

    # -- email: every message leaves through core.mail, branded for the organization ----

    def format_email_subject(self, subject):
        return str(subject)

    def send_mail(self, template_prefix, email, context):
        from portico.core.mail import send_rendered_email

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
            kind=template_prefix,
            customer=_customer_of(context.get("user")),
        )

    def send_notification_mail(self, template_prefix, user, context=None, email=None):
        super().send_notification_mail(template_prefix, user, context=context, email=email or user.email)


def _customer_of(user):
    """The customer a portal login belongs to, for the delivery log (None for staff)."""
    contact = getattr(user, "contact", None) if getattr(user, "contact_id", None) else None
    return contact.customer if contact is not None else None


class PortalMFAAdapter(DefaultMFAAdapter):
    """Authenticator apps and passkeys name the organization whose portal they open."""

    def _organization(self):
        request = allauth_context.request
        return getattr(request, "organization", None) if request is not None else None

    def get_totp_issuer(self):
        organization = self._organization()
        return organization.display_title if organization is not None else super().get_totp_issuer()

    def generate_authenticator_name(self, user, type):
        # allauth suggests "Master key"; people recognise a passkey by the browser and the day.
        from allauth.mfa.models import Authenticator
        from django.utils.formats import date_format

        from portico.accounts.user_agents import describe_user_agent
        from portico.core import clock

        if type != Authenticator.Type.WEBAUTHN:
            return super().generate_authenticator_name(user, type)
        request = allauth_context.request
        agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
        return _("Passkey (%(browser)s, %(date)s)") % {
            "browser": describe_user_agent(agent),
            "date": date_format(clock.today(), "DATE_FORMAT"),
        }

    def get_public_key_credential_rp_entity(self):
        """The relying party is the host the portal was opened on, the one that chose the tenant:
        `renotech.portico.example`, or the business's verified custom domain. A passkey belongs to
        that host (WebAuthn §5.1.3 binds it to the RP id), so one created on the subdomain does not
        sign in on the custom domain, nor on another tenant's host."""
        from portico.core.middleware import host_without_port

        entity = super().get_public_key_credential_rp_entity()
        request = allauth_context.request
        if request is not None:
            entity["id"] = host_without_port(request)
        organization = self._organization()
        if organization is not None:
            entity["name"] = organization.display_title
        return entity
