"""Portal configurations in the console: what customers may see and do, one configuration the
organization's default and more for chosen customers (Stripe's portal configurations).

The checkboxes are the capabilities the apps declare (`portal.capabilities`); a configuration
stores only where it departs from each capability's default. Every change goes through
`portal.services` (validated, locked, audited). Owners and administrators change them; the other
roles read them (`console.roles`). A customer's configuration is chosen on the customer's page.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from portico.console.site import RefusalRedirectMixin, TenantAdmin, console_site, refused
from portico.core.audit import Actor
from portico.portal import services
from portico.portal.capabilities import registry
from portico.portal.models import PortalConfiguration, preferences_of


class PortalConfigurationForm(forms.ModelForm):
    """The declared capabilities as labelled checkboxes; the lists stored are what departs from
    each capability's default."""

    capabilities = forms.MultipleChoiceField(
        label=_("Customers may"), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = PortalConfiguration
        fields = ["name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        declared = registry().switchable()
        self.fields["capabilities"].choices = [(c.key, c.label) for c in declared]
        self.fields["capabilities"].initial = [c.key for c in declared if self.instance.is_switched_on(c)]
        if "name" in self.fields:  # absent when the page is read only
            self.fields["name"].help_text = _("For your staff: customers never see it.")

    def clean(self):
        cleaned = super().clean()
        chosen = set(cleaned.get("capabilities") or ())
        declared = registry().switchable()
        disabled = [c.key for c in declared if c.default and c.key not in chosen]
        enabled = [c.key for c in declared if not c.default and c.key in chosen]
        problems = registry().check_choices(disabled=disabled, enabled=enabled)
        if problems:
            raise ValidationError({"capabilities": problems})
        self.instance.disabled, self.instance.enabled = disabled, enabled
        return cleaned

    def validate_unique(self):
        # the name's uniqueness is checked per organization (which the form does not hold) by the
        # service, under the database's constraint
        return None


@admin.register(PortalConfiguration, site=console_site)
class PortalConfigurationAdmin(RefusalRedirectMixin, TenantAdmin):
    form = PortalConfigurationForm
    list_display = ["name", "default_display", "customers_display", "switched_off"]
    actions = ["make_default"]
    readonly_fields = ["default_display", "customers_display"]

    def get_fields(self, request, obj=None):
        fields = ["name", "capabilities"]
        return [*fields, "default_display", "customers_display"] if obj is not None else fields

    def get_queryset(self, request):
        if getattr(request, "organization", None) is not None:
            preferences_of(request.organization)  # there is always a default to edit
        return super().get_queryset(request).annotate(customers=Count("choices"))

    @admin.display(description=_("default"), boolean=True)
    def default_display(self, obj):
        return obj.is_default

    @admin.display(description=_("customers who have it chosen"))
    def customers_display(self, obj):
        if obj.is_default:
            return _("every customer without a configuration of its own")
        return obj.customers  # annotated by `get_queryset`

    @admin.display(description=_("switched off"))
    def switched_off(self, obj):
        off = [c.label for c in registry().switchable() if not obj.is_switched_on(c)]
        return ", ".join(str(label) for label in off) or "—"

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        values = {"name": form.cleaned_data["name"], "disabled": obj.disabled, "enabled": obj.enabled}
        try:
            if change:
                saved = services.update_portal_configuration(configuration=obj, actor=actor, **values)
            else:
                saved = services.create_portal_configuration(
                    organization=request.organization, actor=actor, **values
                )
        except services.PortalPreferencesRefused as error:
            refused(request, error)
            return
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        try:
            moved = services.delete_portal_configuration(configuration=obj, actor=Actor.from_request(request))
        except services.PortalPreferencesRefused as error:
            refused(request, error)
            return
        if moved:
            messages.info(
                request,
                _("%(count)d customers now use the default configuration.") % {"count": moved},
            )

    def delete_queryset(self, request, queryset):
        for configuration in queryset:
            self.delete_model(request, configuration)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_default:
            return False  # make another one the default first
        return super().has_delete_permission(request, obj)

    def log_addition(self, request, obj, message):
        return None  # audited by the service (`portal_configuration.*`)

    def log_change(self, request, obj, message):
        return None

    def log_deletions(self, request, queryset):
        return None

    @admin.action(description=_("Make the selected configuration the default"), permissions=["change"])
    def make_default(self, request, queryset):
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            messages.error(request, _("Select exactly one configuration to make it the default."))
            return
        try:
            services.make_default(configuration=chosen[0], actor=Actor.from_request(request))
        except services.PortalPreferencesRefused as error:
            refused(request, error)
            return
        messages.success(
            request, _('"%(name)s" is now the default configuration.') % {"name": chosen[0].name}
        )
