"""Payments, refunds, credit applications, prepared statements and billing settings in the console.

Invoices and credit notes have their own modules (`admin_invoices`, `admin_credit_notes`)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.billing import selectors, services
from portico.billing.models import (
    BillingSettings,
    CreditApplication,
    Payment,
    PaymentAllocation,
    Refund,
    StatementExport,
)
from portico.console.ledger_common import (
    AllocationFieldsMixin,
    ReadOnlyTenantAdmin,
    RefundForm,
    StaffActionMixin,
    is_tenant_staff,
    listed_invoices,
    money_text,
    object_tools,
)
from portico.console.site import ConsoleModelAdmin, console_site
from portico.core.audit import Actor
from portico.core.errors import DomainError, add_domain_error
from portico.core.formfields import MoneyField
from portico.core.money import Money
from portico.payments import refunds as card_refunds
from portico.payments.models import CardRefund

# -- payments -----------------------------------------------------------------------------------------


class AllocationInline(admin.TabularInline):
    model = PaymentAllocation
    fields = ["invoice", "amount", "allocated_at"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice", "payment")

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("Amount"))
    def amount(self, allocation):
        return Money(allocation.amount_minor, allocation.payment.currency).format()


class AllocateForm(AllocationFieldsMixin, forms.Form):
    def __init__(self, *args, invoices, currency, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_invoice_fields(invoices, currency)

    def clean(self):
        cleaned = super().clean()
        self.clean_allocations()
        return cleaned


class CardRefundInline(admin.TabularInline):
    """Refunds to the card asked of the gateway for this payment, with their outcome."""

    model = CardRefund
    fields = [
        "created_at",
        "amount",
        "status",
        "gateway_reference",
        "failure_message",
        "reason",
        "created_by",
    ]
    readonly_fields = fields
    extra = 0
    verbose_name = gettext_lazy("refund to the card")
    verbose_name_plural = gettext_lazy("refunds to the card")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("Amount"))
    def amount(self, row):
        return row.amount.format()


class RefundToCardForm(forms.Form):
    amount = MoneyField(label=gettext_lazy("Amount to refund"), required=True)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False)
    request_id = forms.CharField(widget=forms.HiddenInput, max_length=64)
    confirmed = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, currency, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].currency = currency

    def confirmation(self) -> RefundToCardForm:
        """The same values, hidden, with `confirmed` set: what the confirmation page posts."""
        confirm = RefundToCardForm(
            initial={**self.cleaned_data, "confirmed": True}, currency=self.fields["amount"].currency
        )
        for field in confirm.fields.values():
            field.widget = forms.HiddenInput()
        return confirm


@admin.register(Payment, site=console_site)
class PaymentAdmin(StaffActionMixin, ReadOnlyTenantAdmin):
    list_display = [
        "number",
        "customer",
        "received_on",
        "method",
        "channel",
        "amount_display",
        "unused_display",
    ]
    list_filter = ["method", "channel", "received_on"]
    search_fields = ["number", "customer__display_name", "reference", "gateway_reference"]
    autocomplete_fields = ["customer"]  # the customer chooser of "Record a payment"
    list_select_related = ["customer", "organization"]
    inlines = [AllocationInline, CardRefundInline]
    fields = [
        "number",
        "customer",
        "received_on",
        "method",
        "channel",
        "reference",
        "gateway",
        "gateway_reference",
        "card_display",
        "amount_display",
        "allocated_display",
        "unused_display",
        "refunded_display",
    ]
    readonly_fields = fields

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:billing_invoice_record_payment"))

    @admin.display(description=gettext_lazy("Amount"), ordering="amount_minor")
    def amount_display(self, obj):
        return money_text(obj.amount, obj.organization)

    @admin.display(description=gettext_lazy("Card"))
    def card_display(self, obj):
        """The card charged: brand and last four digits, and the saved method it was, if one."""
        if not obj.card_last4:
            return "—"
        text = f"{obj.card_brand.title()} •••• {obj.card_last4}"
        attempt = getattr(obj, "attempt", None) if obj.channel == Payment.Channel.ONLINE else None
        method = attempt.payment_method if attempt is not None else None
        if method is not None:
            text += " · " + _("saved card, expires %(month)02d/%(year)d") % {
                "month": method.exp_month,
                "year": method.exp_year,
            }
        return text

    @admin.display(description=gettext_lazy("Allocated"))
    def allocated_display(self, obj):
        return money_text(obj.allocated, obj.organization)

    @admin.display(description=gettext_lazy("Unused (advance)"))
    def unused_display(self, obj):
        return money_text(obj.unused, obj.organization)

    @admin.display(description=gettext_lazy("Refunded"))
    def refunded_display(self, obj):
        return money_text(obj.refunded, obj.organization)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/allocate/", view(self.allocate_view), name="billing_payment_allocate"),
            path("<int:pk>/refund/", view(self.refund_view), name="billing_payment_refund"),
            path(
                "<int:pk>/refund-to-card/",
                view(self.refund_to_card_view),
                name="billing_payment_refund_to_card",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        payment = Payment.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        tools = []
        if payment is not None and is_tenant_staff(request):
            name = self.admin_site.name
            if payment.can_allocate():
                tools.append(
                    (
                        _("Apply to invoices"),
                        reverse(f"{name}:billing_payment_allocate", args=[payment.pk]),
                        False,
                    )
                )
            if payment.can_refund():
                tools.append(
                    (_("Refund unused"), reverse(f"{name}:billing_payment_refund", args=[payment.pk]), False)
                )
            if card_refunds.is_card_payment(payment) and card_refunds.refundable(payment):
                tools.append(
                    (
                        _("Refund to card"),
                        reverse(f"{name}:billing_payment_refund_to_card", args=[payment.pk]),
                        False,
                    )
                )
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), **object_tools(request, payment, tools)}
        )

    def allocate_view(self, request, pk):
        payment = self._own(request, Payment, pk)
        invoices, more = listed_invoices(selectors.open_invoices_of(payment.customer))
        form = AllocateForm(request.POST or None, invoices=invoices, currency=payment.currency)
        return self._form_action(
            request,
            obj=payment,
            form=form,
            perform=lambda data, actor: services.allocate_payment(
                payment=payment, allocations=form.allocations, actor=actor
            ),
            success=_("Payment applied."),
            title=_("Apply %(number)s to invoices") % {"number": payment.number},
            submit=_("Apply"),
            intro=_("Unused: %(unused)s.") % {"unused": payment.unused} + (f" {more}" if more else ""),
        )

    def refund_view(self, request, pk):
        payment = self._own(request, Payment, pk)
        form = RefundForm(request.POST or None, currency=payment.currency, initial={"method": payment.method})
        return self._form_action(
            request,
            obj=payment,
            form=form,
            perform=lambda data, actor: services.refund_payment(
                payment=payment,
                amount=data["amount"],
                method=data["method"],
                reason=data["reason"],
                actor=actor,
            ),
            success=_("Refund recorded."),
            title=_("Refund from %(number)s") % {"number": payment.number},
            submit=_("Record refund"),
            intro=_("Unused: %(unused)s.") % {"unused": payment.unused},
        )

    def refund_to_card_view(self, request, pk):
        """Amount and reason, then a confirmation page saying what will happen, then the refund."""
        payment = self._own(request, Payment, pk)
        available = card_refunds.refundable(payment)
        form = RefundToCardForm(
            request.POST or None,
            currency=payment.currency,
            initial={"amount": available, "request_id": card_refunds.new_request_id()},
        )
        title = _("Refund %(number)s to the card") % {"number": payment.number}
        card = (
            f"{payment.card_brand.title()} •••• {payment.card_last4}"
            if payment.card_last4
            else payment.gateway
        )
        intro = _("%(available)s can be refunded to %(card)s (paid %(amount)s through %(gateway)s).") % {
            "available": money_text(available, payment.organization),
            "card": card,
            "amount": money_text(payment.amount, payment.organization),
            "gateway": payment.gateway,
        }
        if request.method == "POST" and form.is_valid():
            amount = form.cleaned_data["amount"]
            if not form.cleaned_data["confirmed"]:
                return self._render_form(
                    request,
                    title=_("Confirm the refund"),
                    form=form.confirmation(),
                    submit=_("Refund %(amount)s to the card")
                    % {"amount": money_text(amount, payment.organization)},
                    obj=payment,
                    intro=self._confirmation_text(payment, amount, card),
                )
            try:
                card_refunds.refund_to_card(
                    payment=payment,
                    amount=amount,
                    actor=Actor.from_request(request),
                    reason=form.cleaned_data["reason"],
                    request_id=form.cleaned_data["request_id"],
                )
            except DomainError as error:
                form = RefundToCardForm(
                    {**request.POST.dict(), "confirmed": "", "request_id": card_refunds.new_request_id()},
                    currency=payment.currency,
                )
                form.is_valid()
                add_domain_error(form, error)
            else:
                self.message_user(
                    request,
                    _("%(amount)s refunded to the card.")
                    % {"amount": money_text(amount, payment.organization)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._change_url(payment))
        return self._render_form(
            request, title=title, form=form, submit=_("Continue"), obj=payment, intro=intro
        )

    def _confirmation_text(self, payment, amount, card) -> str:
        text = _("%(amount)s will be sent back to %(card)s through %(gateway)s. This cannot be undone.") % {
            "amount": money_text(amount, payment.organization),
            "card": card,
            "gateway": payment.gateway,
        }
        shortfall = amount.minor - payment.unused_minor
        if shortfall > 0:
            text += " " + _(
                "%(part)s of it is taken back from the invoices this payment paid (the most recent first), "
                "which are then due again."
            ) % {"part": money_text(Money(shortfall, payment.currency), payment.organization)}
        return text


@admin.register(Refund, site=console_site)
class RefundAdmin(ReadOnlyTenantAdmin):
    list_display = ["refunded_on", "customer", "payment", "credit_note", "amount_display", "method", "reason"]
    list_select_related = ["customer", "payment", "credit_note", "organization"]
    search_fields = ["customer__display_name", "reason"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=gettext_lazy("Amount"))
    def amount_display(self, obj):
        return money_text(obj.amount, obj.organization)


@admin.register(CreditApplication, site=console_site)
class CreditApplicationAdmin(ReadOnlyTenantAdmin):
    list_display = ["applied_at", "credit_note", "invoice", "amount_minor"]
    list_select_related = ["credit_note", "invoice"]

    def has_add_permission(self, request):
        return False

    def has_module_permission(self, request):
        return False  # reached from credit notes and invoices


@admin.register(StatementExport, site=console_site)
class StatementExportAdmin(ReadOnlyTenantAdmin):
    """Statement PDFs customers asked for in the portal: read only, so staff can see why one failed."""

    list_display = [
        "created_at",
        "customer",
        "start",
        "end",
        "currency",
        "line_count",
        "status",
        "finished_at",
    ]
    list_filter = ["status", "created_at"]
    search_fields = ["customer__display_name", "public_id", "requested_by__email"]
    list_select_related = ["customer"]
    fields = [
        "customer",
        "requested_by",
        "public_id",
        "start",
        "end",
        "currency",
        "line_count",
        "status",
        "file_name",
        "error",
        "created_at",
        "finished_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    @admin.display(description=gettext_lazy("File"))
    def file_name(self, obj):
        return obj.file.name or "—"


@admin.register(BillingSettings, site=console_site)
class BillingSettingsAdmin(ConsoleModelAdmin):
    """Numbering prefixes and auto-apply, for the staff's own organization only."""

    fields = ["invoice_prefix", "credit_note_prefix", "payment_prefix", "number_digits", "auto_apply_credits"]

    def get_queryset(self, request):
        organization = getattr(request, "organization", None)
        qs = super().get_queryset(request)
        return qs.filter(organization=organization) if organization is not None else qs.none()

    def _staff(self, request):
        return is_tenant_staff(request)

    def has_module_permission(self, request):
        return self._staff(request)

    def has_view_permission(self, request, obj=None):
        return self._staff(request)

    def has_change_permission(self, request, obj=None):
        return self._staff(request)

    def has_add_permission(self, request):
        return (
            self._staff(request)
            and not BillingSettings.objects.filter(organization=request.organization).exists()
        )

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.organization = request.organization
        super().save_model(request, obj, form, change)
