"""The customer's payments (with receipts) and credits in the portal."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.shortcuts import render

from portico.billing import documents
from portico.billing.selectors import own_currency_first, unused_credit_by_currency
from portico.core.money import Money
from portico.portal import ledger_queries as q
from portico.portal.access import portal_view
from portico.portal.ledger_views import PAGE_SIZE
from portico.portal.paging import CountCappedPaginator

# -- payments and credits ---------------------------------------------------------------------------------


# What a row of the payments page shows (the rest of a payment — gateway details, notes — stays unloaded).
PAYMENT_LIST_COLUMNS = (
    "number",
    "received_on",
    "method",
    "card_brand",
    "card_last4",
    "currency",
    "amount_minor",
    "unused_minor",
    "refunded_minor",
)


@portal_view(module="payments")
def payment_list(request):
    page = CountCappedPaginator(
        q.payments_of(request.portal).only(*PAYMENT_LIST_COLUMNS), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(request, "portal/ledger/payment_list.html", {"page": page})


@portal_view(module="payments")
def payment_receipt(request, number):
    payment = q.get_payment_for(request.portal, number)
    allocations = q.attach_amounts(payment.allocations.all(), payment.currency)
    pdf = documents.current_receipt_pdf(payment, allocations)
    try:
        content = pdf.open(default_storage)
    except FileNotFoundError:  # replaced by a newer version between the check and the open
        content = documents.current_receipt_pdf(payment, allocations).open(default_storage)
    return FileResponse(
        content, as_attachment=True, filename=f"receipt-{payment.number}.pdf", content_type="application/pdf"
    )


@portal_view(module="credits")
def credits(request):
    portal = request.portal
    notes, notes_query = _paged(request, q.credit_notes_of(portal), "notes")
    for credit_note in notes.object_list:
        q.attach_amounts(credit_note.applications.all(), credit_note.currency)
    advances, advances_query = _paged(request, q.advances_of(portal), "advances")
    for payment in advances.object_list:
        q.attach_amounts(payment.allocations.all(), payment.currency)
    unused = unused_credit_by_currency(portal.customer)
    currencies = own_currency_first(portal.customer, unused)
    return render(
        request,
        "portal/ledger/credits.html",
        {
            "unused": [Money(unused[c], c) for c in currencies],
            "notes": notes,
            "notes_query": notes_query,
            "advances": advances,
            "advances_query": advances_query,
            "can_apply": bool(unused) and portal.may("credits", "apply"),
        },
    )


def _paged(request, queryset, param: str):
    """One of several paged lists on a page: its page, and the query string without its parameter."""
    page = CountCappedPaginator(queryset, PAGE_SIZE).get_page(request.GET.get(param))
    query = request.GET.copy()
    query.pop(param, None)
    return page, query.urlencode()
