"""The API's resources, one module per area; each declares its routers, schemas and serializers.
Views are thin: parse (the schema) → find the object in the active organization (`ids.get`) →
call the app's service → serialize."""

from __future__ import annotations

from portico.core.audit import Actor, client_ip
from portico.core.models import AuditEvent

# What every operation may answer besides its success: the one error body.
ERRORS = frozenset({400, 401, 403, 404, 409, 415, 422, 429})


def responses(success: dict) -> dict:
    from portico.api.schemas import ErrorBody

    return {**success, **dict.fromkeys(ERRORS, ErrorBody)}


def actor(request) -> Actor:
    """The API key, as the audit trail names it."""
    key = request.api_key
    return Actor(
        kind=AuditEvent.ActorKind.API,
        label=f"API key {key.name} ({key.prefix})",
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:400],
    )
