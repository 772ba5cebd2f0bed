"""Paying online from the portal: one invoice, several, everything due, or any amount.

The checkout reserves what it pays (`payments.services.pay_invoices` / `pay_amount`) before the
gateway is called. Every pay form offers the customer's saved methods first (the default chosen,
expired cards shown but not choosable), then "a new card", optionally saved for next time.

A new card with the `stripe` gateway: the page starts a SetupIntent (`methods.start_setup`) and
Stripe.js confirms the card against it in the browser (`portal/stripe_card.js`); we receive only
the SetupIntent's id, save the method from it (`methods.save_method(setup_reference=...)`) and pay
with that saved method. If "save this card" was not ticked, the method is removed again once the
payment is settled. Why not a PaymentMethod made in the browser (`stripe.createPaymentMethod`) and
charged directly: a SetupIntent runs the bank's checks (3-D Secure) while the customer is there, one
code path charges saved and new cards alike, and localstripe's Stripe.js (the browser tests') does
not implement `createPaymentMethod`. Card details never reach our server (PCI SAQ A).
"""

from __future__ import annotations

import contextlib
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
from portico.payments import methods
from portico.payments import services as pay_services
from portico.payments.gateways import online_gateway
from portico.payments.models import PaymentAttempt, new_form_token
from portico.payments.services import (
    earlier_attempt,
    payable_amounts,
    plan_allocations,
    reserved_amounts,
    resolve_invoices,
)
from portico.portal import ledger_queries as q
from portico.portal.access import portal_view
from portico.portal.ledger_forms import CardForm
from portico.portal.payment_method_views import SETUP_REFERENCE, allow_stripe_js

# -- paying -----------------------------------------------------------------------------------------------


BULK_PAY_LIMIT = 200
EXPECTED_TOTAL = re.compile(r"[0-9]{1,15}")


@portal_view(module="invoices", action="bulk_pay")
@sensitive_post_parameters("number", "cvc")
@require_http_methods(["GET", "POST"])
def pay(request):
    """Bulk pay: choose invoices (or all due), then pay them with one card charge."""
    portal = request.portal
    if not portal.allows("invoices", "pay"):
        raise Http404
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
    """The "Pay" button of one invoice: its balance, or a part of it where the customer's portal
    configuration allows paying any amount."""
    invoice = q.get_invoice_for(request.portal, number)
    if online_gateway(request.portal.organization) is None:
        raise Http404
    return _checkout(
        request,
        [invoice.number],
        allow_amount=request.portal.allows("invoices", "pay_any_amount"),
        action=reverse("portal:pay_invoice", args=[number]),
        single=True,
    )


def _parse_amount(raw: str, currency: str, locale: str) -> Money:
    """The typed part payment, in the organization's locale (`Money.parse`, the one parser)."""
    try:
        return Money.parse(raw, currency, locale)
    except AmountError as error:
        raise billing_errors.InvalidAmount(error.message) from None


def _checkout(request, numbers: list[str], *, allow_amount: bool, action: str, single: bool = False):
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
    back = redirect("portal:invoice", number=numbers[0]) if single else redirect("portal:pay")
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
    gateway = online_gateway(organization)
    choice = PayChoice(request, gateway)
    if request.method == "POST":
        amount = None
        try:
            if allow_amount and amount_text.strip():
                amount = _parse_amount(amount_text, currency, organization.locale)
            expected = request.POST.get("expected_total", "")
            # ASCII digits only ("²".isdigit() is true), and no more than a bigint holds.
            expected_total = Money(int(expected), currency) if EXPECTED_TOTAL.fullmatch(expected) else None

            def pay_now(**source):
                return pay_services.pay_invoices(
                    gateway=gateway,
                    organization=organization,
                    customer=customer,
                    invoice_numbers=numbers,
                    form_token=request.POST.get("form_token", ""),
                    actor=Actor.from_request(request),
                    amount=amount,
                    expected_total=None if amount is not None else expected_total,
                    **source,
                )

            outcome = choice.pay(pay_now)
            if outcome is not None:
                response = _after_attempt(request, outcome)
                if response is not None:
                    return response
                choice.error(outcome.attempt.decline_reason)
        except DomainError as error:
            if error.field == "amount" and allow_amount:
                amount_error = str(error.message)
            else:
                choice.domain_error(error)
        invoices = resolve_invoices(organization=organization, customer=customer, numbers=numbers)

    allocations = payable_amounts(invoices)  # what can still be paid: balances less other checkouts'
    if not allocations:  # paid or taken by another checkout meanwhile: nothing left to ask a card for
        for error in choice.all_errors() or [_("Nothing is left to pay on these invoices.")]:
            messages.error(request, error)
        return back
    total = Money.sum((a for _i, a in allocations), currency)
    return choice.render(
        "portal/ledger/pay_checkout.html",
        {
            "allocations": allocations,
            "total": total,
            "form_token": new_form_token(),  # a fresh token for each rendering: each form pays once
            "action": action,
            "allow_amount": allow_amount,
            "amount_text": amount_text or (total.format_input(organization.locale) if allow_amount else ""),
            "amount_error": amount_error,
            "numbers": [invoice.number for invoice, _a in allocations],
        },
        failed=bool(amount_error),
    )


