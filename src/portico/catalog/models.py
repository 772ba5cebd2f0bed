"""What a business sells: tax rates and items that invoice lines are built from.

A line copies (snapshots) the item's description and price and the tax rate's name, percent and
inclusiveness when it is created, so later catalog edits never change an issued document.
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portico.core.fields import money_property
from portico.core.tenancy import TenantModel


class TaxRate(TenantModel):
    """A named tax percentage. Inclusive rates are already contained in the price they apply to."""

    name = models.CharField(_("name"), max_length=64)
    percent = models.DecimalField(
        _("percent"),
        max_digits=7,
        decimal_places=4,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text=_("e.g. 8.25"),
    )
    is_inclusive = models.BooleanField(_("included in prices"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100), name="tax_rate_percent_in_range"
            )
        ]

    def __str__(self) -> str:
        kind = _("incl.") if self.is_inclusive else _("excl.")
        return f"{self.name} {self.percent.normalize():f}% ({kind})"


class Item(TenantModel):
    """A product or service with a default price, used to fill invoice lines."""

    name = models.CharField(_("name"), max_length=200)
    description = models.CharField(_("description"), max_length=500, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    unit_price_minor = models.BigIntegerField(
        _("unit price (minor units)"), validators=[MinValueValidator(0)]
    )
    tax_rate = models.ForeignKey(
        TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="items", verbose_name=_("tax")
    )
    is_active = models.BooleanField(_("active"), default=True)

    unit_price = money_property("unit_price_minor")

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(unit_price_minor__gte=0), name="item_price_not_negative")
        ]

    def __str__(self) -> str:
        return self.name
