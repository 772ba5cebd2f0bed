"""Online payment attempts in the console: read only, so staff can answer "why was my card declined?"."""

from django.contrib import admin

from portico.console.site import TenantAdmin, console_site
from portico.payments.models import PaymentAttempt


@admin.register(PaymentAttempt, site=console_site)
class PaymentAttemptAdmin(TenantAdmin):
    list_display = [
        "created_at",
        "customer",
        "amount_display",
        "status",
        "card_brand",
        "card_last4",
        "decline_code",
        "payment",
    ]
    list_filter = ["status", "gateway"]
    search_fields = ["customer__display_name", "idempotency_key", "gateway_reference", "payment__number"]
    list_select_related = ["customer", "payment"]
    readonly_fields = [
        f.name for f in PaymentAttempt._meta.fields if f.name not in ("organization", "form_token")
    ] + ["invoices"]
    exclude = ["form_token"]

    @admin.display(description="amount", ordering="amount_minor")
    def amount_display(self, attempt):
        from portico.core.templatetags.money import money

        return money(attempt.amount)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
