"""Validation of what customers type about themselves: countries, postal codes per country, phones."""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Postal code formats of the countries we see most; others accept any reasonable text.
POSTAL_CODES = {
    "US": (r"^\d{5}(-\d{4})?$", "12345 or 12345-6789"),
    "CA": (r"^[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d$", "K1A 0B1"),
    "GB": (r"^[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}$", "SW1A 1AA"),
    "DE": (r"^\d{5}$", "10115"),
    "FR": (r"^\d{5}$", "75001"),
    "ES": (r"^\d{5}$", "28001"),
    "IT": (r"^\d{5}$", "00118"),
    "NL": (r"^\d{4} ?[A-Za-z]{2}$", "1011 AB"),
    "BE": (r"^\d{4}$", "1000"),
    "AT": (r"^\d{4}$", "1010"),
    "CH": (r"^\d{4}$", "8001"),
    "DK": (r"^\d{4}$", "1050"),
    "NO": (r"^\d{4}$", "0150"),
    "SE": (r"^\d{3} ?\d{2}$", "114 55"),
    "PL": (r"^\d{2}-\d{3}$", "00-001"),
    "AU": (r"^\d{4}$", "2000"),
    "IN": (r"^\d{6}$", "110001"),
    "JP": (r"^\d{3}-?\d{4}$", "100-0001"),
}
# Countries whose addresses need a state / province / region.
REGION_REQUIRED = {"US", "CA", "AU", "IN"}
PHONE = re.compile(r"^\+?[0-9][0-9 ().\-/]{4,28}[0-9]$")


@lru_cache(maxsize=1)
def country_choices() -> list[tuple[str, str]]:
    territories = Locale("en").territories
    codes = sorted(
        (code, name)
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code != "ZZ"
    )
    return sorted(codes, key=lambda item: item[1])


def validate_phone(value: str) -> None:
    if value and (not PHONE.match(value.strip()) or sum(c.isdigit() for c in value) < 6):
        raise ValidationError(
            _(
                "Enter a phone number with digits only, like +1 555 0100 (spaces, dashes and brackets are fine)."
            ),
            code="phone",
        )


def clean_address(data: dict, prefix: str, *, required: bool) -> dict[str, ValidationError]:
    """Errors by field name for one address (billing_… or shipping_…); empty when it is valid."""
    errors: dict[str, ValidationError] = {}
    parts = {
        p: (data.get(f"{prefix}_{p}") or "").strip()
        for p in ("line1", "city", "postal_code", "country", "region")
    }
    if not required and not any(parts.values()):
        return errors
    for part, label in (("line1", _("an address")), ("city", _("a city")), ("country", _("a country"))):
        if not parts[part]:
            errors[f"{prefix}_{part}"] = ValidationError(
                _("Enter %(what)s.") % {"what": label}, code="required"
            )
    country = parts["country"].upper()
    if country in REGION_REQUIRED and not parts["region"]:
        errors[f"{prefix}_region"] = ValidationError(
            _("Addresses in this country need a state, province or region."), code="required"
        )
    rule = POSTAL_CODES.get(country)
    if rule is not None:
        pattern, example = rule
        if not re.match(pattern, parts["postal_code"]):
            errors[f"{prefix}_postal_code"] = ValidationError(
                _("Enter a postal code in this country's format, like %(example)s.") % {"example": example},
                code="postal_code",
            )
    return errors
