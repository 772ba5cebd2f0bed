from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control, never_cache

from portico.core import brand_assets
from portico.core.models import Organization

FAVICON = Path(__file__).resolve().parent / "static" / "portico" / "favicon.ico"
# The organizations `portico demo` creates (portico.demo, a layer above core), listed on the platform home.
DEMO_SLUGS = ("renotech", "northwind")


@never_cache
def healthz(request):
    """Liveness and database check for load balancers: 200 when a query round-trips, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not healthy", reported, not raised
        return JsonResponse({"status": "error", "database": str(exc)[:200]}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def home(request):
    if getattr(request, "organization", None) is not None:
        return HttpResponseRedirect("/portal/")
    if getattr(request, "is_platform_host", False):
        return render(request, "core/platform_home.html", platform_home_context(request))
    raise Http404


def platform_home_context(request) -> dict:
    """The real addresses of the demo organizations' portals and consoles (a platform address such as
    127.0.0.1 cannot carry a tenant's subdomain), and an example of the address pattern."""
    port = public_port(request)
    organizations = Organization.objects.filter(slug__in=DEMO_SLUGS, is_active=True).order_by("name")
    suffix = f":{port}" if port and port not in (80, 443) else ""
    return {
        "demo_organizations": [
            {
                "name": organization.name,
                "portal_url": organization.public_url("/portal/", port=port),
                "console_url": organization.public_url("/console/", port=port),
            }
            for organization in organizations
        ],
        "example_host": f"<slug>.{settings.PORTICO_BASE_DOMAIN}{suffix}",
    }


def public_port(request) -> int | None:
    """The port people reach Portico on: `PORTICO_PUBLIC_PORT`, else the one in the address this page
    was asked for (the Host header, as typed in the browser), else none (the scheme's default)."""
    if settings.PORTICO_PUBLIC_PORT:
        return settings.PORTICO_PUBLIC_PORT
    host = request.META.get("HTTP_HOST", "")
    port = host.rsplit("]", 1)[-1].rpartition(":")[2] if ":" in host.rsplit("]", 1)[-1] else ""
    return int(port) if port.isdigit() else None


@cache_control(max_age=86400, public=True)
def favicon(request):
    """Browsers ask every host for /favicon.ico whatever the page links to: an organization's
    host answers with its own favicon when it has one that is an image."""
    organization = getattr(request, "organization", None)
    if organization is not None and organization.favicon:
        response = _brand_file(organization.favicon, brand_assets.FAVICON_FORMATS)
        if response is not None:
            return response
    return FileResponse(FAVICON.open("rb"), content_type="image/x-icon")


def _brand_file(field, formats):
    try:
        file = field.open("rb")
    except (OSError, ValueError):
        return None
    found = brand_assets.image_format(file, formats)
    if found is None:
        file.close()
        return None
    response = FileResponse(file, content_type=brand_assets.CONTENT_TYPES[found])
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "public, max-age=86400"  # the address changes with the file (?v=)
    return response


def brand_asset(request, kind: str):
    """The organization's logo or favicon, on its own host; nothing else of the media storage."""
    organization = getattr(request, "organization", None)
    if organization is None or kind not in ("logo", "favicon"):
        raise Http404
    field = organization.logo if kind == "logo" else organization.favicon
    formats = brand_assets.LOGO_FORMATS if kind == "logo" else brand_assets.FAVICON_FORMATS
    response = _brand_file(field, formats) if field else None
    if response is None:
        raise Http404
    return response


def csrf_failure(request, reason=""):
    return render(request, "core/csrf_failure.html", status=403)


def tls_ask(request):
    """Caddy's on-demand TLS "ask" endpoint: 200 only for hosts Portico serves, so certificates are
    issued for tenants' subdomains and verified custom domains and never for arbitrary names."""
    from portico.core.middleware import resolve_organization

    domain = (request.GET.get("domain") or "").strip().lower().rstrip(".")
    if domain and resolve_organization(domain) is not None:
        return JsonResponse({"domain": domain, "ok": True})
    return JsonResponse({"domain": domain, "ok": False}, status=404)
