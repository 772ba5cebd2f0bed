"""The customer's invoices in the portal: list, detail, print view and PDF."""

from __future__ import annotations

from django.http import FileResponse
from django.shortcuts import render
from django.urls import reverse

from portico.billing import documents
from portico.portal import ledger_queries as q
from portico.portal.access import portal_view
from portico.portal.ledger_forms import InvoiceFilterForm
from portico.portal.ledger_views import PAGE_SIZE, can_pay_online, pay_by_transfer
from portico.portal.paging import CountCappedPaginator

# -- invoices ---------------------------------------------------------------------------------------------


# What a list row and its status badge read: the rest of an invoice (snapshots, memo) stays unloaded.
LIST_COLUMNS = ("number", "status", "currency", "issue_date", "due_date", "total_minor", "balance_minor")


@portal_view(module="invoices")
def invoice_list(request):
    portal = request.portal
    form = InvoiceFilterForm(request.GET or None)
    filters = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "status": data["status"] or "all",
            "start": data["start"],
            "end": data["end"],
            "search": data["q"],
            "sort": data["sort"] or "-issue_date",
        }
    invoices = q.filter_invoices(portal, **filters) if not form.errors else q.invoices_of(portal).none()
    page = CountCappedPaginator(invoices.only(*LIST_COLUMNS), PAGE_SIZE).get_page(request.GET.get("page"))
    today = q.today_for(portal)
    for invoice in page.object_list:
        invoice.badge = q.badge_for(invoice, today)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/ledger/invoice_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "current": {
                "status": request.GET.get("status", "all"),
                "start": request.GET.get("start", ""),
                "end": request.GET.get("end", ""),
                "q": request.GET.get("q", ""),
                "sort": request.GET.get("sort", "-issue_date"),
            },
            "status_choices": InvoiceFilterForm.base_fields["status"].choices,
            "sort_choices": InvoiceFilterForm.base_fields["sort"].choices,
            "filtered": bool(filters) and any(v for k, v in filters.items() if k != "sort" and v != "all"),
            "can_pay": can_pay_online(portal),
            "can_bulk_pay": can_pay_online(portal) and portal.may("invoices", "bulk_pay"),
            "can_pay_any_amount": can_pay_online(portal) and portal.may("invoices", "pay_any_amount"),
            "bank_transfer": pay_by_transfer(portal),
        },
    )


def portal_invoice(portal, number: str):
    """The customer's invoice with everything its document shows (404 for anyone else's)."""
    invoice = q.get_invoice_for(portal, number)
    return documents.attach_parts(invoice, organization=portal.organization, customer=portal.customer)


@portal_view(module="invoices")
def invoice_detail(request, number):
    portal = request.portal
    invoice = portal_invoice(portal, number)
    context = documents.invoice_context(invoice, live=True)
    context.update(
        {
            "badge": q.badge_for(invoice, q.today_for(portal)),
            "can_pay": invoice.is_outstanding and can_pay_online(portal),
            "can_download": portal.allows("invoices", "download"),
        }
    )
    return render(request, "portal/ledger/invoice_detail.html", context)


@portal_view(module="invoices")
def invoice_print(request, number):
    invoice = portal_invoice(request.portal, number)
    context = documents.invoice_context(invoice, live=True)
    context.update({"print_actions": True, "back_url": reverse("portal:invoice", args=[invoice.number])})
    return render(request, "billing/documents/invoice.html", context)


@portal_view(module="invoices", action="download")
def invoice_pdf(request, number):
    """The stored PDF when it is of the invoice's current state, else rendered once and stored."""
    invoice = portal_invoice(request.portal, number)
    pdf = documents.current_invoice_pdf(invoice)
    try:
        content = pdf.open(invoice.pdf.storage)
    except FileNotFoundError:  # replaced by a newer render between the check and the open
        invoice = portal_invoice(request.portal, number)
        content = documents.current_invoice_pdf(invoice).open(invoice.pdf.storage)
    return FileResponse(
        content,
        as_attachment=True,
        filename=f"{invoice.number}.pdf",
        content_type="application/pdf",
    )
