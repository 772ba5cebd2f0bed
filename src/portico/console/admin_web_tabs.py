"""Web tabs in the console: the organization's own pages in its portal's menu (label, address, inside
the portal or in a new tab, to every customer or to chosen ones), listed in the portal's order.

Owners and administrators change them; the other roles read them (`console.roles`). Every change goes
through `engagement.services` (validated, locked, audited); the form shows the services' refusals as
field errors before anything is saved. The customers are chosen with the console's autocomplete,
which offers only the organization's active customers.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portico.console.site import TenantAdmin, console_site
from portico.core.audit import Actor
from portico.core.errors import DomainError, domain_error_message
from portico.engagement import services
from portico.engagement.errors import WebTabError
from portico.engagement.models import WebTab


class WebTabForm(forms.ModelForm):
    url = forms.CharField(
        label=_("Address"),
        max_length=500,
        help_text=_(
            "An https:// address (or http://). Shown inside the portal, the page must allow being "
            "framed by it; otherwise open it in a new tab."
        ),
        widget=forms.URLInput(attrs={"spellcheck": "false", "size": 60}),
    )

    class Meta:
        model = WebTab
        fields = ["label", "url", "opens", "audience", "customers", "is_active"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            values = services.check_web_tab(
                organization=self.organization,
                label=cleaned.get("label", ""),
                url=cleaned.get("url", ""),
                opens=cleaned.get("opens", ""),
                audience=cleaned.get("audience", ""),
                customers=cleaned.get("customers") or (),
            )
        except WebTabError as error:
            field = error.field if error.field in self.fields else None
            raise ValidationError({field: str(error.message)} if field else str(error.message)) from None
        cleaned.update(values)
        return cleaned


@admin.register(WebTab, site=console_site)
class WebTabAdmin(TenantAdmin):
    form = WebTabForm
    list_display = ["position", "label", "opens", "audience", "is_active", "url"]
    list_display_links = ["label"]
    list_filter = ["opens", "audience", "is_active"]
    search_fields = ["label", "url"]
    ordering = ["position", "id"]
    autocomplete_fields = ["customers"]
    actions = ["move_up", "move_down", "delete_selected"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.organization = getattr(request, "organization", None) or (obj.organization if obj else None)
        return form

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        data = form.cleaned_data
        values = {
            "label": data["label"],
            "url": data["url"],
            "opens": data["opens"],
            "audience": data["audience"],
            "customers": data["customers"],
            "is_active": data.get("is_active", False),
        }
        try:
            if change:
                saved = services.update_web_tab(web_tab=obj, actor=actor, **values)
            else:
                saved = services.create_web_tab(organization=request.organization, actor=actor, **values)
        except DomainError as error:  # found only under the lock: nothing was saved
            domain_error_message(request, error)
            return
        obj.pk, obj.position = saved.pk, saved.position

    def save_related(self, request, form, formsets, change):
        return None  # the customers are set by the service

    def delete_model(self, request, obj):
        services.delete_web_tab(web_tab=obj, actor=Actor.from_request(request))

    def delete_queryset(self, request, queryset):
        for tab in queryset:
            self.delete_model(request, tab)

    def log_addition(self, request, obj, message):
        return None  # audited by the service (`web_tab.*`)

    def log_change(self, request, obj, message):
        return None

    def log_deletions(self, request, queryset):
        return None

    def _move(self, request, queryset, step: int):
        actor = Actor.from_request(request)
        tabs = sorted(queryset, key=lambda tab: (tab.position, tab.pk), reverse=step > 0)
        for tab in tabs:
            tab.refresh_from_db(fields=["position"])
            services.move_web_tab(web_tab=tab, position=max(tab.position + step, 0), actor=actor)

    @admin.action(description=_("Move the selected tabs up"), permissions=["change"])
    def move_up(self, request, queryset):
        self._move(request, queryset, -1)

    @admin.action(description=_("Move the selected tabs down"), permissions=["change"])
    def move_down(self, request, queryset):
        self._move(request, queryset, +1)
