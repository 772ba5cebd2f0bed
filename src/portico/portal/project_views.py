"""The customer's projects in the portal: the list with its figures, a project's page (milestones,
invoices with the payments and credits applied to each, the budget-burn and hours charts), and the
billable hours review with its CSV export and, where the business asks the customer, approvals and
disputes.

Thin: a project is reached through `project_for` (the organization's and this customer's, by code;
anyone else's or a made-up code is a 404), its time entries through `entries_for` (of that project;
an id of anyone else's answers 404, in a URL or a POST body). Figures come from `projects.selectors`
(the ledger's numbers), changes from `projects.services` (`approve_time_entries`,
`dispute_time_entry`, with the portal actor, which checks that the project asks for the customer's
approval: its refusal answers 403).

Gates: `projects.view` reads (every role); `projects.approve` (billing and admin contacts) approves
and disputes. A repeated submission (double click, reload, another tab) changes nothing more and
says so.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from portico.core.audit import Actor
from portico.core.charts import MoneyValues, NumberValues, Series, bar_chart, line_chart, month_categories
from portico.core.csv_cells import safe_cell
from portico.core.errors import DomainError, domain_error_message
from portico.core.money import Money
from portico.portal import ledger_queries as q
from portico.portal.access import portal_view
from portico.portal.paging import CountCappedPaginator
from portico.portal.project_forms import FILTER_KEYS, DisputeForm, HoursFilterForm
from portico.projects import errors, selectors, services
from portico.projects.models import Milestone, Project, StaffMember, TimeEntry

PAGE_SIZE = 50
MAX_SELECTED = 200  # entries approved in one submission (a page holds PAGE_SIZE)
ZERO_HOURS = Decimal("0.00")

MILESTONE_TONES = {
    Milestone.Status.PENDING: "neutral",
    Milestone.Status.DUE: "info",
    Milestone.Status.INVOICED: "warn",
    Milestone.Status.PAID: "ok",
}
ENTRY_TONES = {
    TimeEntry.State.UNAPPROVED: "warn",
    TimeEntry.State.APPROVED: "info",
    TimeEntry.State.DISPUTED: "danger",
    TimeEntry.State.INVOICED: "ok",
}


# -- lookups -----------------------------------------------------------------------------------------


def project_for(portal, code: str) -> Project:
    """The portal customer's own project with this code; anything else is a 404."""
    found = list(
        Project.objects.filter(organization=portal.organization, customer=portal.customer, code=code[:32])
        .select_related("tax_rate")
        .order_by()[:1]
    )
    if not found:
        raise Http404
    project = found[0]
    project.organization, project.customer = portal.organization, portal.customer
    return project


def entries_for(project: Project, ids: list[str]) -> list[TimeEntry]:
    """The project's time entries with these public ids; one that is not the project's is a 404."""
    wanted = set(ids)
    if not wanted or len(wanted) > MAX_SELECTED or any(len(i) > 40 for i in wanted):
        raise Http404
    entries = list(
        TimeEntry.objects.filter(project=project, public_id__in=wanted).select_related("task", "staff_member")
    )
    if len(entries) != len(wanted):
        raise Http404
    for entry in entries:
        entry.project = project
    return entries


def _actor(request) -> Actor:
    return Actor.from_request(request)


def hours_url(project: Project, query: str = "") -> str:
    url = reverse("portal:project_hours", args=[project.code])
    return f"{url}?{query}" if query else url


def back_query(text: str) -> str:
    """The hours review's filters (and page) from a form's `back` field, nothing else: where to return."""
    given = QueryDict(text[:2000])
    kept = QueryDict(mutable=True)
    for key in (*FILTER_KEYS, "page"):
        value = given.get(key, "")
        if value:
            kept[key] = value[:40]
    return kept.urlencode()


# -- the list ----------------------------------------------------------------------------------------


@portal_view(module="projects")
@require_http_methods(["GET"])
def project_list(request):
    portal = request.portal
    projects = list(selectors.projects_of(portal.customer))
    totals = selectors.project_totals(projects)
    rows = [(project, totals[project.pk]) for project in projects]
    return render(request, "portal/projects/list.html", {"rows": rows})


