"""What the project services check and lock alike: who acts (the business or the customer's
contact), values as typed (hours, rates, texts, choices, periods), and the row locks they take in the
ledger's order (customer, project, entries and milestones by primary key)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from portico.core.audit import Actor
from portico.core.errors import CurrencyMismatch
from portico.core.models import AuditEvent
from portico.core.money import Money
from portico.customers.models import ContactPerson, Customer
from portico.projects import errors

HUNDREDTHS = Decimal("0.01")
MAX_HOURS = Decimal(24)


class Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = Unchanged()  # "leave as it is" for arguments whose None means "clear"


def lock(model, pks: Iterable[int]) -> list:
    return list(model.all_tenants.filter(pk__in=set(pks)).order_by("pk").select_for_update(of=("self",)))


def lock_one(model, pk: int):
    found = lock(model, [pk])
    if not found:
        raise errors.ProjectNotFound()
    return found[0]


def lock_customer(customer_id: int) -> Customer:
    return Customer.all_tenants.select_for_update(of=("self",)).get(pk=customer_id)


def is_portal(actor: Actor) -> bool:
    return actor.kind == AuditEvent.ActorKind.PORTAL


def require_staff(actor: Actor) -> None:
    """Project work is the business's: a portal user only approves or disputes time."""
    if is_portal(actor):
        raise errors.ApprovalRefused(_("Only the business can change this."))


def contact_of(actor: Actor) -> ContactPerson | None:
    """The customer's contact acting (a portal user), or None for the business (staff, API, system)."""
    if not is_portal(actor):
        return None
    contact_id = getattr(actor.user, "contact_id", None)
    contact = ContactPerson.all_tenants.filter(pk=contact_id).first() if contact_id else None
    if contact is None:
        raise errors.ApprovalRefused()
    return contact


def user_of(actor: Actor):
    return actor.user if getattr(actor.user, "pk", None) else None


def rate_minor(rate: Money | None, currency: str, field: str = "rate") -> int | None:
    if rate is None:
        return None
    if not isinstance(rate, Money):
        raise errors.ProjectInvalid(_("Enter the rate as an amount."), field=field)
    if rate.currency != currency:
        raise CurrencyMismatch(currency, rate.currency)
    if rate.minor < 0:
        raise errors.ProjectInvalid(_("A rate cannot be negative."), field=field)
    return rate.minor


def plain_rate_minor(value: int | None, field: str = "default_rate") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise errors.ProjectInvalid(_("A rate cannot be negative."), field=field)
    return value


def hours(value) -> Decimal:
    """Hours as typed: more than 0, at most 24, in hundredths (1.33 h, not 1.333 h); never a float."""
    if isinstance(value, float | bool) or value is None:
        raise errors.TimeInvalid()
    try:
        hours = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise errors.TimeInvalid() from None
    if not hours.is_finite() or hours != hours.quantize(HUNDREDTHS) or not Decimal(0) < hours <= MAX_HOURS:
        raise errors.TimeInvalid()
    return hours.quantize(HUNDREDTHS)


def text(value: str, field: str, max_length: int, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise errors.ProjectInvalid(_("This field is required."), field=field)
    if len(text) > max_length:
        raise errors.ProjectInvalid(
            _("Use at most %(count)s characters.") % {"count": max_length}, field=field
        )
    return text


# A project's code is part of its URLs (portal, console, API): letters, digits and ._- only.
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def project_code(value: str) -> str:
    code = text(value, "code", 32)
    if not _CODE.match(code):
        raise errors.ProjectInvalid(
            _("Use letters, digits, dots, hyphens and underscores only, starting with a letter or digit."),
            field="code",
        )
    return code


def choice(value: str, choices, field: str) -> str:
    if value not in choices.values:
        raise errors.ProjectInvalid(_("Choose one of the options."), field=field)
    return value


def period(date_from: dt.date | None, date_to: dt.date | None) -> None:
    if date_from is not None and date_to is not None and date_to < date_from:
        raise errors.ProjectInvalid(_("A period cannot end before it starts."), field="date_to")
