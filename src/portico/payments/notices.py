"""The emails payments send about a customer's cards: a charge that failed, a card about to expire.

They go to the customer's billing contacts (`billing_recipients`): its billing email (else its
primary contact), then every contact who may manage cards in the portal (portal access with the
billing or admin role), each address once. Both carry absolute links on the organization's portal
host, where the customer fixes what went wrong. The receipt of a payment that succeeded is sent by
`notifications.receipts`, for automatic charges as for payments made in the portal.
"""

from __future__ import annotations

from portico.core.mail import send_templated_email
from portico.customers.models import PortalRole

METHODS_PATH = "/portal/payment-methods/"


def billing_recipients(customer) -> list[str]:
    """Who hears about the customer's cards and payments, without repeating an address."""
    primary = customer.contacts.filter(is_primary=True).first()
    candidates = [customer.email or (primary.email if primary else "")]
    candidates += customer.contacts.filter(
        has_portal_access=True, portal_role__in=[PortalRole.BILLING, PortalRole.ADMIN]
    ).values_list("email", flat=True)
    seen, recipients = set(), []
    for address in candidates:
        if address and address.lower() not in seen:
            seen.add(address.lower())
            recipients.append(address)
    return recipients


def send_payment_failed(attempt, invoice) -> list[str]:
    """ "We could not charge your card": the reason, a link to update the card and one to pay."""
    organization = attempt.organization
    recipients = billing_recipients(attempt.customer)
    for address in recipients:
        send_templated_email(
            organization=organization,
            to=[address],
            template="payments/payment_failed",
            customer=attempt.customer,
            context={
                "customer": attempt.customer,
                "attempt": attempt,
                "invoice": invoice,
                "method": attempt.payment_method,
                "reason": attempt.decline_reason,
                "methods_url": organization.public_url(METHODS_PATH),
                "pay_url": organization.public_url(f"/portal/invoices/{invoice.number}/pay/"),
            },
        )
    return recipients


def send_card_expiring(method) -> list[str]:
    """ "Your card expires soon", with a link to replace it."""
    organization = method.organization
    recipients = billing_recipients(method.customer)
    for address in recipients:
        send_templated_email(
            organization=organization,
            to=[address],
            template="payments/card_expiring",
            customer=method.customer,
            context={
                "customer": method.customer,
                "method": method,
                "expires_on": method.expires_on,
                "methods_url": organization.public_url(METHODS_PATH),
            },
        )
    return recipients
