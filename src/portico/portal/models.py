from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from portico.core.tenancy import TenantModel
from portico.portal.capabilities import registry


class PortalConfiguration(TenantModel):
    """What customers may see and do in the portal. Enforced on the server.

    An organization has one default configuration (`default_of` points back at it, so it is loaded
    with the organization on every request) and may add more, each chosen for some customers
    (`CustomerPortalConfiguration`) — Stripe's portal configuration objects. What there is to
    choose, and each choice's default, is declared by the apps (`portal/capabilities.py`); the
    lists only record where a configuration departs from it.
    """

    organization = models.ForeignKey(
        "core.Organization",
        on_delete=models.CASCADE,
        related_name="portal_configurations",
        db_index=False,  # led by the (organization, name) unique index
    )
    name = models.CharField(_("name"), max_length=80, default="Default")
    default_of = models.OneToOneField(
        "core.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        editable=False,
        related_name="portal_preferences",
        help_text=_("Set on the organization's default configuration only."),
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

    class Meta(TenantModel.Meta):
        verbose_name = _("portal configuration")
        verbose_name_plural = _("portal configurations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="portal_configuration_name_unique"),
            models.CheckConstraint(
                condition=Q(default_of__isnull=True) | Q(default_of=F("organization")),
                name="portal_configuration_default_of_its_organization",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_default(self) -> bool:
        return self.default_of_id is not None

    def clean(self):
        super().clean()
        problems = registry().check_choices(disabled=self.disabled, enabled=self.enabled)
        if problems:
            raise ValidationError({"disabled": problems})

    def is_switched_on(self, capability) -> bool:
        """This capability itself (not its module's "view") is on in this configuration."""
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


class CustomerPortalConfiguration(TenantModel):
    """The configuration chosen for one customer; a customer without one uses the default.

    The portal owns this table (customers sit below the portal and know nothing of it). It is
    read with the signed-in contact's row (`portal.access.portal_for`), so choosing costs no query.
    """

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="portal_configuration_choice"
    )
    configuration = models.ForeignKey(PortalConfiguration, on_delete=models.CASCADE, related_name="choices")

    class Meta(TenantModel.Meta):
        verbose_name = _("customer portal configuration")
        verbose_name_plural = _("customer portal configurations")

    def __str__(self) -> str:
        return f"{self.customer} → {self.configuration}"


def preferences_of(organization) -> PortalConfiguration:
    """The organization's default configuration (made on first use)."""
    try:
        return organization.portal_preferences
    except PortalConfiguration.DoesNotExist:
        pass
    row, _created = PortalConfiguration.all_tenants.get_or_create(
        default_of=organization, defaults={"organization": organization, "name": str(_("Default"))}
    )
    organization.portal_preferences = row
    return row


def configuration_for(customer, organization=None) -> PortalConfiguration:
    """The configuration that governs this customer's portal: its chosen one, else the default."""
    try:
        return customer.portal_configuration_choice.configuration
    except CustomerPortalConfiguration.DoesNotExist:
        return preferences_of(organization or customer.organization)
