"""The ledger in the console. Thin: every change goes through `billing.services`.

Drafts are edited here (header and lines); an issued invoice or credit note is read-only and
changes only through the actions on its page (send, void, credit, record a payment, refund).
Every object is looked up within the staff member's organization, so another organization's
ids answer 404.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.billing import selectors, services
from portico.billing.models import (
    BillingSettings,
    CreditApplication,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    Refund,
    StatementExport,
)
from portico.billing.services import LineInput
from portico.catalog.models import Item, TaxRate
from portico.console.site import ConsoleModelAdmin, TenantAdmin, console_site
from portico.core import clock, formatting
from portico.core.audit import Actor
from portico.core.errors import DomainError, add_domain_error, domain_error_message
from portico.core.formfields import MoneyField
from portico.core.money import Money
from portico.customers.models import Customer


def _money(value: Money, organization) -> str:
    return value.format(organization.locale)


# -- lines --------------------------------------------------------------------------------------------


class LineForm(forms.ModelForm):
    """One line of a draft; validated by the same rules the services apply. Choosing a catalog
    item fills in whatever was left empty: description, price and tax."""

    item = forms.ModelChoiceField(queryset=Item.objects.none(), required=False, label=gettext_lazy("Item"))
    description = forms.CharField(label=gettext_lazy("Description"), max_length=500, required=False)
    # Negative prices are the service's to refuse (`check_line`), with its message.
    unit_price = MoneyField(label=gettext_lazy("Unit price"), required=False, allow_negative=True)
    catalog_tax = forms.ModelChoiceField(
        queryset=TaxRate.objects.none(), required=False, label=gettext_lazy("Tax")
    )

    class Meta:
        fields = [
            "item",
            "description",
            "quantity",
            "unit_price",
            "discount_percent",
            "catalog_tax",
            "period_start",
            "period_end",
        ]

    def __init__(self, *args, currency: str = "USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["unit_price"].currency = currency
        self.fields["item"].queryset = Item.objects.filter(is_active=True, currency=currency)
        self.fields["catalog_tax"].queryset = TaxRate.objects.filter(is_active=True)
        line = self.instance
        if line.pk:
            self.initial["unit_price"] = Money(line.unit_price_minor, currency)
            if line.tax_name:
                self.initial["catalog_tax"] = (
                    TaxRate.objects.filter(
                        name=line.tax_name, percent=line.tax_rate, is_inclusive=line.tax_inclusive
                    )
                    .values_list("pk", flat=True)
                    .first()
                )

    def clean(self):
        cleaned = super().clean()
        if self.errors or cleaned.get("DELETE"):
            return cleaned
        item = cleaned.get("item")
        description = cleaned.get("description") or (item and (item.description or item.name)) or ""
        tax = cleaned.get("catalog_tax") or (item.tax_rate if item else None)
        if cleaned.get("unit_price") is not None:
            price = cleaned["unit_price"]
        elif item is not None:
            price = item.unit_price
        else:
            self.add_error("unit_price", _("Enter a unit price or choose an item."))
            return cleaned
        line = LineInput(
            description=description,
            unit_price=price,
            quantity=cleaned.get("quantity") or Decimal(0),
            discount_percent=cleaned.get("discount_percent") or Decimal(0),
            period_start=cleaned.get("period_start"),
            period_end=cleaned.get("period_end"),
        ).taxed(tax)
        try:
            services.check_line(line, self.currency)
        except DomainError as exc:
            add_domain_error(self, exc)
        self.line_input = line
        return cleaned


class LineFormSet(BaseInlineFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "currency": self.instance.currency or "USD"}


class DraftLineInline(admin.TabularInline):
    """Lines are editable while their document is a draft, and shown read-only afterwards."""

    form = LineForm
    formset = LineFormSet
    extra = 1
    readonly_fields = ["amount"]

    def get_fields(self, request, obj=None):
        if self._editable(request, obj):
            return [*LineForm.Meta.fields, "amount"]
        return ["description", "quantity", "unit_price_display", "discount_percent", "tax_display", "amount"]

    def get_readonly_fields(self, request, obj=None):
        if self._editable(request, obj):
            return ["amount"]
        return ["description", "quantity", "unit_price_display", "discount_percent", "tax_display", "amount"]

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if self._editable(request, obj) else 0

    def _editable(self, request, obj) -> bool:
        return obj is not None and obj.can_edit() and _is_tenant_staff(request)

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj)

    @admin.display(description=gettext_lazy("Amount"))
    def amount(self, line):
        if not line.pk:
            return "—"
        return Money(line.total_minor, services._document_of(line).currency).format()

    @admin.display(description=gettext_lazy("Unit price"))
    def unit_price_display(self, line):
        return Money(line.unit_price_minor, services._document_of(line).currency).format()

    @admin.display(description=gettext_lazy("Tax"))
    def tax_display(self, line):
        if not line.tax_name:
            return "—"
        kind = _("incl.") if line.tax_inclusive else _("excl.")
        return f"{line.tax_name} {line.tax_rate.normalize():f}% ({kind})"


class InvoiceLineInline(DraftLineInline):
    model = InvoiceLine


class CreditNoteLineInline(DraftLineInline):
    model = CreditNoteLine


def _is_tenant_staff(request) -> bool:
    organization = getattr(request, "organization", None)
    return (
        organization is not None
        and request.user.is_authenticated
        and request.user.organization_id == organization.pk
    )


def _save_lines(request, formset, *, add, update, remove) -> None:
    """Apply an inline formset of lines through the services, one call per changed line."""
    actor = Actor.from_request(request)
    document = formset.instance
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.forms:
        line = form.instance
        if line.pk and formset.can_delete and formset._should_delete_form(form):
            remove(line=line, actor=actor)
            formset.deleted_objects.append(line)
        elif line.pk and form.has_changed():
            update(line=line, data=form.line_input, actor=actor)
            formset.changed_objects.append((line, form.changed_data))
        elif not line.pk and form.has_changed() and hasattr(form, "line_input"):
            formset.new_objects.append(add(document, form.line_input, actor))


class StaffActionMixin:
    """Small custom views on a model's page; each calls one service."""

    def _require_staff(self, request):
        if not _is_tenant_staff(request):
            raise PermissionDenied

    def _own(self, request, model, pk):
        self._require_staff(request)
        return get_object_or_404(model.all_tenants.filter(organization=request.organization), pk=pk)

    def _render_form(self, request, *, title, form, submit, obj=None, intro="", rows=()):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "object": obj,
            "form": form,
            "submit": submit,
            "intro": intro,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/billing/action_form.html", context)

    def _change_url(self, obj):
        return reverse(f"{self.admin_site.name}:billing_{obj._meta.model_name}_change", args=[obj.pk])

    def _form_action(self, request, *, obj, form, perform, success, title, submit, intro=""):
        """A form-backed staff action: on a valid POST call the service; a domain error becomes a
        form error (nothing written), success goes back to the object's page."""
        if request.method == "POST" and form.is_valid():
            try:
                perform(form.cleaned_data, Actor.from_request(request))
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                self.message_user(request, success, messages.SUCCESS)
                return HttpResponseRedirect(self._change_url(obj))
        return self._render_form(request, title=title, form=form, submit=submit, obj=obj, intro=intro)

    def _run(self, request, obj, call, success: str, *, title: str, intro: str, submit: str):
        """Actions without a form (finalize, send, void a credit note): GET asks for confirmation
        (a page saying what will happen), POST does it."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        if request.method == "GET":
            return self._render_form(
                request, title=title, form=forms.Form(), submit=submit, obj=obj, intro=intro
            )
        try:
            call()
        except DomainError as exc:
            domain_error_message(request, exc)
        else:
            self.message_user(request, success, messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(obj))


def _tools(request, obj, tools):
    return {"billing_tools": [{"label": label, "url": url, "post": post} for label, url, post in tools]}


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


class DraftDocumentAdmin(StaffActionMixin, TenantAdmin):
    """Invoices and credit notes: editable (through the services) while draft, read-only once issued.

    Lines are added after the draft exists (they take its currency); issued documents are corrected
    by credit notes or void, never edited or deleted.
    """

    issued_fields: list[str] = []
    draft_readonly_fields: list[str] = []

    @staticmethod
    def _is_draft(obj) -> bool:
        return obj.can_edit()  # Invoice.can_edit / CreditNote.can_edit: the services' rule

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return self.draft_readonly_fields if self._is_draft(obj) else self.issued_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or self._is_draft(obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and obj is not None and obj.can_delete()

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


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
        _save_lines(
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
        return _money(getattr(obj, field), obj.organization)

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
        if invoice is not None and _is_tenant_staff(request):
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
            request, object_id, form_url, {**(extra_context or {}), **_tools(request, invoice, tools)}
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
        invoices, more = _listed(selectors.open_invoices_of(customer))
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


class VoidForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False)


class ChooseCustomerForm(forms.Form):
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.none(),
        label=gettext_lazy("Customer"),
        widget=AutocompleteSelect(Payment._meta.get_field("customer"), console_site),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(is_active=True)


# The customer's open invoices a payment or credit form lists, the oldest due first: a customer with
# years of unpaid invoices still gets a page of bounded size.
LISTED_INVOICES = 50


def _listed(invoices) -> tuple[list[Invoice], str]:
    """The open invoices a form lists, and a note when some are left for a next round."""
    listed = list(invoices[:LISTED_INVOICES])
    more = (
        _("Only the %(count)s invoices due first are listed; apply the rest afterwards.")
        % {"count": LISTED_INVOICES}
        if len(listed) == LISTED_INVOICES
        else ""
    )
    return listed, more


def _amount_field(label, required=False, currency=None, **kwargs):
    """An amount in the organization's locale (`Money.parse`); forms set `currency` when they know it."""
    return MoneyField(label=label, required=required, currency=currency, **kwargs)


