"""The customer's ledger in the portal: invoices, payments, credits, statements and paying online.

Views parse, authorize (through `@portal_view`), call one selector or service and render. Every
object is reached through a `portal.ledger_queries` helper scoped to the organization and customer.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from portico.billing import documents, exports
from portico.billing import errors as billing_errors
from portico.billing.models import StatementExport
from portico.billing.selectors import own_currency_first, unused_credit_by_currency
from portico.billing.statements import (
    StatementPeriodError,
    period_bounds,
    statement_csv,
    statement_currencies,
    statement_for,
)
from portico.core.audit import Actor
from portico.core.errors import DomainError, add_domain_error, domain_error_message
from portico.core.money import AmountError, Money, minor_exponent
from portico.payments.gateways import CardError, online_gateway
from portico.payments.models import PaymentAttempt, new_form_token
from portico.payments.services import (
    PayOutcome,
    pay_invoices,
    payable_amounts,
    plan_allocations,
    reserved_amounts,
    resolve_invoices,
)
from portico.portal import ledger_queries as q
from portico.portal.access import portal_view
from portico.portal.ledger_forms import CardForm, InvoiceFilterForm, StatementForm
from portico.portal.paging import CountCappedPaginator

PAGE_SIZE = 25
STATEMENT_PAGE_SIZE = 100
# A long statement's PDF is drawn at about half a millisecond a line (`billing.statement_pdf`): up to
# this many lines (about a second) it is rendered in the request; a longer one is prepared by a worker
# (`billing.exports`) and listed on the statements page.
STATEMENT_PDF_INLINE_LINES = 2000


# -- dashboard --------------------------------------------------------------------------------------------


def ledger_cards(portal) -> list[dict]:
    """The dashboard's account figures (registered in `portal.views.DASHBOARD_CARDS`). They come from
    one aggregate per currency, so they cannot contradict each other: the next due date is the
    earliest due date of the invoices making up the outstanding total, "overdue since" when past."""
    from portico.core.formatting import local_date
    from portico.core.templatetags.money import money

    if not portal.allows("invoices"):
        return []
    today = q.today_for(portal)
    cards = []
    for summary in q.account_summaries(portal):
        suffix = f" ({summary.currency})" if summary.currency != portal.customer.currency else ""
        cards.append({"label": _("Total outstanding") + suffix, "value": money(summary.outstanding)})
        note = ""
        if summary.overdue_count:
            note = ngettext(
                "%(count)d invoice overdue", "%(count)d invoices overdue", summary.overdue_count
            ) % {"count": summary.overdue_count}
        cards.append({"label": _("Overdue") + suffix, "value": money(summary.overdue), "note": note})
        if portal.allows("credits"):
            cards.append({"label": _("Unused credits") + suffix, "value": money(summary.unused_credits)})
        cards.append({"label": _("Next due date") + suffix, **_next_due(summary, today, local_date)})
    return cards


def _next_due(summary, today, local_date) -> dict:
    due = summary.next_due_date
    if not summary.outstanding:
        return {"value": _("Nothing due")}
    if due is None:
        return {"value": _("Due on receipt")}
    if due >= today:
        return {"value": local_date(due)}
    upcoming = summary.next_upcoming_due_date
    return {
        "value": _("Overdue since %(date)s") % {"date": local_date(due)},
        "note": _("Next due date after that: %(date)s") % {"date": local_date(upcoming)} if upcoming else "",
    }


def latest_invoices_panel(portal) -> list[dict]:
    if not portal.allows("invoices"):
        return []
    today = q.today_for(portal)
    invoices = list(q.invoices_of(portal).order_by("-issue_date", "-id")[:5])
    for invoice in invoices:
        invoice.badge = q.badge_for(invoice, today)
    return [
        {
            "template": "portal/ledger/_latest_invoices.html",
            "invoices": invoices,
            "can_pay": can_pay_online(portal),
        }
    ]


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


# -- paying -----------------------------------------------------------------------------------------------


def can_pay_online(portal) -> bool:
    return portal.may("invoices", "pay") and online_gateway() is not None


BULK_PAY_LIMIT = 200
EXPECTED_TOTAL = re.compile(r"[0-9]{1,15}")


@portal_view(module="invoices", action="pay")
@sensitive_post_parameters("number", "cvc")
@require_http_methods(["GET", "POST"])
def pay(request):
    """Bulk pay: choose invoices (or all due), then pay them with one card charge."""
    portal = request.portal
    if online_gateway() is None:
        raise Http404
    source = request.POST if request.method == "POST" else request.GET
    outstanding = list(q.outstanding_invoices_of(portal).order_by("due_date", "id")[:BULK_PAY_LIMIT])
    payable = payable_amounts(outstanding)  # balances less what other checkouts are paying right now
    due_now = [(i, a) for i, a in payable if i.currency == portal.customer.currency]
    if source.get("all") == "due":
        numbers = [invoice.number for invoice, _amount in due_now]
        if not numbers:
            messages.info(request, _("Nothing is due right now."))
            return redirect("portal:invoices")
    else:
        numbers = source.getlist("invoices")
    if not numbers:
        if request.method == "POST":
            messages.error(request, _("Choose at least one invoice to pay."))
        return render(
            request, "portal/ledger/pay_select.html", _pay_select_context(portal, outstanding, payable)
        )
    return _checkout(request, numbers, allow_amount=False, action=reverse("portal:pay"))


def _pay_select_context(portal, outstanding, payable) -> dict:
    """The rows to choose from (each with what can be paid of it now) and the server-computed totals:
    what "pay all due" charges, and what is payable per currency."""
    today = q.today_for(portal)
    amounts = {invoice.pk: amount for invoice, amount in payable}
    for invoice in outstanding:
        invoice.badge = q.badge_for(invoice, today)
        invoice.payable = amounts.get(invoice.pk)  # None: another checkout is paying it right now
        invoice.digits = minor_exponent(invoice.currency)  # for the live total (pay_select.js)
    currencies = sorted({i.currency for i in outstanding}, key=lambda c: (c != portal.customer.currency, c))
    totals = [Money.sum((a for i, a in payable if i.currency == c), c) for c in currencies]
    return {
        "outstanding": outstanding,
        "due_total": totals[0] if totals and totals[0].currency == portal.customer.currency else None,
        "totals": [t for t in totals if t.minor],
        "locale": portal.organization.locale.replace("_", "-"),
        "unused_credit": [
            Money(minor, c) for c, minor in unused_credit_by_currency(portal.customer).items() if minor
        ]
        if portal.allows("credits", "apply")
        else [],
    }


@portal_view(module="invoices", action="pay")
@sensitive_post_parameters("number", "cvc")
@require_http_methods(["GET", "POST"])
def pay_invoice(request, number):
    """The "Pay" button of one invoice: its balance, or a part of it."""
    invoice = q.get_invoice_for(request.portal, number)
    if online_gateway() is None:
        raise Http404
    return _checkout(
        request, [invoice.number], allow_amount=True, action=reverse("portal:pay_invoice", args=[number])
    )


def _parse_amount(raw: str, currency: str, locale: str) -> Money:
    """The typed part payment, in the organization's locale (`Money.parse`, the one parser)."""
    try:
        return Money.parse(raw, currency, locale)
    except AmountError as error:
        raise billing_errors.InvalidAmount(error.message) from None


