"""The organization's payment settings in the console: its gateway, its Stripe keys, its bank-transfer
instructions, and the webhook address to give Stripe.

Owners and administrators change them; every other role reads them (`console.roles`). The keys are
write-only: the page shows a masked form (`sk_test_…abcd`), never the key, and a key left blank
keeps the stored one. Saving goes through `payments.configuration.update_payment_settings`.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.console.ledger_common import is_tenant_staff
from portico.console.site import ConsoleModelAdmin, console_site
from portico.core.audit import Actor
from portico.core.errors import DomainError, add_domain_error, domain_error_message
from portico.payments import configuration
from portico.payments.gateways import payment_settings
from portico.payments.models import PaymentSettings

KEY_FIELDS = configuration.SECRET_FIELDS


def _gateway_choices():
    from django.conf import settings

    default = dict(PaymentSettings.Gateway.choices).get(settings.PAYMENT_GATEWAY, settings.PAYMENT_GATEWAY)
    return [("", _("Instance default: %(gateway)s") % {"gateway": default}), *PaymentSettings.Gateway.choices]


class PaymentSettingsForm(forms.ModelForm):
    """The keys are form fields, not the model's: the stored values never reach the page."""

    gateway = forms.ChoiceField(label=gettext_lazy("Payment gateway"), required=False, choices=())
    stripe_publishable_key = forms.CharField(
        label=gettext_lazy("Stripe publishable key"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    stripe_secret_key = forms.CharField(
        label=gettext_lazy("Stripe secret key"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    stripe_webhook_secret = forms.CharField(
        label=gettext_lazy("Stripe webhook signing secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = PaymentSettings
        fields = ["offline_instructions"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gateway"].choices = _gateway_choices()
        self.initial["gateway"] = self.instance.gateway
        for field in KEY_FIELDS:
            stored = getattr(self.instance, field)
            self.initial[field] = ""  # never the stored key
            self.fields[field].help_text = (
                _("Stored: %(masked)s. Leave blank to keep it.") % {"masked": configuration.mask(stored)}
                if stored
                else _("Not set.")
            )

    def new_keys(self) -> dict[str, str]:
        return {field: self.cleaned_data.get(field, "") for field in KEY_FIELDS}

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        stored = (
            PaymentSettings.all_tenants.get(pk=self.instance.pk) if self.instance.pk else PaymentSettings()
        )
        values = {field: (self.new_keys()[field].strip() or getattr(stored, field)) for field in KEY_FIELDS}
        try:
            configuration.check_payment_settings(gateway=cleaned.get("gateway", ""), values=values)
        except DomainError as error:
            add_domain_error(self, error)
        return cleaned


@admin.register(PaymentSettings, site=console_site)
class PaymentSettingsAdmin(ConsoleModelAdmin):
    """The staff's own organization's payment settings only."""

    form = PaymentSettingsForm
    list_display = ["organization", "gateway_display", "stripe_secret_key_masked"]
    edit_fields = [
        "gateway",
        "stripe_publishable_key",
        "stripe_secret_key",
        "stripe_webhook_secret",
        "webhook_url",
        "offline_instructions",
    ]
    view_fields = [
        "gateway_display",
        "stripe_publishable_key_masked",
        "stripe_secret_key_masked",
        "stripe_webhook_secret_masked",
        "webhook_url",
        "offline_instructions",
    ]

    def get_fields(self, request, obj=None):
        return self.edit_fields if self.has_change_permission(request, obj) else self.view_fields

    def get_readonly_fields(self, request, obj=None):
        if self.has_change_permission(request, obj):
            return ["webhook_url"]
        return self.view_fields

    def get_queryset(self, request):
        organization = getattr(request, "organization", None)
        if organization is None:
            return super().get_queryset(request).none()
        payment_settings(organization)  # there is always one to edit
        return PaymentSettings.all_tenants.filter(organization=organization)

    def _staff(self, request):
        return is_tenant_staff(request)

    def has_module_permission(self, request):
        return self._staff(request)

    def has_view_permission(self, request, obj=None):
        return self._staff(request)

    def has_change_permission(self, request, obj=None):
        return self._staff(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("Payment gateway"))
    def gateway_display(self, obj):
        return dict(_gateway_choices()).get(obj.gateway, obj.gateway)

    @admin.display(description=gettext_lazy("Stripe publishable key"))
    def stripe_publishable_key_masked(self, obj):
        return configuration.mask(obj.stripe_publishable_key) or "—"

    @admin.display(description=gettext_lazy("Stripe secret key"))
    def stripe_secret_key_masked(self, obj):
        return configuration.mask(obj.stripe_secret_key) or "—"

    @admin.display(description=gettext_lazy("Stripe webhook signing secret"))
    def stripe_webhook_secret_masked(self, obj):
        return configuration.mask(obj.stripe_webhook_secret) or "—"

    @admin.display(description=gettext_lazy("Webhook URL for Stripe"))
    def webhook_url(self, obj):
        return format_html(
            "<code>{}</code><div class='help'>{}</div>",
            configuration.webhook_url(obj.organization),
            _(
                "In Stripe's dashboard (Developers → Webhooks), add this endpoint, then paste its "
                "signing secret (whsec_…) above."
            ),
        )

    def save_model(self, request, obj, form, change):
        try:
            configuration.update_payment_settings(
                organization=request.organization,
                actor=Actor.from_request(request),
                gateway=form.cleaned_data.get("gateway", ""),
                offline_instructions=form.cleaned_data.get("offline_instructions", ""),
                new_keys=form.new_keys(),
            )
        except DomainError as error:  # found only under the lock: nothing was saved
            request._console_refused = True
            domain_error_message(request, error)

    def response_change(self, request, obj):
        if getattr(request, "_console_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def log_change(self, request, obj, message):
        """The audit trail (`payment_settings.changed`) records what changed, without the keys."""
        return None
