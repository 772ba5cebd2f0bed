"""Applying the customer's own credit (credit notes, advances) to invoices they choose.

Thin: parse (the typed amounts through `pay_views._parse_amount`, the one place portal text
becomes money), authorize (`credits.apply`, billing role), find the credit and invoices through
scoped lookups (anyone else's: 404), call `payments.credits.use_credit`, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portico.core.audit import Actor
from portico.core.errors import DomainError
from portico.payments.credits import CreditSource, credit_sources_of, earlier_use, use_credit
from portico.payments.models import new_form_token
from portico.payments.services import payable_amounts
from portico.portal import ledger_queries as q
from portico.portal.access import portal_view
from portico.portal.pay_views import BULK_PAY_LIMIT, _parse_amount


def can_apply_credit(portal) -> bool:
    return portal.may("credits", "apply")


def _source_for(sources: list[CreditSource], key: str) -> CreditSource:
    """The customer's credit with this key; anyone else's, a used-up one or a made-up key: 404."""
    for source in sources:
        if source.key == key:
            return source
    raise Http404


@portal_view(module="credits", action="apply")
@require_http_methods(["GET", "POST"])
def apply_credit(request):
    portal = request.portal
    if request.method == "POST":
        earlier = earlier_use(portal.customer, request.POST.get("form_token", ""))
        if earlier is not None:  # a double click or a reload after the credit was used up
            return _after_use(request, earlier)
    sources = credit_sources_of(portal.customer)
    if not sources:
        messages.info(request, _("You have no unused credit to apply."))
        return redirect("portal:credits")
    data = request.POST if request.method == "POST" else request.GET
    chosen = _source_for(sources, data["credit"]) if data.get("credit") else sources[0]
    errors: list[str] = []
    amount_errors: dict[str, str] = {}
    if request.method == "POST":
        # An invoice is chosen by its box, or by typing an amount for it (a hurried customer's way).
        typed = [k.removeprefix("amount_") for k, v in data.items() if k.startswith("amount_") and v.strip()]
        numbers = list(dict.fromkeys(data.getlist("invoices") + typed))
        if len(numbers) > BULK_PAY_LIMIT:
            numbers = []
            errors.append(_("Choose at most %(count)d invoices at a time.") % {"count": BULK_PAY_LIMIT})
        invoices = [q.get_invoice_for(portal, number) for number in numbers]
        allocations = []
        for invoice in invoices:
            text = data.get(f"amount_{invoice.number}", "").strip()
            try:
                allocations.append(
                    (
                        invoice,
                        _parse_amount(text, invoice.currency, portal.organization.locale) if text else None,
                    )
                )
            except DomainError as error:
                amount_errors[invoice.number] = error.message
        if not amount_errors and not errors:
            try:
                outcome = use_credit(
                    customer=portal.customer,
                    credit=chosen.document,
                    allocations=allocations,
                    form_token=data.get("form_token", ""),
                    actor=Actor.from_request(request),
                )
            except DomainError as error:
                errors.append(error.message)
            else:
                return _after_use(request, outcome)
    return render(
        request,
        "portal/ledger/credits_apply.html",
        _form_context(
            portal, sources, chosen, data if request.method == "POST" else None, errors, amount_errors
        ),
        status=400 if errors or amount_errors else 200,
    )


def _form_context(portal, sources, chosen, posted, errors, amount_errors) -> dict:
    outstanding = list(
        q.outstanding_invoices_of(portal)
        .filter(currency=chosen.available.currency)
        .order_by("due_date", "id")[:BULK_PAY_LIMIT]
    )
    free = dict((invoice.pk, amount) for invoice, amount in payable_amounts(outstanding))
    today = q.today_for(portal)
    picked = set(posted.getlist("invoices")) if posted is not None else set()
    if posted is not None:
        picked |= {
            k.removeprefix("amount_") for k, v in posted.items() if k.startswith("amount_") and v.strip()
        }
    for invoice in outstanding:
        invoice.badge = q.badge_for(invoice, today)
        invoice.free = free.get(invoice.pk)  # None: a card payment of it is being processed
        invoice.picked = invoice.number in picked
        invoice.typed = posted.get(f"amount_{invoice.number}", "") if posted is not None else ""
        invoice.amount_error = amount_errors.get(invoice.number, "")
    return {
        "sources": sources,
        "chosen": chosen,
        "outstanding": outstanding,
        "errors": errors,
        "form_token": new_form_token(),  # each rendering is a new form: each applies once
    }


def _after_use(request, outcome):
    from portico.core.templatetags.money import money

    use = outcome.use
    if outcome.repeated:
        messages.info(request, _("This credit was already applied; nothing was applied twice."))
    else:
        messages.success(
            request,
            _("%(amount)s of credit %(number)s was applied to %(invoices)s.")
            % {
                "amount": money(outcome.total),
                "number": use.source_number,
                "invoices": ", ".join(use.applied),
            },
        )
    return redirect("portal:credits")
