"""The customer's saved payment methods: list, add, make default, remove, replace an expiring card.

Thin: parse, authorize (`payment_methods.view` / `.manage`), find the method through the one scoped
lookup (`payments.methods.get_method_for`: another customer's, another organization's or a made-up
id answers 404), call one service of `payments.methods` (which audits), render.

How a card is entered depends on the organization's gateway:
- `test` tokenizes on our server: a typed card form (`ledger_forms.CardForm`);
- `stripe` collects the card in the browser (Stripe.js Elements, PCI SAQ A): the page starts a
  SetupIntent (`methods.start_setup`), `stripe_card.js` confirms it with `stripe.confirmCardSetup`,
  and only the SetupIntent's id is posted back here (`save_method(setup_reference=...)`). The
  Stripe.js origin is allowed by the Content-Security-Policy of these pages only (`allow_stripe_js`).

Every change is reauthenticated (`sensitive`). A form that carries a card number is never kept
for after the reauthentication (allauth would stash the POST in the session, i.e. the database):
`sensitive_card_entry` asks for the password first and then shows the empty form again.
"""

from __future__ import annotations

import re
from functools import wraps
from urllib.parse import urlencode, urlparse

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from portico.accounts.decorators import sensitive
from portico.core.audit import Actor
from portico.core.errors import DomainError, add_domain_error, domain_error_message
from portico.payments import methods
from portico.payments.gateways import online_gateway
from portico.portal import ledger_queries as q
from portico.portal.access import portal_view
from portico.portal.ledger_forms import CardForm

# Cards expiring within this many days are flagged on the list and offered a replacement.
EXPIRES_SOON_DAYS = 60
SETUP_REFERENCE = re.compile(r"seti_[A-Za-z0-9_]{1,120}")
STRIPE_JS_ORIGIN = "https://js.stripe.com"


# -- shared helpers ---------------------------------------------------------------------------------


def method_for(portal, method_id: str):
    """The portal customer's own active method with this public id; anything else is a 404."""
    try:
        return methods.get_method_for(portal.customer, method_id)
    except DomainError:
        raise Http404 from None


def allow_stripe_js(response, js_url: str):
    """Let this one response load Stripe.js (or the Stripe-compatible server's copy of it), frame
    its card fields and reach its API. Every other page keeps the default policy (settings.py)."""
    origin = _origin(js_url) or STRIPE_JS_ORIGIN
    if origin == STRIPE_JS_ORIGIN:
        # Stripe's own: the script and its frames from js.stripe.com, 3-D Secure frames from
        # hooks.stripe.com, the API at api.stripe.com (https://docs.stripe.com/security/guide#content-security-policy).
        script, frame, connect = [origin], [origin, "https://hooks.stripe.com"], ["https://api.stripe.com"]
    else:
        script = frame = connect = [origin]
    response._csp_update = {
        "script-src": script,
        "frame-src": ["'self'", *frame],
        "connect-src": ["'self'", *connect],
    }
    return response


def _origin(url: str) -> str:
    parsed = urlparse(url or "")
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        return ""
    return f"{parsed.scheme}://{parsed.netloc}"


