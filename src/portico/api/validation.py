"""Turning validation failures into the API's error: ninja's (the body's or query's shape, 422 with
the field's path, such as `billing_address.country`) and the models' (`full_clean`: lengths,
choices, formats, the model's own rules and unique constraints), with the model's field names
translated to the API's where they differ."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError

from portico.api.errors import ValidationFailed

PARAMETER_PLACES = ("body", "query", "path", "header", "cookie", "form")


def from_ninja(exc) -> ValidationFailed:
    first = exc.errors[0] if exc.errors else {}
    loc = [str(part) for part in first.get("loc", ())]
    if loc and loc[0] in PARAMETER_PLACES:
        place, loc = loc[0], loc[1:]
        if place == "body" and len(loc) > 1:
            loc = loc[1:]  # the view's parameter name (`payload`) is no part of the body
    field = ".".join(loc) or None
    message = str(first.get("msg") or ValidationFailed.message)
    if first.get("type") == "missing":
        message = "This field is required."
    return ValidationFailed(message if message.endswith(".") else message + ".", field=field)


def from_django(exc: DjangoValidationError, names: dict[str, str] | None = None) -> ValidationFailed:
    names = names or {}
    if hasattr(exc, "error_dict"):
        field, messages = next(iter(exc.message_dict.items()))
        api_field = None if field == NON_FIELD_ERRORS else names.get(field, field)
        return ValidationFailed(messages[0], field=api_field)
    return ValidationFailed(exc.messages[0] if exc.messages else ValidationFailed.message)


def full_clean(obj, *, names: dict[str, str] | None = None, exclude=()) -> None:
    """The model's own validation (what the console's forms run), as the API's 422."""
    try:
        obj.full_clean(exclude=["organization", *exclude])
    except DjangoValidationError as exc:
        raise from_django(exc, names) from None
