"""Request-wide rules: host → organization (every request on a tenant's host acts for that tenant, and
only that one), form bodies in UTF-8 only, and private pages never stored by a cache."""

from __future__ import annotations

import codecs

from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponseNotFound
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _

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
    # A gateway posts webhooks to one fixed URL that names the organization in its path
    # (`payments.views.webhook`), whatever host the instance is reached on; so does a mail provider
    # its inbound mail, whose signed reply address names the conversation (`engagement.inbound_views`).
    return (
        path in ("/healthz", "/tls/ask", "/favicon.ico", "/inbound/email/")
        or path.startswith(settings.STATIC_URL)
        or path.startswith("/payments/webhooks/")
    )


FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
ACCEPTED_CHARSETS = ("utf-8", "ascii")


class FormInputMiddleware:
    """Form bodies are read as UTF-8, the charset of every page we serve: a form that says it is in
    another charset (utf-16, or a name no codec has) is refused with 400 before anything reads it,
    rather than decoded into garbage or failing deep inside the request. A NUL character, in the
    query string or a form, is never part of what a person types (and PostgreSQL refuses it in any
    text): refused with 400 too, before a view passes it to a query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.content_type in FORM_CONTENT_TYPES and "charset" in request.content_params:
            charset = request.content_params["charset"].strip().strip('"')
            try:
                accepted = codecs.lookup(charset).name in ACCEPTED_CHARSETS
            except LookupError:
                accepted = False
            if not accepted:
                return HttpResponseBadRequest(
                    _("Forms must be sent as UTF-8, not %(charset)s.") % {"charset": charset[:40]},
                    content_type="text/plain; charset=utf-8",
                )
        if _has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST)):
            return HttpResponseBadRequest(
                _("The request contains a NUL character, which no field accepts."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in data.lists())


PRIVATE_PATHS = ("/portal/", "/console/")


class PrivateCacheMiddleware:
    """`Cache-Control: private, no-store` (and `Vary: Cookie`) on every portal and console response and
    on every response to a signed-in request: invoices, statements and receipts are no cache's to keep
    (RFC 9111 §5.2.2.3, §5.2.2.7). Placed outside the authentication middleware, so `request.user` is
    known when the response passes back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.path.startswith(PRIVATE_PATHS) or (user is not None and user.is_authenticated):
            add_never_cache_headers(response)  # max-age=0, no-cache, no-store, must-revalidate, private
            patch_vary_headers(response, ["Cookie"])
        return response
