from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core.tenancy import TenantSettingsModel, related_setting
from portico.portal.capabilities import registry


class PortalPreferences(TenantSettingsModel):
    """What one organization's customers may see and do in the portal. Enforced on the server.

    What there is to choose, and each choice's default, is declared by the apps
    (`portal/capabilities.py`); these lists only record where the organization departs from it.
    """

    organization = models.OneToOneField(
        "core.Organization", on_delete=models.CASCADE, related_name="portal_preferences"
    )
    disabled = models.JSONField(
        _("switched off"),
        default=list,
        blank=True,
        help_text=_('Capabilities customers may not use, as "module" or "module.action".'),
    )
    enabled = models.JSONField(
        _("switched on"),
        default=list,
        blank=True,
        help_text=_('Capabilities that are off by default and that customers may use, as "module.action".'),
    )

    class Meta(TenantSettingsModel.Meta):
        verbose_name = _("portal preferences")
        verbose_name_plural = _("portal preferences")

    def __str__(self) -> str:
        return f"Portal preferences of {self.organization}"

    def clean(self):
        super().clean()
        problems = registry().check_choices(disabled=self.disabled, enabled=self.enabled)
        if problems:
            raise ValidationError({"disabled": problems})

    def is_switched_on(self, capability) -> bool:
        """This capability itself (not its module's "view") is on for the organization."""
        if not capability.switchable:
            return True
        if capability.module in self.disabled or capability.key in self.disabled:
            return False
        return capability.default or capability.key in self.enabled

    def allows(self, module: str, action: str = "view") -> bool:
        """The capability is switched on, and so is its module's "view" (what shows it at all)."""
        capability = registry().get(module, action)
        if capability is None:
            raise ValueError(f"Unknown portal capability {module}.{action}")
        return self.is_switched_on(registry().get(module, "view")) and self.is_switched_on(capability)


def preferences_of(organization) -> PortalPreferences:
    return related_setting(organization, "portal_preferences", PortalPreferences)
