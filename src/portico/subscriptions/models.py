"""Subscriptions: a customer's plan (with quantity), recurring addons, coupon redemptions, the
periods billed (stored rows, one per subscription and start, so the database forbids billing a
period twice), scheduled changes, and the organization's subscription settings.

Dates are the organization's local dates; periods and terms are [start, end) (end exclusive).
Every change goes through `subscriptions.services` (validated, locked, audited).
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from portico.core import tenancy
from portico.core.fields import PublicIdField
from portico.core.tenancy import TenantModel, TenantSettingsModel


class Status(models.TextChoices):
    FUTURE = "future", _("Future")
    IN_TRIAL = "in_trial", _("In trial")
    LIVE = "live", _("Live")
    NON_RENEWING = "non_renewing", _("Cancels at term end")
    PAUSED = "paused", _("Paused")
    UNPAID = "unpaid", _("Unpaid")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


# States in which the bill run has something to do on `next_billing_on`.
BILLABLE_STATUSES = (Status.FUTURE, Status.IN_TRIAL, Status.LIVE, Status.NON_RENEWING, Status.PAUSED)
ENDED_STATUSES = (Status.CANCELLED, Status.EXPIRED)


class ProrationMode(models.TextChoices):
    INVOICE_NOW = "invoice_now", _("Prorate and invoice now")
    NEXT_RENEWAL = "next_renewal", _("Prorate onto the next renewal invoice")
    NONE = "none", _("No proration")


class DowngradeTiming(models.TextChoices):
    NOW = "now", _("Immediately")
    TERM_END = "term_end", _("At the end of the term")
    CUSTOMER_CHOOSES = "customer_chooses", _("The customer chooses (now or at the end of the term)")


class DunningFinalAction(models.TextChoices):
    MARK_UNPAID = "mark_unpaid", _("Mark the subscription unpaid")
    CANCEL = "cancel", _("Cancel the subscription")


# The portal's subscription actions; each is a portal capability ("subscriptions.<action>", declared
# in `subscriptions/capabilities.py`) that a portal configuration may switch off.
PORTAL_ACTIONS = (
    "convert_trial",
    "extend_trial",
    "cancel_trial",
    "change_plan",
    "change_quantity",
    "add_addon",
    "remove_addon",
    "redeem_coupon",
    "pause",
    "resume",
    "cancel",
    "undo_cancel",
    "reactivate",
    "auto_charge",
)


def default_portal_actions() -> list[str]:
    """The default of a field that is gone (its data moved to the portal configurations, portal 0006);
    migration 0001 still names it."""
    return list(PORTAL_ACTIONS)


def default_cancellation_reasons() -> list[str]:
    return ["Too expensive", "Missing features", "Switching to another product", "No longer needed", "Other"]


def default_dunning_days() -> list[int]:
    return [1, 3, 5]


class SubscriptionSettings(TenantSettingsModel):
    """How an organization's subscriptions behave (edited in the console, stored as data)."""

    organization = models.OneToOneField(
        "core.Organization", on_delete=models.CASCADE, related_name="subscription_settings"
    )
    number_prefix = models.CharField(_("subscription number prefix"), max_length=20, default="SUB-")
    number_digits = models.PositiveSmallIntegerField(default=5)
    next_number = models.PositiveBigIntegerField(
        default=1, editable=False, help_text=_("Taken under a row lock (unique, not gapless).")
    )
    proration_mode = models.CharField(
        _("proration"), max_length=16, choices=ProrationMode.choices, default=ProrationMode.INVOICE_NOW
    )
    downgrade_timing = models.CharField(
        _("downgrades apply"),
        max_length=16,
        choices=DowngradeTiming.choices,
        default=DowngradeTiming.TERM_END,
    )
    end_trial_on_change = models.BooleanField(_("a plan change ends the trial"), default=False)
    max_trial_extension_days = models.PositiveIntegerField(
        _("maximum trial extension (days)"), default=30, validators=[MaxValueValidator(3650)]
    )
    credit_on_immediate_cancel = models.BooleanField(
        _("credit the unused part when cancelling immediately"), default=True
    )
    cancellation_reasons = models.JSONField(_("cancellation reasons"), default=default_cancellation_reasons)
    retention_coupon = models.ForeignKey(
        "catalog.Coupon",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("retention offer"),
    )
    dunning_retry_days = models.JSONField(
        _("retry a failed charge after (days)"), default=default_dunning_days
    )
    dunning_final_action = models.CharField(
        _("after the last retry"),
        max_length=16,
        choices=DunningFinalAction.choices,
        default=DunningFinalAction.MARK_UNPAID,
    )
    renewal_notice_days = models.PositiveSmallIntegerField(
        _("upcoming renewal notice (days before)"), default=7
    )
    trial_ending_notice_days = models.PositiveSmallIntegerField(
        _("trial ending notice (days before)"), default=3
    )

    class Meta(TenantSettingsModel.Meta):
        verbose_name = _("subscription settings")
        verbose_name_plural = _("subscription settings")

    def __str__(self) -> str:
        return f"Subscription settings of {self.organization}"


