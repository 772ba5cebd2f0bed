from django.db import connection
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache


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
        return render(request, "core/platform_home.html")
    raise Http404


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
