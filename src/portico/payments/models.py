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

from portico.core import tenancy
from portico.core.fields import money_property
from portico.core.tenancy import TenantModel, TenantSettingsModel


def new_form_token() -> str:
    return secrets.token_urlsafe(18)


PUBLIC_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base 32: no i, l, o, u


def new_method_public_id() -> str:
    """A saved card's id in URLs and forms: random, so it tells nothing of how many cards exist."""
    return "card_" + "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(16))


class PaymentAttempt(TenantModel):
    organization = tenancy.organization_key()  # led by the indexes and constraints below

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
    # The saved method charged (None: a card typed for this payment)
    payment_method = models.ForeignKey(
        "PaymentMethod", null=True, blank=True, on_delete=models.PROTECT, related_name="attempts"
    )
    # Charged without the customer present (`charge_automatically`), and why
    off_session = models.BooleanField(default=False)
    # Save the new card as a payment method once the charge succeeds
    save_method = models.BooleanField(default=False)
    # When the gateway answered "processing" (a bank debit, a 3-D Secure check): the charge may
    # still succeed, so the attempt's reservation holds past `STALE_AFTER` until it is settled.
    processing_since = models.DateTimeField(null=True, blank=True)
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

    # No index of its own: a composite index or unique constraint leads with it.
    attempt = models.ForeignKey(
        PaymentAttempt, on_delete=models.CASCADE, related_name="reservations", db_index=False
    )
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

    organization = tenancy.organization_key()  # led by the indexes and constraints below

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


# -- the organization's gateway ----------------------------------------------------------------------


class PaymentSettings(TenantSettingsModel):
    """How one organization takes payments: its gateway and that gateway's configuration.

    `gateway` empty means the instance's default (`settings.PAYMENT_GATEWAY`, `test` for the demo).
    The Stripe keys are the organization's own account; `STRIPE_API_BASE` (an instance setting)
    points every Stripe gateway at another Stripe-compatible server (localstripe in the tests)."""

    class Gateway(models.TextChoices):
        TEST = "test", _("Test gateway (no real money)")
        STRIPE = "stripe", _("Stripe")
        OFFLINE = "offline", _("Offline (bank transfer, recorded by staff)")

    organization = models.OneToOneField(
        "core.Organization", on_delete=models.CASCADE, related_name="payment_settings"
    )
    gateway = models.CharField(_("payment gateway"), max_length=20, choices=Gateway.choices, blank=True)
    stripe_publishable_key = models.CharField(_("Stripe publishable key"), max_length=255, blank=True)
    stripe_secret_key = models.CharField(_("Stripe secret key"), max_length=255, blank=True)
    stripe_webhook_secret = models.CharField(_("Stripe webhook signing secret"), max_length=255, blank=True)
    offline_instructions = models.TextField(
        _("bank transfer instructions"),
        blank=True,
        help_text=_("Shown on invoices and in the portal: account holder, IBAN / account number, reference."),
    )

    class Meta(TenantSettingsModel.Meta):
        verbose_name = _("payment settings")
        verbose_name_plural = _("payment settings")

    def __str__(self) -> str:
        return f"Payment settings of {self.organization}"


class GatewayCustomer(TenantModel):
    """The gateway's record of one of our customers (Stripe's `cus_…`), made on first need."""

    # No index of its own: a composite index or unique constraint leads with it.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="gateway_refs", db_index=False
    )
    gateway = models.CharField(max_length=20)
    reference = models.CharField(max_length=100)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "gateway"], name="gateway_customer_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.reference}"


