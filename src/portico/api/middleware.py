"""The API key middleware: every request under `/api/v1/` (but its schema and docs) presents a key,
and runs for the key's organization only (`with tenant(key.organization):`), so that every
tenant-scoped manager inside the API's views sees that organization's rows and no other's.

In order: hostile bytes (a NUL in the path, query or JSON body) → 400; no, unknown or revoked key
→ 401; a key used on another organization's host → 404 (the host names a tenant, and the API never
acts for a tenant other than the key's); a read key on anything but GET/HEAD/OPTIONS → 403; over
the rate limit → 429 with `Retry-After`; then the request, through its idempotency record when it
is a POST with an `Idempotency-Key`. Placed right after `TenantMiddleware`."""

from __future__ import annotations

import json

from django.core.exceptions import RequestDataTooBig
from django.http import QueryDict
from django.utils.cache import add_never_cache_headers
from django.utils.datastructures import MultiValueDict

from portico.api import idempotency, ratelimit
from portico.api.errors import (
    AuthenticationRequired,
    MalformedRequest,
    PermissionDenied,
    RateLimited,
    ResourceMissing,
    UnsupportedMediaType,
    error_response,
    for_status,
)
from portico.api.services import key_for_token, touch
from portico.core.tenancy import tenant

API_PREFIX = "/api/v1/"
PUBLIC_PATHS = frozenset({"/api/v1/openapi.json", "/api/v1/docs"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


class ApiKeyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api_path(request.path) or request.path in PUBLIC_PATHS:
            return self.get_response(request)
        if _has_nul(request):
            return error_response(
                MalformedRequest(
                    "The request contains a NUL character (which no field accepts) or is too large."
                )
            )
        if request.method not in READ_METHODS:
            # The API reads JSON only: a form body is never parsed (not by the form middleware
            # below either), and any other body is refused.
            request._post, request._files = QueryDict(), MultiValueDict()
            if request.content_type != "application/json" and request.body:
                return error_response(UnsupportedMediaType())
        key = key_for_token(_bearer(request))
        if key is None:
            return error_response(AuthenticationRequired(), headers={"WWW-Authenticate": "Bearer"})
        host_organization = getattr(request, "organization", None)
        if host_organization is not None and host_organization.pk != key.organization_id:
            return error_response(ResourceMissing("No such endpoint on this host."))
        if request.method not in READ_METHODS and not key.can_write:
            return error_response(PermissionDenied())
        wait = ratelimit.hit(key)
        if wait is not None:
            return error_response(RateLimited(), headers={"Retry-After": str(wait)})
        touch(key)
        request.api_key = key
        request.organization = key.organization
        with tenant(key.organization):
            if request.method == "POST":
                response = idempotency.run(request, key, self._shaped_response)
            else:
                response = self._shaped_response(request)
        add_never_cache_headers(response)  # an organization's data is no cache's to keep
        return response

    def _shaped_response(self, request):
        """Whatever answers an error without the API's body (Django's 404 page for an unknown path,
        the router's 405, a 500 page) answers with it instead."""
        response = self.get_response(request)
        if response.status_code >= 400 and "json" not in response.get("Content-Type", ""):
            status = response.status_code
            shaped = error_response(for_status(status), status=status)
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response


def _bearer(request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _has_nul(request) -> bool:
    if (
        "\x00" in request.path
        or "\x00" in request.META.get("QUERY_STRING", "")
        or "%00" in request.META.get("QUERY_STRING", "")
    ):
        return True
    if request.method in READ_METHODS:
        return False
    try:
        body = request.body
    except RequestDataTooBig:
        return True  # refused as malformed too: far larger than any object of the API
    if b"\x00" in body:
        return True
    if b"\\u0000" not in body:
        return False
    try:
        return _contains_nul(json.loads(body))
    except (ValueError, RecursionError):
        return False  # not JSON: the view answers that


def _contains_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False