# -- one project -------------------------------------------------------------------------------------


def _month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def burn_chart(project: Project, totals: selectors.ProjectTotals):
    """Budgeted vs billed vs paid to date, month by month (a money budget draws its line)."""
    points = selectors.budget_burn_series(project)
    series = []
    if totals.budget is not None:
        series.append(Series(_("Budget"), [totals.budget.minor] * len(points)))
    series.append(Series(_("Billed to date"), [p.cumulative_billed.minor for p in points]))
    series.append(Series(_("Paid to date"), [p.cumulative_paid.minor for p in points]))
    return line_chart(
        id="budget-burn",
        title=_("Budget burn: billed and paid to date"),
        categories=month_categories([p.month for p in points]),
        series=series,
        values=MoneyValues(project.currency),
        category_header=_("Month"),
        description=_(
            "Running totals of the project's invoices and of the payments made on them, in %(currency)s."
        )
        % {"currency": project.currency},
        empty_text=_("Nothing has been invoiced on this project yet."),
        step=True,
    )


def hours_chart(project: Project):
    """Hours logged per month, stacked by task, every month from the first to the last with time."""
    rows = selectors.hours_by_month_and_task(project)
    months = _month_range(min(r.month for r in rows), max(r.month for r in rows)) if rows else []
    tasks: dict[int, str] = {}
    hours: dict[tuple[dt.date, int], Decimal] = {}
    for row in sorted(rows, key=lambda r: (r.task_name, r.task_id)):
        tasks.setdefault(row.task_id, row.task_name)
        hours[(row.month, row.task_id)] = row.hours
    series = [
        Series(name, [hours.get((month, task_id), ZERO_HOURS) for month in months])
        for task_id, name in tasks.items()
    ]
    return bar_chart(
        id="hours-by-task",
        title=_("Hours per month by task"),
        categories=month_categories(months),
        series=series,
        values=NumberValues(_("h")),
        category_header=_("Month"),
        description=_("Every hour logged on the project, billable or not, by the month it was worked."),
        empty_text=_("No time has been logged on this project yet."),
        stacked=True,
    )


def _invoice_rows(portal, project: Project) -> list:
    """The project's invoices, each with its badge and the payments and credits applied to it."""
    today = q.today_for(portal)
    invoices = selectors.project_invoices(project)
    for invoice in invoices:
        invoice.badge = q.badge_for(invoice, today)
        invoice.payments_applied = list(invoice.allocations.all())
        invoice.credits_applied = list(invoice.credit_applications.all())
        for part in (*invoice.payments_applied, *invoice.credits_applied):
            part.amount = Money(part.amount_minor, invoice.currency)
    return invoices


@portal_view(module="projects")
@require_http_methods(["GET"])
def project_detail(request, code):
    portal = request.portal
    project = project_for(portal, code)
    totals = selectors.project_totals_of(project)
    milestones = list(Milestone.objects.filter(project=project).select_related("invoice"))
    for milestone in milestones:
        milestone.project = project
        status = milestone.display_status
        milestone.status_label = Milestone.Status(status).label
        milestone.tone = MILESTONE_TONES[status]
    return render(
        request,
        "portal/projects/detail.html",
        {
            "project": project,
            "totals": totals,
            "milestones": milestones,
            "invoices": _invoice_rows(portal, project),
            "burn_chart": burn_chart(project, totals),
            "hours_chart": hours_chart(project),
            "link_invoices": portal.may("invoices"),
            "link_payments": portal.may("payments"),
            "link_credits": portal.may("credits"),
            "can_review": project.requires_customer_approval and portal.may("projects", "approve"),
        },
    )


# -- billable hours ----------------------------------------------------------------------------------


def _filter_form(project: Project, params) -> HoursFilterForm:
    tasks = list(project.tasks.order_by("name", "id"))
    staff = list(StaffMember.objects.filter(time_entries__project=project).distinct().order_by("name", "id"))
    bound = params if any(params.get(key) for key in FILTER_KEYS) else None
    return HoursFilterForm(bound, tasks=tasks, staff_members=staff)


