"""Subscriptions in the console: the list, a subscription's page (its addons, coupon, billing periods,
its invoices and credit notes (`subscriptions.history`), scheduled changes in words and its dunning
state, all read only), creating one for a customer (a quantity per addon), and every change the
portal offers plus the staff-only ones (price override, backdated start) as console actions: each a
page that says what will happen (the confirmation: for a change of plan or quantity the preview of
`services.preview_change` — charged now, credited now, the next invoice — for resume, trial
conversion, reactivation, cancel and adding an addon what `subscriptions.previews` says they invoice
or credit) and, on POST, calls one service of `subscriptions.services` / `subscriptions.staff`. A
refusal is a form error (nothing written). The organization's subscription settings are edited by owners and
administrators; finance and administrators manage subscriptions, support and read-only staff read
them (`console.roles`).

Why one module (for now): each action keeps its form, confirmation page and service call side by
side; moving the fifteen action forms and their previews into their own module is the next split.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.catalog.models import Addon, Plan
from portico.catalog.pricing import price_for
from portico.console.ledger_common import StaffActionMixin, is_tenant_staff, object_tools
from portico.console.site import TenantAdmin, console_site
from portico.core import clock
from portico.core.audit import Actor, audit
from portico.core.errors import DomainError, add_domain_error
from portico.core.formfields import MoneyField
from portico.core.money import Money
from portico.customers.models import Customer
from portico.subscriptions import dunning, history, previews, services, staff
from portico.subscriptions.models import (
    BillingPeriod,
    CouponRedemption,
    ScheduledChange,
    Subscription,
    SubscriptionItem,
    SubscriptionSettings,
)

URL_PREFIX = "subscriptions_subscription_"


def _today(request):
    return clock.today(request.organization.time_zone)


class _CustomerSelect(AutocompleteSelect):
    """The customer autocomplete; a typed value that is no id is shown as no choice (Django's
    widget would look it up and fail)."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if str(v).isdigit()], attr)


# -- forms --------------------------------------------------------------------------------------------


class CreateSubscriptionForm(forms.Form):
    START_NOW, START_TRIAL, START_FUTURE, START_BACKDATED = "now", "trial", "future", "backdated"

    customer = forms.ModelChoiceField(
        queryset=Customer.objects.none(),
        label=gettext_lazy("Customer"),
        widget=_CustomerSelect(Subscription._meta.get_field("customer"), console_site),
    )
    plan = forms.ModelChoiceField(queryset=Plan.objects.none(), label=gettext_lazy("Plan"))
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1, max_value=1_000_000, initial=1)
    addons = forms.ModelMultipleChoiceField(
        queryset=Addon.objects.none(),
        required=False,
        label=gettext_lazy("Addons"),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Each with the quantity given below it (1 when left empty)."),
    )
    coupon_code = forms.CharField(label=gettext_lazy("Coupon code"), max_length=60, required=False)
    start = forms.ChoiceField(
        label=gettext_lazy("Start"),
        choices=[
            (START_NOW, gettext_lazy("Now, without a trial (the first term is invoiced now)")),
            (START_TRIAL, gettext_lazy("Now, with the plan's trial")),
            (START_FUTURE, gettext_lazy("On a later date")),
            (START_BACKDATED, gettext_lazy("Backdated to an earlier date (staff only)")),
        ],
        initial=START_NOW,
        widget=forms.RadioSelect,
    )
    start_date = forms.DateField(
        label=gettext_lazy("Start date"),
        required=False,
        help_text=gettext_lazy("For a later or a backdated start."),
    )
    auto_charge = forms.BooleanField(
        label=gettext_lazy("Charge the customer's default card automatically"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(is_active=True)
        self.fields["plan"].queryset = Plan.objects.sellable().select_related("product")
        self.fields["addons"].queryset = Addon.objects.filter(is_archived=False)
        self.addon_quantity_fields = {}
        for addon in self.fields["addons"].queryset:
            name = f"addon_quantity_{addon.pk}"
            self.fields[name] = forms.IntegerField(
                label=_("Quantity of %(addon)s") % {"addon": addon.name},
                min_value=1,
                max_value=MAX_ADDON_QUANTITY,
                required=False,
            )
            self.addon_quantity_fields[addon.pk] = name

    def clean(self):
        cleaned = super().clean()
        start = cleaned.get("start")
        if start in (self.START_FUTURE, self.START_BACKDATED) and not cleaned.get("start_date"):
            self.add_error("start_date", _("Enter the start date."))
        chosen = []
        for addon in cleaned.get("addons") or []:
            name = self.addon_quantity_fields[addon.pk]
            if name in self.errors:
                continue
            chosen.append((addon, cleaned.get(name) or 1))
        cleaned["addon_quantities"] = chosen
        return cleaned


MAX_ADDON_QUANTITY = 10_000  # per addon on the create form: beyond it, a typing error


class ChangePlanForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=Plan.objects.none(), label=gettext_lazy("New plan"))
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1, max_value=1_000_000)
    timing = forms.ChoiceField(
        label=gettext_lazy("When"),
        choices=[
            ("", gettext_lazy("As the settings say (upgrades now, downgrades per the settings)")),
            ("now", gettext_lazy("Now")),
            ("term_end", gettext_lazy("At the end of the term")),
        ],
        required=False,
    )

    def __init__(self, *args, subscription, **kwargs):
        super().__init__(*args, **kwargs)
        family = Plan.objects.sellable().filter(
            product_id=subscription.plan.product_id, currency=subscription.currency
        )
        self.fields["plan"].queryset = family
        self.initial.setdefault("plan", subscription.plan_id)
        self.initial.setdefault("quantity", subscription.quantity)


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1, max_value=1_000_000)
    timing = ChangePlanForm.base_fields["timing"]


