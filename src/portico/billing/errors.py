"""Domain errors of the ledger. Each carries a message fit to show a customer or staff member,
a stable `code` for the API, and the form `field` it concerns when there is one.

A service raises one of these before it writes anything, so a refused request changes nothing.
"""

from __future__ import annotations

from django.utils.translation import gettext as _


class BillingError(Exception):
    code = "billing_error"
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field

    def __str__(self) -> str:
        return self.message


class InvalidAmount(BillingError):
    code = "invalid_amount"
    field = "amount"


class InvalidLine(BillingError):
    code = "invalid_line"


class CurrencyMismatch(BillingError):
    code = "currency_mismatch"
    field = "currency"

    def __init__(self, expected: str, got: str):
        super().__init__(
            _("This account is billed in %(expected)s; an amount in %(got)s cannot be used here.")
            % {"expected": expected, "got": got}
        )


class InvoiceNotFound(BillingError):
    """Another customer's (or organization's) invoice: worded as if it did not exist."""

    code = "invoice_not_found"
    field = "invoice"

    def __init__(self):
        super().__init__(_("That invoice was not found on this account."))


class InvoiceNotEditable(BillingError):
    code = "invoice_not_editable"

    def __init__(self, invoice):
        super().__init__(
            _("Invoice %(number)s is finalized and can no longer be changed; issue a credit note or void it.")
            % {"number": invoice.number or invoice.pk}
        )


class InvoiceNotPayable(BillingError):
    code = "invoice_not_payable"
    field = "invoice"

    def __init__(self, invoice):
        messages = {
            "draft": _("This invoice has not been issued yet, so it cannot be paid."),
            "paid": _("Invoice %(number)s is already paid."),
            "void": _("Invoice %(number)s has been voided and cannot be paid."),
        }
        message = messages.get(invoice.status, _("Invoice %(number)s cannot be paid."))
        super().__init__(message % {"number": invoice.number} if "%(" in message else message)


class AmountExceedsBalance(BillingError):
    code = "amount_exceeds_balance"
    field = "amount"

    def __init__(self, invoice, available):
        super().__init__(
            _("Invoice %(number)s has %(balance)s left to pay; a larger amount cannot be applied to it.")
            % {"number": invoice.number, "balance": available}
        )


class AllocationExceedsPayment(BillingError):
    code = "allocation_exceeds_payment"
    field = "amount"

    def __init__(self, available):
        super().__init__(
            _("Only %(available)s is available to allocate; reduce the amounts applied to invoices.")
            % {"available": available}
        )


class EmptyInvoice(BillingError):
    code = "empty_document"

    def __init__(self):
        super().__init__(_("Add at least one line before finalizing."))


class InvalidStatus(BillingError):
    code = "invalid_status"


class CreditTooLarge(BillingError):
    code = "credit_too_large"
    field = "amount"

    def __init__(self, available):
        super().__init__(
            _("At most %(available)s of this credit can be used here.") % {"available": available}
        )


class RefundTooLarge(BillingError):
    code = "refund_too_large"
    field = "amount"

    def __init__(self, available):
        super().__init__(
            _("At most %(available)s can be refunded: only unused money can be returned.")
            % {"available": available}
        )


class VoidRefused(BillingError):
    code = "void_refused"

    def __init__(self, invoice):
        super().__init__(
            _(
                "Invoice %(number)s already has payments or credits applied; "
                "issue a credit note for the rest instead of voiding it."
            )
            % {"number": invoice.number}
        )
