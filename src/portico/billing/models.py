"""The ledger: invoices, credit notes, payments and how money moved between them.

Invariants (DESIGN.md "Money and ledger invariants"), stated here as database constraints where a
single row can state them; the services keep the sums across rows:
  invoice.balance = total − paid − credited ≥ 0
  payment.amount = allocated + unused + refunded
  credit_note.total = applied + remaining + refunded
Totals are stored when a document is finalized and never edited in place afterwards.

The ledger's rules are defined here, once: which invoices are open, outstanding and overdue
(`Invoice` properties and the same rules as `Invoice.objects` queries and `Q` conditions), and what
each document allows now (`can_*`, `allowed_actions()`), which the services' guards and the
console's buttons both ask. (Longer than 500 lines for that reason: a document's rules sit beside
its fields.)

Why one module: the ledger's models are read together — an invoice's balance, its allocations,
credit applications and refunds are stated by constraints and querysets that name each other.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from portico.core import tenancy
from portico.core.fields import PublicIdField, money_property
from portico.core.tenancy import TenantManager, TenantModel, TenantQuerySet, TenantSettingsModel
from portico.customers.models import new_public_id

# A document number is part of its portal address (/portal/invoices/INV-00042/), so a prefix keeps to
# characters that read the same in a URL, a file name and a bank transfer reference.
number_prefix_validator = RegexValidator(
    r"^[A-Za-z0-9._-]*$",
    _("Use letters, digits, dashes (-), dots (.) and underscores (_) only."),
)


class BillingSettings(TenantSettingsModel):
    organization = models.OneToOneField("core.Organization", on_delete=models.CASCADE, related_name="billing")
    invoice_prefix = models.CharField(max_length=20, default="INV-", validators=[number_prefix_validator])
    credit_note_prefix = models.CharField(max_length=20, default="CN-", validators=[number_prefix_validator])
    payment_prefix = models.CharField(max_length=20, default="PAY-", validators=[number_prefix_validator])
    number_digits = models.PositiveSmallIntegerField(default=5)
    auto_apply_credits = models.BooleanField(
        default=False, help_text=_("Apply unused credits and advances to new invoices automatically.")
    )

    class Meta(TenantSettingsModel.Meta):
        verbose_name = _("billing settings")
        verbose_name_plural = _("billing settings")

    def __str__(self) -> str:
        return f"Billing settings of {self.organization}"


class NumberSequence(TenantModel):
    """A gapless per-organization counter; taken under a row lock when a document is finalized."""

    organization = tenancy.organization_key()  # led by the indexes and constraints below

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")
        PAYMENT = "payment", _("Payment")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    next_value = models.PositiveBigIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "kind"], name="one_sequence_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.next_value}"


class LineFields(models.Model):
    """A line's inputs and its amounts, rounded once per line (half-up), tax per line."""

    position = models.PositiveIntegerField(default=0)
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=14, decimal_places=4, default=1)
    unit_price_minor = models.BigIntegerField()
    discount_percent = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    tax_name = models.CharField(max_length=64, blank=True)
    tax_rate = models.DecimalField(
        max_digits=7, decimal_places=4, default=0, help_text=_("Percent, e.g. 8.25")
    )
    tax_inclusive = models.BooleanField(default=False)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    # computed by billing.services when the line is saved
    discount_minor = models.BigIntegerField(default=0)
    net_minor = models.BigIntegerField(default=0, help_text=_("After discount, before tax"))
    tax_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField(default=0, help_text=_("After discount, with tax"))

    class Meta:
        abstract = True
        ordering = ["position", "id"]


class InvoiceQuerySet(TenantQuerySet):
    """The ledger's named states as queries, each the same rule as the `Invoice` property beside it."""

    def issued(self) -> InvoiceQuerySet:
        """Finalized invoices, void ones included (drafts are nobody's business but staff's)."""
        return self.exclude(status=Invoice.Status.DRAFT)

    def open(self) -> InvoiceQuerySet:
        """`Invoice.is_open`: issued, neither paid nor void."""
        return self.filter(open_condition())

    def outstanding(self) -> InvoiceQuerySet:
        """`Invoice.is_outstanding`: open with money still due."""
        return self.filter(outstanding_condition())

    def overdue(self, on: dt.date) -> InvoiceQuerySet:
        """`Invoice.is_overdue_on(on)`: outstanding and due before `on` (the organization's date)."""
        return self.filter(overdue_condition(on))

    def due(self, on: dt.date) -> InvoiceQuerySet:
        """Outstanding and not overdue on `on`: due today or later (or with no due date)."""
        return self.filter(due_condition(on))


# The same rules as conditions, for aggregates (`Sum(..., filter=overdue_condition(today))`).


