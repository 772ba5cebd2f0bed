"""The audit trail: every state change names its actor and lands here once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from portico.core import clock
from portico.core.models import AuditEvent, Organization
from portico.core.money import Money

# The events a customer sees on their account's activity page: what the business did that concerns
# them once it is issued (never drafts, internal edits or exports), payments, and their own
# account, profile and security events. Anything not listed stays in the business's audit trail.
CUSTOMER_FACING_ACTIONS = frozenset(
    {
        # documents, once issued
        "invoice.finalized",
        "invoice.sent",
        "invoice.voided",
        "credit_note.finalized",
        "credit_note.voided",
        "credit_note.refunded",
        "credit.applied",
        # payments
        "payment.recorded",
        "payment.allocated",
        "payment.refunded",
        "payment_attempt.declined",
        "payment_attempt.expired",
        "payment_attempt.reconciled",
        "statement_export.ready",
        # the customer's account and people
        "customer.details_changed",
        "contact.added",
        "contact.changed",
        "invitation.sent",
        "invitation.revoked",
        "invitation.accepted",
        "access.granted",
        "access.revoked",
        "access.role_changed",
        # sign-in and security of the customer's own logins
        "login.succeeded",
        "sso.contact.created",
        "logout",
        "session.ended",
        "session.ended_others",
        "email.change_requested",
        "email.changed",
        "password.changed",
        "password.set",
        "password.reset",
        "mfa.totp.enabled",
        "mfa.totp.disabled",
        "mfa.passkey.enabled",
        "mfa.passkey.disabled",
        "mfa.recovery_codes.enabled",
        "mfa.recovery_codes.disabled",
        "mfa.recovery_codes.regenerated",
        "mfa.code_failed",
    }
)


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member, a portal user, an API key or the system, and from where."""

    kind: str
    user: Any = None
    label: str = ""
    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind=AuditEvent.ActorKind.SYSTEM, label=label)

    @classmethod
    def from_request(cls, request) -> Actor:
        user = getattr(request, "user", None)
        if user is not None and not user.is_authenticated:
            user = None
        if user is None:
            kind = AuditEvent.ActorKind.SYSTEM
        elif getattr(user, "contact_id", None):
            kind = AuditEvent.ActorKind.PORTAL
        else:
            kind = AuditEvent.ActorKind.STAFF
        return cls(
            kind=kind,
            user=user,
            label=_label_of(user),
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:400],
        )


def _label_of(user) -> str:
    """Who, as the audit trail shows them: staff with their console role, "riley@… (finance)"."""
    if user is None:
        return "anonymous"
    role = getattr(user, "staff_role", "") if user.is_staff and not user.contact_id else ""
    return f"{user.email} ({role})" if role and user.organization_id else user.email


def client_ip(request) -> str | None:
    """The client's address. Behind a proxy, REMOTE_ADDR is set by the proxy-aware server config."""
    return request.META.get("REMOTE_ADDR") or None


_PLAIN = frozenset((str, int, bool, float, type(None)))


def _jsonable(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:  # most values: nothing to convert
        return value
    if kind is dict:  # the usual event data: its plain values are taken without a call each
        return {
            (k if type(k) is str else str(k)): (v if type(v) in _PLAIN else _jsonable(v))
            for k, v in value.items()
        }
    if isinstance(value, Money):
        return {"minor": value.minor, "currency": value.currency}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


_CUSTOMER_FIELD: dict[type, str | None] = {}  # model → the attname of its customer key (or None)


def _customer_id_of(obj: models.Model) -> int | None:
    if obj._meta.label_lower == "customers.customer":  # by label: core does not import customers
        return obj.pk
    model = type(obj)
    if model not in _CUSTOMER_FIELD:
        try:
            field = obj._meta.get_field("customer")
        except FieldDoesNotExist:
            field = None
        _CUSTOMER_FIELD[model] = field.attname if field is not None and field.is_relation else None
        if field is not None and not field.is_relation:
            _CUSTOMER_FIELD[model] = ""
    attname = _CUSTOMER_FIELD[model]
    if attname is None:
        customer = getattr(obj, "customer", None)  # a property (a login's customer, through its contact)
        return customer.pk if customer is not None else None
    return getattr(obj, attname, None) if attname else None


def audit(
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    *,
    organization: Organization | None = None,
    customer=None,
    **data: Any,
) -> AuditEvent:
    """Record one event. The organization and customer are taken from the object when it has them,
    by their ids: auditing each object of a loop costs its insert and nothing more."""
    organization_id = organization.pk if organization is not None else None
    if organization_id is None and obj is not None:
        organization_id = obj.pk if isinstance(obj, Organization) else getattr(obj, "organization_id", None)
    if organization_id is None:
        raise ValueError(f"audit({action!r}) needs an organization")
    customer_id = customer.pk if customer is not None else None
    if customer_id is None and obj is not None:
        customer_id = _customer_id_of(obj)
    return AuditEvent.all_tenants.create(
        **_event_fields(actor, action, obj, organization_id, customer_id, data)
    )


def audit_row(
    actor: Actor, action: str, obj: models.Model, *, customer_id: int | None = None, **data: Any
) -> dict:
    """The fields of the event `audit` would record, for a caller that bulk-inserts many at once
    (the bill run, through `core.bulk.insert(AuditEvent, rows)`): the same values, no model per row."""
    if customer_id is None:
        customer_id = _customer_id_of(obj)
    fields = _event_fields(actor, action, obj, obj.organization_id, customer_id, data)
    user = fields.pop("actor_user")
    fields["actor_user_id"] = user.pk if user is not None else None
    return fields


def _event_fields(actor, action, obj, organization_id, customer_id, data) -> dict:
    user = actor.user if getattr(actor.user, "pk", None) else None
    return dict(
        organization_id=organization_id,
        at=clock.now(),
        actor_kind=actor.kind,
        actor_user=user,
        actor_label=actor.label[:254],
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        customer_id=customer_id,
        ip_address=actor.ip_address,
        user_agent=actor.user_agent,
        data=_jsonable(data),
    )
