"""Many ledger rows fast (bulk_create), consistent with every invariant, for query-count guards and
benchmarks. Documents are written as the services would leave them; no service is bypassed in a
test that checks behaviour."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from portico.billing.models import Invoice, InvoiceLine, Payment, PaymentAllocation
from portico.core import clock


def bulk_ledger(
    customer,
    count: int,
    *,
    end: dt.date,
    tag: str = "",
    lines_per_invoice: int = 2,
    span_days: int = 720,
    settled_after_days: int | None = None,
) -> None:
    """`count` invoices issued over the `span_days` before `end`, about a third paid, a fifth
    partially paid, one in seven void, the rest open; one payment per paid or partially paid
    invoice. With `settled_after_days`, invoices older than that are all paid (or void), as in an
    account that pays its bills, only with a long history."""
    organization = customer.organization
    tag = tag or f"C{customer.pk}-"
    now = clock.now()
    invoices, lines, payments, paid_parts = [], [], [], []
    for i in range(count):
        issue = end - dt.timedelta(days=(count - i) * span_days // count)
        total = 10000 + (i % 50) * 125
        status, paid = Invoice.Status.OPEN, 0
        if i % 7 == 3:
            status = Invoice.Status.VOID
        elif i % 3 == 0 or (settled_after_days is not None and (end - issue).days > settled_after_days):
            status, paid = Invoice.Status.PAID, total
        elif i % 5 == 1:
            status, paid = Invoice.Status.PARTIALLY_PAID, total // 2
        invoices.append(
            Invoice(
                organization=organization,
                customer=customer,
                number=f"INV-{tag}{i + 1:06d}",
                status=status,
                currency=customer.currency,
                issue_date=issue,
                due_date=issue + dt.timedelta(days=30),
                subtotal_minor=total,
                total_minor=total,
                paid_minor=paid,
                balance_minor=0 if status == Invoice.Status.VOID else total - paid,
                bill_to_name=customer.display_name,
                finalized_at=now,
                voided_at=(
                    dt.datetime.combine(min(issue + dt.timedelta(days=3), end), dt.time(12), tzinfo=dt.UTC)
                    if status == Invoice.Status.VOID
                    else None
                ),
            )
        )
        paid_parts.append((issue, paid))
    with transaction.atomic():
        Invoice.all_tenants.bulk_create(invoices, batch_size=1000)
        saved = {
            inv.number: inv
            for inv in Invoice.all_tenants.filter(organization=organization, number__startswith=f"INV-{tag}")
        }
        invoices = [saved[inv.number] for inv in invoices]
        for invoice in invoices:
            share = invoice.total_minor // lines_per_invoice
            for n in range(lines_per_invoice):
                amount = (
                    share
                    if n < lines_per_invoice - 1
                    else invoice.total_minor - share * (lines_per_invoice - 1)
                )
                lines.append(
                    InvoiceLine(
                        invoice=invoice,
                        position=n + 1,
                        description=f"Service {n + 1} for {invoice.number}",
                        unit_price_minor=amount,
                        net_minor=amount,
                        total_minor=amount,
                    )
                )
        InvoiceLine.objects.bulk_create(lines, batch_size=2000)
        for i, (invoice, (issue, paid)) in enumerate(zip(invoices, paid_parts, strict=True)):
            if paid:
                payments.append(
                    Payment(
                        organization=organization,
                        customer=customer,
                        number=f"PAY-{tag}{i + 1:06d}",
                        currency=customer.currency,
                        amount_minor=paid,
                        allocated_minor=paid,
                        method=Payment.Method.BANK_TRANSFER,
                        received_on=min(issue + dt.timedelta(days=10), end),
                    )
                )
        Payment.all_tenants.bulk_create(payments, batch_size=1000)
        by_number = {
            p.number: p
            for p in Payment.all_tenants.filter(organization=organization, number__startswith=f"PAY-{tag}")
        }
        allocations = []
        for i, invoice in enumerate(invoices):
            payment = by_number.get(f"PAY-{tag}{i + 1:06d}")
            if payment is not None:
                allocations.append(
                    PaymentAllocation(
                        organization=organization,
                        payment=payment,
                        invoice=invoice,
                        amount_minor=payment.amount_minor,
                        allocated_at=now,
                    )
                )
        PaymentAllocation.all_tenants.bulk_create(allocations, batch_size=2000)