def open_condition() -> Q:
    return Q(status__in=Invoice.OPEN_STATUSES)


def outstanding_condition() -> Q:
    return open_condition() & Q(balance_minor__gt=0)


def overdue_condition(on: dt.date) -> Q:
    return outstanding_condition() & Q(due_date__lt=on)


def due_condition(on: dt.date) -> Q:
    return outstanding_condition() & (Q(due_date__gte=on) | Q(due_date__isnull=True))


class Invoice(TenantModel):
    organization = tenancy.organization_key()  # led by the indexes and constraints below

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")
        VOID = "void", _("Void")

    # The one definition of "open": issued and not yet settled (paid) or cancelled (void).
    OPEN_STATUSES = (Status.OPEN, Status.PARTIALLY_PAID)

    class Action(models.TextChoices):
        """What staff can do with an invoice; `allowed_actions()` says which apply now."""

        FINALIZE = "finalize", _("Finalize")
        DELETE = "delete", _("Delete draft")
        SEND = "send", _("Send")
        RECORD_PAYMENT = "record_payment", _("Record payment")
        CREDIT = "credit", _("Issue credit note")
        VOID = "void", _("Void")

    objects = TenantManager.from_queryset(InvoiceQuerySet)()
    all_tenants = models.Manager.from_queryset(InvoiceQuerySet)()

    class Source(models.TextChoices):
        ONE_TIME = "one_time", _("One-time")
        SUBSCRIPTION = "subscription", _("Subscription")
        PROJECT = "project", _("Project")

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="invoices")
    # What the API names the invoice by from its creation on (`in_…`); drafts have no number yet.
    public_id = PublicIdField()
    number = models.CharField(max_length=40, blank=True, help_text=_("Assigned when finalized"))
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.ONE_TIME)
    currency = models.CharField(max_length=3)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    purchase_order = models.CharField(max_length=64, blank=True)
    memo = models.TextField(blank=True)

    subtotal_minor = models.BigIntegerField(default=0, help_text=_("Σ line net, before discount"))
    discount_minor = models.BigIntegerField(default=0)
    tax_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField(default=0)
    paid_minor = models.BigIntegerField(default=0)
    credited_minor = models.BigIntegerField(default=0)
    balance_minor = models.BigIntegerField(default=0)

    # snapshot of the customer at finalization
    bill_to_name = models.CharField(max_length=200, blank=True)
    bill_to_address = models.JSONField(default=dict, blank=True)
    bill_to_tax_id = models.CharField(max_length=64, blank=True)
    bill_to_email = models.EmailField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=200, blank=True)
    pdf = models.FileField(upload_to="invoices/%Y/%m/", blank=True)

    subtotal = money_property("subtotal_minor")
    discount = money_property("discount_minor")
    tax = money_property("tax_minor")
    total = money_property("total_minor")
    paid = money_property("paid_minor")
    credited = money_property("credited_minor")
    balance = money_property("balance_minor")

    class Meta:
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], condition=~Q(number=""), name="invoice_number_unique"
            ),
            models.CheckConstraint(condition=Q(balance_minor__gte=0), name="invoice_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(total_minor__gte=0) & Q(paid_minor__gte=0) & Q(credited_minor__gte=0),
                name="invoice_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(balance_minor=F("total_minor") - F("paid_minor") - F("credited_minor"))
                | Q(status="draft")
                | Q(status="void"),
                name="invoice_balance_is_total_less_payments_and_credits",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "customer", "status", "due_date"]),
            models.Index(fields=["organization", "customer", "-issue_date"]),
            # Statements: the currencies a customer has, and sums before a date, from the index alone
            # (the INCLUDE columns are a PostgreSQL feature; elsewhere it is a plain index).
            models.Index(
                fields=["organization", "customer", "currency", "issue_date"],
                include=["total_minor", "status", "voided_at"],
                name="invoice_statement_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_outstanding(self) -> bool:
        """Open with money still due (`Invoice.objects.outstanding()`)."""
        return self.is_open and self.balance_minor > 0

    def is_overdue_on(self, today: dt.date) -> bool:
        """Overdue is derived: open, balance > 0, due date before today (in the organization's zone).
        `Invoice.objects.overdue(today)` is the same rule as a query."""
        return self.is_outstanding and self.due_date is not None and self.due_date < today

    # What may be done with the invoice now. The services refuse exactly what these refuse (with
    # their own errors), and the console offers exactly what these allow.

    def can_edit(self) -> bool:
        """Lines, terms and memo change while the invoice is a draft; issued, it is frozen."""
        return self.status == self.Status.DRAFT

    def can_finalize(self) -> bool:
        return self.status == self.Status.DRAFT

    def can_delete(self) -> bool:
        """A draft was never issued, so it is deleted; an issued invoice is voided instead."""
        return self.status == self.Status.DRAFT

    def can_send(self) -> bool:
        return self.status not in (self.Status.DRAFT, self.Status.VOID)

    def can_record_payment(self) -> bool:
        """Payments and credits are taken by open invoices only."""
        return self.is_open

    def can_credit(self) -> bool:
        """A credit note corrects an issued invoice that is not void."""
        return self.status not in (self.Status.DRAFT, self.Status.VOID)

    def can_void(self) -> bool:
        """Only an issued invoice nobody has paid or credited yet is voided (drafts are deleted)."""
        return (
            self.status not in (self.Status.DRAFT, self.Status.VOID)
            and not self.paid_minor
            and not self.credited_minor
        )

    def allowed_actions(self) -> frozenset[str]:
        return frozenset(action.value for action in self.Action if getattr(self, f"can_{action.value}")())

    def days_overdue_on(self, today: dt.date) -> int:
        return (today - self.due_date).days if self.is_overdue_on(today) else 0


class InvoiceLine(LineFields):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")

    net = money_property("net_minor", "invoice_currency")
    tax = money_property("tax_minor", "invoice_currency")
    total = money_property("total_minor", "invoice_currency")

    class Meta(LineFields.Meta):
        pass

    def __str__(self) -> str:
        return self.description

    @property
    def invoice_currency(self) -> str:
        return self.invoice.currency


class CreditNote(TenantModel):
    organization = tenancy.organization_key()  # led by the indexes and constraints below

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")  # has remaining credit
        CLOSED = "closed", _("Fully used")
        VOID = "void", _("Void")

    class Action(models.TextChoices):
        """What staff can do with a credit note; `allowed_actions()` says which apply now."""

        FINALIZE = "finalize", _("Finalize")
        DELETE = "delete", _("Delete draft")
        APPLY = "apply", _("Apply to an invoice")
        REFUND = "refund", _("Refund")
        VOID = "void", _("Void")

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="credit_notes")
    public_id = PublicIdField()  # what the API names it by (`cn_…`), drafts included
    invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        help_text=_("The invoice this credit note corrects, if any"),
    )
    number = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3)
    issue_date = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    subtotal_minor = models.BigIntegerField(default=0)
    tax_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField(default=0)
    applied_minor = models.BigIntegerField(default=0)
    refunded_minor = models.BigIntegerField(default=0)
    remaining_minor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    pdf = models.FileField(upload_to="credit-notes/%Y/%m/", blank=True)

    total = money_property("total_minor")
    applied = money_property("applied_minor")
    refunded = money_property("refunded_minor")
    remaining = money_property("remaining_minor")

    class Meta:
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], condition=~Q(number=""), name="credit_note_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(remaining_minor__gte=0), name="credit_note_remaining_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(applied_minor__gte=0) & Q(refunded_minor__gte=0),
                name="credit_note_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(total_minor=F("applied_minor") + F("remaining_minor") + F("refunded_minor"))
                | Q(status="draft")
                | Q(status="void"),
                name="credit_note_total_is_applied_remaining_refunded",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "customer", "-issue_date"]),
            # Credit notes with money left to apply, as the dashboard and auto-apply look for them.
            models.Index(
                fields=["organization", "customer", "currency"],
                include=["remaining_minor"],
                condition=Q(status="open", remaining_minor__gt=0),
                name="credit_note_remaining_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft credit #{self.pk}"

    # What may be done with the credit note now; the services and the console follow these.

    def can_edit(self) -> bool:
        return self.status == self.Status.DRAFT

    def can_finalize(self) -> bool:
        return self.status == self.Status.DRAFT

    def can_delete(self) -> bool:
        """A draft was never issued, so it is deleted, not voided (as invoices)."""
        return self.status == self.Status.DRAFT

    def can_apply(self) -> bool:
        """Only an open credit note has credit left (a used-up one is closed)."""
        return self.status == self.Status.OPEN

    def can_refund(self) -> bool:
        return self.status == self.Status.OPEN

    def can_void(self) -> bool:
        """An issued credit note none of whose credit was applied or refunded."""
        return self.status == self.Status.OPEN and not self.applied_minor and not self.refunded_minor

    def allowed_actions(self) -> frozenset[str]:
        return frozenset(action.value for action in self.Action if getattr(self, f"can_{action.value}")())


class CreditNoteLine(LineFields):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineFields.Meta):
        pass

    def __str__(self) -> str:
        return self.description


