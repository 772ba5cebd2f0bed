"""The codes of payments' errors. The errors themselves stay beside the code that raises them
(`services.PaymentRefused`, `credits.CreditRefused`, `gateways.CardError`); all are `DomainError`s
(see `core/errors.py`)."""

from django.db import models


class Code(models.TextChoices):
    PAYMENT_REFUSED = "payment_refused"
    PAYMENT_IN_PROGRESS = "payment_in_progress"
    CREDIT_REFUSED = "credit_refused"
    CARD_INVALID = "card_invalid"
    CARD_DECLINED = "card_declined"
    METHOD_NOT_FOUND = "payment_method_not_found"
    METHOD_IN_USE = "payment_method_in_use"
    METHOD_REFUSED = "payment_method_refused"
    GATEWAY_UNAVAILABLE = "gateway_unavailable"
    GATEWAY_NOT_CONFIGURED = "gateway_not_configured"
    WEBHOOK_SIGNATURE = "webhook_signature"
    REFUND_REFUSED = "refund_refused"
    PAYMENT_SETTINGS_INVALID = "payment_settings_invalid"
    SETUP_REFUSED = "card_setup_refused"
    NOTHING_TO_CHARGE = "nothing_to_charge"
    REFUND_IN_PROGRESS = "refund_in_progress"
