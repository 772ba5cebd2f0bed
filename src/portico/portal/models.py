from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core.tenancy import TenantSettingsModel, related_setting

# What a business may switch on or off for its customers: module → actions.
# A module's "view" action is what shows it at all; other actions are what customers may do there.
MODULES: dict[str, tuple[str, ...]] = {
    "invoices": ("view", "pay", "download"),
    "payments": ("view",),
    "credits": ("view", "apply"),
    "statements": ("view",),
    "subscriptions": ("view", "change", "cancel"),
    "projects": ("view",),
    "profile": ("view", "change"),
    "contacts": ("view", "change"),
    "cards": ("view", "change"),
}


class PortalPreferences(TenantSettingsModel):
    """What one organization's customers may see and do in the portal. Enforced on the server."""

    organization = models.OneToOneField(
        "core.Organization", on_delete=models.CASCADE, related_name="portal_preferences"
    )
    disabled = models.JSONField(
        _("switched off"),
        default=list,
        blank=True,
        help_text=_('Capabilities customers may not use, as "module" or "module.action".'),
    )

    class Meta(TenantSettingsModel.Meta):
        verbose_name = _("portal preferences")
        verbose_name_plural = _("portal preferences")

    def __str__(self) -> str:
        return f"Portal preferences of {self.organization}"

    def allows(self, module: str, action: str = "view") -> bool:
        if module not in MODULES or action not in MODULES[module]:
            raise ValueError(f"Unknown portal capability {module}.{action}")
        return module not in self.disabled and f"{module}.{action}" not in self.disabled


def preferences_of(organization) -> PortalPreferences:
    return related_setting(organization, "portal_preferences", PortalPreferences)
