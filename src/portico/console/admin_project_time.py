"""Time in the console: the week grid that logs it, and the approval list (approve, resolve disputes).

The week grid (`week_grid`, served by `ProjectAdmin` as its `week` page, saved by its `log_time`
page: `save_week`; whoever may see the project sees the week) has a row per task and staff member and a column per day, Monday to Sunday. A cell holds the one entry awaiting approval
there (edited in place; emptied, it is deleted) or takes a new one; approved, disputed and invoiced
time is shown beside it, read only. Hours are parsed strictly (digits and one decimal separator, in
hundredths, more than 0 and at most 24, `projects.checks.hours`): one bad cell and nothing is saved,
the page comes back with every typed value and the cell's error. Everything the page saves goes
through `projects.services` in one transaction: all of it, or nothing.

The approval list is the time entries' list (`TimeEntryAdmin`), awaiting approval and disputed first,
filtered by project, staff member and period; finance approves the selected entries
(`approve_time_entries`, all or none) and resolves a dispute on its own page (`resolve_dispute`),
which shows the customer's comment.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import get_decimal_symbol
from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.console import roles
from portico.console.ledger_common import StaffActionMixin
from portico.console.site import TenantAdmin, console_site
from portico.core import clock
from portico.core.audit import Actor
from portico.core.errors import DomainError, add_domain_error, domain_error_message
from portico.core.templatetags.money import current_locale
from portico.projects import errors, services
from portico.projects.checks import hours as checked_hours
from portico.projects.models import Project, StaffMember, Task, TimeEntry

DAYS = 7


# -- hours as typed ---------------------------------------------------------------------------------


class HoursRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_hours(text: str, locale: str) -> Decimal | None:
    """Hours typed in a cell: empty is None; else digits with at most one decimal separator (the
    locale's, or a point), within the services' rule (`projects.checks.hours`). Anything else
    ("1,5x", "-1", "1e1", "25") is refused with a message; nothing is guessed."""
    text = (text or "").strip()
    if not text:
        return None
    separator = re.escape(get_decimal_symbol(locale))
    match = re.fullmatch(rf"(\d{{1,3}})(?:(?:{separator}|\.)(\d{{1,6}}))?", text)
    if match is None:
        raise HoursRefused(_("Enter hours as a number, such as 1.5 or 7.25."))
    whole, fraction = match.groups()
    try:
        return checked_hours(Decimal(f"{whole}.{fraction or 0}"))
    except errors.TimeInvalid as error:
        raise HoursRefused(str(error.message)) from None


# -- the week grid ----------------------------------------------------------------------------------


def week_of(value: str | None, today: dt.date) -> dt.date:
    """The Monday of the week asked for (`?week=2026-03-04` → 2026-03-02); this week by default."""
    if value:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise Http404 from None
    else:
        day = today
    return day - dt.timedelta(days=day.weekday())


@dataclass
class Cell:
    task: Task
    staff_member: StaffMember
    day: dt.date
    entries: list[TimeEntry] = field(default_factory=list)
    value: str = ""
    error: str = ""

    @property
    def name(self) -> str:
        return f"h-{self.task.pk}-{self.staff_member.pk}-{self.day.isoformat()}"

    @property
    def marker_name(self) -> str:
        """Which entry the typed value edits ("" for a new one): a cell that changed since the
        page was shown is refused instead of overwriting someone else's entry."""
        return f"e-{self.task.pk}-{self.staff_member.pk}-{self.day.isoformat()}"

    @property
    def editable_entries(self) -> list[TimeEntry]:
        return [e for e in self.entries if e.can_edit()]

    @property
    def editable(self) -> TimeEntry | None:
        found = self.editable_entries
        return found[0] if len(found) == 1 else None

    @property
    def has_input(self) -> bool:
        return len(self.editable_entries) <= 1

    @property
    def fixed_entries(self) -> list[TimeEntry]:
        """Shown read only: approved, disputed and invoiced time (and several entries awaiting
        approval in one cell, which are edited one by one from the time list)."""
        if self.has_input:
            return [e for e in self.entries if not e.can_edit()]
        return self.entries

    @property
    def marker(self) -> str:
        editable = self.editable
        return str(editable.pk) if editable is not None else ""


@dataclass
class Row:
    task: Task
    staff_member: StaffMember
    cells: list[Cell]

    @property
    def total(self) -> Decimal:
        return sum((e.hours for c in self.cells for e in c.entries), Decimal("0.00"))


def _grid(project: Project, monday: dt.date) -> tuple[list[Row], list[dt.date]]:
    days = [monday + dt.timedelta(days=i) for i in range(DAYS)]
    entries = list(
        TimeEntry.objects.filter(project=project, date__gte=days[0], date__lte=days[-1])
        .select_related("task", "staff_member", "invoice_line__invoice")
        .order_by("date", "pk")
    )
    tasks = {t.pk: t for t in Task.objects.filter(project=project, is_active=True)}
    tasks.update({e.task_id: e.task for e in entries})
    staff = {
        m.staff_member_id: m.staff_member
        for m in project.members.select_related("staff_member").filter(staff_member__is_active=True)
    }
    if not staff:  # a project nobody was put on yet: anyone active may log on it
        staff = {s.pk: s for s in StaffMember.objects.filter(is_active=True)}
    staff.update({e.staff_member_id: e.staff_member for e in entries})
    by_cell: dict[tuple, list[TimeEntry]] = {}
    for entry in entries:
        by_cell.setdefault((entry.task_id, entry.staff_member_id, entry.date), []).append(entry)
    rows = []
    for task in sorted(tasks.values(), key=lambda t: (t.name, t.pk)):
        for member in sorted(staff.values(), key=lambda s: (s.name, s.pk)):
            cells = [Cell(task, member, day, by_cell.get((task.pk, member.pk, day), [])) for day in days]
            for cell in cells:
                editable = cell.editable
                cell.value = _hours_text(editable.hours) if editable is not None else ""
            rows.append(Row(task, member, cells))
    return rows, days


def _hours_text(hours: Decimal) -> str:
    return format(hours.normalize(), "f")


@dataclass
class Changes:
    new: list[services.TimeInput] = field(default_factory=list)
    updated: list[tuple[TimeEntry, Decimal]] = field(default_factory=list)
    deleted: list[TimeEntry] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.new or self.updated or self.deleted)


