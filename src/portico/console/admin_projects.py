"""Projects in the console: the list, a project's details, its tasks and its staff with their rates,
and the organization's staff members with their default rates.

Every change goes through `projects.services` (checked, locked, audited there): the project form
asks `check_project` while it validates, so a refusal shows on its field with what was typed kept;
a refusal that only shows under the service's lock is an error message and nothing is saved.
The project's own pages (the week grid for time, invoicing with its preview, the report) live in
`console.admin_project_time` and `console.admin_project_billing` and are served under this admin's
URLs, so `console.site` checks the role of each (`week` and `report` to see, `log_time`, `invoice`).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.accounts.models import User
from portico.catalog.models import TaxRate
from portico.console import admin_project_billing, admin_project_time
from portico.console.ledger_common import is_tenant_staff, object_tools
from portico.console.site import RefusalRedirectMixin, TenantAdmin, TenantInline, console_site, refused
from portico.core import tenancy
from portico.core.audit import Actor
from portico.core.errors import DomainError, add_domain_error
from portico.core.formfields import MoneyField
from portico.core.money import Money
from portico.customers.models import Customer
from portico.projects import services
from portico.projects.models import Project, ProjectMember, StaffMember, Task

URL_PREFIX = "projects_project_"


def money(value: Money | None) -> str:
    return value.format() if value is not None else "—"


def _rate_text(rate_minor: int | None, currency: str | None) -> str:
    if rate_minor is None or currency is None:
        return "—"
    return Money(rate_minor, currency).format()


# -- projects ---------------------------------------------------------------------------------------


class ProjectForm(forms.ModelForm):
    """A project's details; amounts in the project's currency (the customer's), parsed by `Money`."""

    budget = MoneyField(label=gettext_lazy("Budget amount"), required=False)
    rate = MoneyField(
        label=gettext_lazy("Hourly rate"),
        required=False,
        help_text=gettext_lazy("The project's rate; the fallback of task and staff rates."),
    )
    budget_hours = forms.DecimalField(
        label=gettext_lazy("Budget hours"), required=False, min_value=0, max_digits=10, decimal_places=2
    )

    class Meta:
        model = Project
        fields = [
            "customer",
            "code",
            "name",
            "description",
            "status",
            "start_date",
            "end_date",
            "budget_kind",
            "budget_hours",
            "billing_method",
            "invoice_grouping",
            "requires_customer_approval",
            "tax_rate",
        ]

    field_order = [
        "customer",
        "code",
        "name",
        "description",
        "status",
        "start_date",
        "end_date",
        "billing_method",
        "rate",
        "invoice_grouping",
        "requires_customer_approval",
        "tax_rate",
        "budget_kind",
        "budget",
        "budget_hours",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "customer" in self.fields:
            self.fields["customer"].queryset = Customer.objects.filter(is_active=True)
        if "tax_rate" in self.fields:
            self.fields["tax_rate"].queryset = TaxRate.objects.filter(is_active=True)
        currency = self._currency()
        for name in ("budget", "rate"):
            if name in self.fields:
                self.fields[name].currency = currency
        project = self.instance
        if project.pk:
            if project.budget_minor is not None:
                self.initial.setdefault("budget", Money(project.budget_minor, project.currency))
            if project.rate_minor is not None:
                self.initial.setdefault("rate", Money(project.rate_minor, project.currency))

    def _currency(self) -> str:
        """The project's currency: its own once created, else the chosen customer's."""
        if self.instance.pk:
            return self.instance.currency
        chosen = self.data.get(self.add_prefix("customer")) if self.is_bound else None
        customer = Customer.objects.filter(pk=chosen).first() if str(chosen or "").isdigit() else None
        if customer is not None:
            return customer.currency
        organization = tenancy.current_organization()
        return organization.base_currency if organization is not None else "USD"

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {name: data.get(name) for name in services.PROJECT_FIELDS if name in data}

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        customer = self.instance.customer if self.instance.pk else cleaned.get("customer")
        values = self.service_values()
        if values.get("description") is None:
            values["description"] = ""
        try:
            services.check_project(
                customer=customer, project=self.instance if self.instance.pk else None, **values
            )
        except DomainError as error:
            add_domain_error(self, error)
        return cleaned

    def _post_clean(self):
        """The services check the row (`check_project` above), and save it: the model form only
        collects the values."""


class TaskForm(forms.ModelForm):
    rate = MoneyField(label=gettext_lazy("Hourly rate"), required=False)

    class Meta:
        model = Task
        fields = ["name", "is_billable", "is_active"]

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        if "rate" in self.fields:
            self.fields["rate"].currency = currency
        if self.instance.pk and self.instance.rate_minor is not None:
            self.initial.setdefault("rate", Money(self.instance.rate_minor, currency))


class MemberForm(forms.ModelForm):
    rate = MoneyField(
        label=gettext_lazy("Hourly rate on this project"),
        required=False,
        help_text=gettext_lazy("Empty: the staff member's default rate."),
    )

    class Meta:
        model = ProjectMember
        fields = ["staff_member"]

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        if "rate" in self.fields:
            self.fields["rate"].currency = currency
        if "staff_member" in self.fields:
            self.fields["staff_member"].queryset = StaffMember.objects.filter(is_active=True)
        if self.instance.pk and self.instance.rate_minor is not None:
            self.initial.setdefault("rate", Money(self.instance.rate_minor, currency))


class ProjectFormSet(BaseInlineFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "currency": self.instance.currency or "USD"}


class TaskInline(TenantInline):
    """A project's tasks; a task with logged time is closed (inactive), never deleted."""

    model = Task
    form = TaskForm
    formset = ProjectFormSet
    fields = ["name", "rate", "is_billable", "is_active"]
    can_delete = False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("Hourly rate"))
    def rate(self, task):
        return _rate_text(task.rate_minor, task.project.currency if task.pk else None)


class MemberInline(TenantInline):
    """The staff on a project and the rate each bills at here (staff billing)."""

    model = ProjectMember
    form = MemberForm
    formset = ProjectFormSet
    fields = ["staff_member", "rate"]
    verbose_name = gettext_lazy("staff member on the project")
    verbose_name_plural = gettext_lazy("staff on the project")

    @admin.display(description=gettext_lazy("Hourly rate on this project"))
    def rate(self, member):
        return _rate_text(member.rate_minor, member.project.currency if member.pk else None)


class StatusAndBillingFilter(admin.SimpleListFilter):
    """By billing method (the model's choices: fixed price, project, task or staff rate)."""

    title = gettext_lazy("billing method")
    parameter_name = "billing"

    def lookups(self, request, model_admin):
        return Project.BillingMethod.choices

    def queryset(self, request, queryset):
        if self.value() in Project.BillingMethod.values:
            return queryset.filter(billing_method=self.value())
        return queryset


@admin.register(Project, site=console_site)
class ProjectAdmin(RefusalRedirectMixin, TenantAdmin):
    form = ProjectForm
    inlines = [TaskInline, MemberInline]
    list_display = ["code", "name", "customer", "status", "billing_method", "budget_display", "start_date"]
    list_filter = ["status", StatusAndBillingFilter, "customer"]
    search_fields = ["code", "name", "customer__display_name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]

    def get_fields(self, request, obj=None):
        fields = list(ProjectForm.field_order)
        return fields if obj is None else [f for f in fields if f != "customer"]

    def get_readonly_fields(self, request, obj=None):
        return ["customer_display"] if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        fields = self.get_fields(request, obj)
        head = ["customer_display"] if obj is not None else []
        return [(None, {"fields": [*head, *fields]})]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False  # a project is closed (completed, cancelled), never deleted

    @admin.display(description=gettext_lazy("Customer"))
    def customer_display(self, obj):
        return str(obj.customer)

    @admin.display(description=gettext_lazy("Budget"))
    def budget_display(self, obj):
        if obj.budget_kind == Project.BudgetKind.MONEY:
            return money(obj.budget)
        if obj.budget_kind == Project.BudgetKind.HOURS:
            return _("%(hours)s h") % {"hours": obj.budget_hours}
        return "—"

    # -- saving through the services -----------------------------------------------------------

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        values = form.service_values()
        values["description"] = values.get("description") or ""
        try:
            if change:
                changed = {name: value for name, value in values.items() if name in form.changed_data}
                project = services.update_project(project=obj, actor=actor, **changed)
            else:
                project = services.create_project(
                    customer=form.cleaned_data["customer"], actor=actor, **values
                )
        except DomainError as error:
            refused(request, error)
            return
        obj.pk = project.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        if getattr(request, "_console_refused", False):
            return  # the project's own change was refused: nothing else is saved
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def save_formset(self, request, form, formset, change):
        actor = Actor.from_request(request)
        project = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for item in formset.forms:
            instance, data = item.instance, item.cleaned_data
            if not data:
                continue
            try:
                if formset.model is Task and item.has_changed():
                    self._save_task(project, item, actor)
                elif formset.model is ProjectMember:
                    self._save_member(project, item, formset, actor)
            except DomainError as error:
                refused(request, error, about=instance if instance.pk else None)

    def _save_task(self, project, item, actor):
        data = item.cleaned_data
        if item.instance.pk:
            services.update_task(
                task=item.instance,
                actor=actor,
                name=data["name"],
                rate=data.get("rate"),
                is_billable=data.get("is_billable", False),
                is_active=data.get("is_active", False),
            )
        else:
            task = services.create_task(
                project=project,
                name=data["name"],
                rate=data.get("rate"),
                is_billable=data.get("is_billable", False),
                actor=actor,
            )
            if not data.get("is_active", True):
                services.update_task(task=task, actor=actor, is_active=False)

    def _save_member(self, project, item, formset, actor):
        data, member = item.cleaned_data, item.instance
        stored = ProjectMember.objects.filter(pk=member.pk).select_related("staff_member").first()
        if stored is not None and formset._should_delete_form(item):
            services.remove_project_member(project=project, staff_member=stored.staff_member, actor=actor)
            return
        if not item.has_changed():
            return
        if stored is not None and stored.staff_member_id != data["staff_member"].pk:
            services.remove_project_member(project=project, staff_member=stored.staff_member, actor=actor)
        services.set_project_member(
            project=project, staff_member=data["staff_member"], rate=data.get("rate"), actor=actor
        )

    # -- the project's own pages --------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("report/", view(self.overview_view), name=f"{URL_PREFIX}overview"),
            path("<int:pk>/time/", view(self.week_view), name=f"{URL_PREFIX}week"),
            path("<int:pk>/time/save/", view(self.log_time_view), name=f"{URL_PREFIX}log_time"),
            path("<int:pk>/invoice/", view(self.invoice_view), name=f"{URL_PREFIX}invoice"),
            path("<int:pk>/report/", view(self.report_view), name=f"{URL_PREFIX}report"),
            *super().get_urls(),
        ]

    def _own_project(self, request, pk) -> Project:
        if not is_tenant_staff(request):
            raise PermissionDenied
        return get_object_or_404(
            Project.objects.filter(organization=request.organization).select_related("customer"), pk=pk
        )

    def week_view(self, request, pk):
        return admin_project_time.week_grid(self, request, self._own_project(request, pk))

    def log_time_view(self, request, pk):
        return admin_project_time.save_week(self, request, self._own_project(request, pk))

    def invoice_view(self, request, pk):
        return admin_project_billing.invoice_page(self, request, self._own_project(request, pk))

    def report_view(self, request, pk):
        return admin_project_billing.report_page(self, request, self._own_project(request, pk))

    def overview_view(self, request):
        if not is_tenant_staff(request):
            raise PermissionDenied
        return admin_project_billing.overview_page(self, request)

    def changelist_view(self, request, extra_context=None):
        extra = {"projects_overview_url": reverse(f"{self.admin_site.name}:{URL_PREFIX}overview")}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        project = Project.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        tools = []
        if project is not None and is_tenant_staff(request):
            name = self.admin_site.name
            tools = [
                (_("Time by week"), reverse(f"{name}:{URL_PREFIX}week", args=[project.pk]), False),
                (_("Invoice"), reverse(f"{name}:{URL_PREFIX}invoice", args=[project.pk]), False),
                (_("Report"), reverse(f"{name}:{URL_PREFIX}report", args=[project.pk]), False),
                (
                    _("Milestones"),
                    reverse(f"{name}:projects_milestone_changelist") + f"?project__id__exact={project.pk}",
                    False,
                ),
                (
                    _("Time to approve"),
                    reverse(f"{name}:projects_timeentry_changelist") + f"?project__id__exact={project.pk}",
                    False,
                ),
            ]
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), **object_tools(request, project, tools)}
        )


