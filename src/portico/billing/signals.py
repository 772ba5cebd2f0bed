"""Ledger events other apps hook onto. Sent after the transaction commits, never inside it.

invoice_finalized(sender=Invoice, invoice=...)           a number was assigned (PDF rendering hooks here)
credit_note_finalized(sender=CreditNote, credit_note=...)
payment_recorded(sender=Payment, payment=...)            a new payment (receipts hook here)
"""

from django.dispatch import Signal

invoice_finalized = Signal()
credit_note_finalized = Signal()
payment_recorded = Signal()
