"""Invoices in the console: drafts edited (header and lines); an issued invoice is read-only and
changes only through the actions on its page (send, void, credit, record a payment), each confirmed."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.billing import selectors, services
from portico.billing.models import (
    Invoice,
)
from portico.console.ledger_common import (
    ChooseCustomerForm,
    DraftDocumentAdmin,
    InvoiceLineInline,
    RecordPaymentForm,
    VoidForm,
    is_tenant_staff,
    listed_invoices,
    money_text,
    object_tools,
    save_lines,
)
from portico.console.site import console_site
from portico.core.audit import Actor
from portico.core.errors import DomainError, add_domain_error, domain_error_message
from portico.core.money import Money
from portico.customers.models import Customer

# -- invoices -----------------------------------------------------------------------------------------


class InvoiceForm(forms.ModelForm):
    payment_terms_days = forms.IntegerField(
        label=gettext_lazy("Payment terms (days)"),
        min_value=0,
        required=False,
        help_text=gettext_lazy("Leave empty to use the customer's terms."),
    )

    class Meta:
        model = Invoice
        fields = ["customer", "source", "payment_terms_days", "purchase_order", "memo"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "customer" in self.fields:
            self.fields["customer"].queryset = Customer.objects.filter(is_active=True)


@admin.register(Invoice, site=console_site)
class InvoiceAdmin(DraftDocumentAdmin):
    form = InvoiceForm
    inlines = [InvoiceLineInline]
    list_display = [
        "__str__",
        "customer",
        "status",
        "issue_date",
        "due_date",
        "total_display",
        "balance_display",
    ]
    list_filter = ["status", "source", "issue_date"]
    search_fields = ["number", "customer__display_name", "bill_to_name", "purchase_order"]
    autocomplete_fields = ["customer"]
    list_select_related = ["customer", "organization"]
    date_hierarchy = "issue_date"
    actions = ["finalize_selected", "send_selected", "void_selected"]
    issued_fields = [
        "number",
        "customer",
        "status",
        "source",
        "issue_date",
        "due_date",
        "payment_terms_days",
        "purchase_order",
        "memo",
        "bill_to_name",
        "bill_to_email",
        "bill_to_tax_id",
        "subtotal_display",
        "discount_display",
        "tax_display",
        "total_display",
        "paid_display",
        "credited_display",
        "balance_display",
        "sent_at",
        "voided_at",
        "void_reason",
        "payments_received",
        "credits_applied",
    ]

    draft_readonly_fields = ["customer", "source", "total_display"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["customer", "source", "payment_terms_days", "purchase_order", "memo"]
        if obj.status == Invoice.Status.DRAFT:
            return ["customer", "source", "payment_terms_days", "purchase_order", "memo", "total_display"]
        return self.issued_fields

    # saving drafts through the services
    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        data = form.cleaned_data
        if change:
            services.update_draft_invoice(
                invoice=obj,
                actor=actor,
                payment_terms_days=data.get("payment_terms_days"),
                purchase_order=data.get("purchase_order", ""),
                memo=data.get("memo", ""),
            )
        else:
            invoice = services.create_invoice(
                customer=data["customer"],
                actor=actor,
                source=data.get("source") or Invoice.Source.ONE_TIME,
                payment_terms_days=data.get("payment_terms_days"),
                purchase_order=data.get("purchase_order", ""),
                memo=data.get("memo", ""),
            )
            obj.pk = invoice.pk
            obj._state.adding = False
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        save_lines(
            request,
            formset,
            add=lambda invoice, line, actor: services.add_invoice_line(
                invoice=invoice, line=line, actor=actor
            ),
            update=services.update_invoice_line,
            remove=services.remove_invoice_line,
        )

    def delete_model(self, request, obj):
        services.delete_draft_invoice(invoice=obj, actor=Actor.from_request(request))

    # display
    def _m(self, obj, field):
        return money_text(getattr(obj, field), obj.organization)

    @admin.display(description=gettext_lazy("Subtotal"))
    def subtotal_display(self, obj):
        return self._m(obj, "subtotal")

    @admin.display(description=gettext_lazy("Discount"))
    def discount_display(self, obj):
        return self._m(obj, "discount")

    @admin.display(description=gettext_lazy("Tax"))
    def tax_display(self, obj):
        return self._m(obj, "tax")

    @admin.display(description=gettext_lazy("Total"), ordering="total_minor")
    def total_display(self, obj):
        return self._m(obj, "total")

    @admin.display(description=gettext_lazy("Paid"))
    def paid_display(self, obj):
        return self._m(obj, "paid")

    @admin.display(description=gettext_lazy("Credited"))
    def credited_display(self, obj):
        return self._m(obj, "credited")

    @admin.display(description=gettext_lazy("Balance"), ordering="balance_minor")
    def balance_display(self, obj):
        return self._m(obj, "balance")

    @admin.display(description=gettext_lazy("Payments received"))
    def payments_received(self, obj):
        rows = obj.allocations.select_related("payment")
        return (
            "; ".join(
                f"{a.payment.number} ({a.payment.received_on}): {Money(a.amount_minor, obj.currency).format()}"
                for a in rows
            )
            or "—"
        )

    @admin.display(description=gettext_lazy("Credits applied"))
    def credits_applied(self, obj):
        rows = obj.credit_applications.select_related("credit_note")
        return (
            "; ".join(f"{a.credit_note.number}: {Money(a.amount_minor, obj.currency).format()}" for a in rows)
            or "—"
        )

    # actions on the list
    def _each(self, request, queryset, call, done: str):
        ok = 0
        for invoice in queryset.order_by("pk"):
            try:
                call(invoice)
                ok += 1
            except DomainError as exc:
                domain_error_message(request, exc, about=invoice)
        if ok:
            self.message_user(request, done % {"count": ok}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Finalize selected drafts"))
    def finalize_selected(self, request, queryset):
        actor = Actor.from_request(request)
        self._each(
            request,
            queryset,
            lambda i: services.finalize_invoice(invoice=i, actor=actor),
            _("%(count)s finalized."),
        )

    @admin.action(description=gettext_lazy("Email selected invoices to the customer"))
    def send_selected(self, request, queryset):
        actor = Actor.from_request(request)
        self._each(
            request, queryset, lambda i: services.send_invoice(invoice=i, actor=actor), _("%(count)s sent.")
        )

    @admin.action(description=gettext_lazy("Void selected invoices"))
    def void_selected(self, request, queryset):
        actor = Actor.from_request(request)
        self._each(
            request, queryset, lambda i: services.void_invoice(invoice=i, actor=actor), _("%(count)s voided.")
        )

    # the invoice's own page
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/finalize/", view(self.finalize_view), name="billing_invoice_finalize"),
            path("<int:pk>/send/", view(self.send_view), name="billing_invoice_send"),
            path("<int:pk>/void/", view(self.void_view), name="billing_invoice_void"),
            path("record-payment/", view(self.record_payment_view), name="billing_invoice_record_payment"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        invoice = Invoice.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        tools = []
        if invoice is not None and is_tenant_staff(request):
            name = self.admin_site.name
            # What the invoice allows (Invoice.can_*), the same checks the services make.
            if invoice.can_finalize():
                tools.append(
                    (_("Finalize"), reverse(f"{name}:billing_invoice_finalize", args=[invoice.pk]), False)
                )
            if invoice.can_send():
                tools.append((_("Send"), reverse(f"{name}:billing_invoice_send", args=[invoice.pk]), False))
            if invoice.can_record_payment():
                pay_url = reverse(f"{name}:billing_invoice_record_payment")
                tools.append((_("Record payment"), f"{pay_url}?customer={invoice.customer_id}", False))
            if invoice.can_credit():
                credit_url = reverse(f"{name}:billing_creditnote_add")
                tools.append(
                    (
                        _("Issue credit note"),
                        f"{credit_url}?customer={invoice.customer_id}&invoice={invoice.pk}",
                        False,
                    )
                )
            if invoice.can_void():
                tools.append((_("Void"), reverse(f"{name}:billing_invoice_void", args=[invoice.pk]), False))
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), **object_tools(request, invoice, tools)}
        )

    def finalize_view(self, request, pk):
        invoice = self._own(request, Invoice, pk)
        actor = Actor.from_request(request)
        return self._run(
            request,
            invoice,
            lambda: services.finalize_invoice(invoice=invoice, actor=actor),
            _("Invoice finalized."),
            title=_("Finalize this invoice?"),
            intro=_(
                "Finalizing gives the invoice the next number and freezes its lines and totals: it can "
                "then only be corrected with a credit note or voided. The customer sees it in the portal."
            ),
            submit=_("Yes, finalize"),
        )

    def send_view(self, request, pk):
        invoice = self._own(request, Invoice, pk)
        actor = Actor.from_request(request)
        to = invoice.bill_to_email or invoice.customer.email
        return self._run(
            request,
            invoice,
            lambda: services.send_invoice(invoice=invoice, actor=actor),
            _("Invoice sent."),
            title=_("Send invoice %(number)s?") % {"number": invoice.number},
            intro=(
                _("The invoice will be emailed to %(email)s, with its PDF.") % {"email": to}
                if to
                else _("This customer has no email address; add one first.")
            ),
            submit=_("Yes, send"),
        )

    def void_view(self, request, pk):
        invoice = self._own(request, Invoice, pk)
        return self._form_action(
            request,
            obj=invoice,
            form=VoidForm(request.POST or None),
            perform=lambda data, actor: services.void_invoice(
                invoice=invoice, actor=actor, reason=data["reason"]
            ),
            success=_("Invoice %(number)s voided.") % {"number": invoice.number},
            title=_("Void invoice %(number)s") % {"number": invoice.number},
            submit=_("Void invoice"),
            intro=_("The invoice stays on record with its number, marked void; nothing is owed on it."),
        )

    def record_payment_view(self, request):
        """Record money received from a customer and spread it across their open invoices."""
        self._require_staff(request)
        customer_id = request.POST.get("customer") or request.GET.get("customer")
        if not customer_id:
            chooser = ChooseCustomerForm(request.GET or None)
            return TemplateResponse(
                request,
                "admin/billing/action_form.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Record a payment"),
                    "opts": self.model._meta,
                    "form": chooser,
                    "submit": _("Continue"),
                    "method": "get",
                },
            )
        if not str(customer_id).isdigit():
            raise Http404
        customer = get_object_or_404(
            Customer.all_tenants.filter(organization=request.organization), pk=customer_id
        )
        invoices, more = listed_invoices(selectors.open_invoices_of(customer))
        form = RecordPaymentForm(request.POST or None, customer=customer, invoices=invoices)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                payment = services.record_payment(
                    customer=customer,
                    amount=data["amount"],
                    allocations=form.allocations,
                    method=data["method"],
                    received_on=data["received_on"],
                    reference=data["reference"],
                    actor=Actor.from_request(request),
                    idempotency_key=f"console:{data['idempotency_key']}",
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                self.message_user(
                    request,
                    _("Payment %(number)s recorded: %(amount)s, %(unused)s kept as an advance.")
                    % {"number": payment.number, "amount": payment.amount, "unused": payment.unused},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse(f"{self.admin_site.name}:billing_payment_change", args=[payment.pk])
                )
        return self._render_form(
            request,
            title=_("Record a payment from %(customer)s") % {"customer": customer},
            form=form,
            submit=_("Record payment"),
            intro=_(
                "Balance: %(balance)s. Enter what was received and how much of it goes to each invoice; "
                "anything left stays on the account as an advance."
            )
            % {"balance": selectors.account_balance(customer)}
            + (f" {more}" if more else ""),
        )
