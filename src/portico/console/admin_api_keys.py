"""The organization's API keys in the console: create one (its secret is shown once, on the page
that answers the creation, and never again), see when each was last used, revoke them. Owners and
administrators only (`console.roles` declares nothing for the other roles: they get nothing).
Creating and revoking go through `api.services`, which audit them."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portico.api import services
from portico.api.errors import KeyNameRequired
from portico.api.models import ApiKey, Scope
from portico.console.site import TenantAdmin, console_site
from portico.core.audit import Actor


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "scope"]
        help_texts = {"name": _("What uses it, such as “CRM sync”.")}

    def clean_name(self):
        name = (self.cleaned_data.get("name") or "").strip()
        if not name:
            raise forms.ValidationError(KeyNameRequired.message)
        return name


@admin.register(ApiKey, site=console_site)
class ApiKeyAdmin(TenantAdmin):
    form = ApiKeyForm
    list_display = ["name", "prefix_shown", "scope", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    search_fields = ["name", "prefix"]
    readonly_fields = [
        "name",
        "prefix_shown",
        "scope",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke_keys"]
    list_select_related = ["created_by"]

    @admin.display(description=_("key starts with"))
    def prefix_shown(self, obj):
        return f"ptk_{obj.prefix}_…"

    def get_fields(self, request, obj=None):
        return ["name", "scope"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False  # a key is created and revoked, never edited

    def has_delete_permission(self, request, obj=None):
        return False  # revoked keys stay, with their audit trail

    def save_model(self, request, obj, form, change):
        created = services.create_key(
            organization=request.organization,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data.get("scope") or Scope.READ,
            actor=Actor.from_request(request),
        )
        obj.pk, obj.prefix = created.key.pk, created.key.prefix
        request._api_key_secret = created.secret

    def save_related(self, request, form, formsets, change):
        return None

    def log_addition(self, request, obj, message):
        return None  # audited by the service

    def response_add(self, request, obj, post_url_continue=None):
        """The secret, once: on this page only, never stored, never in a message or a redirect."""
        context = {
            **self.admin_site.each_context(request),
            "title": _("Copy your new API key"),
            "key": ApiKey.objects.get(pk=obj.pk),
            "secret": request._api_key_secret,
            "opts": self.opts,
        }
        response = TemplateResponse(request, "admin/api/apikey/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke selected keys (they stop working at once)"))
    def revoke_keys(self, request, queryset):
        actor = Actor.from_request(request)
        revoked = 0
        for key in queryset.filter(revoked_at=None):
            services.revoke_key(key=key, actor=actor)
            revoked += 1
        self.message_user(
            request, ngettext("%d key revoked.", "%d keys revoked.", revoked) % revoked, messages.SUCCESS
        )
