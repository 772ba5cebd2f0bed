"""An organization may require a second factor: until its user has one, they only get to set it up.

In the portal (not accounts) because allauth's pages get the portal's navigation here (`portal_for`).
"""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from portico.accounts.models import access_policy_of

# Pages a user without a second factor may still use: setting one up, signing out, reauthenticating.
_ALLOWED_PREFIXES = ("/portal/account/2fa/", "/portal/account/logout/", "/portal/account/reauthenticate/")
_SETUP_PAGE = "/portal/security/"  # portal users; staff use allauth's page under _ALLOWED_PREFIXES
_STAFF_SETUP_PAGE = "/portal/account/2fa/"


def mfa_required_for(user, organization) -> bool:
    if organization is None or not user.is_authenticated or user.organization_id != organization.pk:
        return False
    policy = access_policy_of(organization)
    if user.is_portal_user:
        return policy.portal_mfa_required
    return user.is_staff and policy.staff_mfa_required


class MfaRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organization = getattr(request, "organization", None)
        user = getattr(request, "user", None)
        if (
            user is not None
            and not request.path.startswith(_ALLOWED_PREFIXES)
            and request.path != _SETUP_PAGE
            and not request.path.startswith(settings.STATIC_URL)
            and mfa_required_for(user, organization)
            and not is_mfa_enabled(user)
        ):
            messages.warning(
                request,
                _(
                    "%(org)s requires two-factor authentication. Set up an authenticator app or a "
                    "passkey to continue."
                )
                % {"org": organization.name},
            )
            return redirect(_SETUP_PAGE if user.is_portal_user else _STAFF_SETUP_PAGE)
        if (
            organization is not None
            and request.path.startswith("/portal/account/")
            and user is not None
            and user.is_authenticated
            and user.is_portal_user
        ):
            # allauth's pages use the portal layout: give them the same navigation.
            from portico.portal.access import portal_for

            request.portal = portal_for(request)
        return self.get_response(request)


class SessionActivityMiddleware:
    """allauth's session activity tracking ("last seen", IP, browser), written at most once a minute
    per session instead of a database write on every request. A change of IP address or browser is
    recorded at once, so the sessions page and allauth's client-change signal stay accurate."""

    interval_seconds = 60
    marker = "_portico_activity"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated and session is not None and session.session_key:
            from allauth.account.adapter import get_adapter as get_account_adapter
            from allauth.usersessions.models import UserSession

            from portico.core import clock

            now = clock.now().timestamp()
            client = [
                get_account_adapter(request).get_client_ip(request),
                request.META.get("HTTP_USER_AGENT", "")[:200],
            ]
            seen = session.get(self.marker)
            if not seen or now - seen[0] >= self.interval_seconds or seen[1:] != client:
                UserSession.objects.create_from_request(request)
                session[self.marker] = [now, *client]
        return self.get_response(request)
