"""Projects billed by milestones or by the hour: tasks, staff and their rates, time entries, milestones.

Invariants stated as constraints where one row can state them:
  a time entry's hours are > 0 and ≤ 24; it is `invoiced` exactly when it names the invoice line
  that billed it; approved and invoiced entries carry when they were approved; a disputed one
  carries the customer's comment;
  a milestone is `invoiced` exactly when it names its invoice; its amount is > 0;
  a project's budget is stated in the unit its kind says (money or hours), and a project billed at
  a project rate has one.
Who may change what, and billing each entry or milestone at most once, are the services' rules
(`projects.services`); the states allowed now are the `can_*` methods below, which the services'
guards and the console's buttons both ask.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from portico.core import tenancy
from portico.core.fields import PublicIdField, money_property
from portico.core.tenancy import TenantModel


class Project(TenantModel):
    """Work done for one customer, billed by milestones (fixed price) or by the hour."""

    organization = tenancy.organization_key()  # led by the constraint and index below

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ON_HOLD = "on_hold", _("On hold")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    class BudgetKind(models.TextChoices):
        NONE = "none", _("No budget")
        MONEY = "money", _("Amount")
        HOURS = "hours", _("Hours")

    class BillingMethod(models.TextChoices):
        FIXED = "fixed", _("Fixed price, by milestones")
        PROJECT_RATE = "project_rate", _("Hourly, one rate for the project")
        TASK_RATE = "task_rate", _("Hourly, a rate per task")
        STAFF_RATE = "staff_rate", _("Hourly, a rate per staff member")

    class Grouping(models.TextChoices):
        """How approved time becomes invoice lines: one line per task, per staff member or per entry
        (each line further split by rate, so that every line is hours × one rate)."""

        TASK = "task", _("One line per task")
        STAFF = "staff", _("One line per staff member")
        ENTRY = "entry", _("One line per time entry")

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="projects")
    public_id = PublicIdField()  # the API's `prj_…`
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    currency = models.CharField(_("currency"), max_length=3)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)

    budget_kind = models.CharField(
        _("budget"), max_length=10, choices=BudgetKind.choices, default=BudgetKind.NONE
    )
    budget_minor = models.BigIntegerField(_("budget amount"), null=True, blank=True)
    budget_hours = models.DecimalField(
        _("budget hours"), max_digits=10, decimal_places=2, null=True, blank=True
    )

    billing_method = models.CharField(
        _("billing method"), max_length=20, choices=BillingMethod.choices, default=BillingMethod.PROJECT_RATE
    )
    rate_minor = models.BigIntegerField(
        _("hourly rate"),
        null=True,
        blank=True,
        help_text=_("The project's rate; the fallback of task and staff rates"),
    )
    invoice_grouping = models.CharField(
        _("invoice lines"), max_length=10, choices=Grouping.choices, default=Grouping.TASK
    )
    requires_customer_approval = models.BooleanField(
        _("customer approves hours"),
        default=False,
        help_text=_("Time is invoiced only once the customer (or staff for them) has approved it."),
    )
    tax_rate = models.ForeignKey(
        "catalog.TaxRate", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    budget = money_property("budget_minor")
    rate = money_property("rate_minor")

    class Meta:
        ordering = ["code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="project_code_unique"),
            models.CheckConstraint(
                condition=(
                    Q(budget_kind="none") & Q(budget_minor__isnull=True) & Q(budget_hours__isnull=True)
                )
                | (Q(budget_kind="money") & Q(budget_minor__gt=0) & Q(budget_hours__isnull=True))
                | (Q(budget_kind="hours") & Q(budget_hours__gt=0) & Q(budget_minor__isnull=True)),
                name="project_budget_in_its_kind",
            ),
            models.CheckConstraint(
                condition=~Q(billing_method="project_rate") | Q(rate_minor__isnull=False),
                name="project_rate_billing_has_a_rate",
            ),
            models.CheckConstraint(
                condition=Q(rate_minor__isnull=True) | Q(rate_minor__gte=0), name="project_rate_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="project_dates_in_order",
            ),
        ]
        indexes = [models.Index(fields=["organization", "customer", "status"])]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def is_hourly(self) -> bool:
        return self.billing_method != self.BillingMethod.FIXED

    def can_log_time(self) -> bool:
        """Time is logged on active projects only (on hold, completed and cancelled ones are closed)."""
        return self.status == self.Status.ACTIVE


class Task(TenantModel):
    """A piece of a project's work; time is logged against it. Its rate applies under task billing."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks", db_index=False)
    public_id = PublicIdField()  # `tsk_…`
    name = models.CharField(_("name"), max_length=200)
    rate_minor = models.BigIntegerField(_("hourly rate"), null=True, blank=True)
    is_billable = models.BooleanField(_("billable"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="task_name_unique_per_project"),
            models.CheckConstraint(
                condition=Q(rate_minor__isnull=True) | Q(rate_minor__gte=0), name="task_rate_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StaffMember(TenantModel):
    """Someone of the business whose time is logged (an employee or contractor, with or without a login)."""

    organization = tenancy.organization_key()  # led by the constraint below

    public_id = PublicIdField()  # `stf_…`
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), help_text=_("Stored lowercase"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_rate_minor = models.BigIntegerField(_("default hourly rate"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "email"], name="staff_member_email_unique"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(user__isnull=False), name="staff_member_one_per_user"
            ),
            models.CheckConstraint(
                condition=Q(default_rate_minor__isnull=True) | Q(default_rate_minor__gte=0),
                name="staff_member_rate_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProjectMember(TenantModel):
    """A staff member on a project, with the rate the project bills their hours at (staff billing);
    with no rate of its own, the staff member's default rate applies."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="members", db_index=False)
    staff_member = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="memberships")
    rate_minor = models.BigIntegerField(_("hourly rate"), null=True, blank=True)

    class Meta:
        ordering = ["staff_member__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "staff_member"], name="project_member_once"),
            models.CheckConstraint(
                condition=Q(rate_minor__isnull=True) | Q(rate_minor__gte=0),
                name="project_member_rate_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_member} on {self.project}"


class TimeEntry(TenantModel):
    """Hours one staff member spent on a task on one date.

    unapproved → approved → invoiced; unapproved → disputed (by the customer, with a comment) →
    unapproved again once staff resolve it. Voiding the invoice that billed it makes it approved
    again (`projects.services`, through billing's void hook)."""

    class State(models.TextChoices):
        UNAPPROVED = "unapproved", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        DISPUTED = "disputed", _("Disputed")
        INVOICED = "invoiced", _("Invoiced")

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="time_entries", db_index=False
    )
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="time_entries")
    staff_member = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="time_entries")
    public_id = PublicIdField()  # `te_…`
    date = models.DateField(_("date"))
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2)
    notes = models.TextField(_("notes"), blank=True)
    is_billable = models.BooleanField(_("billable"), default=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.UNAPPROVED)

    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by_contact = models.ForeignKey(
        "customers.ContactPerson", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dispute_comment = models.TextField(_("dispute"), blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    disputed_by_contact = models.ForeignKey(
        "customers.ContactPerson", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_comment = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    invoice_line = models.ForeignKey(
        "billing.InvoiceLine", null=True, blank=True, on_delete=models.PROTECT, related_name="time_entries"
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date", "id"]
        verbose_name_plural = _("time entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0) & Q(hours__lte=24), name="time_entry_hours_positive"
            ),
            models.CheckConstraint(
                condition=(Q(state="invoiced") & Q(invoice_line__isnull=False))
                | (~Q(state="invoiced") & Q(invoice_line__isnull=True)),
                name="time_entry_invoiced_names_its_line",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["approved", "invoiced"]) | Q(approved_at__isnull=False),
                name="time_entry_approved_has_a_time",
            ),
            models.CheckConstraint(
                condition=~Q(state="disputed") | ~Q(dispute_comment=""),
                name="time_entry_dispute_has_a_comment",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "date"]),
            models.Index(fields=["project", "state", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.hours} h {self.task_id}"

    # What may be done with the entry now; the services refuse exactly what these refuse.

    def can_edit(self) -> bool:
        """Hours, task, date and notes change until the entry is approved (or while disputed, by
        resolving the dispute)."""
        return self.state == self.State.UNAPPROVED

    def can_delete(self) -> bool:
        return self.state in (self.State.UNAPPROVED, self.State.DISPUTED)

    def can_approve(self) -> bool:
        return self.state == self.State.UNAPPROVED

    def can_dispute(self) -> bool:
        """The customer disputes what they have not approved yet (approved time may be invoiced)."""
        return self.state == self.State.UNAPPROVED

    def can_resolve(self) -> bool:
        return self.state == self.State.DISPUTED

    @property
    def is_billed(self) -> bool:
        return self.state == self.State.INVOICED


class Milestone(TenantModel):
    """A fixed amount of a project, invoiced once it is due.

    Stored status: pending → due (staff mark the work delivered) → invoiced (voiding the invoice
    makes it due again). `paid` is derived from its invoice (`display_status`)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DUE = "due", _("Due")
        INVOICED = "invoiced", _("Invoiced")
        PAID = "paid", _("Paid")  # derived, never stored

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="milestones", db_index=False)
    public_id = PublicIdField()  # `ms_…`
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    amount_minor = models.BigIntegerField(_("amount"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="milestones"
    )
    invoice_line = models.ForeignKey(
        "billing.InvoiceLine", null=True, blank=True, on_delete=models.PROTECT, related_name="milestones"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="milestone_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "due", "invoiced"]), name="milestone_paid_is_derived"
            ),
            models.CheckConstraint(
                condition=(Q(status="invoiced") & Q(invoice__isnull=False) & Q(invoice_line__isnull=False))
                | (~Q(status="invoiced") & Q(invoice__isnull=True) & Q(invoice_line__isnull=True)),
                name="milestone_invoiced_names_its_invoice",
            ),
        ]
        indexes = [models.Index(fields=["project", "due_date"])]

    def __str__(self) -> str:
        return self.name

    @property
    def amount_currency(self) -> str:
        return self.project.currency

    amount = money_property("amount_minor", "amount_currency")

    @property
    def display_status(self) -> str:
        """The stored status, or `paid` once its invoice is paid (loads the invoice: select it)."""
        if self.status == self.Status.INVOICED and self.invoice.status == "paid":
            return self.Status.PAID
        return self.status

    def can_edit(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.DUE)

    def can_mark_due(self) -> bool:
        return self.status == self.Status.PENDING


class ProjectInvoice(TenantModel):
    """An invoice a project issued (`invoice_project`): which project, for which period, grouped how.
    The project's billed, paid and outstanding amounts are its invoices' ledger amounts."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="project_invoices")
    invoice = models.OneToOneField(
        "billing.Invoice", on_delete=models.PROTECT, related_name="project_invoice"
    )
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    grouping = models.CharField(max_length=10, choices=Project.Grouping.choices)
    hours = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.project} · {self.invoice}"
