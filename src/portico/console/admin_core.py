"""The outbox in the console: every delivery of the organization's events, read only, so staff see
what waits, what was delivered and why one failed, and may send a failed one round again."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portico.console.site import TenantAdmin, console_site
from portico.core import outbox
from portico.core.audit import Actor
from portico.core.models import OutboxDelivery


@admin.register(OutboxDelivery, site=console_site)
class OutboxDeliveryAdmin(TenantAdmin):
    list_display = ["created_at", "topic", "summary", "consumer", "status", "attempts", "available_at"]
    list_filter = ["status", "consumer", "created_at"]
    list_select_related = ["event"]
    search_fields = ["event__topic", "consumer", "last_error"]
    actions = ["retry"]
    fields = [
        "topic",
        "summary",
        "consumer",
        "status",
        "attempts",
        "available_at",
        "claimed_until",
        "delivered_at",
        "last_error",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return self._is_tenant_staff(request)

    @admin.display(description=_("Event"), ordering="event__topic")
    def topic(self, obj):
        return obj.event.topic

    @admin.display(description=_("Summary"))
    def summary(self, obj):
        payload = obj.event.payload
        # An email's body may hold a sign-in or password-reset link: staff see whom and what about.
        if obj.event.topic == "email.send":
            return f"{', '.join(payload.get('to', []))}: {payload.get('subject', '')}"
        return json.dumps(payload, sort_keys=True)[:200]

    @admin.action(description=_("Retry the selected failed deliveries"), permissions=["retry"])
    def retry(self, request, queryset):
        actor = Actor.from_request(request)
        retried = 0
        for delivery in queryset.filter(status=OutboxDelivery.Status.FAILED).select_related("event"):
            delivery = outbox.retry_delivery(delivery=delivery, actor=actor)
            retried += delivery.status != OutboxDelivery.Status.FAILED
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be tried again.",
                "%(count)d deliveries will be tried again.",
                retried,
            )
            % {"count": retried},
            messages.SUCCESS if retried else messages.WARNING,
        )
