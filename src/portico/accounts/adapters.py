from allauth.account.adapter import DefaultAccountAdapter
from django.utils.translation import gettext_lazy as _


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
