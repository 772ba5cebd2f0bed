"""Invoices: list (filters: status, overdue included; customer; subscription; issue and due dates),
retrieve (lines, totals, balance, the payments and credits applied), create a draft, edit its
lines and terms, finalize, send, void, delete a draft, and the PDF — through `billing.services`
and `billing.documents`, as the console does.

An invoice's id is `in_…` from its creation on; once finalized it also has a number (`INV-00012`),
and every path takes either."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.http import FileResponse, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from portico.api import ids
from portico.api.errors import ResourceMissing, ValidationFailed
from portico.api.resources import actor, responses
from portico.api.resources.ledger import (
    LINE_FIELDS,
    LineIn,
    LineOut,
    LineUpdate,
    allocations_prefetch,
    api_fields,
    applications_prefetch,
    changed_line,
    get_invoice,
    line_input,
    line_out,
    today_of,
)
from portico.api.schemas import Currency, ListParams, changed, list_of, paginate
from portico.billing import documents, errors, services
from portico.billing.models import Invoice, InvoiceLine
from portico.core.errors import CurrencyMismatch
from portico.customers.models import Customer

router = Router(tags=["invoices"])

Status_ = Literal[(*Invoice.Status.values, "overdue")]
PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}

# -- schemas --------------------------------------------------------------------------------------


class InvoiceIn(Schema):
    customer: str = Field(..., max_length=40, description="The customer (`cus_…`).")
    currency: Currency | None = Field(None, description="The customer's currency (the default).")
    lines: list[LineIn] = Field([], max_length=100)
    payment_terms_days: int | None = Field(None, ge=0, le=3650, description="Default: the customer's.")
    purchase_order: str = Field("", max_length=64)
    memo: str = Field("", max_length=10000)


class InvoiceUpdate(Schema):
    """A draft's terms, PO number and memo; only the fields sent change."""

    payment_terms_days: int = Field(None, ge=0, le=3650)
    purchase_order: str = Field(None, max_length=64)
    memo: str = Field(None, max_length=10000)


class SendIn(Schema):
    to: list[str] | None = Field(
        None, max_length=10, description="Addresses (default: the invoice's billing email)."
    )


class VoidIn(Schema):
    reason: str = Field("", max_length=200)


class BillTo(Schema):
    name: str
    email: str
    tax_id: str
    address: dict[str, str]


class PaymentApplied(Schema):
    payment: str
    received_on: dt.date
    amount_minor: int


class CreditApplied(Schema):
    credit_note: str
    applied_at: dt.datetime
    amount_minor: int


class InvoiceOut(Schema):
    id: str
    object: Literal["invoice"] = "invoice"
    number: str | None
    customer: str
    status: str
    is_overdue: bool
    source: str
    currency: str
    issue_date: dt.date | None
    due_date: dt.date | None
    payment_terms_days: int
    purchase_order: str
    memo: str
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int
    paid_minor: int
    credited_minor: int
    balance_minor: int
    lines: list[LineOut]
    payments: list[PaymentApplied]
    credits: list[CreditApplied]
    bill_to: BillTo | None
    allowed_actions: list[str] = Field(..., description="What the invoice allows now.")
    created_at: dt.datetime
    finalized_at: dt.datetime | None
    sent_at: dt.datetime | None
    paid_at: dt.datetime | None
    voided_at: dt.datetime | None
    void_reason: str


class InvoiceFilters(ListParams):
    status: Status_ | None = Field(None, description="`overdue`: open, unpaid and past its due date.")
    customer: str | None = Field(None, max_length=40)
    subscription: str | None = Field(None, max_length=40, description="A subscription's number.")
    issue_date_gte: dt.date | None = None
    issue_date_lte: dt.date | None = None
    due_date_gte: dt.date | None = None
    due_date_lte: dt.date | None = None


# -- serializing and finding ----------------------------------------------------------------------


