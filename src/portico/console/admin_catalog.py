"""The catalog in the console: tax rates, items, products and their plans (with price tiers),
addons and coupons (with their customer-facing codes).

Amounts are typed in the organization's locale: flat prices and fees through `MoneyField` (the one
money parser), unit prices through `UnitPriceField` (finer than a cent allowed). The rules live in
the catalog (`catalog.models` clean methods, `catalog.pricing.check_tiers`); the forms here only
read amounts in the currency being saved and turn refusals into form errors. Owners and
administrators manage the catalog; other roles read it (`console.roles`). Every change is audited.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from portico.catalog import errors as catalog_errors
from portico.catalog.models import (
    Addon,
    AddonTier,
    Coupon,
    CouponCode,
    Item,
    Plan,
    PlanTier,
    Product,
    TaxRate,
)
from portico.catalog.pricing import Tier, check_tiers
from portico.console.site import TenantAdmin, TenantInline, console_site
from portico.core.audit import Actor, audit
from portico.core.formfields import MoneyField, UnitPriceField
from portico.core.money import Money, format_unit_price, is_currency
from portico.core.tenancy import current_organization


def _currency_for(data, prefix_field: str, instance, fallback: str = "") -> str:
    """The currency the amounts of a form are typed in: the one being submitted when it is a known
    code, else the saved one, else the organization's."""
    typed = (data.get(prefix_field) or "").strip().upper() if data else ""
    if is_currency(typed):
        return typed
    saved = getattr(instance, "currency", "") or ""
    if is_currency(saved):
        return saved
    organization = current_organization()
    return fallback or (organization.base_currency if organization is not None else "USD")


class AmountsForm(forms.ModelForm):
    """A model form whose `MoneyField`s write `<name>_minor` and whose amounts are read in the form's
    currency. `money_fields` names them; `unique_fields` are unique per organization (checked here:
    the organization is set by the console, after validation)."""

    money_fields: tuple[str, ...] = ()
    unique_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        currency = _currency_for(self.data, self.add_prefix("currency"), self.instance, self.form_currency())
        for field in self.fields.values():
            if isinstance(field, MoneyField):
                field.currency = currency
        if self.instance.pk:
            for name in self.money_fields:
                if name in self.fields and getattr(self.instance, f"{name}_minor") is not None:
                    self.initial[name] = Money(
                        getattr(self.instance, f"{name}_minor"), self.instance.currency
                    )
        if "currency" in self.fields and not self.instance.pk and current_organization() is not None:
            self.initial.setdefault("currency", current_organization().base_currency)

    def form_currency(self) -> str:
        return ""

    def clean_currency(self):
        currency = (self.cleaned_data.get("currency") or "").strip().upper()
        if currency and not is_currency(currency):
            raise ValidationError(
                _("%(code)s is not an ISO 4217 currency code (such as USD, EUR or JPY).") % {"code": currency}
            )
        return currency

    def _update_errors(self, errors):
        """The model's rules name `<amount>_minor`; the console's field is `<amount>`."""
        if hasattr(errors, "error_dict"):
            for name in self.money_fields:
                if f"{name}_minor" in errors.error_dict:
                    errors.error_dict.setdefault(name, []).extend(errors.error_dict.pop(f"{name}_minor"))
            for name in list(errors.error_dict):
                if name not in self.fields and name != "__all__":
                    errors.error_dict.setdefault("__all__", []).extend(errors.error_dict.pop(name))
        super()._update_errors(errors)

    def clean(self):
        cleaned = super().clean()
        for name in self.money_fields:
            if name in self.fields and name not in self.errors:
                amount = cleaned.get(name)
                setattr(self.instance, f"{name}_minor", amount.minor if amount is not None else None)
        for name in self.unique_fields:
            value = cleaned.get(name)
            if (
                value
                and self._meta.model.objects.filter(**{name: value}).exclude(pk=self.instance.pk).exists()
            ):
                self.add_error(name, _("This is already used in your catalog: choose another."))
        return cleaned


def _audited(admin_class):
    """Audit the admin's saves and deletions as `<model>.created|changed|deleted`."""

    def save_model(self, request, obj, form, change):
        super(admin_class, self).save_model(request, obj, form, change)
        audit(
            Actor.from_request(request),
            f"{obj._meta.model_name}.{'changed' if change else 'created'}",
            obj,
            fields=sorted(form.changed_data),
        )

    def delete_model(self, request, obj):
        actor, organization, pk, label = Actor.from_request(request), obj.organization, obj.pk, str(obj)
        super(admin_class, self).delete_model(request, obj)
        audit(actor, f"{obj._meta.model_name}.deleted", None, organization=organization, id=pk, name=label)

    def delete_queryset(self, request, queryset):
        actor = Actor.from_request(request)
        rows = [(obj.organization, obj.pk, str(obj), obj._meta.model_name) for obj in queryset]
        super(admin_class, self).delete_queryset(request, queryset)
        for organization, pk, label, model_name in rows:
            audit(actor, f"{model_name}.deleted", None, organization=organization, id=pk, name=label)

    admin_class.save_model = save_model
    admin_class.delete_model = delete_model
    admin_class.delete_queryset = delete_queryset
    return admin_class


