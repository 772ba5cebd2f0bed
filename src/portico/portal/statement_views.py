"""Statements in the portal: the page, its PDF (in the request, or prepared by a worker when long) and CSV."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from portico.billing import documents, exports
from portico.billing.models import StatementExport
from portico.billing.statements import (
    StatementPeriodError,
    period_bounds,
    statement_csv,
    statement_currencies,
    statement_for,
)
from portico.core.audit import Actor
from portico.core.errors import add_domain_error
from portico.portal import ledger_queries as q
from portico.portal.access import portal_view
from portico.portal.ledger_forms import StatementForm
from portico.portal.ledger_views import STATEMENT_PAGE_SIZE

# A long statement's PDF is drawn at about half a millisecond a line (`billing.statement_pdf`): up to
# this many lines (about a second) it is rendered in the request; a longer one is prepared by a worker
# (`billing.exports`) and listed on the statements page.
STATEMENT_PDF_INLINE_LINES = 2000


# -- statements -------------------------------------------------------------------------------------------


def _statement_from(request):
    """(form, statement or None) from the query string; a bad period is a form error, nothing else."""
    portal = request.portal
    currencies = statement_currencies(portal.customer)
    data = request.GET if "period" in request.GET else None
    form = StatementForm(
        data, currencies=currencies, initial={"period": "this_month", "currency": currencies[0]}
    )
    if data is None:
        period, start, end, currency = "this_month", None, None, currencies[0]
    elif form.is_valid():
        period, start, end = form.cleaned_data["period"], form.cleaned_data["start"], form.cleaned_data["end"]
        currency = form.cleaned_data["currency"] or currencies[0]
    else:
        return form, None
    try:
        first, last = period_bounds(period, q.today_for(portal), start, end)
        return form, statement_for(portal.customer, first, last, currency)
    except StatementPeriodError as error:
        add_domain_error(form, error)
        return form, None


@portal_view(module="statements")
def statements(request):
    form, statement = _statement_from(request)
    context = {
        "form": form,
        "statement": statement,
        "current": {
            "period": request.GET.get("period", "this_month"),
            "start": request.GET.get("start", ""),
            "end": request.GET.get("end", ""),
            "currency": request.GET.get("currency", statement.currency if statement else ""),
        },
        "exports": q.statement_exports_of(request.portal),
        "zone": request.portal.organization.time_zone,
        "doc_brand": documents.document_brand(request.portal.organization),
    }
    if statement is not None:
        # The page shows the lines a page at a time (the balance carried between pages); the PDF
        # and CSV hold every line.
        page = Paginator(statement.lines, STATEMENT_PAGE_SIZE).get_page(request.GET.get("page"))
        before = page.start_index() - 2 if page.number > 1 else None
        params = {k: v for k, v in request.GET.items() if k != "page"}
        context.update(
            {
                "page": page,
                "statement_lines": page.object_list,
                "brought_forward": statement.lines[before].balance if before is not None else None,
                "query": urlencode(params),
            }
        )
    return render(request, "portal/ledger/statements.html", context)


@portal_view(module="statements")
def statement_pdf(request):
    """A short statement's PDF at once; a long one is queued for a worker and listed when ready."""
    _form, statement = _statement_from(request)
    back = reverse("portal:statements") + "?" + request.GET.urlencode()
    if statement is None:
        return redirect(back)
    if len(statement.lines) <= STATEMENT_PDF_INLINE_LINES:
        response = HttpResponse(documents.statement_pdf_bytes(statement), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="statement-{statement.start}-{statement.end}.pdf"'
        )
        return response
    export, created = exports.request_statement_export(
        customer=request.portal.customer,
        start=statement.start,
        end=statement.end,
        currency=statement.currency,
        line_count=len(statement.lines),
        requested_by=request.user,
        actor=Actor.from_request(request),
    )
    count = {"count": export.line_count}
    if export.status == StatementExport.Status.READY:
        messages.success(request, _("Your PDF statement (%(count)d lines) is ready below.") % count)
    elif created or export.requested_by_id == request.user.pk:
        messages.info(
            request,
            _(
                "Your PDF statement (%(count)d lines) is being prepared. "
                "It will be listed below when ready, and we will email you."
            )
            % count,
        )
    else:  # someone else at the company asked first: they get the email
        messages.info(
            request,
            _("Your PDF statement (%(count)d lines) is being prepared. It will be listed below when ready.")
            % count,
        )
    return redirect(back)


@portal_view(module="statements")
def statement_export_download(request, public_id):
    export = q.get_statement_export_for(request.portal, public_id)
    return FileResponse(
        export.file.open("rb"), as_attachment=True, filename=export.filename, content_type="application/pdf"
    )


@portal_view(module="statements")
def statement_csv_download(request):
    _form, statement = _statement_from(request)
    if statement is None:
        return redirect(reverse("portal:statements") + "?" + request.GET.urlencode())
    response = HttpResponse(statement_csv(statement), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{statement.start}-{statement.end}.csv"'
    )
    return response