class AutoCharge(TenantModel):
    """A customer's choice to have invoices charged to their default method when they are issued
    (Chargebee's "auto collection"). Subscriptions may carry their own choice (a later issue)."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="auto_charge"
    )
    enabled = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Auto-charge {'on' if self.enabled else 'off'} for {self.customer_id}"


class PaymentMethod(TenantModel):
    """A customer's saved card: what the gateway handed back, never the number or the security code."""

    organization = tenancy.organization_key()  # led by the indexes and constraints below

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REMOVED = "removed", _("Removed")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="payment_methods"
    )
    # What URLs and forms name the method by (never the sequential primary key)
    public_id = models.CharField(max_length=24, unique=True, default=new_method_public_id, editable=False)
    gateway = models.CharField(max_length=20)
    # The gateway's id of the saved card (Stripe's `pm_…`, the test gateway's `tok_test_…`)
    token = models.CharField(max_length=100)
    brand = models.CharField(_("brand"), max_length=20)
    last4 = models.CharField(_("last 4 digits"), max_length=4)
    exp_month = models.PositiveSmallIntegerField(_("expiry month"))
    exp_year = models.PositiveSmallIntegerField(_("expiry year"))
    holder_name = models.CharField(_("name on card"), max_length=100, blank=True)
    country = models.CharField(_("billing country"), max_length=2, blank=True)
    # The same card saved twice has the same fingerprint (Stripe's `card.fingerprint`)
    fingerprint = models.CharField(max_length=64, blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by"
    )
    # "YYYY-MM" of the expiry a "your card expires soon" email was sent for (sent once per expiry)
    expiry_notice_for = models.CharField(max_length=7, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_default", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "gateway", "token"], name="payment_method_token_unique"
            ),
            # At most one default among a customer's active methods.
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_default=True, status="active"),
                name="payment_method_one_default",
            ),
            models.CheckConstraint(
                condition=models.Q(exp_month__gte=1, exp_month__lte=12), name="payment_method_exp_month"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "customer", "status"]),
            models.Index(
                fields=["exp_year", "exp_month"],
                condition=models.Q(status="active", is_default=True),
                name="payment_method_expiry_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand.title()} •••• {self.last4}"

    @property
    def label(self) -> str:
        return f"{self.brand.title()} •••• {self.last4} ({self.exp_month:02d}/{self.exp_year})"

    @property
    def expires_on(self):
        """The last day the card can be charged."""
        import calendar
        import datetime as dt

        return dt.date(self.exp_year, self.exp_month, calendar.monthrange(self.exp_year, self.exp_month)[1])

    def is_expired(self, today) -> bool:
        return today > self.expires_on

    def expires_within(self, today, days: int) -> bool:
        import datetime as dt

        return not self.is_expired(today) and self.expires_on <= today + dt.timedelta(days=days)


class GatewayCharge(TenantModel):
    """One request to a gateway that moves money (a charge or a refund), under its idempotency key.

    For the `test` gateway this *is* the gateway's ledger, kept in the database so that the worker,
    the reconciliation and the web process see the same charges. For `stripe` it maps our key to the
    PaymentIntent or Refund the gateway made, written *before* the PaymentIntent is confirmed: a key
    with no row was never confirmed, so nothing was charged under it (`find_charge`)."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Charge")
        REFUND = "refund", _("Refund")

    class Status(models.TextChoices):
        PENDING = "pending", _("Not yet confirmed")
        PROCESSING = "processing", _("Processing")
        SUCCEEDED = "succeeded", _("Succeeded")
        DECLINED = "declined", _("Declined")

    gateway = models.CharField(max_length=20)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CHARGE)
    idempotency_key = models.CharField(max_length=100)
    reference = models.CharField(max_length=100, blank=True)  # pi_…, ch_test_…, re_…
    source = models.CharField(max_length=100, blank=True)  # the card token charged, or the charge refunded
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    off_session = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    decline_code = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    amount = money_property("amount_minor")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "kind", "idempotency_key"], name="gateway_charge_key_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="gateway_charge_amount_positive"
            ),
        ]
        indexes = [models.Index(fields=["gateway", "reference"])]

    def __str__(self) -> str:
        return f"{self.gateway} {self.kind} {self.reference or self.idempotency_key}"


class TestCardToken(TenantModel):
    """A card the `test` gateway tokenized: what Stripe's test mode would remember of it.
    `outcome` is "" (charges succeed), a decline code (refused when saved and when charged) or
    "charge:<code>" (saves, then fails when charged: 4000 0000 0000 0341)."""

    __test__ = False  # not a pytest test class

    token = models.CharField(max_length=100, unique=True)
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    holder_name = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True)
    fingerprint = models.CharField(max_length=64)
    outcome = models.CharField(max_length=60, blank=True)
    customer_reference = models.CharField(max_length=100, blank=True)  # attached to (a GatewayCustomer)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.token


class WebhookEvent(TenantModel):
    """An event a gateway sent us, stored once: the unique id makes a redelivery a no-op."""

    organization = tenancy.organization_key()  # led by the indexes and constraints below

    gateway = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    # The gateway's object id the event is about (pi_…, pm_…, dp_…), for staff to search
    object_reference = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(help_text=_("When the gateway says the event happened"))
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "gateway", "event_id"], name="webhook_event_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.type} {self.event_id}"


class Dispute(TenantModel):
    """A chargeback the customer's bank opened on a card payment: recorded and shown to staff."""

    organization = tenancy.organization_key()  # led by the indexes and constraints below

    class Status(models.TextChoices):
        OPEN = "open", _("Open: needs a response")
        UNDER_REVIEW = "under_review", _("Under review")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    payment = models.ForeignKey(
        "billing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    gateway = models.CharField(max_length=20)
    reference = models.CharField(max_length=100)
    charge_reference = models.CharField(max_length=100, blank=True)
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    reason = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    amount = money_property("amount_minor")

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "gateway", "reference"], name="dispute_unique"),
        ]

    def __str__(self) -> str:
        return f"Dispute {self.reference}"


class CardRefund(TenantModel):
    """A refund to the card staff asked for, written (pending) before the gateway is called.

    The pending row reserves its amount of the payment: a second staff member (or a double click with
    another form) sees it as taken and cannot refund the same money twice. The form's one-time token
    is unique, so the same submission twice finds this row instead of asking the gateway again.
    The gateway's idempotency key derives from the row (`refund:<payment id>:<row id>`), so a retry
    after a crash refunds once. Booked as the ledger's `Refund` once the gateway has refunded."""

    organization = tenancy.organization_key()  # led by the indexes and constraints below

    class Status(models.TextChoices):
        PENDING = "pending", _("Processing")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Failed")

    payment = models.ForeignKey("billing.Payment", on_delete=models.PROTECT, related_name="card_refunds")
    form_token = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=100, blank=True)
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    gateway = models.CharField(max_length=20)
    gateway_reference = models.CharField(max_length=100, blank=True)  # re_…
    failure_message = models.CharField(max_length=300, blank=True)
    refund = models.OneToOneField(
        "billing.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="card_refund"
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
                fields=["organization", "form_token"], name="card_refund_form_token_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="card_refund_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.idempotency_key or f"Card refund {self.pk}"
