"""The emails of card payments (`core.email_kinds`)."""

from django.utils.translation import gettext_lazy as _

from portico.core.email_kinds import COMMON, CUSTOMER_NAME, STAFF, EmailKind, Variable

CARD = Variable(
    "card", _("The card, as brand, last digits and expiry"), "method.label", "Visa •••• 4242 (04/2026)"
)
METHODS_URL = Variable(
    "methods_url",
    _("The portal's page to add or replace a card"),
    "methods_url",
    "https://renotech.example.com/portal/payment-methods/",
)

EMAIL_KINDS = [
    EmailKind(
        "payments/payment_failed",
        _("Payment failed"),
        _("Sent when charging a card for an invoice fails (the bill run's automatic charge, a retry)."),
        default_subject=_(
            "Your payment of {{ amount }} for invoice {{ invoice_number }} to {{ organization_name }} failed"
        ),
        default_body=_(
            "Hello {{ customer_name }},\n\nWe tried to charge {{ amount }} for invoice {{ invoice_number }} to your card {{ card }}, and the payment failed:\n{{ reason }}\n\nNothing was charged, and the invoice is still open. Please update your card:\n{{ methods_url }}\n\nor pay the invoice in your portal:\n{{ pay_url }}\n\nThank you,\n{{ organization_name }}"
        ),
        variables=[
            *COMMON,
            CUSTOMER_NAME,
            CARD,
            Variable("amount", _("The amount that was tried"), "attempt.amount", "€1,250.00"),
            Variable("invoice_number", _("The invoice's number"), "invoice.number", "INV-0042"),
            Variable(
                "reason",
                _("Why the payment failed, as the bank said"),
                "reason",
                "Your card has insufficient funds.",
            ),
            METHODS_URL,
            Variable(
                "pay_url",
                _("The page to pay the invoice"),
                "pay_url",
                "https://renotech.example.com/portal/invoices/INV-0042/pay/",
            ),
        ],
    ),
    EmailKind(
        "payments/card_expiring",
        _("Card expiring"),
        _("Sent before the card that payments are charged to expires."),
        default_subject=_("Your card {{ card }} on file with {{ organization_name }} expires soon"),
        default_body=_(
            "Hello {{ customer_name }},\n\nYour card {{ card }}, the one we charge your payments to, expires on {{ expires_on }}.\n\nTo keep your payments going, please add your new card in your portal:\n{{ methods_url }}\n\nThank you,\n{{ organization_name }}"
        ),
        variables=[
            *COMMON,
            CUSTOMER_NAME,
            CARD,
            Variable("expires_on", _("The day it expires"), "expires_on", "April 30, 2026"),
            METHODS_URL,
        ],
    ),
    EmailKind(
        "payments/dispute_opened",
        _("Dispute opened (to your staff)"),
        _("Tells your owners and administrators that a customer's bank disputed a card payment."),
        audience=STAFF,
        switchable=False,
        why_always=_("Always sent: a dispute has a deadline."),
    ),
]
