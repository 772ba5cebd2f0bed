"""Online payment attempts: one row per charge we ask a gateway for, written before we ask.

The idempotency key derives from the row's id (`payment_attempt:<id>`) and is stored before the
gateway is called, so a retry, a crash between charge and bookkeeping, or a double submission can
always be matched to the one charge it belongs to. With the attempt, under the invoices' row locks,
its `PaymentReservation`s record what it will pay of each invoice: while the attempt is pending
(and not expired), other checkouts see those amounts as taken (DESIGN.md "Money and ledger
invariants"). `CreditUse` is the same one-time form token for applying credit in the portal.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core.fields import money_property
from portico.core.tenancy import TenantModel


def new_form_token() -> str:
    return secrets.token_urlsafe(18)


class PaymentAttempt(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Processing")
        SUCCEEDED = "succeeded", _("Succeeded")
        DECLINED = "declined", _("Declined")
        # Found pending long after the request that started it (a crashed worker) and the gateway
        # has no charge under its key: nothing was charged, nothing is booked.
        EXPIRED = "expired", _("Not completed")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="payment_attempts"
    )
    # The pay form's one-time token: a second submission of the same form finds this attempt.
    form_token = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    invoices = models.ManyToManyField("billing.Invoice", related_name="payment_attempts")
    # [[invoice id, amount minor], ...] in the order the customer chose them
    allocations = models.JSONField(default=list)
    gateway = models.CharField(max_length=20)
    gateway_reference = models.CharField(max_length=100, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    card_exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    card_exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    decline_code = models.CharField(max_length=40, blank=True)
    decline_reason = models.CharField(max_length=300, blank=True)
    payment = models.OneToOneField(
        "billing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="attempt"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    amount = money_property("amount_minor")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "form_token"], name="payment_attempt_form_token_unique"
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="payment_attempt_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="payment_attempt_amount_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "customer", "-created_at"]),
            # What the reconciliation looks for, across organizations: pending, oldest first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="pending"),
                name="payment_attempt_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.idempotency_key or f"Payment attempt {self.pk}"


class PaymentReservation(TenantModel):
    """What a pending attempt is about to pay of one invoice. It holds while its attempt is pending
    and younger than the reconciliation window (`payments.services.STALE_AFTER`); once the attempt
    is booked, declined or expired, it holds nothing (the row stays, as the attempt's history)."""

    attempt = models.ForeignKey(PaymentAttempt, on_delete=models.CASCADE, related_name="reservations")
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, related_name="payment_reservations"
    )
    amount_minor = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "invoice"], name="payment_reservation_unique"),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="payment_reservation_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_minor} of invoice {self.invoice_id} for attempt {self.attempt_id}"


class CreditUse(TenantModel):
    """One submission of the portal's "apply credit" form: its one-time token makes a double submit
    apply the credit once. Written in the same transaction as the credit applications."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="credit_uses")
    form_token = models.CharField(max_length=64)
    # The credit used ("credit_note" or "payment") and its number, and {invoice number: amount minor}
    source_kind = models.CharField(max_length=20)
    source_number = models.CharField(max_length=40)
    currency = models.CharField(max_length=3)
    applied = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "form_token"], name="credit_use_form_token_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Credit {self.source_number} applied to {', '.join(self.applied)}"