def invoice_out(invoice: Invoice, today: dt.date) -> dict:
    issued = invoice.status != Invoice.Status.DRAFT
    return {
        "id": ids.public_id(invoice),
        "object": "invoice",
        "number": invoice.number or None,
        "customer": ids.public_id(invoice.customer),
        "status": invoice.status,
        "is_overdue": invoice.is_overdue_on(today),
        **{
            name: getattr(invoice, name)
            for name in (
                "source",
                "currency",
                "issue_date",
                "due_date",
                "payment_terms_days",
                "purchase_order",
                "memo",
                "subtotal_minor",
                "discount_minor",
                "tax_minor",
                "total_minor",
                "paid_minor",
                "credited_minor",
                "balance_minor",
                "created_at",
                "finalized_at",
                "sent_at",
                "paid_at",
                "voided_at",
                "void_reason",
            )
        },
        "lines": [line_out(line) for line in invoice.lines.all()],
        "payments": [
            {
                "payment": a.payment.number,
                "received_on": a.payment.received_on,
                "amount_minor": a.amount_minor,
            }
            for a in invoice.allocations.all()
        ],
        "credits": [
            {"credit_note": c.credit_note.number, "applied_at": c.applied_at, "amount_minor": c.amount_minor}
            for c in invoice.credit_applications.all()
        ],
        "bill_to": {
            "name": invoice.bill_to_name,
            "email": invoice.bill_to_email,
            "tax_id": invoice.bill_to_tax_id,
            "address": {k: str(v) for k, v in (invoice.bill_to_address or {}).items()},
        }
        if issued
        else None,
        "allowed_actions": sorted(invoice.allowed_actions()),
    }


def _queryset():
    return Invoice.objects.select_related("customer").prefetch_related(
        "lines", allocations_prefetch(), applications_prefetch()
    )


def _invoice(invoice_id: str) -> Invoice:
    return get_invoice(_queryset(), invoice_id)


def _answer(request, invoice_id: str) -> dict:
    return invoice_out(_invoice(invoice_id), today_of(request.organization))


def _fresh(request, invoice: Invoice) -> dict:
    return _answer(request, ids.public_id(invoice))


def _line(invoice: Invoice, line_number: str) -> InvoiceLine:
    return ids.get(InvoiceLine.objects.filter(invoice=invoice).select_related("invoice"), line_number)


# -- reading --------------------------------------------------------------------------------------


@router.get("", response=responses({200: list_of(InvoiceOut)}), summary="List invoices")
def list_invoices(request, filters: Query[InvoiceFilters]):
    today = today_of(request.organization)
    invoices = _queryset()
    if filters.status == "overdue":
        invoices = invoices.overdue(today)
    elif filters.status:
        invoices = invoices.filter(status=filters.status)
    if filters.customer is not None:
        invoices = invoices.filter(
            customer=ids.get(Customer.objects.all(), filters.customer, field="customer")
        )
    if filters.subscription is not None:
        from portico.subscriptions.history import invoices_of
        from portico.subscriptions.models import Subscription

        subscription = Subscription.objects.filter(number=filters.subscription).first()
        if subscription is None:
            raise ResourceMissing(field="subscription")
        invoices = invoices.filter(pk__in=invoices_of(subscription).values("pk"))
    for field in ("issue_date", "due_date"):
        for bound in ("gte", "lte"):  # inclusive dates
            value = getattr(filters, f"{field}_{bound}")
            if value is not None:
                invoices = invoices.filter(**{f"{field}__{bound}": value})
    return paginate(invoices, filters, lambda invoice: invoice_out(invoice, today))


@router.get("/{invoice_id}", response=responses({200: InvoiceOut}), summary="Retrieve an invoice")
def get_invoice_view(request, invoice_id: str):
    """By its id (`in_…`) or its number (`INV-00012`)."""
    return _answer(request, invoice_id)