class Subscription(TenantModel):
    organization = tenancy.organization_key()  # led by the indexes and constraints below
    Status = Status

    number = models.CharField(_("number"), max_length=40)
    public_id = PublicIdField()  # the API's `sub_…` (paths take the number too)
    # No index of its own: subscription_customer_idx leads with it.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="subscriptions", db_index=False
    )
    plan = models.ForeignKey("catalog.Plan", on_delete=models.PROTECT, related_name="subscriptions")
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.FUTURE)

    start_date = models.DateField(_("starts on"))
    trial_start = models.DateField(null=True, blank=True)
    trial_end = models.DateField(null=True, blank=True, help_text=_("The first day after the trial."))
    trial_extended_days = models.PositiveIntegerField(default=0)
    current_term_start = models.DateField(null=True, blank=True)
    current_term_end = models.DateField(null=True, blank=True, help_text=_("Exclusive."))
    anchor_day = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    next_billing_on = models.DateField(
        null=True, blank=True, help_text=_("When the bill run next has something to do.")
    )
    cycles_billed = models.PositiveIntegerField(default=0)
    billing_cycles = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Empty: until cancelled.")
    )
    auto_charge = models.BooleanField(_("charge automatically"), default=False)

    paused_on = models.DateField(null=True, blank=True)
    resume_on = models.DateField(null=True, blank=True, help_text=_("Empty while paused: indefinitely."))

    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_on = models.DateField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    cancel_comment = models.TextField(blank=True)
    retention_offered_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the retention offer was shown (it is shown once).")
    )
    unused_credited = models.BooleanField(
        default=False, help_text=_("Cancelled with the unused part of the term credited.")
    )
    # The coupon redemption that discounted the current term (None: none did). What the term was paid
    # is what its unused part credits back, whatever the coupon has become since (used up, or a new
    # one redeemed mid-term, which applies from the next invoice only).
    term_redemption = models.ForeignKey(
        "CouponRedemption",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The coupon redemption that discounted the current term."),
        db_index=False,  # a partial index below: most subscriptions have none
    )

    # staff-only price override (replaces the plan's price for this subscription)
    price_override_minor = models.BigIntegerField(null=True, blank=True)
    unit_price_override = models.DecimalField(max_digits=19, decimal_places=6, null=True, blank=True)

    # proration lines waiting for the next renewal invoice (proration mode "next_renewal")
    deferred_lines = models.JSONField(default=list, blank=True)

    # dunning
    dunning_attempts = models.PositiveSmallIntegerField(default=0)
    dunning_invoice = models.ForeignKey(  # a partial index below: set only while in dunning
        "billing.Invoice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    next_retry_on = models.DateField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="subscription_number_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="subscription_quantity_positive"),
            models.CheckConstraint(
                condition=Q(current_term_start__isnull=True)
                | Q(current_term_end__isnull=True)
                | Q(current_term_end__gt=F("current_term_start")),
                name="subscription_term_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(trial_start__isnull=True)
                | Q(trial_end__isnull=True)
                | Q(trial_end__gte=F("trial_start")),
                name="subscription_trial_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(anchor_day__isnull=True) | (Q(anchor_day__gte=1) & Q(anchor_day__lte=31)),
                name="subscription_anchor_day_in_month",
            ),
            models.CheckConstraint(
                condition=Q(billing_cycles__isnull=True) | Q(billing_cycles__gte=1),
                name="subscription_billing_cycles_positive",
            ),
            models.CheckConstraint(
                condition=Q(price_override_minor__isnull=True) | Q(price_override_minor__gte=0),
                name="subscription_price_override_not_negative",
            ),
        ]
        indexes = [
            # the bill run: due work of one organization, in the order it is claimed (an index scan
            # that stops after a batch, however many are due), and across organizations
            models.Index(
                fields=["organization", "next_billing_on", "id"],
                condition=Q(status__in=BILLABLE_STATUSES),
                name="subscription_billable_due_idx",
            ),
            # A customer's subscriptions (the customer names the organization). A renewal moves
            # next_billing_on, so every index here gets a new entry per renewal (no HOT update): the
            # foreign keys that are mostly empty have partial indexes, which empty rows skip.
            models.Index(fields=["customer", "status"], name="subscription_customer_idx"),
            models.Index(
                fields=["term_redemption"],
                condition=Q(term_redemption__isnull=False),
                name="subscription_redemption_idx",
            ),
            models.Index(
                fields=["dunning_invoice"],
                condition=Q(dunning_invoice__isnull=False),
                name="subscription_dunning_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_ended(self) -> bool:
        return self.status in ENDED_STATUSES


class SubscriptionItem(TenantModel):
    """A recurring addon of a subscription, with its quantity."""

    # No index of its own: a composite index or unique constraint leads with it.
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    addon = models.ForeignKey("catalog.Addon", on_delete=models.PROTECT, related_name="subscription_items")
    quantity = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "addon"], name="subscription_item_addon_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="subscription_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.addon} × {self.quantity}"