def _read_post(rows: list[Row], data, locale: str) -> tuple[Changes, int]:
    """What the typed grid asks for; every cell's value is kept and a bad one gets its error."""
    changes, refused = Changes(), 0
    for row in rows:
        for cell in row.cells:
            if not cell.has_input:
                continue
            cell.value = data.get(cell.name, "").strip()
            if data.get(cell.marker_name, "") != cell.marker:
                cell.error = _("This cell changed since the page was opened: check it and save again.")
                refused += 1
                continue
            try:
                hours = parse_hours(cell.value, locale)
            except HoursRefused as error:
                cell.error = error.message
                refused += 1
                continue
            editable = cell.editable
            if editable is None and hours is not None:
                changes.new.append(services.TimeInput(cell.task, cell.staff_member, cell.day, hours))
            elif editable is not None and hours is None:
                changes.deleted.append(editable)
            elif editable is not None and hours != editable.hours:
                changes.updated.append((editable, hours))
    return changes, refused


def _save(project: Project, changes: Changes, actor: Actor) -> None:
    """All of the grid's changes, or none (one transaction around the services' own)."""
    with transaction.atomic():
        if changes.new:
            services.log_time_bulk(project=project, entries=changes.new, actor=actor)
        for entry, hours in changes.updated:
            services.update_time_entry(entry=entry, hours=hours, actor=actor)
        for entry in changes.deleted:
            services.delete_time_entry(entry=entry, actor=actor)


def week_grid(model_admin, request, project: Project):
    """The week's grid (anyone who may see the project); cells to type in for those who may log time."""
    monday = week_of(request.GET.get("week"), clock.today(request.organization.time_zone))
    rows, days = _grid(project, monday)
    return _render_grid(model_admin, request, project, monday, rows, days)