@router.get(
    "/{invoice_id}/pdf",
    response=responses({}),
    openapi_extra={"responses": {200: {"description": "The invoice's PDF", "content": PDF}}},
    summary="Download an invoice's PDF",
)
def invoice_pdf(request, invoice_id: str):
    """The document as it stands now (payments, credits, void), as the portal serves it."""
    invoice = get_invoice(documents.invoice_queryset().filter(organization=request.organization), invoice_id)
    if invoice.status == Invoice.Status.DRAFT:
        raise errors.InvalidStatus("A draft has no document yet: finalize it first.")
    pdf = documents.current_invoice_pdf(invoice)
    name = f"{invoice.number}.pdf"
    if pdf.content is not None:
        response = HttpResponse(pdf.content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{name}"'
        return response
    return FileResponse(
        pdf.open(invoice.pdf.storage), content_type="application/pdf", filename=name, as_attachment=False
    )


# -- drafts ---------------------------------------------------------------------------------------


@router.post("", response=responses({201: InvoiceOut}), summary="Create a draft invoice")
def create_invoice(request, payload: InvoiceIn):
    customer = ids.get(Customer.objects.all(), payload.customer, field="customer")
    currency = payload.currency or customer.currency
    if currency != customer.currency:
        raise CurrencyMismatch(customer.currency, currency)
    lines = [
        line_input(line.model_dump(), currency, field_prefix=f"lines.{n}.")
        for n, line in enumerate(payload.lines)
    ]
    with api_fields(LINE_FIELDS, "lines."):
        invoice = services.create_invoice(
            customer=customer,
            actor=actor(request),
            lines=lines,
            payment_terms_days=payload.payment_terms_days,
            purchase_order=payload.purchase_order.strip(),
            memo=payload.memo.strip(),
        )
    return Status(201, _fresh(request, invoice))


@router.post("/{invoice_id}", response=responses({200: InvoiceOut}), summary="Update a draft invoice")
def update_invoice(request, invoice_id: str, payload: InvoiceUpdate):
    invoice = _invoice(invoice_id)
    fields = {k: v.strip() if isinstance(v, str) else v for k, v in changed(payload).items() if v is not None}
    services.update_draft_invoice(invoice=invoice, actor=actor(request), **fields)
    return _fresh(request, invoice)


@router.delete("/{invoice_id}", response=responses({204: None}), summary="Delete a draft invoice")
def delete_invoice(request, invoice_id: str):
    """A draft was never issued, so it is deleted; an issued invoice is voided instead."""
    services.delete_draft_invoice(invoice=_invoice(invoice_id), actor=actor(request))
    return Status(204, None)


@router.post("/{invoice_id}/lines", response=responses({201: InvoiceOut}), summary="Add a line to a draft")
def add_line(request, invoice_id: str, payload: LineIn):
    invoice = _invoice(invoice_id)
    line = line_input(payload.model_dump(), invoice.currency)
    with api_fields(LINE_FIELDS):
        services.add_invoice_line(invoice=invoice, line=line, actor=actor(request))
    return Status(201, _fresh(request, invoice))


@router.post(
    "/{invoice_id}/lines/{line_number}",
    response=responses({200: InvoiceOut}),
    summary="Change a draft's line",
)
def update_line(request, invoice_id: str, line_number: str, payload: LineUpdate):
    invoice = _invoice(invoice_id)
    line = _line(invoice, line_number)
    data = changed_line(line, changed(payload), invoice.currency)
    with api_fields(LINE_FIELDS):
        services.update_invoice_line(line=line, data=data, actor=actor(request))
    return _fresh(request, invoice)


@router.delete(
    "/{invoice_id}/lines/{line_number}",
    response=responses({200: InvoiceOut}),
    summary="Remove a draft's line",
)
def remove_line(request, invoice_id: str, line_number: str):
    invoice = _invoice(invoice_id)
    services.remove_invoice_line(line=_line(invoice, line_number), actor=actor(request))
    return _fresh(request, invoice)


# -- actions --------------------------------------------------------------------------------------


@router.post("/{invoice_id}/finalize", response=responses({200: InvoiceOut}), summary="Finalize a draft")
def finalize_invoice(request, invoice_id: str):
    """Number it, freeze its lines and totals, and set its due date from the payment terms."""
    invoice = services.finalize_invoice(invoice=_invoice(invoice_id), actor=actor(request))
    return _fresh(request, invoice)


@router.post("/{invoice_id}/send", response=responses({200: InvoiceOut}), summary="Email an invoice")
def send_invoice(request, invoice_id: str, payload: SendIn):
    to = [address.strip() for address in payload.to or []]
    for n, address in enumerate(to):
        try:
            validate_email(address)
        except DjangoValidationError:
            raise ValidationFailed("Enter a valid email address.", field=f"to.{n}") from None
    invoice = services.send_invoice(invoice=_invoice(invoice_id), actor=actor(request), to=to or None)
    return _fresh(request, invoice)


@router.post("/{invoice_id}/void", response=responses({200: InvoiceOut}), summary="Void an invoice")
def void_invoice(request, invoice_id: str, payload: VoidIn):
    """Only an issued invoice nobody has paid or credited (409 `void_refused` otherwise)."""
    reason = payload.reason.strip()
    invoice = services.void_invoice(invoice=_invoice(invoice_id), actor=actor(request), reason=reason)
    return _fresh(request, invoice)
