"""The emails of invoices and statement exports (`core.email_kinds`)."""

from django.utils.translation import gettext_lazy as _

from portico.core.email_kinds import COMMON, CUSTOMER_NAME, EmailKind, Variable

EMAIL_KINDS = [
    EmailKind(
        "invoice",
        _("Invoice sent"),
        _("Sent with the PDF when an invoice is sent, from the console, the API or the bill run."),
        default_subject=_("Invoice {{ invoice_number }} from {{ organization_name }}"),
        default_body=_(
            "Hello {{ bill_to_name }},\n\nInvoice {{ invoice_number }} for {{ invoice_total }} is ready. Balance due: {{ invoice_balance }}, due on {{ due_date }}.\n\nSee it, download it or pay it in your portal:\n{{ invoice_url }}\n\nThank you,\n{{ organization_name }}"
        ),
        variables=[
            *COMMON,
            CUSTOMER_NAME,
            Variable(
                "bill_to_name", _("The name the invoice is addressed to"), "invoice.bill_to_name", "Acme Ltd"
            ),
            Variable("invoice_number", _("The invoice's number"), "invoice.number", "INV-0042"),
            Variable("invoice_total", _("The invoice's total"), "invoice.total", "€1,250.00"),
            Variable("invoice_balance", _("What is still due"), "invoice.balance", "€1,250.00"),
            Variable("due_date", _("The due date"), "invoice.due_date", "April 14, 2026"),
            Variable(
                "invoice_url",
                _("The invoice in the portal"),
                "invoice_url",
                "https://renotech.example.com/portal/invoices/INV-0042/",
            ),
        ],
    ),
    EmailKind(
        "statement_ready",
        _("Statement ready"),
        _("Sent to a portal user when the PDF statement they asked for is ready to download."),
        default_subject=_("Your statement from {{ organization_name }} is ready"),
        default_body=_(
            "Hello {{ user_name }},\n\nthe PDF statement of {{ customer_name }} from {{ period_start }} to {{ period_end }} is ready.\n\nDownload it from your statements page:\n{{ statements_url }}\n\nThank you,\n{{ organization_name }}"
        ),
        variables=[
            *COMMON,
            CUSTOMER_NAME,
            Variable(
                "user_name",
                _("The first name (or address) of the person who asked"),
                "user.get_short_name",
                "Maria",
            ),
            Variable("period_start", _("The first day of the statement"), "export.start", "January 1, 2026"),
            Variable("period_end", _("The last day of the statement"), "export.end", "March 31, 2026"),
            Variable(
                "statements_url",
                _("The portal's statements page"),
                "statements_url",
                "https://renotech.example.com/portal/statements/",
            ),
        ],
    ),
]
