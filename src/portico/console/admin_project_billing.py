"""What projects bill, in the console: invoicing with a preview, the reports, and milestones.

Invoicing is two steps: the period, grouping and milestones chosen (a GET) show the exact lines
`preview_project_invoice` computes, above the button that confirms them (a POST of the same choices
and a token naming what was previewed); confirming calls `invoice_project` and goes to the invoice.
The token makes a double submit safe: a second POST of the same token finds the invoice the first
one issued and goes there (whether it comes after the first or waited for its lock), and a preview
that no longer holds (time approved or billed meanwhile) is shown again instead of being invoiced.

Reports read `projects.selectors.project_totals` (a fixed number of queries for any number of
projects): budget, burn, billed, paid, outstanding and unbilled, the ledger's own numbers; a
project's report draws its budget burn and its hours per month by task (`core.charts`, each with
its numbers as a table).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.billing.models import Invoice
from portico.console.site import RefusalRedirectMixin, TenantAdmin, console_site
from portico.core import charts, tenancy
from portico.core.audit import Actor
from portico.core.errors import DomainError, add_domain_error, domain_error_message
from portico.core.formfields import MoneyField
from portico.core.money import Money
from portico.projects import errors, selectors, services
from portico.projects.models import Milestone, Project, ProjectInvoice, TimeEntry

# -- invoicing ------------------------------------------------------------------------------------------


class InvoiceChoiceForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("Time from"), required=False, help_text=gettext_lazy("Empty: from the start.")
    )
    date_to = forms.DateField(
        label=gettext_lazy("Time to (inclusive)"), required=False, help_text=gettext_lazy("Empty: up to now.")
    )
    grouping = forms.ChoiceField(label=gettext_lazy("Invoice lines"), choices=Project.Grouping.choices)
    include_milestones = forms.BooleanField(label=gettext_lazy("Include due milestones"), required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("A period cannot end before it starts."))
        return cleaned

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "grouping": data["grouping"],
            "include_milestones": data.get("include_milestones", False),
        }


def fingerprint(project: Project, entry_ids, milestone_ids, total: Money) -> str:
    """What a preview bills, as a token: the same entries, milestones and total give the same one."""
    text = "|".join(
        [
            str(project.pk),
            ",".join(map(str, sorted(entry_ids))),
            ",".join(map(str, sorted(milestone_ids))),
            str(total.minor),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def invoice_with_token(project: Project, token: str) -> Invoice | None:
    """The project's latest issued invoice, when it bills exactly what the token names (the first
    of a double submit issued it)."""
    link = (
        ProjectInvoice.objects.filter(project=project)
        .exclude(invoice__status=Invoice.Status.VOID)
        .select_related("invoice")
        .order_by("-created_at", "-pk")
        .first()
    )
    if link is None or not token:
        return None
    invoice = link.invoice
    entry_ids = TimeEntry.objects.filter(invoice_line__invoice=invoice).values_list("pk", flat=True)
    milestone_ids = Milestone.objects.filter(invoice=invoice).values_list("pk", flat=True)
    if fingerprint(project, entry_ids, milestone_ids, invoice.total) == token:
        return invoice
    return None


def _invoice_url(model_admin, invoice) -> str:
    return reverse(f"{model_admin.admin_site.name}:billing_invoice_change", args=[invoice.pk])


def invoice_page(model_admin, request, project: Project):
    """GET: choose (and, with choices, preview); POST: issue what was previewed."""
    if request.method == "POST":
        return _confirm(model_admin, request, project)
    chosen = "grouping" in request.GET
    form = InvoiceChoiceForm(
        request.GET if chosen else None,
        initial={"grouping": project.invoice_grouping, "include_milestones": True},
    )
    preview = None
    if chosen and form.is_valid():
        try:
            preview = services.preview_project_invoice(project=project, **form.arguments())
        except DomainError as error:
            add_domain_error(form, error)
    return _render(model_admin, request, project, form, preview)


def _render(model_admin, request, project, form, preview, status=200):
    token = ""
    if preview is not None:
        token = fingerprint(project, preview.entry_ids, preview.milestone_ids, preview.total)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Invoice %(project)s") % {"project": project},
        "opts": Project._meta,
        "project": project,
        "form": form,
        "preview": preview,
        "token": token,
        "hidden": [(name, form.data.get(name, "")) for name in ("date_from", "date_to", "grouping")]
        + ([("include_milestones", "on")] if form.is_bound and form.data.get("include_milestones") else []),
    }
    return TemplateResponse(request, "admin/projects/invoice.html", context, status=status)


def _confirm(model_admin, request, project):
    form = InvoiceChoiceForm(request.POST)
    token = request.POST.get("token", "")
    if not form.is_valid():
        return _render(model_admin, request, project, form, None, status=400)
    repeated = invoice_with_token(project, token)
    if repeated is not None:
        messages.info(
            request, _("This invoice was already issued: %(number)s.") % {"number": repeated.number}
        )
        return HttpResponseRedirect(_invoice_url(model_admin, repeated))
    arguments = form.arguments()
    try:
        preview = services.preview_project_invoice(project=project, **arguments)
    except DomainError as error:
        add_domain_error(form, error)
        return _render(model_admin, request, project, form, None, status=400)
    if fingerprint(project, preview.entry_ids, preview.milestone_ids, preview.total) != token:
        repeated = invoice_with_token(project, token)  # issued meanwhile, by the first of a double submit
        if repeated is not None:
            return HttpResponseRedirect(_invoice_url(model_admin, repeated))
        messages.warning(
            request,
            _("What is unbilled changed since the preview: check the new preview and confirm again."),
        )
        return _render(model_admin, request, project, form, preview, status=409)
    try:
        invoice = services.invoice_project(
            project=project,
            actor=Actor.from_request(request),
            expected=(preview.entry_ids, preview.milestone_ids),
            **arguments,
        )
    except errors.PreviewChanged as error:  # time approved between the check above and the lock
        domain_error_message(request, error)
        preview = services.preview_project_invoice(project=project, **arguments)
        return _render(model_admin, request, project, form, preview, status=409)
    except errors.NothingToInvoice as error:
        repeated = invoice_with_token(project, token)  # a double submit that waited for the first's lock
        if repeated is not None:
            return HttpResponseRedirect(_invoice_url(model_admin, repeated))
        domain_error_message(request, error)
        return _render(model_admin, request, project, form, None, status=409)
    except DomainError as error:
        add_domain_error(form, error)
        return _render(model_admin, request, project, form, None, status=400)
    messages.success(
        request,
        _("Invoice %(number)s issued: %(total)s.")
        % {"number": invoice.number, "total": invoice.total.format()},
    )
    return HttpResponseRedirect(_invoice_url(model_admin, invoice))


# -- reports ------------------------------------------------------------------------------------------


def budget_burn_chart(project: Project, totals) -> charts.Chart:
    """Budgeted vs billed vs paid, cumulative, month by month (`selectors.budget_burn_series`)."""
    points = selectors.budget_burn_series(project)
    series = [
        charts.Series(_("Billed (running total)"), [p.cumulative_billed.minor for p in points]),
        charts.Series(_("Paid (running total)"), [p.cumulative_paid.minor for p in points]),
    ]
    if totals.budget is not None:
        series.insert(0, charts.Series(_("Budget"), [totals.budget.minor for _p in points]))
    return charts.line_chart(
        id="budget-burn",
        title=_("Budget burn: billed and paid against the budget"),
        categories=charts.month_categories([p.month for p in points]),
        series=series,
        values=charts.MoneyValues(project.currency),
        category_header=_("Month"),
        empty_text=_("Nothing billed yet."),
        step=True,
    )


def hours_chart(project: Project) -> charts.Chart:
    """Hours logged per month, stacked by task (`selectors.hours_by_month_and_task`)."""
    rows = selectors.hours_by_month_and_task(project)
    months = sorted({row.month for row in rows})
    tasks = sorted({(row.task_name, row.task_id) for row in rows})
    hours = {(row.month, row.task_id): row.hours for row in rows}
    return charts.bar_chart(
        id="hours-by-task",
        title=_("Hours per month by task"),
        categories=charts.month_categories(months),
        series=[
            charts.Series(name, [hours.get((month, task_id), Decimal("0")) for month in months])
            for name, task_id in tasks
        ],
        values=charts.NumberValues(unit="h"),
        category_header=_("Month"),
        empty_text=_("No time logged yet."),
        stacked=True,
    )


def report_page(model_admin, request, project: Project):
    totals = selectors.project_totals_of(project)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Report of %(project)s") % {"project": project},
        "opts": Project._meta,
        "project": project,
        "totals": totals,
        "invoices": selectors.project_invoices(project),
        "hours_by_task": selectors.hours_review(project=project).by_task,
        "burn_chart": budget_burn_chart(project, totals),
        "hours_chart": hours_chart(project),
    }
    return TemplateResponse(request, "admin/projects/report.html", context)


def overview_page(model_admin, request):
    """Every project (of a status, when asked) with its totals: a fixed number of queries."""
    projects = Project.objects.select_related("customer").order_by("code", "pk")
    status = request.GET.get("status")
    if status in Project.Status.values:
        projects = projects.filter(status=status)
    projects = list(projects)
    totals = selectors.project_totals(projects)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Projects report"),
        "opts": Project._meta,
        "rows": [(project, totals[project.pk]) for project in projects],
        "statuses": Project.Status.choices,
        "status": status,
    }
    return TemplateResponse(request, "admin/projects/overview.html", context)


# -- milestones ---------------------------------------------------------------------------------------


class MilestoneForm(forms.ModelForm):
    amount = MoneyField(label=gettext_lazy("Amount"))

    class Meta:
        model = Milestone
        fields = ["project", "name", "description", "due_date"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "project" in self.fields:
            self.fields["project"].queryset = Project.objects.select_related("customer")
        if "amount" in self.fields:
            self.fields["amount"].currency = self._currency()
        if self.instance.pk:
            self.initial.setdefault(
                "amount", Money(self.instance.amount_minor, self.instance.project.currency)
            )

    def _currency(self) -> str:
        if self.instance.pk:
            return self.instance.project.currency
        chosen = self.data.get(self.add_prefix("project")) if self.is_bound else None
        project = Project.objects.filter(pk=chosen).first() if str(chosen or "").isdigit() else None
        if project is not None:
            return project.currency
        organization = tenancy.current_organization()
        return organization.base_currency if organization is not None else "USD"

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is not None and amount.minor <= 0:
            raise forms.ValidationError(_("Enter an amount greater than zero."))
        return amount

    def _post_clean(self):
        """Checked and saved by `projects.services`."""


@admin.register(Milestone, site=console_site)
class MilestoneAdmin(RefusalRedirectMixin, TenantAdmin):
    form = MilestoneForm
    list_display = ["name", "project", "amount_display", "due_date", "status_display", "invoice_display"]
    list_filter = ["status", "project"]
    search_fields = ["name", "project__code", "project__name"]
    list_select_related = ["project", "invoice"]
    actions = ["mark_due_selected"]
    readonly_fields = ["project_display", "status_display", "invoice_display"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["project", "name", "amount", "due_date", "description"]
        if not obj.can_edit():
            return [
                "project_display",
                "name",
                "amount_display",
                "due_date",
                "status_display",
                "invoice_display",
            ]
        return ["project_display", "name", "amount", "due_date", "description", "status_display"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.can_edit():
            return [
                "project_display",
                "name",
                "amount_display",
                "due_date",
                "status_display",
                "invoice_display",
            ]
        return self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.can_edit())

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.can_edit())

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description=gettext_lazy("Project"))
    def project_display(self, obj):
        return str(obj.project)

    @admin.display(description=gettext_lazy("Amount"), ordering="amount_minor")
    def amount_display(self, obj):
        return obj.amount.format()

    @admin.display(description=gettext_lazy("Status"))
    def status_display(self, obj):
        return Milestone.Status(obj.display_status).label

    @admin.display(description=gettext_lazy("Invoice"))
    def invoice_display(self, obj):
        if obj.invoice_id is None:
            return "—"
        url = reverse(f"{self.admin_site.name}:billing_invoice_change", args=[obj.invoice_id])
        return format_html('<a href="{}">{}</a>', url, obj.invoice.number or obj.invoice_id)

    def save_model(self, request, obj, form, change):
        actor, data = Actor.from_request(request), form.cleaned_data
        try:
            if change:
                milestone = services.update_milestone(
                    milestone=obj,
                    actor=actor,
                    name=data["name"],
                    amount=data["amount"],
                    due_date=data.get("due_date"),
                    description=data.get("description") or "",
                )
            else:
                milestone = services.create_milestone(
                    project=data["project"],
                    name=data["name"],
                    amount=data["amount"],
                    due_date=data.get("due_date"),
                    description=data.get("description") or "",
                    actor=actor,
                )
        except DomainError as error:
            request._console_refused = True
            domain_error_message(request, error)
            return
        obj.pk = milestone.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.delete_milestone(milestone=obj, actor=Actor.from_request(request))

    @admin.action(description=gettext_lazy("Mark selected milestones due (to be invoiced)"))
    def mark_due_selected(self, request, queryset):
        actor, done = Actor.from_request(request), 0
        for milestone in queryset.order_by("pk"):
            try:
                services.mark_milestone_due(milestone=milestone, actor=actor)
                done += 1
            except DomainError as error:
                domain_error_message(request, error, about=milestone)
        if done:
            self.message_user(request, _("%(count)s marked due.") % {"count": done}, messages.SUCCESS)
