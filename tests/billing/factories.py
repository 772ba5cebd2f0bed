"""Ledger builders for tests: fixed amounts, built through the services (so invariants hold)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portico.billing import services
from portico.billing.models import Invoice, Payment
from portico.billing.services import LineInput
from portico.core.audit import Actor
from portico.core.money import Money

ACTOR = Actor.system("tests")


def line(minor: int, currency: str = "USD", description: str = "Consulting", **fields) -> LineInput:
    return LineInput(description=description, unit_price=Money(minor, currency), **fields)


def draft_invoice(customer, *amounts: int, **fields) -> Invoice:
    """A draft with one line per amount (in the customer's currency)."""
    lines = [line(a, customer.currency, f"Line {i}") for i, a in enumerate(amounts or (10000,), start=1)]
    return services.create_invoice(customer=customer, lines=lines, actor=ACTOR, **fields)


def open_invoice(customer, *amounts: int, **fields) -> Invoice:
    """An issued invoice for the sum of `amounts` (no tax)."""
    return services.finalize_invoice(invoice=draft_invoice(customer, *amounts, **fields), actor=ACTOR)


def pay(customer, minor: int, *allocations: tuple[Invoice, int], **fields) -> Payment:
    fields.setdefault("method", Payment.Method.BANK_TRANSFER)
    fields.setdefault("received_on", dt.date(2026, 3, 10))
    return services.record_payment(
        customer=customer,
        amount=Money(minor, customer.currency),
        allocations=[(invoice, Money(a, customer.currency)) for invoice, a in allocations],
        actor=ACTOR,
        **fields,
    )


def credit_note(customer, minor: int, invoice: Invoice | None = None, **fields):
    return services.issue_credit_note(
        customer=customer,
        lines=[line(minor, customer.currency, "Goodwill credit")],
        invoice=invoice,
        actor=ACTOR,
        **fields,
    )


def taxed(minor: int, percent: str, inclusive: bool = False, currency: str = "USD", **fields) -> LineInput:
    return line(
        minor, currency, tax_name="Tax", tax_percent=Decimal(percent), tax_inclusive=inclusive, **fields
    )
