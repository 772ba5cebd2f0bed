"""The API's errors: every refusal the API itself makes (authentication, scopes, idempotency, rate
limits, malformed or invalid requests) is a `DomainError` like the services' refusals, with an HTTP
status beside its code, so that one body answers for all of them: `{"error": {"code", "message",
"field"}}` (`error_response`). A service's `DomainError` without a status of its own answers 409:
the request was understood, and the state of the account refuses it."""

from __future__ import annotations

from django.db import models
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _

from portico.core.errors import DomainError

DOMAIN_REFUSAL_STATUS = 409


class Code(models.TextChoices):
    """The codes of the API's errors."""

    API_ERROR = "api_error"
    API_KEY_NAME_REQUIRED = "api_key_name_required"
    AUTHENTICATION_REQUIRED = "authentication_required"
    PERMISSION_DENIED = "permission_denied"
    RESOURCE_MISSING = "resource_missing"
    MALFORMED_REQUEST = "malformed_request"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    VALIDATION_FAILED = "validation_failed"
    CONFLICT = "conflict"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    STATEMENT_TOO_LONG = "statement_too_long"
    INVALID_PORTAL_SETTINGS = "invalid_portal_settings"


class ApiError(DomainError):
    code = Code.API_ERROR
    status = 400
    message = _("This request cannot be served.")


class KeyNameRequired(ApiError):
    code = Code.API_KEY_NAME_REQUIRED
    field = "name"
    message = _("Give the key a name that says what uses it, such as “CRM sync”.")


class AuthenticationRequired(ApiError):
    code = Code.AUTHENTICATION_REQUIRED
    status = 401
    message = _("Send a valid, unrevoked API key as `Authorization: Bearer <key>`.")


class PermissionDenied(ApiError):
    code = Code.PERMISSION_DENIED
    status = 403
    message = _("This key may only read (GET). Use a key with the write scope to make changes.")


class ResourceMissing(ApiError):
    code = Code.RESOURCE_MISSING
    status = 404
    message = _("No such object.")


class MalformedRequest(ApiError):
    code = Code.MALFORMED_REQUEST
    status = 400
    message = _("The request could not be read: send a JSON object with `Content-Type: application/json`.")


class MethodNotAllowed(ApiError):
    code = Code.METHOD_NOT_ALLOWED
    status = 405
    message = _("This method is not allowed here.")


class UnsupportedMediaType(ApiError):
    code = Code.UNSUPPORTED_MEDIA_TYPE
    status = 415
    message = _("Send request bodies as JSON, with `Content-Type: application/json`.")


class ValidationFailed(ApiError):
    code = Code.VALIDATION_FAILED
    status = 422
    message = _("A value is not valid.")


class Conflict(ApiError):
    code = Code.CONFLICT
    status = 409
    message = _("This change conflicts with another one made at the same time: fetch the object and retry.")


class IdempotencyKeyReused(ApiError):
    code = Code.IDEMPOTENCY_KEY_REUSED
    status = 409
    field = "Idempotency-Key"
    message = _("This Idempotency-Key was used for another request (another path or body): use a new key.")


class IdempotencyInProgress(ApiError):
    code = Code.IDEMPOTENCY_IN_PROGRESS
    status = 409
    field = "Idempotency-Key"
    message = _("A request with this Idempotency-Key is still running: retry in a moment.")


class RateLimited(ApiError):
    code = Code.RATE_LIMITED
    status = 429
    message = _("Too many requests with this key: wait for the number of seconds in Retry-After.")


class InternalError(ApiError):
    code = Code.INTERNAL_ERROR
    status = 500
    message = _("Something went wrong on our side; the error was recorded.")


class StatementTooLong(ApiError):
    code = Code.STATEMENT_TOO_LONG
    status = 409
    message = _("This statement is too long for one PDF: choose a shorter period, or download the CSV.")


class InvalidPortalSettings(ApiError):
    """The portal settings name a capability no app declares, or one that cannot be switched."""

    code = Code.INVALID_PORTAL_SETTINGS
    status = 422
    field = "disabled"


# Services' refusals about the request's own values rather than the account's state: 422.
UNPROCESSABLE_CODES = frozenset(
    {
        "invalid_tiers",
        "invalid_pricing",
        "invalid_line",
        "invalid_amount",
        "statement_period_invalid",
        "subscription_proration_date_outside_period",
        "subscription_invalid_date",
        "subscription_invalid_start",
        "subscription_invalid_reason",
        "subscription_trial_extension_too_long",
    }
)
# projects: a value a project, task, rate or milestone cannot take; hours out of range
UNPROCESSABLE_CODES |= {"project_invalid", "project_time_invalid"}
# conversations: an empty or too long subject or message
UNPROCESSABLE_CODES |= {"conversation_invalid"}


def status_of(error: DomainError) -> int:
    if str(error.code) in UNPROCESSABLE_CODES:
        return 422
    return getattr(error, "status", DOMAIN_REFUSAL_STATUS)


def error_response(error: DomainError, *, status: int | None = None, headers=None) -> JsonResponse:
    """The one error body, with the error's status."""
    response = JsonResponse(error.as_dict(), status=status or status_of(error))
    for name, value in (headers or {}).items():
        response[name] = value
    return response


_BY_STATUS = {
    400: MalformedRequest,
    401: AuthenticationRequired,
    403: PermissionDenied,
    404: ResourceMissing,
    405: MethodNotAllowed,
    409: Conflict,
    415: UnsupportedMediaType,
    422: ValidationFailed,
    429: RateLimited,
}


def for_status(status: int) -> ApiError:
    """The API's error for a bare status (Django's own 404 page, a 405 from the router…)."""
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls()
    return InternalError() if status >= 500 else ApiError()