class CouponRedemption(TenantModel):
    """A coupon applied to a subscription; `cycles_left` None means forever."""

    class RedemptionStatus(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")
        REMOVED = "removed", _("Removed")

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="redemptions")
    coupon = models.ForeignKey("catalog.Coupon", on_delete=models.PROTECT, related_name="redemptions")
    code = models.ForeignKey(
        "catalog.CouponCode", null=True, blank=True, on_delete=models.PROTECT, related_name="redemptions"
    )
    cycles_left = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=RedemptionStatus.choices, default=RedemptionStatus.ACTIVE)
    redeemed_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"],
                condition=Q(status="active"),
                name="one_active_coupon_per_subscription",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coupon} on {self.subscription_id}"


class BillingPeriod(TenantModel):
    """A period [start, end) of a subscription that has been billed, and the invoice that billed it.

    UNIQUE(subscription, start): a second bill of the same period fails in the database."""

    # No index of its own: a composite index or unique constraint leads with it.
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="periods", db_index=False
    )
    start = models.DateField()
    end = models.DateField()
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="billing_periods"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["subscription", "start"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "start"], name="billing_period_once"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="billing_period_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.start}–{self.end}"


class ScheduledChange(TenantModel):
    """A change that takes effect on a date (applied by the bill run), cancellable until then."""

    class Kind(models.TextChoices):
        CHANGE = "change", _("Plan or quantity change")
        PAUSE = "pause", _("Pause")
        RESUME = "resume", _("Resume")
        CANCEL = "cancel", _("Cancel at term end")

    class ChangeStatus(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPLIED = "applied", _("Applied")
        CANCELLED = "cancelled", _("Cancelled")

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="scheduled_changes")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    effective_on = models.DateField()
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["effective_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "kind"],
                condition=Q(status="pending"),
                name="one_pending_change_per_kind",
            ),
        ]
        indexes = [models.Index(fields=["status", "effective_on"], name="scheduled_change_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.effective_on}"


class UsedFormToken(TenantModel):
    """A portal form's one-time token, written in the same transaction as the action it confirmed:
    a second submission of the same form (a double click, two tabs, a replay) finds it, changes
    nothing and is shown the first one's `result`. UNIQUE(organization, token): two submissions
    racing each other cannot both act."""

    organization = tenancy.organization_key()  # led by the indexes and constraints below

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="used_tokens")
    token = models.CharField(max_length=64)
    action = models.CharField(max_length=32)
    result = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "token"], name="subscription_form_token_once"),
        ]

    def __str__(self) -> str:
        return f"{self.action} ({self.token})"


class SubscriptionDocument(TenantModel):
    """An invoice or a credit note that a subscription service issued outside the bill run's renewals
    (proration, trial conversion, resume, reactivation, one-time addons, cancellation credits): the
    subscription's history is its periods' invoices and these rows, never a match on memo text.

    Exactly one of `invoice` and `credit_note`, as `kind` says; each document belongs to one
    subscription (UNIQUE on each)."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    invoice = models.OneToOneField(
        "billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="subscription_link"
    )
    credit_note = models.OneToOneField(
        "billing.CreditNote",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subscription_link",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        ordering = ["subscription", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="invoice") & Q(invoice__isnull=False) & Q(credit_note__isnull=True))
                | (Q(kind="credit_note") & Q(credit_note__isnull=False) & Q(invoice__isnull=True)),
                name="subscription_document_one_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.subscription_id}"
