"""Credit notes: list, retrieve, issue (standalone or correcting an invoice, optionally applied to
it at once), apply to an invoice, refund remaining credit, void — through `billing.services`, as the
console does. A credit note's id is `cn_…`; paths take its number (`CN-00012`) too. The API issues a
credit note in one step (`issue_credit_note`); drafts are the console's working copies and are not
listed."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema, Status

from portico.api import ids
from portico.api.resources import actor, responses
from portico.api.resources.ledger import (
    LINE_FIELDS,
    LineIn,
    LineOut,
    api_fields,
    get_document,
    get_invoice,
    line_input,
    line_out,
)
from portico.api.schemas import AmountMinor, ListParams, list_of, paginate
from portico.billing import services
from portico.billing.models import CreditApplication, CreditNote, Invoice, Payment
from portico.core.money import Money
from portico.customers.models import Customer

router = Router(tags=["credit_notes"])

Method = Literal[tuple(Payment.Method.values)]
Listed = Literal[tuple(s for s in CreditNote.Status.values if s != CreditNote.Status.DRAFT)]


class CreditNoteIn(Schema):
    customer: str = Field(..., max_length=40)
    invoice: str | None = Field(None, max_length=40, description="The invoice it corrects (number or id).")
    reason: str = Field("", max_length=200)
    lines: list[LineIn] = Field([], max_length=100, description="At least one.")
    apply_to_invoice: bool = Field(False, description="Apply the credit to `invoice` at once.")


class ApplyIn(Schema):
    invoice: str = Field(..., max_length=40)
    amount_minor: AmountMinor


class RefundIn(Schema):
    amount_minor: AmountMinor
    method: Method = Payment.Method.BANK_TRANSFER.value
    reason: str = Field("", max_length=200)


class ApplicationOut(Schema):
    invoice: str
    invoice_number: str
    amount_minor: int
    applied_at: dt.datetime


class CreditNoteOut(Schema):
    id: str
    object: Literal["credit_note"] = "credit_note"
    number: str
    customer: str
    invoice: str | None
    status: str
    currency: str
    issue_date: dt.date | None
    reason: str
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    applied_minor: int
    refunded_minor: int
    remaining_minor: int
    lines: list[LineOut]
    applications: list[ApplicationOut]
    allowed_actions: list[str]
    created_at: dt.datetime


class CreditNoteFilters(ListParams):
    customer: str | None = Field(None, max_length=40)
    invoice: str | None = Field(None, max_length=40)
    status: Listed | None = None


def credit_note_out(note: CreditNote) -> dict:
    return {
        "id": ids.public_id(note),
        "object": "credit_note",
        "customer": ids.public_id(note.customer),
        "invoice": ids.public_id(note.invoice) if note.invoice_id else None,
        **{
            name: getattr(note, name)
            for name in (
                "number",
                "status",
                "currency",
                "issue_date",
                "reason",
                "subtotal_minor",
                "tax_minor",
                "total_minor",
                "applied_minor",
                "refunded_minor",
                "remaining_minor",
                "created_at",
            )
        },
        "lines": [line_out(line) for line in note.lines.all()],
        "applications": [
            {
                "invoice": ids.public_id(a.invoice),
                "invoice_number": a.invoice.number,
                "amount_minor": a.amount_minor,
                "applied_at": a.applied_at,
            }
            for a in note.applications.all()
        ],
        "allowed_actions": sorted(note.allowed_actions() - {"finalize", "delete"}),
    }


def _queryset():
    return (
        CreditNote.objects.exclude(status=CreditNote.Status.DRAFT)
        .select_related("customer", "invoice")
        .prefetch_related(
            "lines", Prefetch("applications", queryset=CreditApplication.objects.select_related("invoice"))
        )
    )


def _credit_note(credit_note_id: str) -> CreditNote:
    return get_document(_queryset(), credit_note_id)


def _fresh(note: CreditNote) -> dict:
    return credit_note_out(_credit_note(ids.public_id(note)))


@router.get("", response=responses({200: list_of(CreditNoteOut)}), summary="List credit notes")
def list_credit_notes(request, filters: Query[CreditNoteFilters]):
    notes = _queryset()
    if filters.customer is not None:
        notes = notes.filter(customer=ids.get(Customer.objects.all(), filters.customer, field="customer"))
    if filters.invoice is not None:
        notes = notes.filter(invoice=get_invoice(Invoice.objects.all(), filters.invoice, field="invoice"))
    if filters.status is not None:
        notes = notes.filter(status=filters.status)
    return paginate(notes, filters, credit_note_out)


@router.get("/{credit_note_id}", response=responses({200: CreditNoteOut}), summary="Retrieve a credit note")
def get_credit_note(request, credit_note_id: str):
    return credit_note_out(_credit_note(credit_note_id))


@router.post("", response=responses({201: CreditNoteOut}), summary="Issue a credit note")
def issue_credit_note(request, payload: CreditNoteIn):
    """Created and finalized at once: numbered, its whole total available as credit (or applied to
    the invoice it corrects, with `apply_to_invoice`). A credit note for an invoice credits at most
    that invoice's total, over all its credit notes."""
    customer = ids.get(Customer.objects.all(), payload.customer, field="customer")
    invoice = None
    if payload.invoice is not None:
        invoice = get_invoice(Invoice.objects.filter(customer=customer), payload.invoice, field="invoice")
    lines = [
        line_input(line.model_dump(), customer.currency, field_prefix=f"lines.{n}.")
        for n, line in enumerate(payload.lines)
    ]
    with api_fields(LINE_FIELDS, "lines."):
        note = services.issue_credit_note(
            customer=customer,
            lines=lines,
            actor=actor(request),
            invoice=invoice,
            reason=payload.reason.strip(),
            apply_to_invoice=payload.apply_to_invoice,
        )
    return Status(201, _fresh(note))


@router.post(
    "/{credit_note_id}/apply", response=responses({200: CreditNoteOut}), summary="Apply credit to an invoice"
)
def apply_credit_note(request, credit_note_id: str, payload: ApplyIn):
    note = _credit_note(credit_note_id)
    invoice = get_invoice(Invoice.objects.all(), payload.invoice, field="invoice")
    services.apply_credit(
        credit_note=note,
        invoice=invoice,
        amount=Money(payload.amount_minor, note.currency),
        actor=actor(request),
    )
    return _fresh(note)


@router.post(
    "/{credit_note_id}/refund", response=responses({200: CreditNoteOut}), summary="Refund remaining credit"
)
def refund_credit_note(request, credit_note_id: str, payload: RefundIn):
    note = _credit_note(credit_note_id)
    services.refund_credit_note(
        credit_note=note,
        amount=Money(payload.amount_minor, note.currency),
        method=payload.method,
        reason=payload.reason.strip(),
        actor=actor(request),
    )
    return _fresh(note)


@router.post("/{credit_note_id}/void", response=responses({200: CreditNoteOut}), summary="Void a credit note")
def void_credit_note(request, credit_note_id: str):
    """Only one none of whose credit was applied or refunded."""
    note = services.void_credit_note(credit_note=_credit_note(credit_note_id), actor=actor(request))
    return _fresh(note)
