"""The customer's subscriptions: the list, one subscription, and the self-service actions.

Thin: parse, authorize, find the subscription through one scoped lookup (another customer's, another
organization's or a made-up number answers 404), call one service of `subscriptions.services`
(which validates, locks, audits and invoices), render.

Every action is gated on the server twice: the page's group (`@portal_view(module=
"subscriptions", action="change"|"cancel")`: billing or admin, 404 when switched off) and the action's
own capability in the customer's portal configuration (`subscriptions.<action>`, declared in
`subscriptions/capabilities.py`; 403 when switched off). Each action is
a GET that shows its exact preview (`subscriptions.previews` / `services.preview_change`, the
pricing the service bills with) and a POST that confirms it, through one skeleton (`_act`). The
actions that charge or credit money carry a one-time form token (`services.once`): a second
submission of the same form changes nothing and shows the first one's result. A refusal of the
service (`DomainError`) is shown as a message, with a 400.

Why one module (for now): every action is a preview (GET) and a confirmation (POST) built on the
same gates and helpers at the top; moving the action forms out is the next split.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods

from portico.catalog.models import Addon, Plan, redeemable_code
from portico.core.audit import Actor, AuditEvent
from portico.core.errors import DomainError, domain_error_message
from portico.payments import methods as payment_methods
from portico.payments.models import new_form_token
from portico.portal import ledger_queries as q
from portico.portal.access import portal_view
from portico.subscriptions import errors, history, previews, services
from portico.subscriptions.models import (
    ENDED_STATUSES,
    PORTAL_ACTIONS,
    CouponRedemption,
    DowngradeTiming,
    ScheduledChange,
    Subscription,
    SubscriptionItem,
)

MAX_QUANTITY = 1_000_000


# -- lookups and gates ------------------------------------------------------------------------------


def _subscriptions(portal):
    active = CouponRedemption.objects.filter(status=CouponRedemption.RedemptionStatus.ACTIVE)
    return (
        Subscription.objects.filter(organization=portal.organization, customer=portal.customer)
        .select_related("plan", "plan__product")
        .prefetch_related(
            "plan__tiers",
            Prefetch(
                "items",
                queryset=SubscriptionItem.objects.select_related("addon").prefetch_related("addon__tiers"),
            ),
            Prefetch(
                "redemptions",
                queryset=active.select_related("coupon").prefetch_related("coupon__plans", "coupon__addons"),
            ),
            Prefetch(
                "scheduled_changes",
                queryset=ScheduledChange.objects.filter(status=ScheduledChange.ChangeStatus.PENDING),
                to_attr="pending_changes",
            ),
        )
    )


def subscription_for(portal, number: str) -> Subscription:
    """The portal customer's own subscription with this number; anything else is a 404."""
    found = list(_subscriptions(portal).filter(number=number[:40]).order_by()[:1])
    if not found:
        raise Http404
    subscription = found[0]
    subscription.organization = portal.organization
    subscription.customer = portal.customer
    return subscription


def _settings(portal):
    return services.subscription_settings(portal.organization)


def _portal_actions(portal) -> set[str]:
    """The subscription actions the customer's portal configuration allows."""
    return {action for action in PORTAL_ACTIONS if portal.allows("subscriptions", action)}


def _require_allowed(portal, *actions: str) -> None:
    """The customer's portal configuration allows at least one of `actions` (else 403: refused on the
    server, not only hidden)."""
    if not _portal_actions(portal).intersection(actions):
        raise PermissionDenied(_("Your provider does not offer this change in the portal."))


def _offered(portal, subscription) -> set[str]:
    """Actions this page offers: allowed by the organization, the subscription's status and the role
    (the action views check the same on the server)."""
    allowed = _portal_actions(portal) & set(services.allowed_actions(subscription))
    change = portal.may("subscriptions", "change")
    cancel = portal.may("subscriptions", "cancel")
    cancel_actions = {"cancel", "cancel_trial", "undo_cancel"}
    return {a for a in allowed if (cancel if a in cancel_actions else change)}


def _not_now(request, subscription, action: str):
    """On a GET: when the subscription's status does not allow `action`, say why on its page (the
    POST would be refused by the service all the same)."""
    if request.method != "GET" or action in services.allowed_actions(subscription):
        return None
    messages.error(request, str(errors.TransitionRefused(subscription.get_status_display(), action)))
    return redirect("portal:subscription", number=subscription.number)


