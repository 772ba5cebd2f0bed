"""Disputes (chargebacks) and the gateway events we received, in the console: read only.

Both are written by the gateway's webhooks (`payments.webhooks`); staff read them to answer a
dispute in the gateway's dashboard and to see what an event did to our records (`outcome`). A
payment's page lists its disputes.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from portico.console.admin_billing import PaymentAdmin
from portico.console.site import TenantAdmin, console_site
from portico.payments.models import Dispute, WebhookEvent


def _money(value):
    from portico.core.templatetags.money import money

    return money(value)


class ReadOnly:
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Dispute, site=console_site)
class DisputeAdmin(ReadOnly, TenantAdmin):
    list_display = ["opened_at", "reference", "payment", "amount_display", "status", "reason"]
    list_filter = ["status", "gateway"]
    search_fields = ["reference", "charge_reference", "payment__number", "payment__customer__display_name"]
    list_select_related = ["payment"]
    fields = [
        "reference",
        "gateway",
        "payment",
        "charge_reference",
        "amount_display",
        "status",
        "reason",
        "opened_at",
        "updated_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("amount"), ordering="amount_minor")
    def amount_display(self, dispute):
        return _money(dispute.amount)


@admin.register(WebhookEvent, site=console_site)
class WebhookEventAdmin(ReadOnly, TenantAdmin):
    list_display = ["received_at", "type", "event_id", "object_reference", "outcome"]
    list_filter = ["gateway", "type"]
    search_fields = ["event_id", "object_reference", "type", "outcome"]
    fields = ["gateway", "type", "event_id", "object_reference", "created", "received_at", "outcome"]
    readonly_fields = fields


class DisputeInline(ReadOnly, admin.TabularInline):
    model = Dispute
    fields = ["reference", "amount_display", "status", "reason", "opened_at"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = _("disputes")

    def has_view_permission(self, request, obj=None):
        return True

    @admin.display(description=_("amount"))
    def amount_display(self, dispute):
        return _money(dispute.amount)


# A payment's page shows its disputes (added here so that the dispute pages stay in one module).
PaymentAdmin.inlines = [*PaymentAdmin.inlines, DisputeInline]