class PauseForm(forms.Form):
    when = forms.ChoiceField(
        label=gettext_lazy("Pause"),
        choices=[("now", gettext_lazy("Now")), ("term_end", gettext_lazy("At the end of the term"))],
        initial="now",
        widget=forms.RadioSelect,
    )
    resume_on = forms.DateField(
        label=gettext_lazy("Resume on"), required=False, help_text=gettext_lazy("Empty: until resumed.")
    )


class CancelForm(forms.Form):
    when = forms.ChoiceField(
        label=gettext_lazy("Cancel"),
        choices=[("now", gettext_lazy("Now")), ("term_end", gettext_lazy("At the end of the term"))],
        initial="term_end",
        widget=forms.RadioSelect,
    )
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), required=False)
    comment = forms.CharField(
        label=gettext_lazy("Comment"), required=False, max_length=2000, widget=forms.Textarea
    )
    credit = forms.BooleanField(
        label=gettext_lazy("Credit the unused part of the paid term (cancelling now)"), required=False
    )

    def __init__(self, *args, subscription, **kwargs):
        super().__init__(*args, **kwargs)
        reasons = services.subscription_settings(subscription.organization).cancellation_reasons or []
        self.fields["reason"].choices = [("", "—"), *((r, r) for r in reasons)]
        self.initial.setdefault(
            "credit", services.subscription_settings(subscription.organization).credit_on_immediate_cancel
        )


class CancelTrialForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), required=False)
    comment = forms.CharField(
        label=gettext_lazy("Comment"), required=False, max_length=2000, widget=forms.Textarea
    )

    def __init__(self, *args, subscription, **kwargs):
        super().__init__(*args, **kwargs)
        reasons = services.subscription_settings(subscription.organization).cancellation_reasons or []
        self.fields["reason"].choices = [("", "—"), *((r, r) for r in reasons)]


class AutoChargeForm(forms.Form):
    enabled = forms.BooleanField(label=gettext_lazy("Charge the default card automatically"), required=False)


class ExtendTrialForm(forms.Form):
    days = forms.IntegerField(label=gettext_lazy("Extend by (days)"), min_value=1, max_value=3650)