def _opened(request, number: str, action: str, *allowed: str, once: bool = False):
    """An action view's opening: the organization allows it (`allowed`, default `action`: else 403),
    the customer's own subscription (else 404), its status allows `action` (on a GET, else its page
    says why), and with `once` a repeated one-time form answered with the first result.
    (subscription, None) to go on, or (subscription, the response to give instead)."""
    portal = request.portal
    _require_allowed(portal, *(allowed or (action,)))
    subscription = subscription_for(portal, number)
    early = _not_now(request, subscription, action)
    if early is None and once:
        early = _repeat_of(request, subscription)
    return subscription, early


def _actor(request) -> Actor:
    return Actor.from_request(request)


def _refused(request, error: DomainError, template: str, context: dict):
    domain_error_message(request, error)
    return render(request, template, context, status=400)


def _done(request, subscription, text: str):
    messages.success(request, text)
    return redirect("portal:subscription", number=subscription.number)


def _repeated(request, subscription, earlier):
    """A form submitted again (double click, another tab, replay): nothing changed; the first
    submission's result is shown."""
    messages.info(request, _("This form was already submitted; nothing more was changed."))
    return _done(request, subscription, earlier.result)


def _repeat_of(request, subscription):
    """On a POST whose one-time token was used before: the first submission's result (checked
    before the form, which the first submission may have made invalid: an addon already added)."""
    if request.method != "POST":
        return None
    earlier = services.earlier_submission(subscription, request.POST.get("form_token", ""))
    return _repeated(request, subscription, earlier) if earlier is not None else None


def _act(request, subscription, *, template: str, context: dict, perform, done, form=None, once_as: str = ""):
    """The portal actions' one skeleton. GET: `template` with `context` (`form`, and with `once_as` a
    fresh one-time form token: the actions that charge or credit money). POST: the form validated
    (400 with its errors), `perform(cleaned_data)` called (with `once_as`, once per token: a second
    submission changes nothing and shows the first one's result), then the subscription's page
    with `done` (text, or a function of the cleaned data); a refusal re-renders with 400."""
    context = {"subscription": subscription, "form": form, **context}
    if once_as:
        context["form_token"] = new_form_token()
    if request.method == "GET":
        return render(request, template, context)
    token = request.POST.get("form_token", "")
    if once_as and (repeat := _repeat_of(request, subscription)) is not None:
        return repeat
    if form is not None and not form.is_valid():
        return render(request, template, context, status=400)
    data = form.cleaned_data if form is not None else {}
    text = done(data) if callable(done) else done
    try:
        if once_as:
            earlier = services.once(
                subscription=subscription, form_token=token, action=once_as, result=text,
                perform=lambda: perform(data),
            )  # fmt: skip
            if earlier is not None:
                return _repeated(request, subscription, earlier)
        else:
            perform(data)
    except DomainError as error:
        return _refused(request, error, template, context)
    return _done(request, subscription, text)


# -- list and detail --------------------------------------------------------------------------------


def _decorate(subscription):
    subscription.redemption = previews.active_redemption(subscription)
    subscription.next = previews.next_invoice(subscription)
    subscription.addon_items = list(subscription.items.all())
    subscription.price = previews.term_price(subscription)
    if subscription.current_term_end:
        subscription.term_last_day = subscription.current_term_end - dt.timedelta(days=1)
    return subscription


@portal_view(module="subscriptions", action="view")
@require_http_methods(["GET"])
def subscription_list(request):
    portal = request.portal
    rows = [_decorate(s) for s in _subscriptions(portal).order_by("-created_at", "-id")]
    for row in rows:
        row.organization = portal.organization
    active = [s for s in rows if s.status not in ENDED_STATUSES]
    past = [s for s in rows if s.status in ENDED_STATUSES]
    return render(request, "portal/subscriptions/list.html", {"active": active, "past": past})


def _invoices_of(portal, subscription) -> history.Documents:
    """The subscription's invoices and credit notes (`subscriptions.history`: linked rows, never a
    memo match; `subscription` is the portal customer's own, from `subscription_for`)."""
    return history.documents_of(subscription)


