"""Payments: list, retrieve (with what each paid), record money received offline (allocated to
invoices; what is left stays on the account as an advance), allocate an advance, and refund —
through `billing.services` (and `payments.refunds` for a card payment made online), as the
console does. A payment's id is `pay_…`; paths take its number (`PAY-00012`) too.

Recording is idempotent twice over: the API's `Idempotency-Key` replays the first answer, and the
same key is the payment's own idempotency key in the ledger, so a retry after the API's record is
gone (24 hours) still records one payment."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Literal

from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema, Status

from portico.api import ids
from portico.api.idempotency import HEADER
from portico.api.resources import actor, responses
from portico.api.resources.ledger import get_document, get_invoice, today_of
from portico.api.schemas import AmountMinor, Currency, ListParams, list_of, paginate
from portico.billing import services
from portico.billing.models import Invoice, Payment, PaymentAllocation
from portico.core.money import Money
from portico.customers.models import Customer
from portico.payments import refunds as card_refunds

router = Router(tags=["payments"])

Method = Literal[tuple(Payment.Method.values)]
PositiveAmount = AmountMinor  # zero is the service's to refuse, with its message


class AllocationIn(Schema):
    invoice: str = Field(..., max_length=40, description="An invoice's number or id.")
    amount_minor: PositiveAmount


class PaymentIn(Schema):
    customer: str = Field(..., max_length=40)
    amount_minor: PositiveAmount
    currency: Currency
    method: Method = Payment.Method.BANK_TRANSFER.value
    received_on: dt.date | None = Field(None, description="Default: today, in the organization's zone.")
    reference: str = Field("", max_length=100, description="The cheque or transfer reference.")
    allocations: list[AllocationIn] = Field([], max_length=100)


class AllocateIn(Schema):
    allocations: list[AllocationIn] = Field(..., max_length=100)


class RefundIn(Schema):
    amount_minor: PositiveAmount
    method: Method | None = Field(None, description="How the money goes back (default: as it came).")
    reason: str = Field("", max_length=200)


class AllocationOut(Schema):
    invoice: str
    invoice_number: str
    amount_minor: int
    allocated_at: dt.datetime


class RefundOut(Schema):
    amount_minor: int
    refunded_on: dt.date
    method: str
    reason: str


class PaymentOut(Schema):
    id: str
    object: Literal["payment"] = "payment"
    number: str
    customer: str
    currency: str
    amount_minor: int
    allocated_minor: int
    unused_minor: int
    refunded_minor: int
    method: str
    channel: str
    reference: str
    card_brand: str
    card_last4: str
    received_on: dt.date
    allocations: list[AllocationOut]
    refunds: list[RefundOut]
    created_at: dt.datetime


class PaymentFilters(ListParams):
    customer: str | None = Field(None, max_length=40)
    received_on_gte: dt.date | None = None
    received_on_lte: dt.date | None = None


def payment_out(payment: Payment) -> dict:
    return {
        "id": ids.public_id(payment),
        "object": "payment",
        "customer": ids.public_id(payment.customer),
        **{
            name: getattr(payment, name)
            for name in (
                "number",
                "currency",
                "amount_minor",
                "allocated_minor",
                "unused_minor",
                "refunded_minor",
                "method",
                "channel",
                "reference",
                "card_brand",
                "card_last4",
                "received_on",
                "created_at",
            )
        },
        "allocations": [
            {
                "invoice": ids.public_id(a.invoice),
                "invoice_number": a.invoice.number,
                "amount_minor": a.amount_minor,
                "allocated_at": a.allocated_at,
            }
            for a in payment.allocations.all()
        ],
        "refunds": [
            {
                "amount_minor": r.amount_minor,
                "refunded_on": r.refunded_on,
                "method": r.method,
                "reason": r.reason,
            }
            for r in payment.refunds.all()
        ],
    }


def _queryset():
    return Payment.objects.select_related("customer").prefetch_related(
        Prefetch("allocations", queryset=PaymentAllocation.objects.select_related("invoice")), "refunds"
    )


def _payment(payment_id: str) -> Payment:
    return get_document(_queryset(), payment_id)


def _fresh(payment: Payment) -> dict:
    return payment_out(_payment(ids.public_id(payment)))


def _allocations(rows, currency: str) -> list[tuple[Invoice, Money]]:
    """The body's allocations, each invoice found in the organization (else 404 naming it)."""
    return [
        (
            get_invoice(Invoice.objects.all(), row.invoice, field=f"allocations.{n}.invoice"),
            Money(row.amount_minor, currency),
        )
        for n, row in enumerate(rows)
    ]


