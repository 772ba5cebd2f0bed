"""Outgoing webhooks in the console: the organization's endpoints (address, events, signing secret,
enabled) and the log of every delivery, with "redeliver".

Owners and administrators only: `console.roles` declares nothing for these models, so the other
roles get nothing (the secret is on the endpoint's page). Every change goes through
`notifications.webhooks` (validated, audited); a refused address or event is a form error.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portico.console.site import TenantAdmin, console_site
from portico.core.audit import Actor
from portico.core.errors import DomainError, domain_error_message
from portico.notifications import destinations, events, webhooks
from portico.notifications.models import WebhookDelivery, WebhookEndpoint

LOG_ROWS = 20


class WebhookEndpointForm(forms.ModelForm):
    url = forms.CharField(
        label=_("URL"),
        max_length=destinations.MAX_LENGTH,
        help_text=_("An https:// address on the public internet that answers a POST with a 2xx."),
        widget=forms.URLInput(attrs={"spellcheck": "false", "size": 60}),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=events.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "is_enabled"]

    def clean_url(self):
        try:
            destinations.check_url(self.cleaned_data["url"])
        except DomainError as error:
            raise ValidationError(str(error.message)) from None
        return self.cleaned_data["url"].strip()

    def clean_events(self):
        try:
            return webhooks.clean_events(self.cleaned_data["events"])
        except DomainError as error:
            raise ValidationError(str(error.message)) from None


@admin.register(WebhookEndpoint, site=console_site)
class WebhookEndpointAdmin(TenantAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "description", "event_count", "is_enabled", "created_at"]
    list_filter = ["is_enabled"]
    search_fields = ["url", "description"]
    actions = ["rotate_secret"]
    edit_fields = ["url", "description", "events", "is_enabled"]
    shown_fields = ["public_id", "signing_secret", "created_at", "delivery_log"]

    def get_fields(self, request, obj=None):
        return self.edit_fields if obj is None else [*self.edit_fields, *self.shown_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if not self.has_change_permission(request, obj):
            return [*self.edit_fields, *self.shown_fields]
        return self.shown_fields

    def has_rotate_secret_permission(self, request):
        return self._is_tenant_staff(request)

    @admin.display(description=_("Events"))
    def event_count(self, obj):
        return len(obj.events)

    @admin.display(description=_("Signing secret"))
    def signing_secret(self, obj):
        return format_html(
            "<code>{}</code><div class='help'>{}</div>",
            obj.secret,
            _(
                "Verify each delivery's Portico-Signature header with it (docs/webhooks.md). Rotate it from the list."
            ),
        )

    @admin.display(description=_("Delivery log"))
    def delivery_log(self, obj):
        deliveries = list(obj.deliveries.order_by("-event_id", "-id")[:LOG_ROWS])
        if not deliveries:
            return _("Nothing sent yet.")
        log_url = (
            reverse("console:notifications_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        )
        rows = format_html_join(
            "",
            "<tr><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    reverse("console:notifications_webhookdelivery_change", args=[d.pk]),
                    d.event_type,
                    d.get_status_display(),
                    d.attempts,
                    d.response_status or "—",
                    (d.response_body or d.last_error)[:80] or "—",
                    d.next_attempt_at.strftime("%Y-%m-%d %H:%M:%S") if d.next_attempt_at else "—",
                )
                for d in deliveries
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table><p><a href='{}'>{}</a></p>",
            _("Event"),
            _("Status"),
            _("Attempts"),
            _("Response code"),
            _("Response"),
            _("Next retry"),
            rows,
            log_url,
            _("The whole delivery log (redeliver from there)"),
        )

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        data = form.cleaned_data
        try:
            if change:
                saved = webhooks.update_endpoint(
                    endpoint=obj,
                    url=data["url"],
                    events=data["events"],
                    description=data.get("description", ""),
                    is_enabled=data.get("is_enabled", False),
                    actor=actor,
                )
            else:
                saved = webhooks.create_endpoint(
                    organization=request.organization,
                    url=data["url"],
                    events=data["events"],
                    description=data.get("description", ""),
                    is_enabled=data.get("is_enabled", False),
                    actor=actor,
                )
        except DomainError as error:  # found only by the service: nothing was saved
            domain_error_message(request, error)
            return
        obj.pk, obj.secret, obj.created_at = saved.pk, saved.secret, saved.created_at

    def delete_model(self, request, obj):
        webhooks.delete_endpoint(endpoint=obj, actor=Actor.from_request(request))

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            self.delete_model(request, endpoint)

    def log_addition(self, request, obj, message):
        return None  # audited by the service (`webhook_endpoint.*`)

    def log_change(self, request, obj, message):
        return None

    def log_deletions(self, request, queryset):
        return None

    @admin.action(
        description=_("Rotate the signing secret of the selected endpoints"), permissions=["rotate_secret"]
    )
    def rotate_secret(self, request, queryset):
        actor = Actor.from_request(request)
        rotated = [webhooks.rotate_secret(endpoint=endpoint, actor=actor) for endpoint in queryset]
        self.message_user(
            request,
            ngettext(
                "%(count)d endpoint has a new signing secret.",
                "%(count)d endpoints have a new signing secret.",
                len(rotated),
            )
            % {"count": len(rotated)},
            messages.SUCCESS,
        )


@admin.register(WebhookDelivery, site=console_site)
class WebhookDeliveryAdmin(TenantAdmin):
    list_display = [
        "created_at",
        "endpoint",
        "event_type",
        "status",
        "attempts",
        "response_status",
        "next_attempt_at",
    ]
    list_filter = ["status", "event_type", "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["event_type", "webhook_id", "endpoint__url"]
    actions = ["redeliver"]
    fields = [
        "webhook_id",
        "endpoint",
        "event_type",
        "status",
        "attempts",
        "response_status",
        "response_body",
        "last_error",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
        "created_at",
        "body",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_redeliver_permission(self, request):
        return self._is_tenant_staff(request)

    @admin.action(description=_("Redeliver the selected deliveries"), permissions=["redeliver"])
    def redeliver(self, request, queryset):
        actor = Actor.from_request(request)
        again = 0
        # one being sent right now is left alone (the service would skip it too)
        for delivery in queryset.exclude(status=WebhookDelivery.Status.SENDING).select_related("endpoint"):
            webhooks.redeliver(delivery=delivery, actor=actor)
            again += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again.",
                "%(count)d deliveries will be sent again.",
                again,
            )
            % {"count": again},
            messages.SUCCESS if again else messages.WARNING,
        )
