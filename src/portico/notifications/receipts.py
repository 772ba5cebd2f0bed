"""The receipt emailed after a card payment: to the contact who paid and to the customer's billing
contact (each address once), with the receipt PDF attached.

A booked card payment writes its `payment.succeeded` event in the booking's transaction
(`payments.services._book`): a rolled-back booking, a declined card or a retried request with the
same idempotency key writes none, so sends nothing. The outbox worker hands the event to
`receipt_for_payment`, which renders the PDF and queues one message per address, each keyed by the
payment and address: a delivery run again (a worker killed halfway) sends no second copy. The PDF is
rendered there, by the worker, not by the request or the charge that booked the payment.
"""

from __future__ import annotations

import logging

from django.db import transaction

from portico.billing import documents
from portico.billing.models import Payment
from portico.core import outbox, tenancy
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
            key=f"receipt:{payment.pk}:{address.lower()}",
            customer=payment.customer,
        )
    return recipients


def _is_online_card_payment(payload: dict) -> bool:
    # Events written before they named the method came from card bookings only.
    return (
        payload.get("method", Payment.Method.CARD) == Payment.Method.CARD
        and payload.get("channel", Payment.Channel.ONLINE) == Payment.Channel.ONLINE
    )


@outbox.consumer("payment.succeeded", name="notifications.payment_receipt", wants=_is_online_card_payment)
def receipt_for_payment(event) -> None:
    payment = (
        Payment.all_tenants.filter(organization_id=event.organization_id, pk=event.payload["id"])
        .select_related("organization", "customer")
        .first()
    )
    if payment is None:
        return
    with tenancy.tenant(payment.organization), transaction.atomic():
        send_payment_receipt(payment)
