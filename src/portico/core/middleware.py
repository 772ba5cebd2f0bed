"""Host → organization. Every request on a tenant's host acts for that tenant, and only that one."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseNotFound
from django.template.loader import render_to_string

from portico.core import tenancy
from portico.core.models import Organization


def host_without_port(request) -> str:
    host = request.META.get("HTTP_HOST", "") or request.META.get("SERVER_NAME", "")
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0].lower().rstrip(".")


def resolve_organization(host: str) -> Organization | None:
    """`<slug>.<base domain>` or a verified custom domain; anything else is no tenant."""
    base = settings.PORTICO_BASE_DOMAIN.lower()
    suffix = "." + base
    if host.endswith(suffix):
        slug = host[: -len(suffix)]
        if slug and "." not in slug:
            return _organizations().filter(slug=slug).first()
        return None
    return _organizations().filter(custom_domain=host, domain_verified_at__isnull=False).first()


def _organizations():
    return Organization.objects.filter(is_active=True).select_related(*tenancy.REQUEST_RELATED)


def is_platform_host(host: str) -> bool:
    return host in settings.PORTICO_PLATFORM_HOSTS


class TenantMiddleware:
    """Sets `request.organization` and activates tenant scoping for the request.

    The platform host (the bare base domain) serves only the platform's own pages: health,
    the platform console and the custom-domain check. Unknown hosts get a plain 404.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        host = host_without_port(request)
        organization = resolve_organization(host)
        request.organization = organization
        request.is_platform_host = organization is None and is_platform_host(host)
        if organization is None and not request.is_platform_host and not _always_served(request.path):
            return HttpResponseNotFound(
                render_to_string("core/unknown_host.html", {"host": host}, request=None)
            )
        token = tenancy.activate(organization)
        try:
            return self.get_response(request)
        finally:
            tenancy.deactivate(token)


def _always_served(path: str) -> bool:
    return path in ("/healthz", "/tls/ask", "/favicon.ico") or path.startswith(settings.STATIC_URL)
