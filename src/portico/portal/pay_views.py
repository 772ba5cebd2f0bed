"""Paying online from the portal: one invoice, several, or everything due, through the gateway.

The checkout reserves what it pays (`payments.services.pay_invoices`) before the gateway is called."""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from portico.billing import errors as billing_errors
from portico.billing.selectors import unused_credit_by_currency
from portico.core.audit import Actor
from portico.core.errors import DomainError, add_domain_error, domain_error_message
from portico.core.money import AmountError, Money, minor_exponent
from portico.payments.gateways import online_gateway
from portico.payments.models import PaymentAttempt, new_form_token
from portico.payments.services import (
    earlier_attempt,
    pay_with_card,
    payable_amounts,
    plan_allocations,
    reserved_amounts,
    resolve_invoices,
)
from portico.portal import ledger_queries as q
from portico.portal.access import portal_view
from portico.portal.ledger_forms import CardForm

# -- paying -----------------------------------------------------------------------------------------------


BULK_PAY_LIMIT = 200
EXPECTED_TOTAL = re.compile(r"[0-9]{1,15}")


@portal_view(module="invoices", action="pay")
@sensitive_post_parameters("number", "cvc")
@require_http_methods(["GET", "POST"])
def pay(request):
    """Bulk pay: choose invoices (or all due), then pay them with one card charge."""
    portal = request.portal
    if online_gateway(request.portal.organization) is None:
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
    if online_gateway(request.portal.organization) is None:
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
    if request.method == "POST":
        # The same form again (a double click, a reload): answer with what the first submission did.
        earlier = earlier_attempt(
            organization=organization, customer=customer, form_token=request.POST.get("form_token", "")
        )
        if earlier is not None:
            response = _after_attempt(request, earlier)
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
        gateway = online_gateway(request.portal.organization)
        amount = None
        try:
            if allow_amount and amount_text.strip():
                amount = _parse_amount(amount_text, currency, organization.locale)
            expected = request.POST.get("expected_total", "")
            # ASCII digits only ("²".isdigit() is true), and no more than a bigint holds.
            expected_total = Money(int(expected), currency) if EXPECTED_TOTAL.fullmatch(expected) else None
            if card_form.is_valid():
                outcome = pay_with_card(
                    card=card_form.card(),
                    gateway=gateway,
                    organization=organization,
                    customer=customer,
                    invoice_numbers=numbers,
                    form_token=request.POST.get("form_token", ""),
                    actor=Actor.from_request(request),
                    amount=amount,
                    expected_total=None if amount is not None else expected_total,
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
            "gateway": online_gateway(request.portal.organization),
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
