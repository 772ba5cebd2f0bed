"""Domain errors of customers: each carries a message fit to show staff or the customer, a stable
`code` for the API, and the form `field` it concerns. Raised before anything is written."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class CustomerError(Exception):
    code = "customer_error"
    field: str | None = None
    message = _("This change is not possible.")

    def __init__(self, message=None, *, field: str | None = None):
        if message is not None:
            self.message = message
        if field is not None:
            self.field = field
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message)


class CurrencyLocked(CustomerError):
    """A customer's documents are in its currency; changing it would strand them."""

    code = "currency_locked"
    field = "currency"
    message = _(
        "The currency cannot be changed once the customer has invoices, credit notes or payments "
        "(including card payments in progress). Create a new customer for the other currency."
    )