class AllocationFieldsMixin:
    """One amount field per open invoice, named by the invoice's id within this customer's list only."""

    def add_invoice_fields(self, invoices, currency):
        self.invoices, self.currency = invoices, currency
        for invoice in invoices:
            self.fields[f"invoice_{invoice.pk}"] = _amount_field(
                _("%(number)s — due %(due)s, balance %(balance)s")
                % {
                    "number": invoice.number,
                    "due": formatting.local_date(invoice.due_date),
                    "balance": invoice.balance,
                },
                currency=currency,
            )

    def clean_allocations(self):
        self.allocations = []
        for invoice in self.invoices:
            value = self.cleaned_data.get(f"invoice_{invoice.pk}")
            if value:
                self.allocations.append((invoice, value))
        return self.allocations


class RecordPaymentForm(AllocationFieldsMixin, forms.Form):
    customer = forms.IntegerField(widget=forms.HiddenInput)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    amount = _amount_field(
        gettext_lazy("Amount received"),
        help_text=gettext_lazy("Empty: the sum of the invoice amounts below."),
    )
    method = forms.ChoiceField(
        label=gettext_lazy("Method"), choices=Payment.Method.choices, initial=Payment.Method.BANK_TRANSFER
    )
    received_on = forms.DateField(label=gettext_lazy("Received on"))
    reference = forms.CharField(label=gettext_lazy("Reference"), max_length=100, required=False)

    def __init__(self, *args, customer, invoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.update(
            customer=customer.pk,
            idempotency_key=uuid.uuid4().hex,
            received_on=clock.today(customer.organization.time_zone),
        )
        self.fields["amount"].currency = customer.currency
        self.add_invoice_fields(invoices, customer.currency)

    def clean(self):
        cleaned = super().clean()
        allocations = self.clean_allocations()
        if cleaned.get("amount") is None and "amount" not in self.errors:
            cleaned["amount"] = Money.sum((a for _i, a in allocations), self.currency)
        if "amount" in cleaned and not cleaned["amount"]:
            self.add_error("amount", _("Enter the amount received."))
        return cleaned


# -- credit notes -------------------------------------------------------------------------------------


class CreditNoteForm(forms.ModelForm):
    class Meta:
        model = CreditNote
        fields = ["customer", "invoice", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "customer" in self.fields:
            self.fields["customer"].queryset = Customer.objects.filter(is_active=True)
        if "invoice" in self.fields:
            self.fields["invoice"].queryset = Invoice.objects.exclude(
                status__in=["draft", "void"]
            ).select_related("customer")
            self.fields["invoice"].required = False

    def clean(self):
        cleaned = super().clean()
        customer, invoice = cleaned.get("customer"), cleaned.get("invoice")
        if customer and invoice and invoice.customer_id != customer.pk:
            self.add_error("invoice", _("That invoice belongs to another customer."))
        return cleaned


class AmountForm(forms.Form):
    amount = _amount_field(gettext_lazy("Amount"), required=True)

    def __init__(self, *args, currency, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["amount"].currency = currency


class ApplyCreditForm(AmountForm):
    invoice = forms.ModelChoiceField(queryset=Invoice.objects.none(), label=gettext_lazy("Invoice"))
    field_order = ["invoice", "amount"]

    def __init__(self, *args, invoices, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["invoice"]
        field.queryset = invoices  # any open invoice of the customer is accepted; the due first are listed
        field.widget.choices = [
            ("", field.empty_label),
            *((i.pk, str(i)) for i in invoices[:LISTED_INVOICES]),
        ]


class RefundForm(AmountForm):
    method = forms.ChoiceField(label=gettext_lazy("Returned by"), choices=Payment.Method.choices)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False)


@admin.register(CreditNote, site=console_site)
class CreditNoteAdmin(DraftDocumentAdmin):
    form = CreditNoteForm
    inlines = [CreditNoteLineInline]
    list_display = [
        "__str__",
        "customer",
        "invoice",
        "status",
        "issue_date",
        "total_display",
        "remaining_display",
    ]
    list_filter = ["status"]
    search_fields = ["number", "customer__display_name", "invoice__number"]
    autocomplete_fields = ["customer", "invoice"]
    list_select_related = ["customer", "invoice", "organization"]
    issued_fields = [
        "number",
        "customer",
        "invoice",
        "status",
        "issue_date",
        "reason",
        "total_display",
        "applied_display",
        "refunded_display",
        "remaining_display",
        "applications",
    ]

    draft_readonly_fields = ["customer", "invoice", "total_display"]

    def get_fields(self, request, obj=None):
        if obj is None or obj.status == CreditNote.Status.DRAFT:
            return ["customer", "invoice", "reason"] + (["total_display"] if obj else [])
        return self.issued_fields

    def save_model(self, request, obj, form, change):
        if change:
            return  # customer and invoice are fixed once created; lines are saved by save_formset
        data = form.cleaned_data
        credit_note = services.create_credit_note(
            customer=data["customer"],
            invoice=data.get("invoice"),
            reason=data.get("reason", ""),
            actor=Actor.from_request(request),
        )
        obj.pk = credit_note.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        _save_lines(
            request,
            formset,
            add=lambda note, line, actor: services.add_credit_note_line(
                credit_note=note, line=line, actor=actor
            ),
            update=services.update_credit_note_line,
            remove=services.remove_credit_note_line,
        )

    def delete_model(self, request, obj):
        services.delete_draft_credit_note(credit_note=obj, actor=Actor.from_request(request))

    @admin.display(description=gettext_lazy("Total"))
    def total_display(self, obj):
        return _money(obj.total, obj.organization)

    @admin.display(description=gettext_lazy("Applied"))
    def applied_display(self, obj):
        return _money(obj.applied, obj.organization)

    @admin.display(description=gettext_lazy("Refunded"))
    def refunded_display(self, obj):
        return _money(obj.refunded, obj.organization)

    @admin.display(description=gettext_lazy("Remaining"))
    def remaining_display(self, obj):
        return _money(obj.remaining, obj.organization)

    @admin.display(description=gettext_lazy("Applied to"))
    def applications(self, obj):
        rows = obj.applications.select_related("invoice")
        return (
            "; ".join(f"{a.invoice.number}: {Money(a.amount_minor, obj.currency).format()}" for a in rows)
            or "—"
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/finalize/", view(self.finalize_view), name="billing_creditnote_finalize"),
            path("<int:pk>/apply/", view(self.apply_view), name="billing_creditnote_apply"),
            path("<int:pk>/refund/", view(self.refund_view), name="billing_creditnote_refund"),
            path("<int:pk>/void/", view(self.void_view), name="billing_creditnote_void"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        note = CreditNote.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        tools = []
        if note is not None and _is_tenant_staff(request):
            name = self.admin_site.name
            # What the credit note allows (CreditNote.can_*), the same checks the services make.
            if note.can_finalize():
                tools.append(
                    (_("Finalize"), reverse(f"{name}:billing_creditnote_finalize", args=[note.pk]), False)
                )
            if note.can_apply():
                tools.append(
                    (
                        _("Apply to an invoice"),
                        reverse(f"{name}:billing_creditnote_apply", args=[note.pk]),
                        False,
                    )
                )
            if note.can_refund():
                tools.append(
                    (_("Refund"), reverse(f"{name}:billing_creditnote_refund", args=[note.pk]), False)
                )
            if note.can_void():
                tools.append((_("Void"), reverse(f"{name}:billing_creditnote_void", args=[note.pk]), False))
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), **_tools(request, note, tools)}
        )

    def finalize_view(self, request, pk):
        note = self._own(request, CreditNote, pk)
        actor = Actor.from_request(request)
        return self._run(
            request,
            note,
            lambda: services.finalize_credit_note(credit_note=note, actor=actor),
            _("Credit note issued."),
            title=_("Finalize this credit note?"),
            intro=_(
                "Finalizing gives the credit note the next number and freezes its lines and totals; "
                "its credit can then be applied or refunded. The customer sees it in the portal."
            ),
            submit=_("Yes, finalize"),
        )

    def void_view(self, request, pk):
        note = self._own(request, CreditNote, pk)
        actor = Actor.from_request(request)
        return self._run(
            request,
            note,
            lambda: services.void_credit_note(credit_note=note, actor=actor),
            _("Credit note voided."),
            title=_("Void this credit note?"),
            intro=_(
                "A voided credit note keeps its number but no longer gives any credit. This cannot be undone."
            ),
            submit=_("Yes, void"),
        )

    def apply_view(self, request, pk):
        note = self._own(request, CreditNote, pk)
        form = ApplyCreditForm(
            request.POST or None,
            currency=note.currency,
            invoices=selectors.open_invoices_of(note.customer),
            initial={"invoice": note.invoice_id if note.invoice_id else None},
        )
        return self._form_action(
            request,
            obj=note,
            form=form,
            perform=lambda data, actor: services.apply_credit(
                credit_note=note, invoice=data["invoice"], amount=data["amount"], actor=actor
            ),
            success=_("Credit applied."),
            title=_("Apply %(number)s") % {"number": note.number},
            submit=_("Apply credit"),
            intro=_("Remaining credit: %(remaining)s.") % {"remaining": note.remaining},
        )

    def refund_view(self, request, pk):
        note = self._own(request, CreditNote, pk)
        form = RefundForm(
            request.POST or None, currency=note.currency, initial={"method": Payment.Method.BANK_TRANSFER}
        )
        return self._form_action(
            request,
            obj=note,
            form=form,
            perform=lambda data, actor: services.refund_credit_note(
                credit_note=note,
                amount=data["amount"],
                method=data["method"],
                reason=data["reason"],
                actor=actor,
            ),
            success=_("Refund recorded."),
            title=_("Refund from %(number)s") % {"number": note.number},
            submit=_("Record refund"),
            intro=_("Remaining credit: %(remaining)s.") % {"remaining": note.remaining},
        )


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


class ReadOnlyTenantAdmin(TenantAdmin):
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
    inlines = [AllocationInline]
    fields = [
        "number",
        "customer",
        "received_on",
        "method",
        "channel",
        "reference",
        "gateway",
        "gateway_reference",
        "card_brand",
        "card_last4",
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
        return _money(obj.amount, obj.organization)

    @admin.display(description=gettext_lazy("Allocated"))
    def allocated_display(self, obj):
        return _money(obj.allocated, obj.organization)

    @admin.display(description=gettext_lazy("Unused (advance)"))
    def unused_display(self, obj):
        return _money(obj.unused, obj.organization)

    @admin.display(description=gettext_lazy("Refunded"))
    def refunded_display(self, obj):
        return _money(obj.refunded, obj.organization)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/allocate/", view(self.allocate_view), name="billing_payment_allocate"),
            path("<int:pk>/refund/", view(self.refund_view), name="billing_payment_refund"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        payment = Payment.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        tools = []
        if payment is not None and _is_tenant_staff(request):
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
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), **_tools(request, payment, tools)}
        )

    def allocate_view(self, request, pk):
        payment = self._own(request, Payment, pk)
        invoices, more = _listed(selectors.open_invoices_of(payment.customer))
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


@admin.register(Refund, site=console_site)
class RefundAdmin(ReadOnlyTenantAdmin):
    list_display = ["refunded_on", "customer", "payment", "credit_note", "amount_display", "method", "reason"]
    list_select_related = ["customer", "payment", "credit_note", "organization"]
    search_fields = ["customer__display_name", "reason"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=gettext_lazy("Amount"))
    def amount_display(self, obj):
        return _money(obj.amount, obj.organization)


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
        return _is_tenant_staff(request)

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
