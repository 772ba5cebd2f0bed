"""The emails the notifications app sends itself (`core.email_kinds`): receipts and statements."""

from django.utils.translation import gettext_lazy as _

from portico.core.email_kinds import COMMON, CUSTOMER_NAME, EmailKind, Variable

EMAIL_KINDS = [
    EmailKind(
        "payments/receipt",
        _("Payment receipt"),
        _("Sent with the PDF receipt after a card payment online."),
        default_subject=_(
            "Receipt for your payment {{ payment_number }} of {{ payment_amount }} to {{ organization_name }}"
        ),
        default_body=_(
            "Hello {{ customer_name }},\n\nThank you: we received your card payment of {{ payment_amount }} on {{ payment_date }} (payment {{ payment_number }}).\n\nThe receipt is attached as a PDF. Your payments are also in your portal:\n{{ portal_url }}\n\nThank you,\n{{ organization_name }}"
        ),
        variables=[
            *COMMON,
            CUSTOMER_NAME,
            Variable("payment_number", _("The payment's number"), "payment.number", "PAY-0042"),
            Variable("payment_amount", _("The amount paid"), "payment.amount", "€1,250.00"),
            Variable("payment_date", _("The day it was received"), "payment.received_on", "March 14, 2026"),
        ],
    ),
    EmailKind(
        "billing/statement",
        _("Account statement"),
        _("The periodic statement (or one sent from the console), with its PDF and the open invoices'."),
        default_subject=_(
            "Your statement from {{ organization_name }}, {{ period_start }} – {{ period_end }}"
        ),
        default_body=_(
            "Hello {{ customer_name }},\n\nYour account statement for {{ period_start }} – {{ period_end }} is attached as a PDF.\n\nOpening balance: {{ opening_balance }}\nClosing balance: {{ closing_balance }}\n\nPay online:\n{{ pay_url }}\n\nThank you,\n{{ organization_name }}"
        ),
        variables=[
            *COMMON,
            CUSTOMER_NAME,
            Variable(
                "period_start", _("The first day of the statement"), "statement.start", "February 1, 2026"
            ),
            Variable("period_end", _("The last day of the statement"), "statement.end", "February 28, 2026"),
            Variable(
                "opening_balance", _("The balance at the start"), "statement.opening_balance", "€200.00"
            ),
            Variable("closing_balance", _("The balance at the end"), "statement.closing_balance", "€450.00"),
            Variable(
                "pay_url",
                _("The portal's page to pay"),
                "pay_url",
                "https://renotech.example.com/portal/pay/",
            ),
        ],
    ),
]
