"""The sign-in page's single sign-on: "Sign in with …" buttons for the listed connections, and
"Continue with single sign-on" that asks for the email address and routes to its connection
(home-realm discovery)."""

from __future__ import annotations

from allauth.account.views import LoginView
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portico.accounts import sso
from portico.accounts.models import SsoConnection

SIGN_IN_PATHS = (
    "/portal/account/login/",
    "/portal/account/sso/",
    "/portal/account/oidc/",
    "/portal/account/saml/",
)


class DiscoverForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Work email"), max_length=254)


def _active_connections(request):
    organization = getattr(request, "organization", None)
    if organization is None:
        return []
    # all_tenants with the organization named: the CSP middleware runs outside the tenant's scope
    return list(SsoConnection.all_tenants.filter(organization=organization, is_active=True))


class PortalLoginView(LoginView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        connections = _active_connections(self.request)
        context["sso_available"] = bool(connections)
        context["sso_listed"] = [(c, sso.login_url(c)) for c in connections if c.listed]
        context["sso_form"] = DiscoverForm()
        return context


login = PortalLoginView.as_view()


def _start(request, connection: SsoConnection):
    provider = get_social_adapter().get_provider(request, connection.key)
    next_url = request.POST.get("next") or None
    if next_url and not url_is_safe(request, next_url):
        next_url = None
    return provider.redirect(request, "login", next_url=next_url)


def url_is_safe(request, url: str) -> bool:
    from allauth.account.adapter import get_adapter

    return get_adapter(request).is_safe_url(url)


@never_cache
@require_POST
def discover(request):
    """Home-realm discovery: the connections that admit the address typed; one goes straight to its
    identity provider, several are offered, none sends the person back with a word why."""
    if getattr(request, "organization", None) is None:
        raise Http404
    form = DiscoverForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter your work email address to continue with single sign-on."))
        return redirect("account_login")
    email = form.cleaned_data["email"].strip().lower()
    found = sso.connections_for_email(request.organization, email)
    if not found:
        messages.error(
            request,
            _(
                "Single sign-on is not set up for %(email)s. Sign in with your password, or ask your "
                "company's portal administrator."
            )
            % {"email": email},
        )
        return redirect("account_login")
    if len(found) == 1:
        return _start(request, found[0])
    return render(
        request,
        "account/sso_choose.html",
        {
            "email": email,
            "choices": [(c, sso.login_url(c)) for c in found],
            "next": request.POST.get("next", ""),
        },
    )


def no_connections(request):
    """allauth's "connected accounts" page: identities are linked by verified email, not by hand."""
    raise Http404


def no_signup(request):
    messages.error(
        request, _("There is no portal account for that address. Ask your company's portal administrator.")
    )
    return redirect("account_login")


class SsoFormActionMiddleware:
    """The sign-in pages may send the browser on to the organization's identity providers: CSP's
    `form-action` (which Chromium also applies to a form's redirects) lists their hosts there."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(SIGN_IN_PATHS) and getattr(request, "organization", None) is not None:
            origins = sso.idp_origins(_active_connections(request))
            if origins:
                update = dict(getattr(response, "_csp_update", None) or {})
                update["form-action"] = [*update.get("form-action", []), *origins]
                response._csp_update = update
        return response