class PriceOverrideForm(forms.Form):
    price = MoneyField(
        label=gettext_lazy("Price per term"),
        required=False,
        help_text=gettext_lazy("Replaces the plan's price from the next invoice. Empty: the plan's price."),
    )

    def __init__(self, *args, subscription, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["price"].currency = subscription.currency
        if subscription.price_override_minor is not None:
            self.initial.setdefault("price", Money(subscription.price_override_minor, subscription.currency))


class AddonForm(forms.Form):
    addon = forms.ModelChoiceField(queryset=Addon.objects.none(), label=gettext_lazy("Addon"))
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1, max_value=1_000_000, initial=1)

    def __init__(self, *args, subscription, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["addon"].queryset = Addon.objects.filter(
            is_archived=False, currency=subscription.currency
        )


class RemoveAddonForm(forms.Form):
    addon = forms.ModelChoiceField(queryset=Addon.objects.none(), label=gettext_lazy("Addon"))

    def __init__(self, *args, subscription, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["addon"].queryset = Addon.objects.filter(subscription_items__subscription=subscription)


class CouponForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Coupon code"), max_length=60)


def _timing(value: str) -> bool | None:
    return {"now": False, "term_end": True}.get(value)


# What each console action is: its label, the form (None: a confirmation only), what it does, its
# intro (what will happen) and its message. `portal` names the state-machine action it needs.
def _actions():
    S = services
    return {
        "convert_trial": dict(
            label=_("End trial now"), state="convert_trial", form=None,
            intro=_("The trial ends today and the first paid term starts: it is invoiced now."),
            perform=lambda sub, data, actor: S.convert_trial_now(subscription=sub, actor=actor),
        ),
        "extend_trial": dict(
            label=_("Extend trial"), state="extend_trial", form=ExtendTrialForm,
            intro=_("The trial goes on for the days given (within the organization's maximum)."),
            perform=lambda sub, data, actor: S.extend_trial(subscription=sub, days=data["days"], actor=actor),
        ),
        "cancel_trial": dict(
            label=_("Cancel trial"), state="cancel_trial", form=CancelTrialForm,
            intro=_("The trial ends today and the subscription is cancelled; nothing is invoiced."),
            perform=lambda sub, data, actor: S.cancel_trial(
                subscription=sub, actor=actor, reason=data.get("reason") or "", comment=data.get("comment") or ""
            ),
        ),
        "change_plan": dict(
            label=_("Change plan"), state="change_plan", form=ChangePlanForm,
            intro=_("Upgrades apply now and the rest of the term is prorated on an invoice (credits on a "
                    "credit note); downgrades apply now or at the end of the term."),
            perform=lambda sub, data, actor: S.change_plan(
                subscription=sub, plan=data["plan"], quantity=data["quantity"], actor=actor,
                at_term_end=_timing(data["timing"]),
            ),
        ),
        "change_quantity": dict(
            label=_("Change quantity"), state="change_quantity", form=QuantityForm,
            intro=_("More units apply now and are prorated; fewer apply now or at the end of the term."),
            perform=lambda sub, data, actor: S.change_quantity(
                subscription=sub, quantity=data["quantity"], actor=actor, at_term_end=_timing(data["timing"])
            ),
        ),
        "add_addon": dict(
            label=_("Add addon"), state="add_addon", form=AddonForm,
            intro=_("A recurring addon is prorated for the rest of the term; a one-time one is invoiced now."),
            perform=lambda sub, data, actor: S.add_addon(
                subscription=sub, addon=data["addon"], quantity=data["quantity"], actor=actor
            ),
        ),
        "remove_addon": dict(
            label=_("Remove addon"), state="remove_addon", form=RemoveAddonForm,
            intro=_("The unused part of the term is credited."),
            perform=lambda sub, data, actor: S.remove_addon(subscription=sub, addon=data["addon"], actor=actor),
        ),
        "redeem_coupon": dict(
            label=_("Apply coupon"), state="redeem_coupon", form=CouponForm,
            intro=_("The coupon applies from the next invoice."),
            perform=lambda sub, data, actor: S.redeem_coupon(subscription=sub, code=data["code"], actor=actor),
        ),
        "pause": dict(
            label=_("Pause"), state="pause", form=PauseForm,
            intro=_("Nothing is billed while paused; resuming starts a new term, invoiced then."),
            perform=lambda sub, data, actor: S.pause(
                subscription=sub, actor=actor, at_term_end=data["when"] == "term_end",
                resume_on=data.get("resume_on"),
            ),
        ),
        "resume": dict(
            label=_("Resume"), state="resume", form=None,
            intro=_("The subscription resumes today: a new term starts and is invoiced now."),
            perform=lambda sub, data, actor: S.resume(subscription=sub, actor=actor),
        ),
        "cancel": dict(
            label=_("Cancel"), state="cancel", form=CancelForm,
            intro=_("Cancelling now ends the subscription today (with a credit for the unused part when "
                    "chosen); at the end of the term it stops renewing, and the cancel can be undone."),
            perform=lambda sub, data, actor: S.cancel(
                subscription=sub, actor=actor, at_term_end=data["when"] == "term_end",
                reason=data.get("reason") or "", comment=data.get("comment") or "",
                credit=data.get("credit") if data["when"] == "now" else None,
            ),
        ),
        "undo_cancel": dict(
            label=_("Undo cancel"), state="undo_cancel", form=None,
            intro=_("The cancel scheduled for the end of the term is withdrawn: the subscription renews."),
            perform=lambda sub, data, actor: S.undo_cancel(subscription=sub, actor=actor),
        ),
        "reactivate": dict(
            label=_("Reactivate"), state="reactivate", form=None,
            intro=_("Within the paid term the subscription goes on with it; after it, a new term starts "
                    "today and is invoiced."),
            perform=lambda sub, data, actor: S.reactivate(subscription=sub, actor=actor),
        ),
        "auto_charge": dict(
            label=_("Auto-charge"), state="auto_charge", form=AutoChargeForm,
            intro=_("When on, the subscription's invoices are charged to the customer's default saved card."),
            perform=lambda sub, data, actor: S.set_auto_charge(
                subscription=sub, enabled=data["enabled"], actor=actor
            ),
        ),
        "override_price": dict(
            label=_("Override price"), state=None, form=PriceOverrideForm,
            intro=_("Staff only: the plan's price is replaced for this subscription from the next "
                    "invoice; nothing already billed changes."),
            perform=lambda sub, data, actor: staff.set_price_override(
                subscription=sub, price=data.get("price"), actor=actor
            ),
        ),
    }  # fmt: skip


# Actions whose GET is the two-step preview (`SubscriptionAdmin._preview_change`).
PREVIEWED = ("change_plan", "change_quantity")


def _money(value, sub) -> str:
    return value.format(sub.organization.locale)


def _term_rows(invoice, sub) -> list[tuple[str, str]]:
    last = invoice.period.end - dt.timedelta(days=1)
    return [
        (_("Invoiced now"), _money(invoice.total, sub)),
        (_("The new term"), f"{invoice.period.start} – {last}"),
    ]


def _convert_rows(sub, today):
    term, total = previews.convert_invoice(sub, today)
    return [
        (_("Invoiced now (the first term and the setup fee)"), _money(total, sub)),
        *_term_rows(term, sub)[1:],
    ]


def _reactivate_rows(sub, today):
    invoice = previews.reactivate_invoice(sub, today)
    if invoice is None:
        return [(_("Invoiced now"), _("Nothing: the paid term goes on"))]
    return _term_rows(invoice, sub)


def _cancel_rows(sub, today):
    credit = previews.cancel_credit(sub, today)
    if credit is None:
        return [(_("Credited when cancelled now"), _("Nothing"))]
    return [(_("Credited when cancelled now (with the credit)"), _money(credit.total, sub))]


# What the confirmation page of these actions shows it will invoice or credit (`subscriptions.previews`,
# the pricing the services bill with).
PREVIEWS = {
    "resume": lambda sub, today: _term_rows(previews.resume_invoice(sub, today), sub),
    "convert_trial": _convert_rows,
    "reactivate": _reactivate_rows,
    "cancel": _cancel_rows,
}  # fmt: skip

FORMS_WITH_SUBSCRIPTION = (
    ChangePlanForm,
    CancelForm,
    CancelTrialForm,
    PriceOverrideForm,
    AddonForm,
    RemoveAddonForm,
)


def action_names() -> list[str]:
    return list(_actions())


# -- inlines (read only) ------------------------------------------------------------------------------


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ItemInline(_ReadOnlyInline):
    model = SubscriptionItem
    fields = readonly_fields = ["addon", "quantity", "created_at"]
    verbose_name = gettext_lazy("addon")
    verbose_name_plural = gettext_lazy("addons")


class RedemptionInline(_ReadOnlyInline):
    model = CouponRedemption
    fields = readonly_fields = ["coupon", "code", "cycles_left", "status", "redeemed_at"]
    verbose_name = gettext_lazy("coupon")
    verbose_name_plural = gettext_lazy("coupons")


class PeriodInline(_ReadOnlyInline):
    model = BillingPeriod
    fields = readonly_fields = ["start", "end", "invoice_link"]
    verbose_name = gettext_lazy("billing period")
    verbose_name_plural = gettext_lazy("billing periods")

    @admin.display(description=gettext_lazy("Invoice"))
    def invoice_link(self, period):
        if period.invoice_id is None:
            return "—"
        url = reverse("console:billing_invoice_change", args=[period.invoice_id])
        return format_html('<a href="{}">{}</a>', url, period.invoice.number or period.invoice_id)


class ScheduledChangeInline(_ReadOnlyInline):
    model = ScheduledChange
    fields = readonly_fields = ["kind", "effective_on", "what", "status", "cancel_link"]
    verbose_name = gettext_lazy("scheduled change")
    verbose_name_plural = gettext_lazy("scheduled changes")

    @admin.display(description=gettext_lazy("Change"))
    def what(self, change):
        payload = change.payload or {}
        if change.kind == ScheduledChange.Kind.CHANGE:
            plan = Plan.all_tenants.filter(pk=payload.get("plan_id")).first()
            return _("To %(plan)s × %(quantity)s") % {
                "plan": plan.name if plan else "?", "quantity": payload.get("quantity"),
            }  # fmt: skip
        if change.kind == ScheduledChange.Kind.PAUSE:
            if payload.get("resume_on"):
                return _("Paused until %(on)s") % {"on": payload["resume_on"]}
            return _("Paused until resumed")
        if change.kind == ScheduledChange.Kind.CANCEL:
            return _("Reason: %(reason)s") % {"reason": payload.get("reason") or "—"}
        return "—"

    @admin.display(description="")
    def cancel_link(self, change):
        if change.status != ScheduledChange.ChangeStatus.PENDING:
            return ""
        url = reverse(f"console:{URL_PREFIX}cancel_change", args=[change.subscription_id, change.pk])
        return format_html('<a href="{}">{}</a>', url, _("Cancel this change"))


# -- subscriptions ------------------------------------------------------------------------------------


@admin.register(Subscription, site=console_site)
class SubscriptionAdmin(StaffActionMixin, TenantAdmin):
    list_display = [
        "number",
        "customer",
        "plan",
        "quantity",
        "status",
        "next_billing_on",
        "current_term_end",
        "auto_charge",
    ]
    list_filter = ["status", "auto_charge", "plan"]
    search_fields = ["number", "customer__display_name", "customer__email", "plan__name"]
    list_select_related = ["customer", "plan"]
    autocomplete_fields = ["customer"]
    inlines = [ItemInline, RedemptionInline, PeriodInline, ScheduledChangeInline]
    fieldsets = [
        (None, {"fields": ["number", "customer", "plan", "quantity", "currency", "status", "auto_charge"]}),
        (
            gettext_lazy("Dates"),
            {
                "fields": [
                    "start_date",
                    "trial_start",
                    "trial_end",
                    "current_term_start",
                    "current_term_end",
                    "next_billing_on",
                    "cycles_billed",
                    "billing_cycles",
                    "paused_on",
                    "resume_on",
                ]
            },
        ),
        (gettext_lazy("Cancellation"), {"fields": ["cancelled_on", "cancel_reason", "cancel_comment"]}),
        (gettext_lazy("Price"), {"fields": ["price_display"]}),
        (gettext_lazy("Dunning"), {"fields": ["dunning_display", "dunning_attempts", "next_retry_on"]}),
        (gettext_lazy("Invoices and credit notes"), {"fields": ["documents_display"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    def has_change_permission(self, request, obj=None):
        # the page is read only: every change is one of the actions below
        return super().has_change_permission(request, obj) and obj is None

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("Price override"))
    def price_display(self, obj):
        if obj.price_override_minor is None:
            return _("The plan's price")
        return Money(obj.price_override_minor, obj.currency).format(obj.organization.locale)

    @admin.display(description=gettext_lazy("State"))
    def dunning_display(self, obj):
        state = dunning.state_of(obj)
        if state is None:
            return _("No failed charge.")
        url = reverse("console:billing_invoice_change", args=[state.invoice.pk])
        return format_html(
            '<a href="{}">{}</a>: {}', url, state.invoice.number or state.invoice.pk, state.describe()
        )

    @admin.display(description=gettext_lazy("Documents"))
    def documents_display(self, obj):
        documents = history.documents_of(obj)
        if not documents:
            return _("None yet.")
        locale = obj.organization.locale
        rows = [
            (
                reverse("console:billing_invoice_change", args=[i.pk]),
                _("Invoice"), i.number, i.issue_date, i.total.format(locale), i.get_status_display(),
            )
            for i in documents.invoices
        ] + [
            (
                reverse("console:billing_creditnote_change", args=[n.pk]),
                _("Credit note"), n.number, n.issue_date, n.total.format(locale), n.get_status_display(),
            )
            for n in documents.credit_notes
        ]  # fmt: skip
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", '<li>{}: <a href="{}">{}</a>, {}, {} ({})</li>',
                ((kind, url, number, issued, total, status) for url, kind, number, issued, total, status in rows),
            ),
        )  # fmt: skip

    # -- URLs ------------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        urls = [
            path(
                f"<int:pk>/{name.replace('_', '-')}/",
                view(self._action_view(name)),
                name=f"{URL_PREFIX}{name}",
            )
            for name in action_names()
        ]
        return [
            path(
                "<int:pk>/changes/<int:change_pk>/cancel/",
                view(self.cancel_change_view),
                name=f"{URL_PREFIX}cancel_change",
            ),
            *urls,
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        sub = Subscription.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        tools = []
        if sub is not None and is_tenant_staff(request):
            allowed = services.allowed_actions(sub)
            for name, spec in _actions().items():
                if spec["state"] is None and sub.is_ended:
                    continue
                if spec["state"] is not None and spec["state"] not in allowed:
                    continue
                if name == "cancel" and "cancel_trial" in allowed:
                    continue  # a trial is cancelled by "Cancel trial" (the portal's action)
                url = reverse(f"{self.admin_site.name}:{URL_PREFIX}{name}", args=[sub.pk])
                tools.append((spec["label"], url, False))
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), **object_tools(request, sub, tools)}
        )

    def _action_view(self, name):
        def action(request, pk):
            sub = self._own(request, Subscription, pk)
            spec = _actions()[name]
            if name in PREVIEWED and request.method == "GET":
                return self._preview_change(request, sub, spec)
            if (
                name == "add_addon"
                and request.method == "GET"
                and "add_addon" in services.allowed_actions(sub)
            ):
                return self._preview_addon(request, sub, spec)
            if (
                name in PREVIEWS
                and request.method == "GET"
                and spec["state"] in services.allowed_actions(sub)
            ):
                form_class = spec["form"] or forms.Form
                kwargs = {"subscription": sub} if form_class in FORMS_WITH_SUBSCRIPTION else {}
                return self._render_form(
                    request, obj=sub, form=form_class(**kwargs), intro=spec["intro"],
                    rows=PREVIEWS[name](sub, _today(request)),
                    title=_("%(action)s — %(number)s (%(customer)s)")
                    % {"action": spec["label"], "number": sub.number, "customer": sub.customer},
                    submit=_("Confirm: %(action)s") % {"action": spec["label"]},
                )  # fmt: skip
            form_class = spec["form"] or forms.Form
            kwargs = {"subscription": sub} if form_class in (*FORMS_WITH_SUBSCRIPTION,) else {}
            form = form_class(request.POST if request.method == "POST" else None, **kwargs)
            if form_class is AutoChargeForm:
                form.initial.setdefault("enabled", not sub.auto_charge)
            if form_class is QuantityForm:
                form.initial.setdefault("quantity", sub.quantity)
            return self._form_action(
                request,
                obj=sub,
                form=form,
                perform=lambda data, actor: spec["perform"](sub, data, actor),
                success=_("%(action)s: done for %(number)s.")
                % {"action": spec["label"], "number": sub.number},
                title=_("%(action)s — %(number)s (%(customer)s)")
                % {"action": spec["label"], "number": sub.number, "customer": sub.customer},
                submit=_("Confirm: %(action)s") % {"action": spec["label"]},
                intro=spec["intro"],
            )

        action.__name__ = f"{name}_view"
        return action

    def _title(self, sub, spec) -> str:
        return _("%(action)s — %(number)s (%(customer)s)") % {
            "action": spec["label"], "number": sub.number, "customer": sub.customer,
        }  # fmt: skip

    def _first_step(self, request, sub, spec, form, data):
        """The form of a two-step action (a GET), while it has no values or they are invalid; None
        when the preview may be shown."""
        if data is not None and form.is_valid():
            return None
        response = self._render_form(
            request, title=self._title(sub, spec), form=form, obj=sub, intro=spec["intro"],
            submit=_("Preview the change"),
        )  # fmt: skip
        response.context_data["method"] = "get"
        return response

    def _preview_change(self, request, sub, spec):
        """A change of plan or quantity, in two steps: the form (a GET) and, with its values, the
        preview `services.preview_change` computes — charged now, credited now, the next invoice —
        above the button that confirms it (a POST of the same values)."""
        form_class = spec["form"]
        kwargs = {"subscription": sub} if form_class is ChangePlanForm else {}
        data = request.GET if "quantity" in request.GET else None
        form = form_class(data, **kwargs)
        form.initial.setdefault("quantity", sub.quantity)
        step = self._first_step(request, sub, spec, form, data)
        if step is not None:
            return step
        title = self._title(sub, spec)
        cleaned = form.cleaned_data
        plan = cleaned.get("plan") or sub.plan
        try:
            plan.check_quantity(cleaned["quantity"])
        except DomainError as exc:
            add_domain_error(form, exc)
            response = self._render_form(
                request, title=title, form=form, obj=sub, intro=spec["intro"], submit=_("Preview the change")
            )
            response.context_data["method"] = "get"
            return response
        preview = services.preview_change(
            subscription=sub, plan=plan, quantity=cleaned["quantity"], at_term_end=_timing(cleaned["timing"])
        )
        after = _("After the change: %(plan)s × %(quantity)s.") % {
            "plan": plan.name,
            "quantity": cleaned["quantity"],
        }
        return self._render_preview(request, sub, spec, form, preview, after=after, title=title)

    def _render_preview(self, request, sub, spec, form, preview, *, after, title, rows=()):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "object": sub,
            "intro": spec["intro"],
            "preview": preview,
            "after": after,
            "rows": rows,
            "hidden": [(key, request.GET.get(key, "")) for key in form.fields],
            "billed": sub.status in (Subscription.Status.LIVE, Subscription.Status.NON_RENEWING),
            "term_end": sub.current_term_end,
            "submit": _("Confirm: %(action)s") % {"action": spec["label"]},
        }  # fmt: skip
        return TemplateResponse(request, "admin/subscriptions/change_preview.html", context)

    def _preview_addon(self, request, sub, spec):
        """Adding an addon in two steps, as a change: the form, then what it costs (a recurring addon
        prorated as `subscriptions.previews.add_addon` computes it; a one-time one invoiced now at its
        price), above the confirming POST."""
        data = request.GET if "addon" in request.GET else None
        form = AddonForm(data, subscription=sub)
        step = self._first_step(request, sub, spec, form, data)
        if step is not None:
            return step
        title = self._title(sub, spec)
        addon, quantity = form.cleaned_data["addon"], form.cleaned_data["quantity"]
        after = _("Adds %(addon)s × %(quantity)s.") % {"addon": addon.name, "quantity": quantity}
        if not addon.is_recurring:
            total = Money.sum((c.total for c in price_for(addon, quantity)), addon.currency)
            rows = [(_("Invoiced now (once)"), _money(total, sub))]
            return self._render_preview(request, sub, spec, form, None, after=after, title=title, rows=rows)
        preview = previews.add_addon(sub, addon, quantity, _today(request))
        return self._render_preview(request, sub, spec, form, preview, after=after, title=title)

    def cancel_change_view(self, request, pk, change_pk):
        sub = self._own(request, Subscription, pk)
        change = get_object_or_404(ScheduledChange.all_tenants.filter(subscription=sub), pk=change_pk)
        return self._form_action(
            request,
            obj=sub,
            form=forms.Form(request.POST if request.method == "POST" else None),
            perform=lambda data, actor: services.cancel_scheduled_change(change=change, actor=actor),
            success=_("The scheduled change was cancelled."),
            title=_("Cancel the %(kind)s scheduled for %(date)s?")
            % {"kind": change.get_kind_display().lower(), "date": change.effective_on},
            submit=_("Yes, cancel the change"),
            intro=_("The change will not take effect; the subscription stays as it is."),
        )

    # -- creating ----------------------------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        self._require_staff(request)
        form = CreateSubscriptionForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            actor = Actor.from_request(request)
            common = dict(
                customer=data["customer"],
                plan=data["plan"],
                actor=actor,
                quantity=data["quantity"],
                addons=data["addon_quantities"],
                coupon_code=data["coupon_code"].strip(),
                auto_charge=data["auto_charge"],
            )
            try:
                if data["start"] == form.START_BACKDATED:
                    sub = staff.create_backdated_subscription(start_date=data["start_date"], **common)
                else:
                    sub = services.create_subscription(
                        start_date=data["start_date"] if data["start"] == form.START_FUTURE else None,
                        trial=data["start"] == form.START_TRIAL,
                        **common,
                    )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                self.message_user(
                    request,
                    _("Subscription %(number)s created (%(status)s).")
                    % {"number": sub.number, "status": sub.get_status_display()},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._change_url(sub))
        return self._render_form(
            request,
            title=_("New subscription"),
            form=form,
            submit=_("Create subscription"),
            intro=_(
                "The subscription is created through the same rules as the portal's: the plan must be "
                "sellable in the customer's currency, the coupon redeemable. Starting now without a "
                "trial invoices the first term at once."
            ),
        )

    def _change_url(self, obj):
        return reverse(f"{self.admin_site.name}:subscriptions_subscription_change", args=[obj.pk])


