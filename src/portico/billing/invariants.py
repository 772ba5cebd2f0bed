"""The ledger's invariants, checked against the database (DESIGN.md "Money and ledger invariants").

`ledger_violations()` returns a human-readable line per broken rule, none when all hold. Tests call
it after every step; operators can run it against a live database. A fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import F, Q, Sum

from portico.billing.models import (
    CreditApplication,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    NumberSequence,
    Payment,
    PaymentAllocation,
    Refund,
)


def _sums(queryset, key: str) -> dict[int, int]:
    return {
        row[key]: row["total"] for row in queryset.values(key).annotate(total=Sum("amount_minor")).order_by()
    }


def ledger_violations(organization=None) -> list[str]:
    scope = Q(organization=organization) if organization is not None else Q()
    problems: list[str] = []

    paid_by_invoice = _sums(PaymentAllocation.all_tenants.filter(scope), "invoice_id")
    credited_by_invoice = _sums(CreditApplication.all_tenants.filter(scope), "invoice_id")
    allocated_by_payment = _sums(PaymentAllocation.all_tenants.filter(scope), "payment_id")
    applied_by_note = _sums(CreditApplication.all_tenants.filter(scope), "credit_note_id")
    refunded_by_payment = _sums(Refund.all_tenants.filter(scope, payment__isnull=False), "payment_id")
    refunded_by_note = _sums(Refund.all_tenants.filter(scope, credit_note__isnull=False), "credit_note_id")
    line_totals = {
        row["invoice_id"]: row
        for row in InvoiceLine.objects.filter(invoice__in=Invoice.all_tenants.filter(scope))
        .values("invoice_id")
        .annotate(total=Sum("total_minor"), tax=Sum("tax_minor"))
        .order_by()
    }
    note_line_totals = {
        row["credit_note_id"]: row["total"]
        for row in CreditNoteLine.objects.filter(credit_note__in=CreditNote.all_tenants.filter(scope))
        .values("credit_note_id")
        .annotate(total=Sum("total_minor"))
        .order_by()
    }
    cross = PaymentAllocation.all_tenants.filter(scope).exclude(
        payment__customer_id=F("invoice__customer_id")
    )
    for allocation in cross:
        problems.append(f"allocation {allocation.pk} pays another customer's invoice")
    cross_credit = CreditApplication.all_tenants.filter(scope).exclude(
        credit_note__customer_id=F("invoice__customer_id")
    )
    for application in cross_credit:
        problems.append(f"credit application {application.pk} credits another customer's invoice")

    for invoice in Invoice.all_tenants.filter(scope):
        name = invoice.number or f"draft {invoice.pk}"
        paid = paid_by_invoice.get(invoice.pk, 0)
        credited = credited_by_invoice.get(invoice.pk, 0)
        lines = line_totals.get(invoice.pk, {"total": 0, "tax": 0})
        if invoice.total_minor != (lines["total"] or 0) or invoice.tax_minor != (lines["tax"] or 0):
            problems.append(f"invoice {name}: totals differ from its lines")
        if invoice.subtotal_minor - invoice.discount_minor + invoice.tax_minor != invoice.total_minor:
            problems.append(f"invoice {name}: subtotal − discount + tax ≠ total")
        if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID):
            if paid or credited:
                problems.append(f"invoice {name} ({invoice.status}) has payments or credits")
            if invoice.status == Invoice.Status.DRAFT and invoice.number:
                problems.append(f"draft {invoice.pk} has a number")
            continue
        if not invoice.number:
            problems.append(f"issued invoice {invoice.pk} has no number")
        if paid != invoice.paid_minor or credited != invoice.credited_minor:
            problems.append(f"invoice {name}: paid/credited fields differ from allocations/applications")
        balance = invoice.total_minor - paid - credited
        if balance < 0 or balance != invoice.balance_minor:
            problems.append(
                f"invoice {name}: balance {invoice.balance_minor} ≠ total − paid − credited {balance}"
            )
        expected = (
            Invoice.Status.PAID
            if balance == 0
            else Invoice.Status.PARTIALLY_PAID
            if paid or credited
            else Invoice.Status.OPEN
        )
        if invoice.status != expected:
            problems.append(f"invoice {name}: status {invoice.status}, expected {expected}")

    for payment in Payment.all_tenants.filter(scope):
        allocated = allocated_by_payment.get(payment.pk, 0)
        refunded = refunded_by_payment.get(payment.pk, 0)
        if allocated != payment.allocated_minor or refunded != payment.refunded_minor:
            problems.append(f"payment {payment.number}: allocated/refunded fields differ from rows")
        if payment.unused_minor < 0 or payment.amount_minor != allocated + payment.unused_minor + refunded:
            problems.append(f"payment {payment.number}: amount ≠ allocated + unused + refunded")

    for note in CreditNote.all_tenants.filter(scope):
        applied = applied_by_note.get(note.pk, 0)
        refunded = refunded_by_note.get(note.pk, 0)
        if note.total_minor != note_line_totals.get(note.pk, 0):
            problems.append(f"credit note {note.number or note.pk}: total differs from its lines")
        if note.status == CreditNote.Status.DRAFT:
            if applied or refunded:
                problems.append(f"draft credit note {note.pk} was used")
            continue
        if applied != note.applied_minor or refunded != note.refunded_minor:
            problems.append(f"credit note {note.number}: applied/refunded fields differ from rows")
        if note.status == CreditNote.Status.VOID:
            if applied or refunded or note.remaining_minor:
                problems.append(f"void credit note {note.number} was used or has credit")
            continue
        if note.remaining_minor < 0 or note.total_minor != applied + note.remaining_minor + refunded:
            problems.append(f"credit note {note.number}: total ≠ applied + remaining + refunded")

    problems += _numbering_violations(scope)
    return problems


def _numbering_violations(scope: Q) -> list[str]:
    """Numbers are unique and gapless: as many numbered documents as the counter has handed out."""
    problems = []
    issued: dict[tuple[int, str], int] = defaultdict(int)
    for model, kind in (
        (Invoice, NumberSequence.Kind.INVOICE),
        (CreditNote, NumberSequence.Kind.CREDIT_NOTE),
        (Payment, NumberSequence.Kind.PAYMENT),
    ):
        rows = model.all_tenants.filter(scope).exclude(number="").values_list("organization_id", "number")
        numbers = defaultdict(list)
        for organization_id, number in rows:
            numbers[organization_id].append(number)
        for organization_id, values in numbers.items():
            if len(values) != len(set(values)):
                problems.append(f"{kind} numbers repeat in organization {organization_id}")
            issued[(organization_id, kind)] = len(values)
    for sequence in NumberSequence.all_tenants.filter(scope):
        if issued.get((sequence.organization_id, sequence.kind), 0) != sequence.next_value - 1:
            problems.append(
                f"{sequence.kind} numbering of organization {sequence.organization_id} has a gap: "
                f"{issued.get((sequence.organization_id, sequence.kind), 0)} issued, counter at {sequence.next_value}"
            )
    return problems
