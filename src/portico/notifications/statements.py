"""The statement emailed to a customer (issue 14, item 6): the period's opening and closing balances
in the body, the statement PDF and every open invoice's PDF attached, and a link to the portal's pay
page on the organization's host.

`billing.statement_mail.send_statement` writes the `statement.sent` event (staff, or the monthly
schedule); the outbox worker hands it to `statement_email`, which renders the PDFs here, in the
worker, and queues one message per billing contact, each keyed by the customer, the period and the
address: a delivery run again (a worker killed halfway) sends no second copy. Invoice PDFs are the
stored ones (`documents.current_invoice_pdf`), rendered only when missing or stale.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from portico.billing import documents
from portico.billing.models import Invoice
from portico.billing.statement_mail import TOPIC
from portico.billing.statements import statement_for
from portico.core import outbox, tenancy
from portico.core.mail import send_templated_email
from portico.customers.models import Customer, PortalRole

log = logging.getLogger(__name__)


def statement_recipients(customer: Customer) -> list[str]:
    """The customer's billing email, its primary contact, then its contacts with the billing
    portal role, each address once."""
    candidates = [customer.email]
    contacts = customer.contacts.filter(is_primary=True) | customer.contacts.filter(
        portal_role=PortalRole.BILLING
    )
    candidates += [c.email for c in contacts.order_by("-is_primary", "pk")]
    seen, recipients = set(), []
    for address in candidates:
        if address and address.lower() not in seen:
            seen.add(address.lower())
            recipients.append(address)
    return recipients


def _invoice_pdf(invoice: Invoice) -> bytes:
    with documents.current_invoice_pdf(invoice).open(invoice.pdf.storage) as file:
        return file.read()


def send_statement_email(customer: Customer, start: dt.date, end: dt.date) -> list[str]:
    """Email the statement of `start`–`end`, one message per recipient; the addresses sent to."""
    recipients = statement_recipients(customer)
    if not recipients:
        log.warning("customer %s: no address to send its statement to", customer.pk)
        return []
    statement = statement_for(customer, start, end)
    attachments = [
        (
            f"statement-{start.isoformat()}-{end.isoformat()}.pdf",
            documents.statement_pdf_bytes(statement),
            "application/pdf",
        )
    ]
    open_invoices = list(
        documents.invoice_queryset()
        .filter(organization_id=customer.organization_id, customer=customer)
        .open()
        .order_by("issue_date", "pk")
    )
    for invoice in open_invoices:
        attachments.append((f"invoice-{invoice.number}.pdf", _invoice_pdf(invoice), "application/pdf"))
    organization = customer.organization
    for address in recipients:
        send_templated_email(
            organization=organization,
            to=[address],
            template="billing/statement",
            context={
                "customer": customer,
                "statement": statement,
                "open_invoices": open_invoices,
                "pay_url": organization.public_url("/portal/pay/"),
            },
            attachments=attachments,
            customer=customer,
            key=f"statement:{customer.pk}:{start.isoformat()}:{end.isoformat()}:{address.lower()}",
        )
    return recipients


@outbox.consumer(TOPIC, name="notifications.statement_email")
def statement_email(event) -> None:
    payload = event.payload
    customer = (
        Customer.all_tenants.filter(organization_id=event.organization_id, pk=payload["customer"])
        .select_related("organization")
        .first()
    )
    if customer is None:
        return
    start, end = dt.date.fromisoformat(payload["start"]), dt.date.fromisoformat(payload["end"])
    with tenancy.tenant(customer.organization), transaction.atomic():
        send_statement_email(customer, start, end)
