"""Credit notes in the console: drafts edited; issued ones applied to invoices, refunded or voided
through the actions on their page."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.billing import selectors, services
from portico.billing.models import (
    CreditNote,
    Invoice,
    Payment,
)
from portico.console.ledger_common import (
    ApplyCreditForm,
    CreditNoteLineInline,
    DraftDocumentAdmin,
    RefundForm,
    is_tenant_staff,
    money_text,
    object_tools,
    save_lines,
)
from portico.console.site import console_site
from portico.core.audit import Actor
from portico.core.money import Money
from portico.customers.models import Customer

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
        save_lines(
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
        return money_text(obj.total, obj.organization)

    @admin.display(description=gettext_lazy("Applied"))
    def applied_display(self, obj):
        return money_text(obj.applied, obj.organization)

    @admin.display(description=gettext_lazy("Refunded"))
    def refunded_display(self, obj):
        return money_text(obj.refunded, obj.organization)

    @admin.display(description=gettext_lazy("Remaining"))
    def remaining_display(self, obj):
        return money_text(obj.remaining, obj.organization)

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
        if note is not None and is_tenant_staff(request):
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
            request, object_id, form_url, {**(extra_context or {}), **object_tools(request, note, tools)}
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
