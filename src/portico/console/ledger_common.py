"""What the ledger's console pages share: draft lines and their inline, the staff action
helpers, the draft-document admin base, and the amount and allocation forms.
Thin: every change goes through `billing.services`; every object is looked up within the staff
member's organization, so another organization's ids answer 404."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.billing import services
from portico.billing.models import (
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    Payment,
)
from portico.billing.services import LineInput
from portico.catalog.models import Item, TaxRate
from portico.console.site import TenantAdmin, console_site
from portico.core import clock, formatting
from portico.core.audit import Actor
from portico.core.errors import DomainError, add_domain_error, domain_error_message
from portico.core.formfields import MoneyField
from portico.core.money import Money
from portico.customers.models import Customer


def money_text(value: Money, organization) -> str:
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
        return obj is not None and obj.can_edit() and is_tenant_staff(request)

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


def is_tenant_staff(request) -> bool:
    organization = getattr(request, "organization", None)
    return (
        organization is not None
        and request.user.is_authenticated
        and request.user.organization_id == organization.pk
    )


def save_lines(request, formset, *, add, update, remove) -> None:
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
        if not is_tenant_staff(request):
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


def object_tools(request, obj, tools):
    return {"billing_tools": [{"label": label, "url": url, "post": post} for label, url, post in tools]}


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


def listed_invoices(invoices) -> tuple[list[Invoice], str]:
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


class ReadOnlyTenantAdmin(TenantAdmin):
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
