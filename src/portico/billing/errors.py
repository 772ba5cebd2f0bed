"""Domain errors of the ledger: `DomainError`s (see `core/errors.py`), each with a message fit to
show a customer or staff member, a stable `code` from `Code` below for the API, and the form
`field` it concerns when there is one.

A service raises one of these before it writes anything, so a refused request changes nothing.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.core.errors import CurrencyMismatch as CurrencyMismatch  # the one class, from core
from portico.core.errors import DomainError


class Code(models.TextChoices):
    """The codes of billing's errors (the ledger's and statements')."""

    BILLING_ERROR = "billing_error"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_LINE = "invalid_line"
    INVOICE_NOT_FOUND = "invoice_not_found"
    INVOICE_NOT_EDITABLE = "invoice_not_editable"
    INVOICE_NOT_PAYABLE = "invoice_not_payable"
    AMOUNT_EXCEEDS_BALANCE = "amount_exceeds_balance"
    ALLOCATION_EXCEEDS_PAYMENT = "allocation_exceeds_payment"
    EMPTY_DOCUMENT = "empty_document"
    INVALID_STATUS = "invalid_status"
    CREDIT_TOO_LARGE = "credit_too_large"
    REFUND_TOO_LARGE = "refund_too_large"
    VOID_REFUSED = "void_refused"
    STATEMENT_PERIOD_INVALID = "statement_period_invalid"


class BillingError(DomainError):
    code = Code.BILLING_ERROR
    message = gettext_lazy("This change to the account is not possible.")


class InvalidAmount(BillingError):
    code = Code.INVALID_AMOUNT
    field = "amount"
    message = gettext_lazy("Enter a valid amount.")


class InvalidLine(BillingError):
    code = Code.INVALID_LINE
    message = gettext_lazy("This line cannot be saved; check its description, quantity and price.")


class InvoiceNotFound(BillingError):
    """Another customer's (or organization's) invoice: worded as if it did not exist."""

    code = Code.INVOICE_NOT_FOUND
    field = "invoice"

    def __init__(self):
        super().__init__(_("That invoice was not found on this account."))


class InvoiceNotEditable(BillingError):
    code = Code.INVOICE_NOT_EDITABLE

    def __init__(self, invoice):
        super().__init__(
            _("Invoice %(number)s is finalized and can no longer be changed; issue a credit note or void it.")
            % {"number": invoice.number or invoice.pk}
        )


class InvoiceNotPayable(BillingError):
    code = Code.INVOICE_NOT_PAYABLE
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
    code = Code.AMOUNT_EXCEEDS_BALANCE
    field = "amount"

    def __init__(self, invoice, available):
        super().__init__(
            _("Invoice %(number)s has %(balance)s left to pay; a larger amount cannot be applied to it.")
            % {"number": invoice.number, "balance": available}
        )


class AllocationExceedsPayment(BillingError):
    code = Code.ALLOCATION_EXCEEDS_PAYMENT
    field = "amount"

    def __init__(self, available):
        super().__init__(
            _("Only %(available)s is available to allocate; reduce the amounts applied to invoices.")
            % {"available": available}
        )


class EmptyInvoice(BillingError):
    code = Code.EMPTY_DOCUMENT

    def __init__(self):
        super().__init__(_("Add at least one line before finalizing."))


class InvalidStatus(BillingError):
    code = Code.INVALID_STATUS
    message = gettext_lazy("This document's status does not allow that.")


class CreditTooLarge(BillingError):
    code = Code.CREDIT_TOO_LARGE
    field = "amount"

    def __init__(self, available):
        super().__init__(
            _("At most %(available)s of this credit can be used here.") % {"available": available}
        )


class RefundTooLarge(BillingError):
    code = Code.REFUND_TOO_LARGE
    field = "amount"

    def __init__(self, available):
        super().__init__(
            _("At most %(available)s can be refunded: only unused money can be returned.")
            % {"available": available}
        )


class VoidRefused(BillingError):
    code = Code.VOID_REFUSED

    def __init__(self, invoice):
        super().__init__(
            _(
                "Invoice %(number)s already has payments or credits applied; "
                "issue a credit note for the rest instead of voiding it."
            )
            % {"number": invoice.number}
        )
