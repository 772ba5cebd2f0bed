"""What every resource shares: the error body, the list envelope and its cursor, currencies,
amounts and the public ids of related objects.

Lists follow Stripe's cursor pagination: `limit` (1–100, default 10) and `starting_after` (the id
of the last object of the previous page), newest first; the answer is
`{"object": "list", "data": [...], "has_more": bool}`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import AfterValidator, create_model

from portico.api import ids
from portico.core.money import MAX_TYPED_MINOR, is_currency

ID_TEXT = Annotated[str, Field(min_length=1, max_length=40)]


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None


class ErrorBody(Schema):
    """Every error the API answers, whatever its status."""

    error: ErrorDetail


def _currency(value: str) -> str:
    value = value.upper()
    if not is_currency(value):
        raise ValueError(f"{value} is not an ISO 4217 currency code (such as USD, EUR or JPY)")
    return value


Currency = Annotated[str, Field(min_length=3, max_length=3, examples=["USD"]), AfterValidator(_currency)]
# An amount in the currency's minor units (cents), as the console lets people type them.
AmountMinor = Annotated[int, Field(ge=0, le=MAX_TYPED_MINOR)]


def _utc(value: dt.datetime) -> dt.datetime:
    """The time in UTC (a time without an offset is taken as UTC). ISO 8601 allows any offset, and
    PostgreSQL refuses those past ±15:59 in a query: the database only ever sees UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("This time is out of range") from None


# A time in a query (`created_gte`…), as the database compares it.
UtcDateTime = Annotated[dt.datetime, AfterValidator(_utc)]


class ListParams(Schema):
    limit: int = Field(10, ge=1, le=100, description="How many objects to return, 1 to 100.")
    starting_after: str | None = Field(
        None, max_length=40, description="The id of the last object of the previous page."
    )


_LISTS: dict[type, type] = {}


def list_of(item: type[Schema]) -> type[Schema]:
    """The list envelope of `item` (one class per item schema, named for the OpenAPI document)."""
    if item not in _LISTS:
        _LISTS[item] = create_model(
            f"{item.__name__.removesuffix('Out')}List",
            __base__=Schema,
            object=(Literal["list"], "list"),
            data=(list[item], ...),
            has_more=(bool, ...),
        )
    return _LISTS[item]


def paginate(queryset, params: ListParams, serialize) -> dict[str, Any]:
    """A page of `queryset` (tenant-scoped), newest first, after the `starting_after` object. An
    unknown cursor (another organization's id included) answers 404."""
    queryset = queryset.order_by("-pk")
    if params.starting_after is not None:
        cursor = ids.get(queryset, params.starting_after, field="starting_after")
        queryset = queryset.filter(pk__lt=cursor.pk)
    rows = list(queryset[: params.limit + 1])
    return {
        "object": "list",
        "data": [serialize(row) for row in rows[: params.limit]],
        "has_more": len(rows) > params.limit,
    }


def changed(payload: Schema) -> dict[str, Any]:
    """The fields an update body names (absent fields stay as they are; null clears one)."""
    return payload.model_dump(exclude_unset=True)
