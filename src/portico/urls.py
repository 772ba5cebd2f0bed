from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

from portico.api.api import api
from portico.console.site import console_site
from portico.core import views as core_views
from portico.engagement import inbound_views
from portico.portal import document_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("brand/<str:kind>", core_views.brand_asset, name="brand-asset"),
    path("tls/ask", core_views.tls_ask, name="tls-ask"),
    path("portal/account/", include("portico.accounts.urls")),
    path("portal/account/", include("allauth.urls")),
    path("portal/", include("portico.portal.urls")),
    path("s/<str:token>", document_views.share_link, name="share_link"),  # a share link, signed out
    path("payments/", include("portico.payments.urls")),
    path("inbound/email/", inbound_views.inbound_email, name="inbound_email"),
    path("console/", console_site.urls),
    path("api/v1/", api.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
