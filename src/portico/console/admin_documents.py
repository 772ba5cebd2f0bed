"""Shared documents and share links in the console.

Staff upload a document for one customer or for all (`engagement.documents` judges the file by its
bytes, stores it under a random name and audits); a document is not edited once shared — delete it and
share the new one. Staff download it through a POST button (audited `document.downloaded`, via the
console), and make expiring share links to a document or an invoice: the link's address is shown once,
in the message after saving (only its hash is stored). Revoking closes a link at once.

Owners, administrators and support staff share and revoke; finance and read-only staff read
(`console.roles`).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portico.billing.models import Invoice
from portico.console import roles
from portico.console.ledger_common import object_tools
from portico.console.site import TenantAdmin, console_site
from portico.core import clock
from portico.core.audit import Actor
from portico.core.errors import DomainError, domain_error_message
from portico.engagement import documents as services
from portico.engagement.models import SharedDocument, ShareLink
from portico.portal.document_views import serve_document

DAY_CHOICES = [(1, _("1 day")), (7, _("7 days")), (30, _("30 days")), (90, _("90 days"))]


class SharedDocumentForm(forms.ModelForm):
    upload = forms.FileField(
        label=_("File"),
        help_text=_(
            "A PDF, an image, an Office or OpenDocument file, a CSV or a text file, up to the size "
            "limit. Its type is read from its contents, not its name."
        ),
    )

    class Meta:
        model = SharedDocument
        fields = ["title", "customer"]
        help_texts = {"customer": _("Leave empty to share with all customers.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "title" in self.fields:  # the add form (a shared document is read only)
            self.fields["title"].required = False
            self.fields["title"].help_text = _("As customers will see it; the file's name when left empty.")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            cleaned["values"] = services.check_document(
                organization=self.organization,
                title=cleaned.get("title", ""),
                upload=cleaned.get("upload"),
                customer=cleaned.get("customer"),
            )
        except DomainError as error:
            field = {"file": "upload"}.get(error.field, error.field)
            field = field if field in self.fields else None
            raise ValidationError({field: str(error.message)} if field else str(error.message)) from None
        return cleaned


@admin.register(SharedDocument, site=console_site)
class SharedDocumentAdmin(TenantAdmin):
    form = SharedDocumentForm
    list_display = ["title", "audience", "customer", "content_type", "size", "created_at"]
    list_filter = ["audience", "content_type"]
    list_select_related = ["customer"]
    search_fields = ["title", "original_name"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["title", "customer", "audience", "original_name", "content_type", "size", "created_at"]
    actions = ["delete_selected"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["title", "upload", "customer"]
        return self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False  # shared as it is: delete it and share the new one

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.organization = getattr(request, "organization", None)
        return form

    def save_model(self, request, obj, form, change):
        values = form.cleaned_data["values"]
        try:
            saved = services.create_document(
                organization=request.organization,
                title=values["title"],
                upload=form.cleaned_data["upload"],
                customer=values["customer"],
                actor=Actor.from_request(request),
            )
        except DomainError as error:
            domain_error_message(request, error)
            return
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.delete_document(document=obj, actor=Actor.from_request(request))

    def delete_queryset(self, request, queryset):
        for document in queryset:
            self.delete_model(request, document)

    def get_deleted_objects(self, objs, request):
        """The document's links go with it (the service deletes them): staff need no right to delete
        links, which the console never deletes on their own."""
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def log_addition(self, request, obj, message):
        return None  # audited by the service (`document.*`)

    def log_change(self, request, obj, message):
        return None

    def log_deletions(self, request, queryset):
        return None

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/download/",
                view(self.download_view),
                name="engagement_shareddocument_document_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        """POST: the file, as an attachment, audited with the staff member (never on a bare GET)."""
        document = get_object_or_404(SharedDocument.objects.all(), pk=pk)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        services.record_download(document=document, actor=Actor.from_request(request), via="console")
        return serve_document(document)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        url = reverse(f"{self.admin_site.name}:engagement_shareddocument_document_download", args=[object_id])
        document = SharedDocument.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        tools = [(_("Download"), url, True)] if document is not None else []
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), **object_tools(request, document, tools)}
        )


class ShareLinkForm(forms.ModelForm):
    days = forms.TypedChoiceField(label=_("Open for"), choices=DAY_CHOICES, coerce=int, initial=7)

    class Meta:
        model = ShareLink
        fields = ["document", "invoice"]
        help_texts = {"document": _("A document, or…"), "invoice": _("…an issued invoice (its PDF).")}

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        document, invoice = cleaned.get("document"), cleaned.get("invoice")
        if (document is None) == (invoice is None):
            raise ValidationError(_("Choose a document or an invoice, not both."))
        if invoice is not None and invoice.status == Invoice.Status.DRAFT:
            raise ValidationError({"invoice": _("A draft invoice cannot be shared.")})
        return cleaned


@admin.register(ShareLink, site=console_site)
class ShareLinkAdmin(TenantAdmin):
    form = ShareLinkForm
    list_display = ["__str__", "customer", "created_by_label", "expires_at", "revoked_at", "open_count"]
    list_filter = ["revoked_at", "expires_at"]
    list_select_related = ["customer", "document", "invoice"]
    search_fields = ["document__title", "invoice__number", "customer__display_name", "created_by_label"]
    autocomplete_fields = ["document", "invoice"]
    readonly_fields = [
        "document",
        "invoice",
        "customer",
        "created_by_label",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_opened_at",
        "open_count",
    ]
    actions = ["revoke_links"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return ["document", "invoice", "days"] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False  # a link is revoked, never edited

    def has_delete_permission(self, request, obj=None):
        return False  # revoked links stay, with their openings, in the record

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            made = services.create_share_link(
                organization=request.organization,
                document=data.get("document"),
                invoice=data.get("invoice"),
                expires_at=clock.now() + dt.timedelta(days=data["days"]),
                actor=Actor.from_request(request),
            )
        except DomainError as error:
            domain_error_message(request, error)
            return
        obj.pk = made.link.pk
        url = request.organization.public_url(reverse("share_link", kwargs={"token": made.token}))
        messages.success(
            request,
            format_html(_("The share link, shown only this once: {}"), format_html("<code>{}</code>", url)),
        )

    def log_addition(self, request, obj, message):
        return None  # audited by the service (`share_link.*`)

    def log_change(self, request, obj, message):
        return None

    @admin.action(description=_("Revoke the selected links"), permissions=["revoke"])
    def revoke_links(self, request, queryset):
        actor = Actor.from_request(request)
        for link in queryset.filter(revoked_at__isnull=True).order_by("pk"):
            services.revoke_share_link(link=link, actor=actor)

    def has_revoke_permission(self, request):
        return roles.allows(request.user, self.opts.label_lower, "revoke")