def _timeline(subscription):
    events = AuditEvent.objects.filter(
        organization_id=subscription.organization_id,
        object_type=Subscription._meta.label_lower,
        object_id=str(subscription.pk),
    ).order_by("-at", "-id")[:100]
    rows = list(events)
    for event in rows:
        event.label = event.action.removeprefix("subscription.").replace("_", " ").capitalize()
    return rows


@portal_view(module="subscriptions", action="view")
@require_http_methods(["GET"])
def subscription_detail(request, number):
    portal = request.portal
    subscription = _decorate(subscription_for(portal, number))
    documents = _invoices_of(portal, subscription)
    return render(
        request,
        "portal/subscriptions/detail.html",
        {
            "subscription": subscription,
            "invoices": documents.invoices,
            "credit_notes": documents.credit_notes,
            "timeline": list(_timeline(subscription)),
            "offered": _offered(portal, subscription),
            "can_cancel_changes": portal.may("subscriptions", "change"),
        },
    )


# -- change plan or quantity ------------------------------------------------------------------------

TIMING_CHOICES = [
    (DowngradeTiming.TERM_END, _lazy("At the end of the current term")),
    (DowngradeTiming.NOW, _lazy("Now (prorated)")),
]


class ChangeForm(forms.Form):
    plan = forms.ChoiceField(label=_lazy("Plan"))
    quantity = forms.IntegerField(label=_lazy("Quantity"), min_value=1, max_value=MAX_QUANTITY)
    when = forms.ChoiceField(
        label=_lazy("A downgrade takes effect (upgrades apply now)"),
        choices=TIMING_CHOICES,
        widget=forms.RadioSelect,
        initial=DowngradeTiming.TERM_END,
        required=False,
    )

    def __init__(self, *args, plans, customer_chooses: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.plans = {p.code: p for p in plans}
        self.fields["plan"].choices = [(p.code, p.name) for p in plans]
        if not customer_chooses:  # the organization fixed the timing: no choice offered (one sent anyway
            # reaches the service, which refuses it)
            self.fields["when"] = forms.CharField(required=False, max_length=16, widget=forms.HiddenInput())

    def clean(self):
        data = super().clean()
        plan = self.plans.get(data.get("plan"))
        if plan is not None and data.get("quantity") is not None:
            try:
                plan.check_quantity(data["quantity"])
            except DomainError as error:
                self.add_error("quantity", str(error.message))
        data["plan_row"] = plan
        data["when"] = data.get("when") or None  # not chosen: the organization's timing
        return data


@portal_view(module="subscriptions", action="change")
@require_http_methods(["GET", "POST"])
def change_subscription(request, number):
    portal = request.portal
    subscription, early = _opened(request, number, "change_plan", "change_plan", "change_quantity", once=True)
    if early is not None:
        return early
    settings = _settings(portal)
    allowed = _portal_actions(portal)
    plans = list(Plan.objects.family_of(subscription.plan).prefetch_related("tiers"))
    if "change_plan" not in allowed:
        plans = [p for p in plans if p.pk == subscription.plan_id]
    data = request.POST if request.method == "POST" else (request.GET if "plan" in request.GET else None)
    chooses = settings.downgrade_timing == DowngradeTiming.CUSTOMER_CHOOSES
    form = ChangeForm(
        data, plans=plans, customer_chooses=chooses,
        initial={"plan": subscription.plan.code, "quantity": subscription.quantity},
    )  # fmt: skip
    context = {"subscription": subscription, "form": form, "preview": None, "scheduled": False}
    template = "portal/subscriptions/change.html"
    if data is None:
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)
    plan, quantity = form.cleaned_data["plan_row"], form.cleaned_data["quantity"]
    when = form.cleaned_data["when"]
    if plan.pk != subscription.plan_id and "change_plan" not in allowed:
        raise PermissionDenied
    if (
        quantity != subscription.quantity
        and "change_quantity" not in allowed
        and plan.pk == subscription.plan_id
    ):
        raise PermissionDenied  # fmt: skip
    context.update(plan=plan, quantity=quantity, when=when or "", customer_chooses=chooses, confirming=True)
    if request.method == "GET":
        if plan.pk == subscription.plan_id and quantity == subscription.quantity:
            messages.info(request, _("That is already your subscription: nothing to change."))
            return render(request, template, context, status=400)
        try:
            preview = services.preview_change(
                subscription=subscription, plan=plan, quantity=quantity, timing=when
            )
        except DomainError as error:
            return _refused(request, error, template, {**context, "confirming": False})
        context["preview"] = preview
        context["scheduled"] = preview is None and subscription.status in ("live", "non_renewing")
    action = "change_plan" if plan.pk != subscription.plan_id else "change_quantity"
    return _act(
        request, subscription, template=template, context=context, form=form, once_as=action,
        perform=lambda d: services.change_plan(
            subscription=subscription, plan=plan, quantity=quantity, timing=when, actor=_actor(request),
            _action=action,
        ),
        done=_("Your subscription was changed."),
    )  # fmt: skip