def save_week(model_admin, request, project: Project):
    """POST: save the typed grid, all or nothing, then back to the same week; a bad cell or a refusal
    renders the grid again with everything as typed."""
    monday = week_of(request.GET.get("week"), clock.today(request.organization.time_zone))
    week_url = _week_url(model_admin, project, monday)
    if request.method != "POST":
        return HttpResponseRedirect(week_url)
    if not project.can_log_time():
        messages.error(request, str(errors.ProjectClosed.message))
        return HttpResponseRedirect(week_url)
    rows, days = _grid(project, monday)
    changes, refused = _read_post(rows, request.POST, current_locale())
    if refused:
        messages.error(
            request,
            _("Nothing was saved: %(count)s cell(s) need correcting (marked below).") % {"count": refused},
        )
        return _render_grid(model_admin, request, project, monday, rows, days, status=400)
    if not changes:
        messages.info(request, _("Nothing changed."))
        return HttpResponseRedirect(week_url)
    try:
        _save(project, changes, Actor.from_request(request))
    except DomainError as error:
        domain_error_message(request, error)
        messages.error(request, _("Nothing was saved."))
        return _render_grid(model_admin, request, project, monday, rows, days, status=400)
    messages.success(
        request,
        _("Saved: %(new)s logged, %(updated)s changed, %(deleted)s removed.")
        % {"new": len(changes.new), "updated": len(changes.updated), "deleted": len(changes.deleted)},
    )
    return HttpResponseRedirect(week_url)


def _week_url(model_admin, project: Project, monday: dt.date | None = None) -> str:
    url = reverse(f"{model_admin.admin_site.name}:projects_project_week", args=[project.pk])
    return f"{url}?week={monday.isoformat()}" if monday else url


def _render_grid(model_admin, request, project, monday, rows, days, status=200):
    day_totals = [
        sum((e.hours for row in rows for e in row.cells[i].entries), Decimal("0.00")) for i in range(DAYS)
    ]
    may_log = roles.allows(request.user, Project._meta.label_lower, "log_time")
    save_url = reverse(f"{model_admin.admin_site.name}:projects_project_log_time", args=[project.pk])
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Time on %(project)s, week of %(monday)s") % {"project": project, "monday": monday},
        "opts": Project._meta,
        "object": project,
        "project": project,
        "rows": rows,
        "days": days,
        "day_totals": day_totals,
        "week_total": sum(day_totals, Decimal("0.00")),
        "project_open": project.can_log_time(),
        "can_log": may_log and project.can_log_time(),
        "previous_url": _week_url(model_admin, project, monday - dt.timedelta(days=7)),
        "next_url": _week_url(model_admin, project, monday + dt.timedelta(days=7)),
        "this_week_url": _week_url(model_admin, project),
        "action_url": f"{save_url}?week={monday.isoformat()}",
    }
    return TemplateResponse(request, "admin/projects/week_grid.html", context, status=status)


# -- approval -----------------------------------------------------------------------------------------


class ReviewFilter(admin.SimpleListFilter):
    """Awaiting approval or disputed by default: the list is where time is approved."""

    title = gettext_lazy("state")
    parameter_name = "review"
    TO_REVIEW, ALL = "to_review", "all"

    def lookups(self, request, model_admin):
        return [
            (self.TO_REVIEW, _("Awaiting approval or disputed")),
            *TimeEntry.State.choices,
            (self.ALL, _("All")),
        ]

    def value(self):
        return super().value() or self.TO_REVIEW

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.TO_REVIEW:
            return queryset.filter(state__in=[TimeEntry.State.UNAPPROVED, TimeEntry.State.DISPUTED])
        if value in TimeEntry.State.values:
            return queryset.filter(state=value)
        return queryset

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class ResolveForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("Answer to the customer"), max_length=2000, widget=forms.Textarea
    )
    hours = forms.CharField(
        label=gettext_lazy("Corrected hours"),
        required=False,
        max_length=20,
        help_text=gettext_lazy("Empty: the hours stay as they are."),
    )

    def clean_hours(self):
        try:
            return parse_hours(self.cleaned_data.get("hours", ""), current_locale())
        except HoursRefused as error:
            raise forms.ValidationError(error.message) from None


