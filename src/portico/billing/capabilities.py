"""The portal capabilities of billing: invoices, payments, credits, statements."""

from django.utils.translation import gettext_lazy as _

from portico.core.capabilities import Capability
from portico.customers.models import PortalRole

PAYERS = (PortalRole.BILLING, PortalRole.ADMIN)

PORTAL_CAPABILITIES = [
    Capability("invoices", "view", _("Invoices: see them")),
    Capability("invoices", "pay", _("Invoices: pay online"), roles=PAYERS),
    Capability("invoices", "bulk_pay", _("Invoices: pay several at once"), roles=PAYERS),
    Capability(
        "invoices", "pay_any_amount", _("Invoices: pay any amount, or part of an invoice"), roles=PAYERS
    ),
    Capability("invoices", "download", _("Invoices: download PDFs")),
    Capability("payments", "view", _("Payments: see them and their receipts")),
    Capability("credits", "view", _("Credits: see them")),
    Capability("credits", "apply", _("Credits: apply them to invoices"), roles=PAYERS),
    Capability("statements", "view", _("Statements: see and download them")),
]
