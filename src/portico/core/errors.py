"""One shape for every refusal: `DomainError(code, message, field)`.

A service raises a `DomainError` subclass before it writes anything, so a refused request changes
nothing. Each error carries
- `message`: fit to show the customer or staff member as is, translatable;
- `code`: a stable snake-case string for the API, declared once in its app's `errors.Code`
  (codes are unique across apps; `tests/core/test_errors.py` checks every subclass);
- `field`: the form field it concerns, when there is one.

Views never format an error themselves; they use one of the three mappings below:
`add_domain_error(form, error)` (a form error), `domain_error_message(request, error)` (a page
message), and, for the API, `error.as_dict()` / `domain_error_response(error)`.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import models
from django.http import JsonResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Code(models.TextChoices):
    """The codes of core's errors."""

    DOMAIN_ERROR = "domain_error"
    CURRENCY_MISMATCH = "currency_mismatch"
    # custom domains (core/domains.py)
    CUSTOM_DOMAIN_ERROR = "custom_domain_error"
    INVALID_DOMAIN = "invalid_domain"
    DOMAIN_TAKEN = "domain_taken"
    NO_CUSTOM_DOMAIN = "no_custom_domain"
    DNS_RECORDS_WRONG = "dns_records_wrong"
    DNS_UNAVAILABLE = "dns_unavailable"
    DOMAIN_CHANGED = "domain_changed"


class DomainError(Exception):
    code: str = Code.DOMAIN_ERROR
    message = _("This change is not possible.")
    field: str | None = None

    def __init__(self, message=None, *, field: str | None = None):
        if message is not None:
            self.message = message
        if field is not None:
            self.field = field
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message)

    def as_dict(self) -> dict:
        """The API's error body: `{"error": {"code", "message", "field"}}`."""
        return {"error": {"code": str(self.code), "message": str(self.message), "field": self.field}}


class CurrencyMismatch(DomainError, ValueError):
    """Amounts in two currencies met: in arithmetic (`Money`) or against an account's currency.
    Also a `ValueError`, as `Money` raises it for a bad operand."""

    code = Code.CURRENCY_MISMATCH
    field = "currency"
    message = _("These amounts are in different currencies and cannot be combined.")

    def __init__(self, expected: str, got: str):
        self.currencies = (expected, got)
        super().__init__(
            gettext("This account is billed in %(expected)s; an amount in %(got)s cannot be used here.")
            % {"expected": expected, "got": got}
        )


def add_domain_error(form, error: DomainError) -> None:
    """The error on its field when the form has that field, else as a non-field error."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


def domain_error_message(request, error: DomainError, *, about=None) -> None:
    """The error as a page message; `about` names the object when several were acted on."""
    text = str(error.message)
    messages.error(request, f"{about}: {text}" if about is not None else text)


def domain_error_response(error: DomainError, status: int = 400) -> JsonResponse:
    """The error as the API answers it."""
    return JsonResponse(error.as_dict(), status=status)
