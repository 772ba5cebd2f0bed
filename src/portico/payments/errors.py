"""The codes of payments' errors. The errors themselves stay beside the code that raises them
(`services.PaymentRefused`, `credits.CreditRefused`, `gateways.CardError`); all are `DomainError`s
(see `core/errors.py`)."""

from django.db import models


class Code(models.TextChoices):
    PAYMENT_REFUSED = "payment_refused"
    PAYMENT_IN_PROGRESS = "payment_in_progress"
    CREDIT_REFUSED = "credit_refused"
    CARD_INVALID = "card_invalid"