class PayChoice:
    """What pays: one of the customer's saved methods (`pay_with` = its id) or a new card
    (`pay_with` = "new": the typed card for the test gateway, a confirmed SetupIntent for Stripe),
    with "save this card" (`save_card`). Shared by every pay form; errors land on `card_form` (a card field's) or in `errors`."""

    NEW = "new"

    def __init__(self, request, gateway):
        self.request = request
        self.portal = request.portal
        self.gateway = gateway
        portal = self.portal
        today = q.today_for(portal)
        self.saved = []
        if portal.allows("payment_methods"):
            self.saved = [m for m in methods.active_methods(portal.customer) if m.gateway == gateway.name]
        for method in self.saved:
            method.expired = method.is_expired(today)
        self.can_save = portal.may("payment_methods", "manage")
        data = request.POST if request.method == "POST" else None
        usable = [m for m in self.saved if not m.expired]
        default = next((m for m in usable if m.is_default), usable[0] if usable else None)
        self.chosen = (data.get("pay_with", "") if data is not None else "") or (
            default.public_id if default is not None and data is None else self.NEW
        )
        self.save_checked = data is not None and data.get("save_card") == "on"
        # The card form is bound only when a new card is what pays, so saved cards don't trip it;
        # errors that are not about a card field are kept here (an unbound form takes none).
        self.card_form = CardForm(data if data is not None and self.chosen == self.NEW else None)
        self.errors: list[str] = []

    def error(self, message) -> None:
        self.errors.append(str(message))

    def domain_error(self, error: DomainError) -> None:
        if self.card_form.is_bound and error.field in self.card_form.fields:
            add_domain_error(self.card_form, error)
        else:
            self.error(error.message)

    def all_errors(self) -> list[str]:
        bound = list(self.card_form.non_field_errors()) if self.card_form.is_bound else []
        return bound + self.errors

    @property
    def failed(self) -> bool:
        return bool(self.errors or (self.card_form.is_bound and self.card_form.errors))

    def pay(self, pay_now):
        """Run `pay_now(card=... | method=..., save_method=...)` with the chosen source; None when
        the choice itself is wrong (the reason is in `all_errors()`)."""
        if self.chosen != self.NEW:
            method = next((m for m in self.saved if m.public_id == self.chosen), None)
            if method is None:
                self.error(_("Choose one of your saved cards, or a new card."))
                return None
            if method.expired:
                self.error(_("%(card)s has expired. Please choose another card.") % {"card": method})
                return None
            return pay_now(method=method)
        save = self.save_checked and self.can_save
        if self.gateway.tokenizes_on_server:
            if not self.card_form.is_valid():
                return None
            return pay_now(card=self.gateway.tokenize(self.card_form.card()), save_method=save)
        return self._pay_with_setup(pay_now, save)

    def _pay_with_setup(self, pay_now, save: bool):
        reference = self.request.POST.get("setup_intent", "").strip()
        if not SETUP_REFERENCE.fullmatch(reference):
            self.error(_("Your card could not be confirmed. Please enter it again."))
            return None
        actor = Actor.from_request(self.request)
        method = methods.save_method(
            organization=self.portal.organization,
            customer=self.portal.customer,
            actor=actor,
            setup_reference=reference,
            make_default=None if save else False,
        )
        outcome = pay_now(method=method)
        keep = outcome.pending or (save and outcome.succeeded)
        if not keep and not outcome.repeated:
            # Needed elsewhere (e.g. automatic charging): then it stays saved.
            with contextlib.suppress(DomainError):
                methods.remove_method(method=method, actor=actor)
        return outcome

    def context(self) -> dict:
        context = {
            "saved_methods": self.saved,
            "pay_with": self.chosen,
            "can_save": self.can_save,
            "save_checked": self.save_checked,
            "card_form": self.card_form,
            "pay_errors": self.all_errors(),
            "gateway": self.gateway,
            "stripe_session": None,
        }
        if not self.gateway.tokenizes_on_server:
            try:
                context["stripe_session"] = methods.start_setup(
                    organization=self.portal.organization,
                    customer=self.portal.customer,
                    actor=Actor.from_request(self.request),
                )
            except DomainError as error:
                context["stripe_error"] = str(error.message)
        return context

    def render(self, template: str, context: dict, *, failed: bool = False):
        context = {**self.context(), **context}
        response = render(self.request, template, context, status=400 if failed or self.failed else 200)
        if context["stripe_session"] is not None:
            allow_stripe_js(response, context["stripe_session"].js_url)
        return response