def _checkout(request, numbers: list[str], *, allow_amount: bool, action: str):
    portal = request.portal
    organization, customer = portal.organization, portal.customer
    if request.method == "POST" and request.POST.get("form_token"):
        # The same form again (a double click, a reload): answer with what the first submission did.
        earlier = PaymentAttempt.objects.filter(
            organization=organization, customer=customer, form_token=request.POST["form_token"]
        ).first()
        if earlier is not None:
            response = _after_attempt(request, PayOutcome(earlier, repeated=True))
            if response is not None:
                return response
    back = redirect("portal:pay") if not allow_amount else redirect("portal:invoice", number=numbers[0])
    try:
        invoices = resolve_invoices(organization=organization, customer=customer, numbers=numbers)
        # Refuses void, paid, mixed currencies and balances another checkout holds, before any card
        # is asked for.
        plan_allocations(invoices, reserved=reserved_amounts(i.pk for i in invoices))
    except DomainError as error:
        domain_error_message(request, error)
        return back

    currency = invoices[0].currency
    amount_error = None
    amount_text = request.POST.get("amount", "") if request.method == "POST" else ""
    card_form = CardForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        gateway = online_gateway()
        amount = None
        try:
            if allow_amount and amount_text.strip():
                amount = _parse_amount(amount_text, currency, organization.locale)
            expected = request.POST.get("expected_total", "")
            # ASCII digits only ("²".isdigit() is true), and no more than a bigint holds.
            expected_total = Money(int(expected), currency) if EXPECTED_TOTAL.fullmatch(expected) else None
            if card_form.is_valid():
                try:
                    token = gateway.tokenize(card_form.card())
                except CardError as error:
                    add_domain_error(card_form, error)
                else:
                    outcome = pay_invoices(
                        organization=organization,
                        customer=customer,
                        invoice_numbers=numbers,
                        card=token,
                        form_token=request.POST.get("form_token", ""),
                        actor=Actor.from_request(request),
                        amount=amount,
                        expected_total=None if amount is not None else expected_total,
                        gateway=gateway,
                    )
                    response = _after_attempt(request, outcome)
                    if response is not None:
                        return response
                    card_form.add_error(None, outcome.attempt.decline_reason)
        except DomainError as error:
            if error.field == "amount" and allow_amount:
                amount_error = str(error.message)
            else:
                add_domain_error(card_form, error)
        invoices = resolve_invoices(organization=organization, customer=customer, numbers=numbers)

    allocations = payable_amounts(invoices)  # what can still be paid: balances less other checkouts'
    if not allocations:  # paid or taken by another checkout meanwhile: nothing left to ask a card for
        for error in card_form.non_field_errors() or [_("Nothing is left to pay on these invoices.")]:
            messages.error(request, error)
        return back
    total = Money.sum((a for _i, a in allocations), currency)
    return render(
        request,
        "portal/ledger/pay_checkout.html",
        {
            "allocations": allocations,
            "total": total,
            "card_form": card_form,
            "form_token": new_form_token(),  # a fresh token for each rendering: each form pays once
            "action": action,
            "allow_amount": allow_amount,
            "amount_text": amount_text or (total.format_input(organization.locale) if allow_amount else ""),
            "amount_error": amount_error,
            "numbers": [invoice.number for invoice, _a in allocations],
            "gateway": online_gateway(),
        },
        status=200 if not card_form.errors and not amount_error else 400,
    )


def _after_attempt(request, outcome):
    from portico.core.templatetags.money import money

    attempt = outcome.attempt
    if attempt.status == PaymentAttempt.Status.SUCCEEDED:
        payment = attempt.payment
        if outcome.repeated:
            messages.info(
                request,
                _("This payment was already made (%(number)s); your card was not charged again.")
                % {"number": payment.number},
            )
        else:
            messages.success(
                request,
                _("Thank you: payment %(number)s of %(amount)s was received.")
                % {"number": payment.number, "amount": money(payment.amount)},
            )
        return redirect(reverse("portal:payments") + f"#payment-{payment.number}")
    if attempt.status == PaymentAttempt.Status.PENDING:
        messages.info(request, _("Your payment is being processed; refresh this page in a moment."))
        return redirect("portal:payments")
    return None