# -- cancel, undo, the retention offer --------------------------------------------------------------


class CancelForm(forms.Form):
    when = forms.ChoiceField(
        label=_lazy("When"),
        choices=[("term_end", _lazy("At the end of the current term")), ("now", _lazy("Now"))],
        widget=forms.RadioSelect,
        initial="term_end",
    )
    reason = forms.ChoiceField(label=_lazy("Why are you cancelling?"))
    comment = forms.CharField(label=_lazy("Anything else? (optional)"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip

    def __init__(self, *args, reasons, term_end_allowed, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", _("Choose a reason")), *[(r, r) for r in reasons]]
        if not term_end_allowed:
            self.fields["when"].choices = [("now", _("Now"))]
            self.fields["when"].initial = "now"


def _cancel_form(request, portal, subscription, *, bound: bool):
    term_end_allowed = "cancel_at_term_end" in services.allowed_actions(subscription)
    form = CancelForm(
        request.POST if bound else None,
        reasons=_settings(portal).cancellation_reasons or [],
        term_end_allowed=term_end_allowed,
    )
    context = {
        "credit": previews.cancel_credit(subscription, q.today_for(portal)),
        "term_end_allowed": term_end_allowed,
    }
    return form, context


def _retention_offer(request, subscription, coupon):
    """The retention offer, shown once before the cancel form: the coupon and what the next invoice
    would be with it."""
    current = previews.next_invoice(subscription)
    offered = previews.next_invoice(subscription, coupon=coupon)
    saves = current.total - offered.total if current and offered else None
    context = {"subscription": subscription, "coupon": coupon, "current": current, "offered": offered,
               "saves": saves, "form_token": new_form_token()}  # fmt: skip
    return render(request, "portal/subscriptions/retention.html", context)


@portal_view(module="subscriptions", action="cancel")
@require_http_methods(["GET", "POST"])
def cancel_subscription(request, number):
    portal = request.portal
    _require_allowed(portal, "cancel", "cancel_trial")
    subscription = subscription_for(portal, number)
    trial = subscription.status == Subscription.Status.IN_TRIAL
    action = "cancel_trial" if trial else "cancel"
    _require_allowed(portal, action)
    if (refusal := _not_now(request, subscription, action)) is not None:
        return refusal
    if request.method == "GET" and not trial:
        coupon = services.offer_retention(subscription=subscription, actor=_actor(request))
        if coupon is not None:
            return _retention_offer(request, subscription, coupon)
    form, context = _cancel_form(request, portal, subscription, bound=request.method == "POST")

    def perform(data):
        if trial:
            return services.cancel_trial(
                subscription=subscription,
                actor=_actor(request),
                reason=data["reason"],
                comment=data["comment"],
            )
        return services.cancel(
            subscription=subscription, actor=_actor(request), at_term_end=data["when"] == "term_end",
            reason=data["reason"], comment=data["comment"],
        )  # fmt: skip

    def done(data):
        if data["when"] == "term_end" and not trial:
            return _("Your subscription will end at the end of the current term.")
        return _("Your subscription was cancelled.")

    return _act(
        request, subscription, template="portal/subscriptions/cancel.html", context=context, form=form,
        perform=perform, done=done, once_as=action,
    )  # fmt: skip


@portal_view(module="subscriptions", action="cancel")
@require_http_methods(["GET", "POST"])
def accept_retention_offer(request, number):
    """POST: the retention offer accepted: its coupon redeemed, nothing cancelled. A refusal says why
    and shows the cancel form, so the customer can go on cancelling. (GET: the cancel flow.)"""
    portal = request.portal
    _require_allowed(portal, "cancel")
    subscription = subscription_for(portal, number)
    if request.method == "GET":
        return redirect("portal:subscription_cancel", number=subscription.number)
    if (repeat := _repeat_of(request, subscription)) is not None:
        return repeat
    coupon = _settings(portal).retention_coupon
    text = _("%(coupon)s was applied: your subscription goes on.") % {"coupon": coupon.name if coupon else ""}
    try:
        services.once(
            subscription=subscription, form_token=request.POST.get("form_token", ""), action="accept_retention",
            result=text, perform=lambda: services.accept_retention_offer(subscription=subscription, actor=_actor(request)),
        )  # fmt: skip
    except DomainError as error:
        form, context = _cancel_form(request, portal, subscription, bound=False)
        context.update(subscription=subscription, form=form, form_token=new_form_token())
        return _refused(request, error, "portal/subscriptions/cancel.html", context)
    return _done(request, subscription, text)


def _confirm_action(request, number, *, action: str, title: str, body: str, service, done: str, extra=None):
    """A confirmation page (GET) and its POST calling `service(subscription=..., actor=...)`; once per
    form token for the actions that invoice (`extra` gives the page their preview)."""
    portal = request.portal
    _require_allowed(portal, action)
    subscription = subscription_for(portal, number)
    context = {"title": title, "body": body, **(extra(subscription) if extra else {})}
    return _act(
        request, subscription, template="portal/subscriptions/confirm.html", context=context,
        perform=lambda _data: service(subscription=subscription, actor=_actor(request)), done=done,
        once_as=action if extra else "",
    )  # fmt: skip


@portal_view(module="subscriptions", action="cancel")
@require_http_methods(["GET", "POST"])
def undo_cancel(request, number):
    return _confirm_action(
        request, number, action="undo_cancel", title=_("Keep your subscription"),
        body=_("The scheduled cancellation is withdrawn; your subscription renews as before."),
        service=services.undo_cancel, done=_("Your subscription will renew as before."),
    )  # fmt: skip


# -- pause, resume ----------------------------------------------------------------------------------


class PauseForm(forms.Form):
    when = forms.ChoiceField(
        label=_lazy("When"),
        choices=[("now", _lazy("Now")), ("term_end", _lazy("At the end of the current term"))],
        widget=forms.RadioSelect,
        initial="now",
    )
    resume_on = forms.DateField(
        label=_lazy("Resume on (optional: empty pauses until you resume)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


@portal_view(module="subscriptions", action="change")
@require_http_methods(["GET", "POST"])
def pause_subscription(request, number):
    subscription, early = _opened(request, number, "pause")
    if early is not None:
        return early
    return _act(
        request, subscription, template="portal/subscriptions/pause.html", context={},
        form=PauseForm(request.POST if request.method == "POST" else None),
        perform=lambda d: services.pause(
            subscription=subscription, actor=_actor(request), at_term_end=d["when"] == "term_end",
            resume_on=d["resume_on"],
        ),
        done=_("Your subscription is paused."),
    )  # fmt: skip


@portal_view(module="subscriptions", action="change")
@require_http_methods(["GET", "POST"])
def resume_subscription(request, number):
    portal = request.portal
    today = q.today_for(portal)
    return _confirm_action(
        request, number, action="resume", title=_("Resume your subscription"),
        body=_("A new term starts today and is invoiced now."),
        service=services.resume, done=_("Your subscription is running again."),
        extra=lambda s: {"invoice_preview": previews.resume_invoice(s, today)},
    )  # fmt: skip


# -- coupon -----------------------------------------------------------------------------------------


class CouponForm(forms.Form):
    code = forms.CharField(label=_lazy("Coupon code"), max_length=64)


@portal_view(module="subscriptions", action="change")
@require_http_methods(["GET", "POST"])
def redeem_coupon(request, number):
    """GET: the form; POST with `preview`: the code checked (a refusal says why) and the next invoice
    with it; POST with `confirm`: redeemed."""
    portal = request.portal
    subscription, early = _opened(request, number, "redeem_coupon")
    if early is not None:
        return early
    form = CouponForm(request.POST if request.method == "POST" else None)
    context = {"subscription": subscription, "form": form, "current": previews.next_invoice(subscription)}
    template = "portal/subscriptions/coupon.html"
    if request.method == "GET":
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)
    code = form.cleaned_data["code"]
    try:
        if "confirm" not in request.POST:
            found = redeemable_code(code, today=q.today_for(portal), plan=subscription.plan)
            context.update(
                coupon=found.coupon, with_coupon=previews.next_invoice(subscription, coupon=found.coupon)
            )
            if previews.active_redemption(subscription) is not None:
                raise errors.CouponAlreadyApplied()
            return render(request, template, context)
        services.redeem_coupon(subscription=subscription, code=code, actor=_actor(request))
    except DomainError as error:
        context.pop("coupon", None)
        return _refused(request, error, template, context)
    return _done(request, subscription, _("The coupon was applied to your subscription."))


# -- auto-charge ------------------------------------------------------------------------------------


class AutoChargeForm(forms.Form):
    enabled = forms.ChoiceField(
        choices=[("on", _lazy("On")), ("off", _lazy("Off"))],
        error_messages={"required": _lazy("Choose whether to turn automatic payments on or off."),
                        "invalid_choice": _lazy("Choose whether to turn automatic payments on or off.")},
    )  # fmt: skip


@portal_view(module="subscriptions", action="change")
@require_http_methods(["GET", "POST"])
def auto_charge(request, number):
    portal = request.portal
    subscription, early = _opened(request, number, "auto_charge")
    if early is not None:
        return early
    return _act(
        request, subscription, template="portal/subscriptions/auto_charge.html",
        context={"default_method": payment_methods.default_method(portal.customer)},
        form=AutoChargeForm(request.POST if request.method == "POST" else None),
        perform=lambda d: services.set_auto_charge(
            subscription=subscription, enabled=d["enabled"] == "on", actor=_actor(request)
        ),
        done=lambda d: (
            _("Invoices of this subscription will be charged to your card.") if d["enabled"] == "on"
            else _("Automatic payments of this subscription are off.")
        ),
    )  # fmt: skip


# -- scheduled changes ------------------------------------------------------------------------------


@portal_view(module="subscriptions", action="change")
@require_http_methods(["GET", "POST"])
def cancel_scheduled(request, number):
    """The pending scheduled changes, each with a button that cancels it (a scheduled cancellation's
    is the undo, gated like it)."""
    portal = request.portal
    subscription = subscription_for(portal, number)
    pending = subscription.pending_changes
    context = {"subscription": subscription, "pending": pending}
    template = "portal/subscriptions/scheduled.html"
    if request.method == "GET":
        return render(request, template, context)
    raw = request.POST.get("change", "")
    change = next((c for c in pending if str(c.pk) == raw), None)
    if change is None:
        messages.error(request, _("This scheduled change is not one of this subscription's."))
        return render(request, template, context, status=400)
    if change.kind == ScheduledChange.Kind.CANCEL:
        _require_allowed(portal, "undo_cancel")
        if not portal.may("subscriptions", "cancel"):
            raise PermissionDenied
    else:
        _require_allowed(portal, {"change": "change_plan", "pause": "pause", "resume": "resume"}[change.kind],
                         "change_quantity" if change.kind == "change" else "pause")  # fmt: skip
    change.subscription = subscription
    try:
        services.cancel_scheduled_change(change=change, actor=_actor(request))
    except DomainError as error:
        return _refused(request, error, template, context)
    return _done(request, subscription, _("The scheduled change was cancelled."))


# -- trials, reactivation ---------------------------------------------------------------------------


@portal_view(module="subscriptions", action="change")
@require_http_methods(["GET", "POST"])
def convert_trial(request, number):
    portal = request.portal
    today = q.today_for(portal)

    def extra(subscription):
        if subscription.status != Subscription.Status.IN_TRIAL:
            return {}
        term, total = previews.convert_invoice(subscription, today)
        return {"invoice_preview": term, "invoice_total": total, "setup_fee": total - term.total}

    return _confirm_action(
        request, number, action="convert_trial", title=_("Start paying now"),
        body=_("Your trial ends today and your first term starts; it is invoiced now."),
        service=services.convert_trial_now, done=_("Your trial was converted: your subscription is live."),
        extra=extra,
    )  # fmt: skip


class ExtendForm(forms.Form):
    days = forms.IntegerField(label=_lazy("Extend the trial by (days)"), min_value=1, max_value=3650)


@portal_view(module="subscriptions", action="change")
@require_http_methods(["GET", "POST"])
def extend_trial(request, number):
    portal = request.portal
    subscription, early = _opened(request, number, "extend_trial")
    if early is not None:
        return early
    settings = _settings(portal)
    return _act(
        request, subscription, template="portal/subscriptions/extend.html",
        context={"left": max(0, settings.max_trial_extension_days - subscription.trial_extended_days)},
        form=ExtendForm(request.POST if request.method == "POST" else None),
        perform=lambda d: services.extend_trial(subscription=subscription, days=d["days"], actor=_actor(request)),
        done=_("Your trial was extended."),
    )  # fmt: skip


@portal_view(module="subscriptions", action="change")
@require_http_methods(["GET", "POST"])
def reactivate(request, number):
    portal = request.portal
    today = q.today_for(portal)

    def extra(subscription):
        if subscription.status != Subscription.Status.CANCELLED:
            return {}
        invoice = previews.reactivate_invoice(subscription, today)
        return {"invoice_preview": invoice, "no_invoice": invoice is None}

    return _confirm_action(
        request, number, action="reactivate", title=_("Reactivate your subscription"),
        body=_("Your subscription runs again with the same plan."),
        service=services.reactivate, done=_("Your subscription is active again."), extra=extra,
    )  # fmt: skip


# -- addons -----------------------------------------------------------------------------------------


class AddonForm(forms.Form):
    addon = forms.ChoiceField(label=_lazy("Add-on"))
    quantity = forms.IntegerField(label=_lazy("Quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1)

    def __init__(self, *args, addons, **kwargs):
        super().__init__(*args, **kwargs)
        self.addons = {a.code: a for a in addons}
        self.fields["addon"].choices = [(a.code, a.name) for a in addons]


@portal_view(module="subscriptions", action="change")
@require_http_methods(["GET", "POST"])
def add_addon(request, number):
    """GET: the recurring addons the plan offers; with `addon`: the prorated preview; POST: added."""
    portal = request.portal
    subscription, early = _opened(request, number, "add_addon", once=True)
    if early is not None:
        return early
    have = {item.addon_id for item in subscription.items.all()}
    addons = [
        a
        for a in Addon.objects.for_plan(subscription.plan).filter(currency=subscription.currency)
        if a.is_recurring and a.pk not in have
    ]
    data = request.POST if request.method == "POST" else (request.GET if "addon" in request.GET else None)
    form = AddonForm(data, addons=addons)
    context = {"subscription": subscription, "form": form, "preview": None}
    template = "portal/subscriptions/addon.html"
    if data is None:
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)
    addon, quantity = form.addons[form.cleaned_data["addon"]], form.cleaned_data["quantity"]
    context.update(addon=addon, quantity=quantity, confirming=True)
    if request.method == "GET":
        context["preview"] = previews.add_addon(subscription, addon, quantity, q.today_for(portal))
    return _act(
        request, subscription, template=template, context=context, form=form, once_as="add_addon",
        perform=lambda d: services.add_addon(
            subscription=subscription, addon=addon, quantity=quantity, actor=_actor(request)
        ),
        done=_("The add-on was added to your subscription."),
    )  # fmt: skip


class RemoveAddonForm(forms.Form):
    addon = forms.ChoiceField(label=_lazy("Add-on to remove"))

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.addons = {item.addon.code: item.addon for item in items}
        self.fields["addon"].choices = [(i.addon.code, f"{i.addon.name} × {i.quantity}") for i in items]


@portal_view(module="subscriptions", action="change")
@require_http_methods(["GET", "POST"])
def remove_addon(request, number):
    """GET: the subscription's addons; with `addon`: the credit for its unused time (in the
    organization's proration mode); POST: removed."""
    subscription, early = _opened(request, number, "remove_addon", once=True)
    if early is not None:
        return early
    data = request.POST if request.method == "POST" else (request.GET if "addon" in request.GET else None)
    form = RemoveAddonForm(data, items=list(subscription.items.all()))
    context = {"subscription": subscription, "form": form, "preview": None}
    template = "portal/subscriptions/remove_addon.html"
    if data is None:
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)
    addon = form.addons[form.cleaned_data["addon"]]
    context.update(addon=addon, confirming=True)
    if request.method == "GET":
        context["preview"] = services.preview_remove_addon(subscription=subscription, addon=addon)
    return _act(
        request, subscription, template=template, context=context, form=form, once_as="remove_addon",
        perform=lambda d: services.remove_addon(subscription=subscription, addon=addon, actor=_actor(request)),
        done=_("The add-on was removed from your subscription."),
    )  # fmt: skip
