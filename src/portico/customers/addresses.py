"""Postal addresses laid out as each country's post expects, for invoices and pages.

The parts are stored apart (`customers.models.Address`); this module only orders them. Layouts follow
the Universal Postal Union's country guides, for the countries our businesses bill most; any other
country gets the continental European layout (postal code before the town), the most common one.
The country is written out in the reader's language, and left off when it is the sender's own
country (a domestic letter does not name it).
"""

from __future__ import annotations

from collections.abc import Mapping

from portico.core.formatting import country_name

# "Springfield, IL 62701": town, region abbreviation and postal code on one line.
TOWN_REGION_POSTCODE = {"US", "CA", "AU", "PR"}
# Town, then the postcode alone on the next line; the county is not needed.
TOWN_THEN_POSTCODE = {"GB", "IE", "IM", "JE", "GG"}


def address_lines(
    address: Mapping | object, *, home_country: str = "", locale: str | None = None
) -> list[str]:
    """The lines to print under a name, without blank ones.

    `address` is a mapping of the `Address` parts (as snapshotted on an invoice) or an `Address`.
    `home_country` is the sender's country: the same country is not printed.
    """
    part = (
        address.get
        if isinstance(address, Mapping)
        else (lambda key, default="": getattr(address, key, default))
    )
    line1, line2 = (part("line1", "") or "").strip(), (part("line2", "") or "").strip()
    city, region = (part("city", "") or "").strip(), (part("region", "") or "").strip()
    postal_code = (part("postal_code", "") or "").strip()
    country = (part("country", "") or "").strip().upper()
    lines = [line1, line2]
    if country in TOWN_REGION_POSTCODE:
        town = ", ".join(p for p in (city, " ".join(p for p in (region, postal_code) if p)) if p)
        lines.append(town)
    elif country in TOWN_THEN_POSTCODE:
        lines += [city, postal_code]
    else:
        lines += [" ".join(p for p in (postal_code, city) if p), region]
    if country and country != (home_country or "").strip().upper():
        lines.append(country_name(country, locale))
    return [line for line in lines if line]
