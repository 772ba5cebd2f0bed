"""The receipt emailed after a card payment: to the contact who paid and to the customer's billing
contact (each address once), with the receipt PDF attached.

`billing.signals.payment_recorded` fires once per new payment, after its transaction commits (a
rolled-back booking, a declined card or a retried request with the same idempotency key records no
new payment, so sends nothing). `send_payment_receipt` is the one function that sends: the outbox
(a later issue) will call it from its worker instead.
"""

from __future__ import annotations

import logging

from django.dispatch import receiver

from portico.billing import documents, signals
from portico.billing.models import Payment
from portico.core.mail import send_templated_email
from portico.core.money import Money

log = logging.getLogger(__name__)


def receipt_recipients(payment: Payment) -> list[str]:
    """Who paid (the portal contact behind the online attempt), then the billing contact (the
    customer's billing email, else its primary contact), without repeating an address."""
    candidates = []
    attempt = getattr(payment, "attempt", None)  # None for payments not made through an attempt
    user = attempt.created_by if attempt is not None else None
    if user is not None:
        contact = user.contact if user.contact_id else None
        candidates.append(contact.email if contact is not None else user.email)
    customer = payment.customer
    primary = customer.contacts.filter(is_primary=True).first()
    candidates.append(customer.email or (primary.email if primary else ""))
    seen, recipients = set(), []
    for address in candidates:
        if address and address.lower() not in seen:
            seen.add(address.lower())
            recipients.append(address)
    return recipients


def send_payment_receipt(payment: Payment) -> list[str]:
    """Email the receipt, one message per recipient; returns the addresses it was sent to."""
    recipients = receipt_recipients(payment)
    if not recipients:
        log.warning("payment %s: no address to send its receipt to", payment.number)
        return []
    allocations = list(payment.allocations.select_related("invoice").order_by("allocated_at", "id"))
    for allocation in allocations:
        allocation.amount = Money(allocation.amount_minor, payment.currency)
    pdf = documents.receipt_pdf_bytes(payment, allocations)
    organization = payment.organization
    for address in recipients:
        send_templated_email(
            organization=organization,
            to=[address],
            template="payments/receipt",
            context={"payment": payment, "customer": payment.customer, "allocations": allocations},
            attachments=[(f"receipt-{payment.number}.pdf", pdf, "application/pdf")],
        )
    return recipients


@receiver(signals.payment_recorded, dispatch_uid="notifications.card_payment_receipt")
def _receipt_after_card_payment(sender, payment: Payment, **kwargs) -> None:
    if payment.method == Payment.Method.CARD and payment.channel == Payment.Channel.ONLINE:
        send_payment_receipt(payment)
