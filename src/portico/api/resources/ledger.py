"""What the ledger's resources share (invoices, credit notes, payments, statements): document lines
as the API takes and shows them, finding an invoice by its number or its id, and naming the
services' fields as the API's.

A line is typed as the console's line form takes it: a description, a quantity, a unit price in
minor units, a discount, a catalog tax rate; or a catalog item, which fills in whatever is left out
(description, price, tax), exactly as choosing an item does in the console."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from decimal import Decimal

from django.db.models import Prefetch
from ninja import Field, Schema

from portico.api import ids
from portico.api.errors import ResourceMissing, ValidationFailed
from portico.api.schemas import AmountMinor
from portico.billing.models import CreditApplication, Invoice, PaymentAllocation
from portico.billing.services import LineInput
from portico.catalog.models import Item, TaxRate
from portico.core import clock
from portico.core.errors import DomainError
from portico.core.money import Money

QUANTITY = {"gt": 0, "le": Decimal("9999999999"), "max_digits": 14, "decimal_places": 4}
PERCENT = {"ge": 0, "le": 100, "max_digits": 7, "decimal_places": 4}


class LineIn(Schema):
    """A line to add. `unit_price_minor` is required unless an `item` gives the price."""

    item: str | None = Field(None, max_length=40, description="An item (`item_…`) that fills in the rest.")
    description: str = Field("", max_length=500)
    quantity: Decimal = Field(Decimal(1), **QUANTITY)
    unit_price_minor: AmountMinor | None = None
    discount_percent: Decimal = Field(Decimal(0), **PERCENT)
    tax_rate: str | None = Field(
        None, max_length=40, description="A tax rate (`txr_…`); default: the item's."
    )
    period_start: dt.date | None = None
    period_end: dt.date | None = None


class LineUpdate(Schema):
    """Only the fields sent change; `tax_rate: null` removes the line's tax."""

    description: str = Field(None, min_length=1, max_length=500)
    quantity: Decimal = Field(None, **QUANTITY)
    unit_price_minor: AmountMinor = None
    discount_percent: Decimal = Field(None, **PERCENT)
    tax_rate: str | None = Field(None, max_length=40)
    period_start: dt.date | None = None
    period_end: dt.date | None = None


class LineOut(Schema):
    number: int = Field(..., description="The line's number within its document (its id in paths).")
    description: str
    quantity: Decimal
    unit_price_minor: int
    discount_percent: Decimal
    tax_name: str
    tax_percent: Decimal
    tax_inclusive: bool
    period_start: dt.date | None
    period_end: dt.date | None
    discount_minor: int
    net_minor: int
    tax_minor: int
    total_minor: int


def line_out(line) -> dict:
    return {
        "number": line.position,
        "description": line.description,
        "quantity": line.quantity,
        "unit_price_minor": line.unit_price_minor,
        "discount_percent": line.discount_percent,
        "tax_name": line.tax_name,
        "tax_percent": line.tax_rate,
        "tax_inclusive": line.tax_inclusive,
        "period_start": line.period_start,
        "period_end": line.period_end,
        "discount_minor": line.discount_minor,
        "net_minor": line.net_minor,
        "tax_minor": line.tax_minor,
        "total_minor": line.total_minor,
    }


# The services' line fields → the API's.
LINE_FIELDS = {"unit_price": "unit_price_minor", "tax_percent": "tax_rate"}


@contextmanager
def api_fields(names: dict[str, str] | None = None, prefix: str = ""):
    """A service's refusal names its own field (`unit_price`); answer with the API's
    (`lines.0.unit_price_minor`)."""
    try:
        yield
    except DomainError as error:
        if error.field:
            error.field = prefix + (names or {}).get(error.field, error.field)
        raise


def _tax_rate(value: str | None, field: str) -> TaxRate | None:
    return None if value is None else ids.get(TaxRate.objects.all(), value, field=field)


def line_input(data: dict, currency: str, *, field_prefix: str = "") -> LineInput:
    """A `LineIn` body as the services' `LineInput`, the item filling in what is left out."""
    item = None
    if data.get("item") is not None:
        item = ids.get(Item.objects.select_related("tax_rate"), data["item"], field=field_prefix + "item")
    tax = _tax_rate(data.get("tax_rate"), field_prefix + "tax_rate")
    if tax is None and item is not None:
        tax = item.tax_rate
    if data.get("unit_price_minor") is not None:
        price = Money(data["unit_price_minor"], currency)
    elif item is not None:
        price = item.unit_price
    else:
        raise ValidationFailed("Give a unit_price_minor or an item.", field=field_prefix + "unit_price_minor")
    description = (data.get("description") or "").strip() or (item and (item.description or item.name)) or ""
    return LineInput(
        description=description,
        unit_price=price,
        quantity=data.get("quantity") or Decimal(1),
        discount_percent=data.get("discount_percent") or Decimal(0),
        period_start=data.get("period_start"),
        period_end=data.get("period_end"),
    ).taxed(tax)


def changed_line(line, changes: dict, currency: str) -> LineInput:
    """A stored line with the fields of a `LineUpdate` body changed."""
    current = LineInput.of_line(line)
    values = {
        "description": changes.get("description", current.description),
        "unit_price": (
            Money(changes["unit_price_minor"], currency)
            if "unit_price_minor" in changes
            else current.unit_price
        ),
        "quantity": changes.get("quantity", current.quantity),
        "discount_percent": changes.get("discount_percent", current.discount_percent),
        "tax_name": current.tax_name,
        "tax_percent": current.tax_percent,
        "tax_inclusive": current.tax_inclusive,
        "period_start": changes.get("period_start", current.period_start),
        "period_end": changes.get("period_end", current.period_end),
    }
    for name in ("description", "unit_price", "quantity", "discount_percent"):
        if values[name] is None:
            values[name] = getattr(current, name)
    updated = LineInput(**values)
    if "tax_rate" in changes:
        updated = updated.taxed(_tax_rate(changes["tax_rate"], "tax_rate"))
    return updated


# -- documents by id or number ----------------------------------------------------------------------


def get_document(queryset, value: str, *, field: str | None = None):
    """An invoice, credit note or payment by its id (`in_…`, which drafts have too) or its number
    (`INV-00012`), in the active organization."""
    if isinstance(value, str) and value.startswith(ids.prefix_of(queryset.model) + "_"):
        return ids.get(queryset, value, field=field)
    if not isinstance(value, str) or not value or len(value) > 40:
        raise ResourceMissing(field=field)
    document = queryset.filter(number=value).exclude(number="").first()
    if document is None:
        raise ResourceMissing(field=field)
    return document


def get_invoice(queryset, value: str, *, field: str | None = None) -> Invoice:
    return get_document(queryset, value, field=field)


def allocations_prefetch() -> Prefetch:
    return Prefetch(
        "allocations",
        queryset=PaymentAllocation.objects.select_related("payment").order_by("allocated_at", "id"),
    )


def applications_prefetch() -> Prefetch:
    return Prefetch(
        "credit_applications",
        queryset=CreditApplication.objects.select_related("credit_note").order_by("applied_at", "id"),
    )


def today_of(organization) -> dt.date:
    return clock.today(organization.time_zone)