# -- staff members ------------------------------------------------------------------------------------


class StaffMemberForm(forms.ModelForm):
    default_rate = MoneyField(
        label=gettext_lazy("Default hourly rate"),
        required=False,
        help_text=gettext_lazy(
            "Applied in each project's currency where the project has no rate of its own for them."
        ),
    )

    class Meta:
        model = StaffMember
        fields = ["name", "email", "user", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = tenancy.current_organization()
        currency = organization.base_currency if organization is not None else "USD"
        if "default_rate" in self.fields:
            self.fields["default_rate"].currency = currency
        if "user" in self.fields:
            self.fields["user"].queryset = User.objects.filter(is_staff=True, contact__isnull=True)
            self.fields["user"].required = False
        if self.instance.pk and self.instance.default_rate_minor is not None:
            self.initial.setdefault("default_rate", Money(self.instance.default_rate_minor, currency))

    def _post_clean(self):
        """Checked and saved by `projects.services` (email taken, login of another staff member)."""


@admin.register(StaffMember, site=console_site)
class StaffMemberAdmin(RefusalRedirectMixin, TenantAdmin):
    form = StaffMemberForm
    list_display = ["name", "email", "rate_display", "user", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "email"]
    list_select_related = ["user"]
    fields = ["name", "email", "default_rate", "user", "is_active"]

    def has_delete_permission(self, request, obj=None):
        return False  # their time stays; a staff member who left is made inactive

    @admin.display(description=gettext_lazy("Default hourly rate"))
    def default_rate(self, obj):
        return self.rate_display(obj)

    @admin.display(description=gettext_lazy("Default rate"))
    def rate_display(self, obj):
        if obj.default_rate_minor is None:
            return "—"
        return Money(obj.default_rate_minor, obj.organization.base_currency).format()

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        data = form.cleaned_data
        rate = data.get("default_rate")
        rate_minor = rate.minor if rate is not None else None
        try:
            if change:
                staff = services.update_staff_member(
                    staff_member=obj,
                    actor=actor,
                    name=data["name"],
                    email=data["email"],
                    user=data.get("user"),
                    default_rate_minor=rate_minor,
                    is_active=data.get("is_active", False),
                )
            else:
                staff = services.create_staff_member(
                    organization=request.organization,
                    name=data["name"],
                    email=data["email"],
                    user=data.get("user"),
                    default_rate_minor=rate_minor,
                    actor=actor,
                )
        except DomainError as error:
            refused(request, error)
            return
        obj.pk = staff.pk
        obj._state.adding = False
        obj.refresh_from_db()
