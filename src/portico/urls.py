from importlib import import_module

from allauth.urls import build_provider_urlpatterns
from django.conf import settings
from django.conf.urls.static import static
from django.urls import URLResolver, include, path

from portico.accounts import sso, sso_views
from portico.api.api import api
from portico.console.site import console_site
from portico.core import views as core_views
from portico.engagement import inbound_views
from portico.portal import document_views

OURS = {"account_login", "openid_connect_callback", "socialaccount_connections", "socialaccount_signup"}


def _without_ours(patterns):
    """allauth's URL patterns less those named in `OURS` (so that every URL name is defined once)."""
    if isinstance(patterns, str):
        patterns = import_module(patterns).urlpatterns
    kept = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            kept.append(
                URLResolver(
                    pattern.pattern,
                    _without_ours(pattern.url_patterns),
                    pattern.default_kwargs,
                    pattern.app_name,
                    pattern.namespace,
                )
            )
        elif pattern.name not in OURS:
            kept.append(pattern)
    return kept


urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("brand/<str:kind>", core_views.brand_asset, name="brand-asset"),
    path("tls/ask", core_views.tls_ask, name="tls-ask"),
    path("portal/account/", include("portico.accounts.urls")),
    # Single sign-on: ours first, where allauth's would do less (accounts/sso.py, sso_views.py)
    path("portal/account/login/", sso_views.login, name="account_login"),
    path("portal/account/sso/", sso_views.discover, name="sso_discover"),
    path(
        "portal/account/oidc/<str:provider_id>/login/callback/",
        sso.oidc_callback,
        name="openid_connect_callback",
    ),
    path("portal/account/3rdparty/", sso_views.no_connections, name="socialaccount_connections"),
    path("portal/account/3rdparty/signup/", sso_views.no_signup, name="socialaccount_signup"),
    # allauth's pages, less its deprecated `social/` redirects and the ones ours replace above
    path("portal/account/", include(_without_ours("allauth.account.urls"))),
    path("portal/account/2fa/", include("allauth.mfa.urls")),
    path("portal/account/3rdparty/", include(_without_ours("allauth.socialaccount.urls"))),
    path("portal/account/", include(_without_ours(build_provider_urlpatterns()))),
    path("portal/account/sessions/", include("allauth.usersessions.urls")),
    path("portal/", include("portico.portal.urls")),
    path("s/<str:token>", document_views.share_link, name="share_link"),  # a share link, signed out
    path("payments/", include("portico.payments.urls")),
    path("inbound/email/", inbound_views.inbound_email, name="inbound_email"),
    path("console/", console_site.urls),
    path("api/v1/", api.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