class Payment(TenantModel):
    """Money received from a customer. What is not allocated to invoices stays as an advance (unused)."""

    organization = tenancy.organization_key()  # led by the indexes and constraints below

    class Method(models.TextChoices):
        CARD = "card", _("Card")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CASH = "cash", _("Cash")
        CHECK = "check", _("Check")
        OTHER = "other", _("Other")

    class Channel(models.TextChoices):
        OFFLINE = "offline", _("Recorded by staff")
        ONLINE = "online", _("Paid online")

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="payments")
    public_id = PublicIdField()  # what the API names it by (`pay_…`)
    number = models.CharField(max_length=40)
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    allocated_minor = models.BigIntegerField(default=0)
    unused_minor = models.BigIntegerField(default=0)
    refunded_minor = models.BigIntegerField(default=0)
    method = models.CharField(max_length=20, choices=Method.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.OFFLINE)
    gateway = models.CharField(max_length=20, blank=True)
    gateway_reference = models.CharField(max_length=100, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    reference = models.CharField(max_length=100, blank=True, help_text=_("Cheque or transfer reference"))
    received_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    notes = models.TextField(blank=True)

    amount = money_property("amount_minor")
    allocated = money_property("allocated_minor")
    unused = money_property("unused_minor")
    refunded = money_property("refunded_minor")

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="payment_number_unique"),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="payment_idempotency_key_unique"
            ),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(unused_minor__gte=0), name="payment_unused_not_negative"),
            models.CheckConstraint(
                condition=Q(allocated_minor__gte=0) & Q(refunded_minor__gte=0),
                name="payment_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount_minor=F("allocated_minor") + F("unused_minor") + F("refunded_minor")),
                name="payment_amount_is_allocated_unused_refunded",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "customer", "-received_on"]),
            # Unused advances: the dashboard's "unused credits" and what auto-apply can spend.
            models.Index(
                fields=["organization", "customer", "currency"],
                include=["unused_minor"],
                condition=Q(unused_minor__gt=0),
                name="payment_unused_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def can_allocate(self) -> bool:
        """Only unused money (an advance) can still go to invoices or back to the customer."""
        return self.unused_minor > 0

    def can_refund(self) -> bool:
        return self.unused_minor > 0


class PaymentAllocation(TenantModel):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount_minor = models.BigIntegerField()
    allocated_at = models.DateTimeField()

    class Meta:
        ordering = ["allocated_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount_minor__gt=0), name="allocation_positive")]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.invoice_id}: {self.amount_minor}"


class CreditApplication(TenantModel):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="applications")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_applications")
    amount_minor = models.BigIntegerField()
    applied_at = models.DateTimeField()

    class Meta:
        ordering = ["applied_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="credit_application_positive")
        ]

    def __str__(self) -> str:
        return f"{self.credit_note_id} → {self.invoice_id}: {self.amount_minor}"


class Refund(TenantModel):
    """Money returned to a customer, out of a payment's unused amount or a credit note's remaining credit."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    credit_note = models.ForeignKey(
        CreditNote, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField()
    refunded_on = models.DateField()
    method = models.CharField(max_length=20, choices=Payment.Method.choices)
    gateway_reference = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    amount = money_property("amount_minor")

    class Meta:
        ordering = ["-refunded_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="refund_positive"),
            models.CheckConstraint(
                condition=(Q(payment__isnull=False) & Q(credit_note__isnull=True))
                | (Q(payment__isnull=True) & Q(credit_note__isnull=False)),
                name="refund_has_exactly_one_source",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount_minor} {self.currency}"


class StatementExport(TenantModel):
    """A statement PDF too long to render in a request, prepared by a worker (`billing.exports`).

    The portal addresses it by `public_id`; the file is written once, when it becomes ready, and
    never replaced. Only a ready export has a file (a failed one keeps its error instead).
    """

    organization = tenancy.organization_key()  # led by the indexes and constraints below

    class Status(models.TextChoices):
        QUEUED = "queued", _("Preparing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Could not be prepared")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="statement_exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    start = models.DateField()
    end = models.DateField()
    currency = models.CharField(max_length=3)
    line_count = models.PositiveIntegerField(
        help_text=_("Lines when requested; when ready, lines in the PDF")
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to="statements/%Y/%m/", blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="ready") & ~Q(file="")) | (~Q(status="ready") & Q(file="")),
                name="statement_export_file_only_when_ready",
            ),
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="statement_export_period_in_order"),
        ]
        indexes = [models.Index(fields=["organization", "customer", "-created_at"])]

    def __str__(self) -> str:
        return f"Statement {self.start} – {self.end} ({self.currency})"

    @property
    def filename(self) -> str:
        return f"statement-{self.start}-{self.end}.pdf"
