from decimal import Decimal

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from portico.catalog.models import Item, TaxRate
from portico.console.site import TenantAdmin, console_site
from portico.core.money import Money


@admin.register(TaxRate, site=console_site)
class TaxRateAdmin(TenantAdmin):
    list_display = ["name", "percent", "is_inclusive", "is_active"]
    list_filter = ["is_inclusive", "is_active"]
    search_fields = ["name"]


class ItemForm(forms.ModelForm):
    unit_price = forms.DecimalField(
        label=_("Unit price"), min_value=Decimal(0), max_digits=16, decimal_places=4
    )

    class Meta:
        model = Item
        fields = ["name", "description", "currency", "tax_rate", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["unit_price"] = self.instance.unit_price.decimal

    def clean(self):
        cleaned = super().clean()
        currency, price = cleaned.get("currency"), cleaned.get("unit_price")
        if currency and price is not None:
            try:
                self.instance.unit_price_minor = Money.from_decimal(price, currency.upper()).minor
            except ValueError as exc:
                self.add_error("unit_price", str(exc))
        return cleaned


@admin.register(Item, site=console_site)
class ItemAdmin(TenantAdmin):
    form = ItemForm
    list_display = ["name", "unit_price", "tax_rate", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "description"]
    list_select_related = ["tax_rate"]