def reviewed(project: Project, params) -> tuple[HoursFilterForm, selectors.HoursReview | None]:
    """The filter form and the entries it selects (None while the form has errors)."""
    form = _filter_form(project, params)
    if form.is_bound and not form.is_valid():
        return form, None
    filters = form.filters() if form.is_bound else {}
    return form, selectors.hours_review(project=project, **filters)


def _hours_page(request, project: Project, params, *, status: int = 200):
    portal = request.portal
    form, review = reviewed(project, params)
    page = None
    if review is not None:
        page = CountCappedPaginator(review.entries, PAGE_SIZE).get_page(params.get("page"))
        for entry in page.object_list:
            entry.project = project
            entry.tone = ENTRY_TONES[entry.state]
    filters = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        if params.get(key):
            filters[key] = params.get(key)[:40]
    back = filters.copy()
    if page is not None and page.number > 1:
        back["page"] = str(page.number)
    can_review = project.requires_customer_approval and portal.may("projects", "approve")
    return render(
        request,
        "portal/projects/hours.html",
        {
            "project": project,
            "form": form,
            "review": review,
            "page": page,
            "query": filters.urlencode(),
            "back": back.urlencode(),
            "filtered": form.is_bound,
            "can_review": can_review,
            "reviewable": can_review and page is not None and any(e.can_approve() for e in page.object_list),
            "link_invoices": portal.may("invoices"),
        },
        status=status,
    )


@portal_view(module="projects")
@require_http_methods(["GET"])
def project_hours(request, code):
    project = project_for(request.portal, code)
    return _hours_page(request, project, request.GET)


CSV_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@portal_view(module="projects")
@require_http_methods(["GET"])
def project_hours_csv(request, code):
    """The filtered entries (all of them, not one page) as CSV; text typed by people cannot run as a
    spreadsheet formula (`core.csv_cells`)."""
    project = project_for(request.portal, code)
    _form, review = reviewed(project, request.GET)
    if review is None:  # the review page says what is wrong with the filters
        return redirect(hours_url(project, request.GET.urlencode()))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = CSV_FILE_NAME.sub("-", project.code).strip("-") or "project"
    response["Content-Disposition"] = f'attachment; filename="{name}-hours.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Date"),
            _("Task"),
            _("Staff member"),
            _("Hours"),
            _("Billable"),
            _("State"),
            _("Invoice"),
            _("Notes"),
            _("Dispute"),
        ]
    )
    yes, no = _("yes"), _("no")
    for entry in review.entries.iterator(chunk_size=1000):
        invoice = entry.invoice_line.invoice.number if entry.invoice_line_id else ""
        writer.writerow(
            [
                entry.date.isoformat(),
                safe_cell(entry.task.name),
                safe_cell(entry.staff_member.name),
                f"{entry.hours:.2f}",
                yes if entry.is_billable and entry.task.is_billable else no,
                entry.get_state_display(),
                safe_cell(invoice),
                safe_cell(entry.notes),
                safe_cell(entry.dispute_comment),
            ]
        )
    return response


def _refused_by_service(request, project, error: DomainError, back: str):
    """A refusal of the service: not the customer's to approve (403), or a message on the review (400)."""
    if isinstance(error, errors.ApprovalRefused):
        raise PermissionDenied(str(error.message))
    domain_error_message(request, error)
    return _hours_page(request, project, QueryDict(back), status=400)


def _total_hours(entries) -> Decimal:
    return sum((e.hours for e in entries), ZERO_HOURS)