# -- tax rates and items ----------------------------------------------------------------------------


@admin.register(TaxRate, site=console_site)
@_audited
class TaxRateAdmin(TenantAdmin):
    list_display = ["name", "percent", "is_inclusive", "is_active"]
    list_filter = ["is_inclusive", "is_active"]
    search_fields = ["name"]


class ItemForm(AmountsForm):
    unit_price = MoneyField(label=_("Unit price"))
    money_fields = ("unit_price",)

    class Meta:
        model = Item
        fields = ["name", "description", "currency", "unit_price", "tax_rate", "is_active"]


@admin.register(Item, site=console_site)
@_audited
class ItemAdmin(TenantAdmin):
    form = ItemForm
    list_display = ["name", "unit_price", "tax_rate", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "description"]
    list_select_related = ["tax_rate"]


# -- products and plans -----------------------------------------------------------------------------


class PlanInline(TenantInline):
    """A product's family, in order; plans are edited on their own page (prices, tiers)."""

    model = Plan
    fields = ["position", "code", "name", "pricing_model", "is_archived"]
    readonly_fields = ["code", "name", "pricing_model"]
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ProductForm(AmountsForm):
    unique_fields = ("name",)

    class Meta:
        model = Product
        fields = ["name", "description", "is_archived"]


@admin.register(Product, site=console_site)
@_audited
class ProductAdmin(TenantAdmin):
    form = ProductForm
    list_display = ["name", "plan_count", "is_archived"]
    list_filter = ["is_archived"]
    search_fields = ["name", "description"]
    inlines = [PlanInline]

    @admin.display(description=_("plans"))
    def plan_count(self, obj):
        return obj.plans.count()


class TierFormSet(BaseInlineFormSet):
    """A plan's or addon's tiers as typed, checked together by `catalog.pricing.check_tiers` against
    the pricing model being saved."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        tiers = []
        for form in self.forms:
            if not form.has_changed() and not form.instance.pk:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            data = form.cleaned_data
            tiers.append(
                Tier(
                    data.get("up_to"),
                    data.get("unit_price") if data.get("unit_price") is not None else 0,
                    form.instance.flat_fee_minor or 0,
                )
            )
        try:
            check_tiers(self.instance.pricing_model, tiers)
        except catalog_errors.InvalidTiers as refused:
            raise ValidationError(str(refused.message)) from None


class TierForm(forms.ModelForm):
    unit_price = UnitPriceField(label=_("Unit price"))
    flat_fee = MoneyField(label=_("Flat fee"), required=False)
    currency = "USD"  # set per request by the inline

    class Meta:
        fields = ["up_to", "unit_price"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit_price"].currency = self.fields["flat_fee"].currency = self.currency
        if self.instance.pk:
            self.initial["flat_fee"] = Money(self.instance.flat_fee_minor, self.currency)

    def clean(self):
        cleaned = super().clean()
        fee = cleaned.get("flat_fee")
        self.instance.flat_fee_minor = fee.minor if fee is not None else 0
        return cleaned


class TierInline(admin.TabularInline):
    form = TierForm
    formset = TierFormSet
    extra = 1
    fields = ["up_to", "unit_price", "flat_fee"]
    verbose_name = _("price tier")
    verbose_name_plural = _("price tiers (volume and tiered pricing only; leave the last upper limit empty)")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        currency = _currency_for(request.POST, "currency", obj)
        formset.form = type(formset.form.__name__, (formset.form,), {"currency": currency})
        return formset

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return getattr(request, "organization", None) is not None

    def has_change_permission(self, request, obj=None):
        return getattr(request, "organization", None) is not None

    def has_delete_permission(self, request, obj=None):
        return getattr(request, "organization", None) is not None


class PlanTierInline(TierInline):
    model = PlanTier


class AddonTierInline(TierInline):
    model = AddonTier


class FeaturesField(forms.CharField):
    """Features one per line (or a JSON list of texts), cleaned to a list of texts."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        if text.lstrip().startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                raise ValidationError(_("Write one feature per line, or a JSON list of texts.")) from None
            if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
                raise ValidationError(_("Write one feature per line, or a JSON list of texts."))
            lines = parsed
        else:
            lines = text.splitlines()
        return [line.strip() for line in lines if line.strip()]