@admin.register(TimeEntry, site=console_site)
class TimeEntryAdmin(StaffActionMixin, TenantAdmin):
    """The approval list. Time is logged and corrected on a project's week grid; here it is approved,
    and disputes are answered. Nothing is added or edited through Django's own forms."""

    list_display = [
        "date",
        "project",
        "task",
        "staff_member",
        "hours",
        "is_billable",
        "state",
        "dispute_display",
        "invoice_display",
    ]
    list_filter = [ReviewFilter, "project", "staff_member", "date", "is_billable"]
    date_hierarchy = "date"
    search_fields = ["notes", "dispute_comment", "task__name", "staff_member__name", "project__code"]
    list_select_related = ["project", "task", "staff_member", "invoice_line__invoice"]
    actions = ["approve_selected"]
    ordering = ["date", "pk"]
    fields = readonly_fields = [
        "project",
        "task",
        "staff_member",
        "date",
        "hours",
        "notes",
        "is_billable",
        "state",
        "approved_at",
        "approved_by",
        "approved_by_contact",
        "dispute_comment",
        "disputed_at",
        "disputed_by_contact",
        "resolution_comment",
        "resolved_at",
        "invoice_display",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("Customer's dispute"))
    def dispute_display(self, entry):
        if entry.state != TimeEntry.State.DISPUTED:
            return "—"
        url = reverse(f"{self.admin_site.name}:projects_timeentry_resolve", args=[entry.pk])
        return format_html('“{}” <a href="{}">{}</a>', entry.dispute_comment, url, _("Resolve"))

    @admin.display(description=gettext_lazy("Invoice"))
    def invoice_display(self, entry):
        if entry.invoice_line_id is None:
            return "—"
        invoice = entry.invoice_line.invoice
        url = reverse(f"{self.admin_site.name}:billing_invoice_change", args=[invoice.pk])
        return format_html('<a href="{}">{}</a>', url, invoice.number or invoice.pk)

    @admin.action(description=gettext_lazy("Approve selected time"))
    def approve_selected(self, request, queryset):
        entries = list(queryset.order_by("pk"))
        try:
            approved = services.approve_time_entries(entries=entries, actor=Actor.from_request(request))
        except DomainError as error:
            domain_error_message(request, error)
            messages.error(request, _("Nothing was approved: select only time awaiting approval."))
            return
        self.message_user(request, _("%(count)s approved.") % {"count": len(approved)}, messages.SUCCESS)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/resolve/", view(self.resolve_view), name="projects_timeentry_resolve"),
            *super().get_urls(),
        ]

    def _change_url(self, obj):
        return reverse(f"{self.admin_site.name}:projects_timeentry_change", args=[obj.pk])

    def resolve_view(self, request, pk):
        entry = self._own(request, TimeEntry, pk)
        form = ResolveForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.resolve_dispute(
                    entry=entry,
                    actor=Actor.from_request(request),
                    comment=data["comment"],
                    hours=data["hours"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                self.message_user(
                    request, _("Dispute answered: the time awaits approval again."), messages.SUCCESS
                )
                return HttpResponseRedirect(
                    reverse(f"{self.admin_site.name}:projects_timeentry_changelist")
                    + f"?project__id__exact={entry.project_id}"
                )
        rows = [
            (_("Project"), str(entry.project)),
            (_("Entry"), f"{entry.date} · {entry.task.name} · {entry.staff_member.name} · {entry.hours} h"),
            (_("State"), entry.get_state_display()),
            (_("Customer's comment"), entry.dispute_comment or "—"),
        ]
        return self._render_form(
            request,
            title=_("Resolve the dispute of %(entry)s") % {"entry": entry.public_id},
            form=form,
            submit=_("Resolve"),
            obj=entry,
            intro=_(
                "Answer the customer; correct the hours if they are right. The entry then awaits "
                "approval again."
            )
            if entry.can_resolve()
            else _("This entry is not disputed: there is nothing to resolve."),
            rows=rows,
        )