@portal_view(module="projects", action="approve")
@require_http_methods(["POST"])
def approve_hours(request, code):
    """Approve one entry (its row's button: `entry`) or the ticked ones (`entries`). Entries approved
    before (a second submission) are left as they are and said so."""
    project = project_for(request.portal, code)
    back = back_query(request.POST.get("back", ""))
    single = request.POST.get("entry", "")
    ids = [single] if single else request.POST.getlist("entries")
    if not ids:
        messages.error(request, _("Choose the entries to approve."))
        return _hours_page(request, project, QueryDict(back), status=400)
    entries = entries_for(project, ids)
    waiting = [e for e in entries if e.can_approve()]
    if waiting:
        try:
            services.approve_time_entries(entries=waiting, actor=_actor(request))
        except errors.EntryStateRefused as error:
            # Another submission got there first (a double click): what is it now?
            entries = entries_for(project, ids)
            if any(e.can_approve() for e in entries):
                return _refused_by_service(request, project, error, back)
            waiting = []
        except DomainError as error:
            return _refused_by_service(request, project, error, back)
    if waiting:
        messages.success(
            request,
            ngettext(
                "%(count)d entry approved (%(hours)s h): it can now be invoiced.",
                "%(count)d entries approved (%(hours)s h): they can now be invoiced.",
                len(waiting),
            )
            % {"count": len(waiting), "hours": _total_hours(waiting)},
        )
    done = {e.pk for e in waiting}
    earlier = [
        e
        for e in entries
        if e.pk not in done and e.state in (TimeEntry.State.APPROVED, TimeEntry.State.INVOICED)
    ]
    if earlier:
        messages.info(
            request,
            ngettext(
                "%(count)d entry was already approved: nothing more was changed.",
                "%(count)d entries were already approved: nothing more was changed.",
                len(earlier),
            )
            % {"count": len(earlier)},
        )
    disputed = [e for e in entries if e.state == TimeEntry.State.DISPUTED]
    if disputed:
        messages.warning(
            request,
            ngettext(
                "%(count)d disputed entry was not approved: it waits for the business's answer.",
                "%(count)d disputed entries were not approved: they wait for the business's answer.",
                len(disputed),
            )
            % {"count": len(disputed)},
        )
    return redirect(hours_url(project, back))


@portal_view(module="projects", action="approve")
@require_http_methods(["GET", "POST"])
def dispute_hours(request, code):
    """GET: the entry (`?entry=`) and a comment box; POST: the entry disputed with the comment, which
    the business sees. A second submission finds it disputed already and changes nothing."""
    project = project_for(request.portal, code)
    data = request.POST if request.method == "POST" else request.GET
    back = back_query(data.get("back", ""))
    entry_id = data.get("entry", "")
    if not entry_id:
        messages.info(request, _("Choose the entry to dispute in the list."))
        return redirect(hours_url(project, back))
    (entry,) = entries_for(project, [entry_id])
    if not project.requires_customer_approval:
        raise PermissionDenied(_("This project's time is approved by the business."))
    if request.method == "POST" and entry.state == TimeEntry.State.DISPUTED:
        messages.info(request, _("This entry is already disputed: nothing more was changed."))
        return redirect(hours_url(project, back))
    if not entry.can_dispute():
        messages.error(
            request,
            _("This entry is “%(state)s”: it can no longer be disputed.")
            % {"state": entry.get_state_display()},
        )
        return redirect(hours_url(project, back))
    form = DisputeForm(request.POST if request.method == "POST" else None)
    context = {
        "project": project,
        "entry": entry,
        "form": form,
        "back": back,
        "cancel_url": hours_url(project, back),
    }
    template = "portal/projects/dispute.html"
    if request.method == "GET":
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)
    try:
        services.dispute_time_entry(entry=entry, comment=form.cleaned_data["comment"], actor=_actor(request))
    except errors.ApprovalRefused as error:
        raise PermissionDenied(str(error.message)) from None
    except errors.EntryStateRefused as error:  # changed since it was read (another tab, staff)
        (entry,) = entries_for(project, [entry_id])
        if entry.state == TimeEntry.State.DISPUTED:
            messages.info(request, _("This entry is already disputed: nothing more was changed."))
        else:
            domain_error_message(request, error)
        return redirect(hours_url(project, back))
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, str(error.message))
        return render(request, template, context, status=400)
    messages.success(
        request, _("Your dispute was sent. The business answers it before this time is invoiced.")
    )
    return redirect(hours_url(project, back))