# -- any amount -----------------------------------------------------------------------------------------


@portal_view(module="invoices", action="pay_any_amount")
@sensitive_post_parameters("number", "cvc")
@require_http_methods(["GET", "POST"])
def pay_amount(request):
    """ "Pay any amount": applied to the open invoices oldest first, the rest kept as an advance
    (`payments.services.pay_amount`)."""
    portal = request.portal
    if not portal.allows("invoices", "pay"):
        raise Http404
    organization, customer = portal.organization, portal.customer
    gateway = online_gateway(organization)
    if gateway is None:
        raise Http404
    if request.method == "POST":
        earlier = earlier_attempt(
            organization=organization, customer=customer, form_token=request.POST.get("form_token", "")
        )
        if earlier is not None:
            response = _after_attempt(request, earlier)
            if response is not None:
                return response
    choice = PayChoice(request, gateway)
    amount_text = request.POST.get("amount", "") if request.method == "POST" else ""
    amount_error = None
    if request.method == "POST":
        try:
            amount = _parse_amount(amount_text, customer.currency, organization.locale)
            if amount.minor <= 0:
                raise billing_errors.InvalidAmount(_("Enter an amount greater than zero."))

            def pay_now(**source):
                return pay_services.pay_amount(
                    organization=organization,
                    customer=customer,
                    amount=amount,
                    form_token=request.POST.get("form_token", ""),
                    actor=Actor.from_request(request),
                    **source,
                )

            outcome = choice.pay(pay_now)
            if outcome is not None:
                response = _after_attempt(request, outcome)
                if response is not None:
                    return response
                choice.error(outcome.attempt.decline_reason)
        except DomainError as error:
            if error.field == "amount":
                amount_error = str(error.message)
            else:
                choice.domain_error(error)
    due = payable_amounts(list(q.outstanding_invoices_of(portal).order_by("due_date", "id")[:BULK_PAY_LIMIT]))
    due = [(i, a) for i, a in due if i.currency == customer.currency]
    return choice.render(
        "portal/ledger/pay_amount.html",
        {
            "form_token": new_form_token(),
            "amount_text": amount_text,
            "amount_error": amount_error,
            "currency": customer.currency,
            "due": due,
            "due_total": Money.sum((a for _i, a in due), customer.currency),
        },
        failed=bool(amount_error),
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
            messages.info(request, allocation_summary(payment))
        return redirect(reverse("portal:payments") + f"#payment-{payment.number}")
    if attempt.status == PaymentAttempt.Status.PENDING:
        messages.info(request, _("Your payment is being processed; refresh this page in a moment."))
        return redirect("portal:payments")
    return None


def allocation_summary(payment) -> str:
    """How a payment was applied, in words: which invoices got how much, and what is kept as an advance."""
    from portico.core.templatetags.money import money

    parts = [
        _("%(amount)s to invoice %(number)s")
        % {"amount": money(Money(a.amount_minor, payment.currency)), "number": a.invoice.number}
        for a in payment.allocations.select_related("invoice").order_by("invoice__due_date", "invoice_id")
    ]
    if payment.unused_minor:
        parts.append(
            _("%(amount)s kept as an advance for future invoices") % {"amount": money(payment.unused)}
        )
    return _("Applied: %(parts)s.") % {"parts": "; ".join(parts)} if parts else ""