def sensitive_card_entry(view):
    """`sensitive`, except that a POST needing reauthentication is not kept for replay: it may carry
    a card number, and allauth keeps a suspended POST in the session. The customer confirms their
    password and comes back to the empty form."""
    guarded = sensitive(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "POST":
            from allauth.account.internal.flows.reauthentication import is_reauthentication_required

            if is_reauthentication_required(request, app=""):
                messages.info(request, _("Please confirm it is you, then enter the card again."))
                query = urlencode({"next": request.path})
                return HttpResponseRedirect(f"{reverse('account_reauthenticate')}?{query}")
        return guarded(request, *args, **kwargs)

    return wrapper


def _gateway_or_404(portal):
    gateway = online_gateway(portal.organization)
    if gateway is None:
        raise Http404
    return gateway


class MakeDefaultForm(forms.Form):
    make_default = forms.BooleanField(label=_lazy("Use this card by default"), required=False, initial=True)


class SetupForm(forms.Form):
    """What the Stripe page posts: the SetupIntent that Stripe.js confirmed, never card details."""

    setup_intent = forms.CharField(max_length=130, required=False, widget=forms.HiddenInput)
    make_default = forms.BooleanField(label=_lazy("Use this card by default"), required=False, initial=True)

    def clean_setup_intent(self):
        value = self.cleaned_data["setup_intent"].strip()
        if not SETUP_REFERENCE.fullmatch(value):
            raise forms.ValidationError(
                _("Your card could not be confirmed. Please enter it again."), code="setup"
            )
        return value


# -- the list --------------------------------------------------------------------------------------


@portal_view(module="payment_methods", action="view")
@require_http_methods(["GET"])
def payment_methods(request):
    portal = request.portal
    today = q.today_for(portal)
    rows = list(methods.active_methods(portal.customer))
    for method in rows:
        method.expired = method.is_expired(today)
        method.expires_soon = method.expires_within(today, EXPIRES_SOON_DAYS)
    auto_charge = (
        methods.auto_charge_enabled(portal.customer) if hasattr(methods, "auto_charge_enabled") else None
    )
    return render(
        request,
        "portal/payment_methods/list.html",
        {
            "methods": rows,
            "can_manage": portal.may("payment_methods", "manage")
            and online_gateway(portal.organization) is not None,
            "auto_charge": auto_charge,
            "has_auto_charge": hasattr(methods, "set_auto_charge"),
        },
    )


# -- adding and replacing ------------------------------------------------------------------------------


@portal_view(module="payment_methods", action="manage")
@sensitive_post_parameters("number", "cvc")
@sensitive_card_entry
@require_http_methods(["GET", "POST"])
def add_payment_method(request):
    return _card_entry(request, replaces=None)


@portal_view(module="payment_methods", action="manage")
@sensitive_post_parameters("number", "cvc")
@sensitive_card_entry
@require_http_methods(["GET", "POST"])
def replace_payment_method(request, method_id):
    old = method_for(request.portal, method_id)
    return _card_entry(request, replaces=old)


def _card_entry(request, *, replaces):
    """The add (or replace) page: the typed card form for the test gateway, Stripe.js otherwise."""
    portal = request.portal
    gateway = _gateway_or_404(portal)
    actor = Actor.from_request(request)
    action = (
        reverse("portal:payment_method_replace", args=[replaces.public_id])
        if replaces is not None
        else reverse("portal:payment_method_add")
    )
    data = request.POST if request.method == "POST" else None
    if gateway.tokenizes_on_server:
        form = CardForm(data)
        options = MakeDefaultForm(data)
        if data is not None and form.is_valid() and options.is_valid():
            try:
                method = methods.save_method(
                    organization=portal.organization,
                    customer=portal.customer,
                    actor=actor,
                    card=form.card(),
                    make_default=_make_default(options, replaces),
                    replaces=replaces,
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                return _saved(request, method, replaces)
        context = {"card_form": form, "options": options}
        status = 400 if form.errors or options.errors else 200
        return render(
            request,
            "portal/payment_methods/add.html",
            {**context, "action": action, "replaces": replaces, "gateway": gateway},
            status=status,
        )

    form = SetupForm(data)
    if data is not None and form.is_valid():
        try:
            method = methods.save_method(
                organization=portal.organization,
                customer=portal.customer,
                actor=actor,
                setup_reference=form.cleaned_data["setup_intent"],
                make_default=_make_default(form, replaces),
                replaces=replaces,
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return _saved(request, method, replaces)
    try:
        session = methods.start_setup(organization=portal.organization, customer=portal.customer, actor=actor)
    except DomainError as error:
        domain_error_message(request, error)
        return redirect("portal:payment_methods")
    response = render(
        request,
        "portal/payment_methods/add_stripe.html",
        {"form": form, "session": session, "action": action, "replaces": replaces, "gateway": gateway},
        status=400 if form.errors else 200,
    )
    return allow_stripe_js(response, session.js_url)


def _make_default(form, replaces) -> bool | None:
    """A replacement of the default card becomes the default; otherwise the customer's choice
    (unticked: None, the service's rule, so that a first card is the default all the same)."""
    if replaces is not None and replaces.is_default:
        return True
    return True if form.cleaned_data.get("make_default") else None


def _saved(request, method, replaces):
    if replaces is not None:
        messages.success(
            request,
            _("%(new)s replaces %(old)s.") % {"new": method.label, "old": replaces.label},
        )
    else:
        messages.success(request, _("%(card)s was saved.") % {"card": method.label})
    return redirect("portal:payment_methods")


# -- default and removal -------------------------------------------------------------------------------


@portal_view(module="payment_methods", action="manage")
@sensitive
@require_POST
def make_default_payment_method(request, method_id):
    method = method_for(request.portal, method_id)
    try:
        method = methods.make_default(method=method, actor=Actor.from_request(request))
    except DomainError as error:
        domain_error_message(request, error)
    else:
        messages.success(request, _("%(card)s is now your default card.") % {"card": method.label})
    return redirect("portal:payment_methods")


@portal_view(module="payment_methods", action="manage")
@sensitive
@require_http_methods(["GET", "POST"])
def remove_payment_method(request, method_id):
    """A confirmation page, then the removal. Refused (with the reason, and the choice of another
    default) while the method is needed, e.g. the only card of automatic charging."""
    portal = request.portal
    method = method_for(portal, method_id)
    others = [m for m in methods.active_methods(portal.customer) if m.pk != method.pk]
    refusal = None
    chosen = None
    if request.method == "POST":
        wanted = request.POST.get("new_default", "").strip()
        if wanted:
            chosen = next((m for m in others if m.public_id == wanted), None)
            if chosen is None:
                refusal = _("Choose one of your other saved cards.")
        if refusal is None:
            try:
                methods.remove_method(method=method, actor=Actor.from_request(request), new_default=chosen)
            except DomainError as error:
                refusal = str(error.message)
            else:
                messages.success(request, _("%(card)s was removed.") % {"card": method.label})
                return redirect("portal:payment_methods")
    return render(
        request,
        "portal/payment_methods/remove.html",
        {"method": method, "others": others, "refusal": refusal, "chosen": chosen},
        status=400 if refusal else 200,
    )


@portal_view(module="payment_methods", action="manage")
@sensitive
@require_POST
def auto_charge(request):
    """Switch charging invoices to the default card automatically on or off."""
    portal = request.portal
    if not hasattr(methods, "set_auto_charge"):
        raise Http404
    wanted = request.POST.get("enabled", "")
    if wanted not in {"on", "off"}:
        messages.error(request, _("Choose whether to charge your default card automatically."))
        return redirect("portal:payment_methods")
    try:
        methods.set_auto_charge(
            customer=portal.customer, enabled=wanted == "on", actor=Actor.from_request(request)
        )
    except DomainError as error:
        domain_error_message(request, error)
    else:
        if wanted == "on":
            messages.success(request, _("New invoices will be charged to your default card automatically."))
        else:
            messages.success(request, _("Invoices will no longer be charged automatically."))
    return redirect("portal:payment_methods")