class PricedForm(AmountsForm):
    price = MoneyField(label=_("Price"), required=False, help_text=_("For the flat-fee model."))
    unit_price = UnitPriceField(
        label=_("Unit price"), required=False, help_text=_("For per-unit pricing; may be finer than a cent.")
    )
    money_fields = ("price",)
    unique_fields = ("code",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit_price"].currency = self.fields["price"].currency

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("price") is None and "price" not in self.errors:
            self.instance.price_minor = 0
        if cleaned.get("unit_price") is None and "unit_price" not in self.errors:
            cleaned["unit_price"] = self.instance.unit_price = 0
        return cleaned


class PlanForm(PricedForm):
    setup_fee = MoneyField(label=_("Setup fee"), required=False)
    features = FeaturesField(
        label=_("Features"), required=False, help_text=_("Shown to customers in the portal, one per line.")
    )
    money_fields = ("price", "setup_fee")

    class Meta:
        model = Plan
        fields = [
            "product",
            "position",
            "code",
            "name",
            "description",
            "features",
            "currency",
            "interval_count",
            "interval_unit",
            "pricing_model",
            "price",
            "unit_price",
            "setup_fee",
            "tax_rate",
            "trial_days",
            "billing_cycles",
            "min_quantity",
            "max_quantity",
            "is_archived",
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("setup_fee") is None and "setup_fee" not in self.errors:
            self.instance.setup_fee_minor = 0
        return cleaned


@admin.register(Plan, site=console_site)
@_audited
class PlanAdmin(TenantAdmin):
    form = PlanForm
    inlines = [PlanTierInline]
    list_display = ["name", "code", "product", "price_shown", "billing_interval", "is_archived"]
    list_filter = ["is_archived", "pricing_model", "product"]
    search_fields = ["name", "code", "description"]
    list_select_related = ["product"]
    ordering = ["product__name", "position", "id"]

    @admin.display(description=_("price"))
    def price_shown(self, obj):
        if obj.pricing_model == "flat":
            return obj.price
        if obj.pricing_model == "per_unit":
            return _("%(price)s per unit") % {"price": format_unit_price(obj.unit_price, obj.currency)}
        return obj.get_pricing_model_display()

    @admin.display(description=_("billed every"))
    def billing_interval(self, obj):
        return f"{obj.interval_count} {obj.get_interval_unit_display()}"


# -- addons -----------------------------------------------------------------------------------------


class AddonForm(PricedForm):
    class Meta:
        model = Addon
        fields = [
            "code",
            "name",
            "description",
            "currency",
            "charge_type",
            "interval_count",
            "interval_unit",
            "pricing_model",
            "price",
            "unit_price",
            "tax_rate",
            "plans",
            "is_archived",
        ]


@admin.register(Addon, site=console_site)
@_audited
class AddonAdmin(TenantAdmin):
    form = AddonForm
    inlines = [AddonTierInline]
    list_display = ["name", "code", "charge_type", "pricing_model", "is_archived"]
    list_filter = ["is_archived", "charge_type", "pricing_model"]
    search_fields = ["name", "code"]
    filter_horizontal = ["plans"]


# -- coupons and their codes ------------------------------------------------------------------------


class CouponCodeFormSet(BaseInlineFormSet):
    """Codes are unique per organization whatever their case: among the rows typed and against the
    codes already saved (the organization is set after validation, so the database constraint
    alone would answer with an error page)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            if not form.has_changed() and not form.instance.pk:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            code = (form.cleaned_data.get("code") or "").strip()
            if not code:
                continue
            key = code.casefold()
            if key in seen:
                form.add_error("code", _("This code is typed twice."))
            seen.add(key)
            taken = CouponCode.objects.matching(code).exclude(pk=form.instance.pk)
            if taken.exists():
                form.add_error("code", _("This code is already used by a coupon of your organization."))


class CouponCodeInline(TenantInline):
    model = CouponCode
    formset = CouponCodeFormSet
    extra = 1
    fields = ["code", "max_redemptions", "times_redeemed", "is_active"]
    readonly_fields = ["times_redeemed"]
    verbose_name = _("code customers type")
    verbose_name_plural = _("codes customers type")


class CouponForm(AmountsForm):
    amount = MoneyField(label=_("Amount off"), required=False, help_text=_("For a fixed amount off."))
    money_fields = ("amount",)

    class Meta:
        model = Coupon
        fields = [
            "name",
            "discount_type",
            "percent",
            "amount",
            "currency",
            "duration",
            "duration_cycles",
            "max_redemptions",
            "valid_until",
            "plans",
            "addons",
            "is_archived",
        ]


@admin.register(Coupon, site=console_site)
@_audited
class CouponAdmin(TenantAdmin):
    form = CouponForm
    inlines = [CouponCodeInline]
    list_display = ["name", "discount", "duration", "times_redeemed", "valid_until", "is_archived"]
    list_filter = ["is_archived", "discount_type", "duration"]
    search_fields = ["name", "codes__code"]
    filter_horizontal = ["plans", "addons"]
    readonly_fields = ["times_redeemed"]

    @admin.display(description=_("discount"))
    def discount(self, obj):
        if obj.is_percent:
            return f"{obj.percent.normalize():f}%"
        return obj.amount
