"""The business API: one `NinjaAPI` at `/api/v1/` (OpenAPI 3.1 at `/api/v1/openapi.json`, docs at
`/api/v1/docs`), its security scheme, and the mapping of every exception to the one error body."""

from __future__ import annotations

import logging

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from portico.api import errors
from portico.api.validation import from_django, from_ninja
from portico.core.errors import DomainError

logger = logging.getLogger(__name__)


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer <key>`. The key is checked (and the tenant activated) by
    `api.middleware.ApiKeyMiddleware` before the view runs; this declares it in the OpenAPI
    document and refuses a request the middleware did not authenticate."""

    def authenticate(self, request, token):
        return getattr(request, "api_key", None)


api = NinjaAPI(
    title="Portico API",
    version="1",
    description="The business API of Portico. See docs/api.md for authentication, errors, "
    "pagination, idempotency and rate limits.",
    auth=ApiKeyAuth(),
    urls_namespace="api",
)


def _respond(request, error: DomainError, **kwargs):
    return errors.error_response(error, **kwargs)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    return _respond(request, exc)


@api.exception_handler(NinjaValidationError)
def validation_error(request, exc: NinjaValidationError):
    return _respond(request, from_ninja(exc))


@api.exception_handler(DjangoValidationError)
def model_validation_error(request, exc: DjangoValidationError):
    return _respond(request, from_django(exc))


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    by_status = {
        400: errors.MalformedRequest,
        401: errors.AuthenticationRequired,
        403: errors.PermissionDenied,
        404: errors.ResourceMissing,
        405: errors.MethodNotAllowed,
        429: errors.RateLimited,
    }
    cls = by_status.get(exc.status_code)
    if cls is None:
        return _respond(request, errors.ApiError(str(exc)), status=exc.status_code)
    return _respond(request, cls() if exc.status_code != 400 else cls(str(exc.message) + "."))


@api.exception_handler(Http404)
def not_found(request, exc):
    return _respond(request, errors.ResourceMissing())


@api.exception_handler(ObjectDoesNotExist)
def does_not_exist(request, exc):
    return _respond(request, errors.ResourceMissing())


@api.exception_handler(IntegrityError)
def integrity_error(request, exc):
    logger.warning("API request refused by a database constraint: %s", exc)
    return _respond(request, errors.Conflict())


@api.exception_handler(Exception)
def unexpected(request, exc):
    logger.exception("API request failed", exc_info=exc)
    return _respond(request, errors.InternalError())


from portico.api.resources import catalog, customers  # noqa: E402  (the routers, registered below)

api.add_router("/customers", customers.router)
api.add_router("/contacts", customers.contacts_router)
for prefix, router in catalog.routers.items():
    api.add_router(prefix, router)

from portico.api.resources import accounts, credit_notes, invoices, payments, portal_settings  # noqa: E402

api.add_router("/customers", accounts.router)  # a customer's statement and payment methods
api.add_router("/payment_methods", accounts.payment_methods_router)
api.add_router("/invoices", invoices.router)
api.add_router("/credit_notes", credit_notes.router)
api.add_router("/payments", payments.router)
api.add_router("/portal_settings", portal_settings.router)

from portico.api.resources import subscriptions  # noqa: E402

api.add_router("/subscriptions", subscriptions.router)

from portico.api.resources import project_time, projects  # noqa: E402

api.add_router("/projects", projects.router)
api.add_router("/staff_members", project_time.staff_router)
api.add_router("/time_entries", project_time.router)

from portico.api.resources import documents  # noqa: E402

api.add_router("/documents", documents.router)
from portico.api.resources import conversations  # noqa: E402

api.add_router("/conversations", conversations.router)
