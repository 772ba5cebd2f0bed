"""Domain errors of customers: `DomainError`s (see `core/errors.py`), each with a message fit to
show staff or the customer, a stable `code` from `Code` below for the API, and the form `field` it
concerns. Raised before anything is written."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core.errors import DomainError


class Code(models.TextChoices):
    """The codes of customers' errors."""

    CUSTOMER_ERROR = "customer_error"
    CURRENCY_LOCKED = "currency_locked"
    EMAIL_CHANGE_INVALID = "email_change_invalid"


class CustomerError(DomainError):
    code = Code.CUSTOMER_ERROR


class CurrencyLocked(CustomerError):
    """A customer's documents are in its currency; changing it would strand them."""

    code = Code.CURRENCY_LOCKED
    field = "currency"
    message = _(
        "The currency cannot be changed once the customer has invoices, credit notes or payments "
        "(including card payments in progress). Create a new customer for the other currency."
    )


class EmailChangeInvalid(CustomerError):
    """An email-change link that is not (or no longer) this sign-in's."""

    code = Code.EMAIL_CHANGE_INVALID
    field = "token"
    message = _("This link is no longer valid: it has expired, was already used, or is for another sign-in.")