def ledger_key(request, scope: str = "") -> str | None:
    """The request's `Idempotency-Key` as the ledger's key: per API key and `scope`, hashed to fit
    the ledger's columns (64 characters; the header may have 255)."""
    key = request.headers.get(HEADER)
    if not key:
        return None
    digest = hashlib.sha256(f"{request.api_key.pk}\n{scope}\n{key}".encode()).hexdigest()
    return f"api:{digest[:60]}"


@router.get("", response=responses({200: list_of(PaymentOut)}), summary="List payments")
def list_payments(request, filters: Query[PaymentFilters]):
    payments = _queryset()
    if filters.customer is not None:
        payments = payments.filter(
            customer=ids.get(Customer.objects.all(), filters.customer, field="customer")
        )
    if filters.received_on_gte is not None:
        payments = payments.filter(received_on__gte=filters.received_on_gte)
    if filters.received_on_lte is not None:
        payments = payments.filter(received_on__lte=filters.received_on_lte)
    return paginate(payments, filters, payment_out)


@router.get("/{payment_id}", response=responses({200: PaymentOut}), summary="Retrieve a payment")
def get_payment(request, payment_id: str):
    return payment_out(_payment(payment_id))


@router.post("", response=responses({201: PaymentOut}), summary="Record a payment")
def record_payment(request, payload: PaymentIn):
    """Money received offline (bank transfer, cheque, cash), allocated to open invoices of the
    customer; what is not allocated stays on the account as an advance."""
    customer = ids.get(Customer.objects.all(), payload.customer, field="customer")
    payment = services.record_payment(
        customer=customer,
        amount=Money(payload.amount_minor, payload.currency),
        allocations=_allocations(payload.allocations, payload.currency),
        method=payload.method,
        received_on=payload.received_on or today_of(request.organization),
        reference=payload.reference.strip(),
        actor=actor(request),
        idempotency_key=ledger_key(request, "payment"),
    )
    return Status(201, _fresh(payment))


@router.post(
    "/{payment_id}/allocate", response=responses({200: PaymentOut}), summary="Apply an advance to invoices"
)
def allocate_payment(request, payment_id: str, payload: AllocateIn):
    payment = _payment(payment_id)
    services.allocate_payment(
        payment=payment, allocations=_allocations(payload.allocations, payment.currency), actor=actor(request)
    )
    return _fresh(payment)


@router.post("/{payment_id}/refund", response=responses({200: PaymentOut}), summary="Refund a payment")
def refund_payment(request, payment_id: str, payload: RefundIn):
    """A card payment made online is refunded to the card through its gateway (released from its
    invoices first when its unused money does not cover the amount); any other payment returns
    unused money (an advance), recorded as paid back by `method`."""
    payment = _payment(payment_id)
    amount = Money(payload.amount_minor, payment.currency)
    who = actor(request)
    if card_refunds.is_card_payment(payment):
        card_refunds.refund_to_card(
            payment=payment,
            amount=amount,
            actor=who,
            reason=payload.reason.strip(),
            request_id=ledger_key(request, f"refund:{payment.pk}") or card_refunds.new_request_id(),
        )
    else:
        services.refund_payment(
            payment=payment, amount=amount, actor=who, method=payload.method, reason=payload.reason.strip()
        )
    return _fresh(payment)