# -- settings -------------------------------------------------------------------------------------------


class _LinesField(forms.CharField):
    """A list of strings, one a line."""

    widget = forms.Textarea(attrs={"rows": 5})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value):
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class SubscriptionSettingsForm(forms.ModelForm):
    cancellation_reasons = _LinesField(
        label=gettext_lazy("Cancellation reasons"),
        required=False,
        help_text=gettext_lazy("One a line; offered to customers who cancel (empty: no reason asked)."),
    )
    dunning_retry_days = forms.CharField(
        label=gettext_lazy("Retry a failed charge after (days)"),
        required=False,
        help_text=gettext_lazy("Days after the failure, comma separated, increasing (such as 1, 3, 5)."),
    )

    class Meta:
        model = SubscriptionSettings
        fields = [
            "proration_mode",
            "downgrade_timing",
            "end_trial_on_change",
            "max_trial_extension_days",
            "credit_on_immediate_cancel",
            "cancellation_reasons",
            "retention_coupon",
            "dunning_retry_days",
            "dunning_final_action",
            "renewal_notice_days",
            "trial_ending_notice_days",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "dunning_retry_days" in self.fields:
            self.initial["dunning_retry_days"] = ", ".join(
                str(d) for d in self.instance.dunning_retry_days or []
            )
        if "cancellation_reasons" in self.fields:
            self.initial["cancellation_reasons"] = self.instance.cancellation_reasons or []
        if "renewal_notice_days" in self.fields:
            self.fields["renewal_notice_days"].max_value = 365
            self.fields["renewal_notice_days"].validators.append(_at_most(365))
        if "trial_ending_notice_days" in self.fields:
            self.fields["trial_ending_notice_days"].validators.append(_at_most(365))

    def clean_cancellation_reasons(self):
        reasons = self.cleaned_data["cancellation_reasons"]
        if len(reasons) > 20 or any(len(r) > 200 for r in reasons):
            raise ValidationError(_("At most 20 reasons of at most 200 characters each."))
        return reasons

    def clean_dunning_retry_days(self):
        text = self.cleaned_data.get("dunning_retry_days") or ""
        parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
        try:
            days = [int(p) for p in parts]
        except ValueError:
            raise ValidationError(_("Enter whole numbers of days, such as 1, 3, 5.")) from None
        if len(days) > 10 or any(d < 1 or d > 90 for d in days) or days != sorted(set(days)):
            raise ValidationError(
                _("Up to 10 retries, each 1 to 90 days after the failure, increasing (such as 1, 3, 5).")
            )
        return days


def _at_most(limit):
    def check(value):
        if value is not None and value > limit:
            raise ValidationError(_("At most %(limit)s.") % {"limit": limit})

    return check


@admin.register(SubscriptionSettings, site=console_site)
class SubscriptionSettingsAdmin(TenantAdmin):
    form = SubscriptionSettingsForm
    list_display = ["organization", "proration_mode", "downgrade_timing", "dunning_final_action"]

    def get_queryset(self, request):
        if getattr(request, "organization", None) is not None:
            services.subscription_settings(request.organization)  # there is always one to edit
        return super().get_queryset(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "retention_coupon" in form.base_fields:
            from portico.catalog.models import Coupon

            form.base_fields["retention_coupon"].queryset = Coupon.objects.all()
        return form

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit(
            Actor.from_request(request),
            "subscription_settings.changed",
            obj,
            fields=sorted(form.changed_data),
        )
