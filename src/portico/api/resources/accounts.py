"""A customer's account: the statement for a period (JSON, CSV, PDF: the same numbers as the
portal's, from `billing.statements`) and saved payment methods (list, remove: `payments.methods`).

`GET /customers/{id}/statement?from=&to=&currency=` defaults to this month up to today (in the
organization's zone) and the customer's currency, as the portal's statement page does."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status

from portico.api import ids
from portico.api.errors import StatementTooLong
from portico.api.resources import actor, responses
from portico.api.resources.ledger import today_of
from portico.api.schemas import Currency, ListParams, list_of, paginate
from portico.billing import documents
from portico.billing.statements import (
    Statement,
    StatementPeriodError,
    period_bounds,
    statement_csv,
    statement_for,
)
from portico.customers.models import Customer
from portico.payments import methods
from portico.payments.models import PaymentMethod
from portico.portal.statement_views import STATEMENT_PDF_INLINE_LINES

router = Router(tags=["customers"])
payment_methods_router = Router(tags=["payment_methods"])


# -- statements -----------------------------------------------------------------------------------


class StatementParams(Schema):
    start: dt.date | None = Field(
        None, alias="from", description="First day (default: the 1st of this month)."
    )
    end: dt.date | None = Field(None, alias="to", description="Last day, inclusive (default: today).")
    currency: Currency | None = Field(None, description="Default: the customer's.")


class StatementLineOut(Schema):
    date: dt.date
    type: str = Field(..., description="invoice, payment, credit_note, refund or void")
    reference: str
    description: str
    debit_minor: int | None
    credit_minor: int | None
    balance_minor: int


class StatementOut(Schema):
    object: Literal["statement"] = "statement"
    customer: str
    currency: str
    start: dt.date = Field(..., alias="from")
    end: dt.date = Field(..., alias="to")
    opening_balance_minor: int
    total_debits_minor: int
    total_credits_minor: int
    closing_balance_minor: int
    lines: list[StatementLineOut]


def _statement(request, customer_id: str, params: StatementParams) -> Statement:
    customer = ids.get(Customer.objects.all(), customer_id)
    today = today_of(request.organization)
    first, last = period_bounds("this_month", today)
    start, end = (
        params.start or first,
        params.end or (last if params.start is None else max(last, params.start)),
    )
    try:
        return statement_for(customer, start, end, params.currency or customer.currency)
    except StatementPeriodError as error:
        error.field = {"start": "from", "end": "to"}.get(error.field, error.field)
        raise


def statement_out(statement: Statement) -> dict:
    return {
        "object": "statement",
        "customer": ids.public_id(statement.customer),
        "currency": statement.currency,
        "from": statement.start,
        "to": statement.end,
        "opening_balance_minor": statement.opening_balance.minor,
        "total_debits_minor": statement.total_debits.minor,
        "total_credits_minor": statement.total_credits.minor,
        "closing_balance_minor": statement.closing_balance.minor,
        "lines": [
            {
                "date": line.date,
                "type": line.kind,
                "reference": line.reference,
                "description": line.description,
                "debit_minor": line.debit.minor if line.debit else None,
                "credit_minor": line.credit.minor if line.credit else None,
                "balance_minor": line.balance_minor,
            }
            for line in statement.lines
        ],
    }


def _file_name(statement: Statement, extension: str) -> str:
    return f"statement-{statement.start}-{statement.end}.{extension}"


@router.get(
    "/{customer_id}/statement",
    response=responses({200: StatementOut}),
    by_alias=True,
    summary="A customer's statement",
)
def get_statement(request, customer_id: str, params: Query[StatementParams]):
    """Opening balance, every document that moved the balance in date order with the running
    balance, and the closing balance: opening + debits − credits = closing."""
    return statement_out(_statement(request, customer_id, params))


@router.get(
    "/{customer_id}/statement.csv",
    response=responses({}),
    openapi_extra={
        "responses": {
            200: {
                "description": "The statement as CSV",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
    summary="A customer's statement as CSV",
)
def get_statement_csv(request, customer_id: str, params: Query[StatementParams]):
    statement = _statement(request, customer_id, params)
    response = HttpResponse(statement_csv(statement), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(statement, "csv")}"'
    return response


@router.get(
    "/{customer_id}/statement.pdf",
    response=responses({}),
    openapi_extra={
        "responses": {
            200: {
                "description": "The statement as PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
    summary="A customer's statement as PDF",
)
def get_statement_pdf(request, customer_id: str, params: Query[StatementParams]):
    statement = _statement(request, customer_id, params)
    if len(statement.lines) > STATEMENT_PDF_INLINE_LINES:
        raise StatementTooLong()
    response = HttpResponse(documents.statement_pdf_bytes(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(statement, "pdf")}"'
    return response


# -- payment methods ------------------------------------------------------------------------------


class PaymentMethodOut(Schema):
    id: str
    object: Literal["payment_method"] = "payment_method"
    customer: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    holder_name: str
    country: str
    is_default: bool
    gateway: str
    created_at: dt.datetime


def payment_method_out(method: PaymentMethod) -> dict:
    return {
        "id": ids.public_id(method),
        "object": "payment_method",
        "customer": ids.public_id(method.customer),
        **{
            name: getattr(method, name)
            for name in (
                "brand",
                "last4",
                "exp_month",
                "exp_year",
                "holder_name",
                "country",
                "is_default",
                "gateway",
                "created_at",
            )
        },
    }


def _active_methods():
    return PaymentMethod.objects.filter(status=PaymentMethod.Status.ACTIVE).select_related("customer")


@router.get(
    "/{customer_id}/payment_methods",
    response=responses({200: list_of(PaymentMethodOut)}),
    summary="List a customer's saved payment methods",
)
def list_payment_methods(request, customer_id: str, params: Query[ListParams]):
    customer = ids.get(Customer.objects.all(), customer_id)
    return paginate(_active_methods().filter(customer=customer), params, payment_method_out)


@payment_methods_router.get(
    "/{payment_method_id}", response=responses({200: PaymentMethodOut}), summary="Retrieve a payment method"
)
def get_payment_method(request, payment_method_id: str):
    return payment_method_out(ids.get(_active_methods(), payment_method_id))


@payment_methods_router.delete(
    "/{payment_method_id}", response=responses({204: None}), summary="Remove a payment method"
)
def remove_payment_method(request, payment_method_id: str):
    """Detached at the gateway once removed. Refused (409 `payment_method_in_use`) while the customer's
    automatic payments depend on it; removing the default makes the most recent other one default."""
    methods.remove_method(method=ids.get(_active_methods(), payment_method_id), actor=actor(request))
    return Status(204, None)
