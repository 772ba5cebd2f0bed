"""What a business sells: tax rates and items that invoice lines are built from; products, their
plans (the upgrade/downgrade family), addons and coupons that subscriptions are built from.

A line copies (snapshots) the item's description and price and the tax rate's name, percent and
inclusiveness when it is created, so later catalog edits never change an issued document.

Amounts: flat prices and fees are integer minor units (`*_minor`, a `Money` property beside them);
unit prices may be finer than the minor unit (0.0015 per API call), so they are `Decimal`s in the
currency's major unit with `UNIT_PRICE_PLACES` places. What a quantity costs is `catalog.pricing`.

Why one module: plans and addons share their priced fields and tiers through abstract models,
and coupons and their codes refer to both; the catalog reads as one page.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.catalog import errors
from portico.core import tenancy
from portico.core.fields import PublicIdField, money_property
from portico.core.money import MAX_TYPED_MINOR, UNIT_PRICE_PLACES, Money, is_currency
from portico.core.tenancy import TenantManager, TenantModel, TenantQuerySet

# Codes appear in URLs and API calls: letters, digits, dashes and underscores.
url_safe_code = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_-]*\Z",
    _("Use letters, digits, dashes and underscores only, starting with a letter or digit."),
)
# A coupon code a customer types: no spaces, case does not matter.
coupon_code_text = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_-]*\Z",
    _("Use letters, digits, dashes and underscores only (no spaces)."),
)


def validate_currency(value: str) -> None:
    if not is_currency(value):
        raise ValidationError(
            _("%(value)s is not an ISO 4217 currency code (such as USD, EUR or JPY)."),
            params={"value": value},
            code="invalid_currency",
        )


def _amount_field(verbose_name, **kwargs):
    """An integer amount in minor units, never negative, within what a person may type."""
    return models.BigIntegerField(
        verbose_name, validators=[MinValueValidator(0), MaxValueValidator(MAX_TYPED_MINOR)], **kwargs
    )


def _unit_price_field(verbose_name, **kwargs):
    return models.DecimalField(
        verbose_name,
        max_digits=19,
        decimal_places=UNIT_PRICE_PLACES,
        validators=[MinValueValidator(Decimal(0))],
        **kwargs,
    )


class TaxRate(TenantModel):
    """A named tax percentage. Inclusive rates are already contained in the price they apply to."""

    public_id = PublicIdField()
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

    public_id = PublicIdField()
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


class IntervalUnit(models.TextChoices):
    DAY = "day", _("day")
    WEEK = "week", _("week")
    MONTH = "month", _("month")
    YEAR = "year", _("year")


class PricingModel(models.TextChoices):
    """How a quantity is priced (as Stripe's and Chargebee's pricing models)."""

    FLAT = "flat", _("Flat fee (quantity does not change the price)")
    PER_UNIT = "per_unit", _("Per unit")
    VOLUME = "volume", _("Volume (the tier the quantity reaches prices every unit)")
    TIERED = "tiered", _("Tiered (each tier prices the units within it)")


TIERED_MODELS = frozenset({PricingModel.VOLUME, PricingModel.TIERED})


class Priced(TenantModel):
    """What plans and addons share: a currency and a price under one of the pricing models."""

    public_id = PublicIdField()
    code = models.CharField(
        _("code"), max_length=64, validators=[url_safe_code], help_text=_("Used in URLs and the API.")
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="USD", validators=[validate_currency])
    pricing_model = models.CharField(
        _("pricing model"), max_length=16, choices=PricingModel.choices, default=PricingModel.FLAT
    )
    price_minor = _amount_field(
        _("price (minor units)"), default=0, help_text=_("The flat price; for the flat-fee model.")
    )
    unit_price = _unit_price_field(
        _("unit price"), default=Decimal(0), help_text=_("Per unit, may be finer than a cent (0.0015).")
    )
    is_archived = models.BooleanField(
        _("archived"), default=False, help_text=_("Archived entries cannot be chosen for new subscriptions.")
    )
    tax_rate = models.ForeignKey(
        TaxRate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="%(class)ss",
        verbose_name=_("tax"),
        help_text=_("Taxes every line this bills (an inclusive rate is already inside the price)."),
    )

    price = money_property("price_minor")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_tiered(self) -> bool:
        return self.pricing_model in TIERED_MODELS

    def tier_rows(self) -> list:
        """The tiers, in order, from a prefetch when there is one."""
        if self.pk is None:
            return []
        return sorted(self.tiers.all(), key=lambda tier: (tier.up_to is None, tier.up_to or 0))

    def clean(self):
        super().clean()
        if self.currency:
            self.currency = self.currency.upper()


class Product(TenantModel):
    """A family of plans: the plans a subscriber may switch between (upgrade or downgrade)."""

    organization = tenancy.organization_key()  # led by the indexes and constraints below

    public_id = PublicIdField()
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    is_archived = models.BooleanField(_("archived"), default=False)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="product_name_unique_per_org")
        ]

    def __str__(self) -> str:
        return self.name


class PlanQuerySet(TenantQuerySet):
    def sellable(self) -> PlanQuerySet:
        """Plans a new subscription may choose: neither the plan nor its product archived."""
        return self.filter(is_archived=False, product__is_archived=False)

    def family_of(self, plan: Plan) -> PlanQuerySet:
        """The plans a subscriber of `plan` may switch to, in the family's order (`plan` included)."""
        return self.sellable().filter(product_id=plan.product_id).order_by("position", "id")


class Plan(Priced):
    """A way to subscribe to a product: a price per billing interval, with its trial and term."""

    organization = tenancy.organization_key()  # led by the indexes and constraints below

    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="plans", verbose_name=_("product")
    )
    position = models.PositiveIntegerField(
        _("position in the family"),
        default=0,
        help_text=_("Lower comes first: order plans from small to large."),
    )
    features = models.JSONField(
        _("features"),
        default=list,
        blank=True,
        help_text=_("Shown to customers in the portal, one per line."),
    )
    interval_unit = models.CharField(
        _("billing interval"), max_length=8, choices=IntervalUnit.choices, default=IntervalUnit.MONTH
    )
    interval_count = models.PositiveSmallIntegerField(
        _("every"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Bill every N intervals: 3 months is a quarter."),
    )
    setup_fee_minor = _amount_field(_("setup fee (minor units)"), default=0)
    trial_days = models.PositiveIntegerField(_("trial days"), default=0, validators=[MaxValueValidator(3650)])
    billing_cycles = models.PositiveIntegerField(
        _("billing cycles"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty: renews until cancelled."),
    )
    min_quantity = models.PositiveIntegerField(_("minimum quantity"), default=1)
    max_quantity = models.PositiveIntegerField(
        _("maximum quantity"), null=True, blank=True, help_text=_("Empty: no maximum.")
    )

    setup_fee = money_property("setup_fee_minor")

    objects = TenantManager.from_queryset(PlanQuerySet)()
    all_tenants = models.Manager.from_queryset(PlanQuerySet)()

    class Meta(TenantModel.Meta):
        ordering = ["product", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="plan_code_unique_per_org"),
            models.CheckConstraint(condition=Q(interval_count__gte=1), name="plan_interval_count_positive"),
            models.CheckConstraint(
                condition=Q(price_minor__gte=0) & Q(unit_price__gte=0) & Q(setup_fee_minor__gte=0),
                name="plan_prices_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(billing_cycles__isnull=True) | Q(billing_cycles__gte=1),
                name="plan_billing_cycles_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_quantity__isnull=True) | Q(max_quantity__gte=models.F("min_quantity")),
                name="plan_quantity_range",
            ),
        ]

    def clean(self):
        super().clean()
        features = self.features if self.features is not None else []
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            raise ValidationError({"features": _("Features are a list of texts, one per feature.")})
        self.features = [f.strip() for f in features if f.strip()]
        if any(len(f) > 200 for f in self.features):
            raise ValidationError({"features": _("Keep each feature under 200 characters.")})
        if (
            self.max_quantity is not None
            and self.min_quantity is not None
            and self.max_quantity < self.min_quantity
        ):
            raise ValidationError({"max_quantity": _("The maximum quantity cannot be below the minimum.")})
        if self.pricing_model == PricingModel.FLAT and self.max_quantity not in (None, 1):
            raise ValidationError(
                {
                    "max_quantity": _(
                        "A flat-fee plan is not priced by quantity: leave the maximum empty or 1."
                    )
                }
            )

    @property
    def is_sellable(self) -> bool:
        return not self.is_archived and not self.product.is_archived

    def check_quantity(self, quantity: int) -> None:
        """Refuse a quantity outside the plan's limits, saying what is allowed."""
        from portico.catalog.pricing import check_quantity

        check_quantity(self, quantity)


class TierFields(models.Model):
    """One price tier: the units up to `up_to` (after the previous tier's), or all further units.

    As Stripe's and Chargebee's tiers: a unit price and an optional flat fee per tier."""

    up_to = models.PositiveBigIntegerField(
        _("up to (units)"), null=True, blank=True, help_text=_("Empty: this and every further unit.")
    )
    unit_price = _unit_price_field(_("unit price"), default=Decimal(0))
    flat_fee_minor = _amount_field(_("flat fee (minor units)"), default=0)

    class Meta:
        abstract = True
        ordering = [models.F("up_to").asc(nulls_last=True), "id"]

    def __str__(self) -> str:
        if self.up_to is None:
            return gettext("and above")
        return gettext("up to %(count)s") % {"count": self.up_to}


def tier_constraints(owner: str) -> list:
    """What the database holds true of one plan's or addon's tiers: each bound once, one unbounded
    tier ("and above"), nothing negative."""
    return [
        models.UniqueConstraint(fields=[owner, "up_to"], name=f"{owner}_tier_bound_unique"),
        models.UniqueConstraint(
            fields=[owner], condition=Q(up_to__isnull=True), name=f"{owner}_one_unbounded_tier"
        ),
        models.CheckConstraint(
            condition=Q(unit_price__gte=0) & Q(flat_fee_minor__gte=0), name=f"{owner}_tier_not_negative"
        ),
    ]


class PlanTier(TierFields):
    # No index of its own: a composite index or unique constraint leads with it.
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tiers", db_index=False)

    class Meta(TierFields.Meta):
        constraints = tier_constraints("plan")

    @property
    def currency(self) -> str:
        return self.plan.currency


class AddonQuerySet(TenantQuerySet):
    def sellable(self) -> AddonQuerySet:
        return self.filter(is_archived=False)

    def for_plan(self, plan: Plan) -> AddonQuerySet:
        """Sellable addons that apply to `plan`: those listing it, and those listing no plan."""
        return self.sellable().filter(Q(plans=plan) | Q(plans__isnull=True)).distinct()


class Addon(Priced):
    """Something bought beside a plan: once (a one-time charge) or each interval (recurring)."""

    organization = tenancy.organization_key()  # led by the indexes and constraints below

    class ChargeType(models.TextChoices):
        ONE_TIME = "one_time", _("One-time")
        RECURRING = "recurring", _("Recurring")

    charge_type = models.CharField(
        _("charged"), max_length=16, choices=ChargeType.choices, default=ChargeType.RECURRING
    )
    interval_unit = models.CharField(
        _("billing interval"),
        max_length=8,
        choices=IntervalUnit.choices,
        blank=True,
        help_text=_("For recurring addons."),
    )
    interval_count = models.PositiveSmallIntegerField(
        _("every"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    plans = models.ManyToManyField(
        Plan,
        blank=True,
        related_name="addons",
        verbose_name=_("plans"),
        help_text=_("Empty: every plan of the organization."),
    )

    objects = TenantManager.from_queryset(AddonQuerySet)()
    all_tenants = models.Manager.from_queryset(AddonQuerySet)()

    class Meta(TenantModel.Meta):
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="addon_code_unique_per_org"),
            models.CheckConstraint(
                condition=Q(price_minor__gte=0) & Q(unit_price__gte=0), name="addon_prices_not_negative"
            ),
            models.CheckConstraint(
                condition=(Q(charge_type="one_time") & Q(interval_unit="") & Q(interval_count__isnull=True))
                | (
                    Q(charge_type="recurring")
                    & ~Q(interval_unit="")
                    & Q(interval_count__isnull=False)
                    & Q(interval_count__gte=1)
                ),
                name="addon_interval_iff_recurring",
            ),
        ]

    def clean(self):
        super().clean()
        if self.charge_type == self.ChargeType.RECURRING:
            missing = {}
            if not self.interval_unit:
                missing["interval_unit"] = _("A recurring addon is billed every interval: choose one.")
            if not self.interval_count:
                missing["interval_count"] = _("Bill a recurring addon every 1 or more intervals.")
            if missing:
                raise ValidationError(missing)
        else:
            self.interval_unit, self.interval_count = "", None

    @property
    def is_recurring(self) -> bool:
        return self.charge_type == self.ChargeType.RECURRING

    def applies_to(self, plan: Plan) -> bool:
        plan_ids = {p.pk for p in self.plans.all()}
        return not plan_ids or plan.pk in plan_ids


class AddonTier(TierFields):
    # No index of its own: a composite index or unique constraint leads with it.
    addon = models.ForeignKey(Addon, on_delete=models.CASCADE, related_name="tiers", db_index=False)

    class Meta(TierFields.Meta):
        constraints = tier_constraints("addon")

    @property
    def currency(self) -> str:
        return self.addon.currency


class Coupon(TenantModel):
    """A discount: a percentage or a fixed amount, for one invoice, every invoice or N of them.

    Customers redeem it through one of its codes (`CouponCode`, Stripe's promotion codes)."""

    class DiscountType(models.TextChoices):
        PERCENT = "percent", _("Percentage")
        FIXED = "fixed", _("Fixed amount")

    class Duration(models.TextChoices):
        ONCE = "once", _("Once (the first invoice)")
        FOREVER = "forever", _("Forever")
        REPEATING = "repeating", _("A number of billing cycles")

    public_id = PublicIdField()
    name = models.CharField(_("name"), max_length=200, help_text=_("Shown on invoices, e.g. Launch 20% off."))
    discount_type = models.CharField(
        _("discount"), max_length=8, choices=DiscountType.choices, default=DiscountType.PERCENT
    )
    percent = models.DecimalField(
        _("percent off"),
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text=_("More than 0, at most 100; e.g. 12.5"),
    )
    amount_minor = models.BigIntegerField(
        _("amount off (minor units)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TYPED_MINOR)],
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        blank=True,
        validators=[validate_currency],
        help_text=_("For a fixed amount off."),
    )
    duration = models.CharField(_("duration"), max_length=12, choices=Duration.choices, default=Duration.ONCE)
    duration_cycles = models.PositiveIntegerField(
        _("billing cycles"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("For a coupon that lasts a number of billing cycles."),
    )
    max_redemptions = models.PositiveIntegerField(
        _("maximum redemptions"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Across all its codes. Empty: no limit."),
    )
    valid_until = models.DateField(
        _("redeemable until"),
        null=True,
        blank=True,
        help_text=_("The last day (in the organization's time zone) it can be redeemed. Empty: no end."),
    )
    plans = models.ManyToManyField(
        Plan,
        blank=True,
        related_name="coupons",
        verbose_name=_("plans"),
        help_text=_("Empty (with no addons chosen either): everything."),
    )
    addons = models.ManyToManyField(Addon, blank=True, related_name="coupons", verbose_name=_("addons"))
    times_redeemed = models.PositiveIntegerField(_("times redeemed"), default=0, editable=False)
    is_archived = models.BooleanField(_("archived"), default=False)

    class Meta(TenantModel.Meta):
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(discount_type="percent")
                    & Q(percent__isnull=False)
                    & Q(percent__gt=0)
                    & Q(percent__lte=100)
                    & Q(amount_minor__isnull=True)
                )
                | (
                    Q(discount_type="fixed")
                    & Q(amount_minor__isnull=False)
                    & Q(amount_minor__gt=0)
                    & Q(percent__isnull=True)
                    & ~Q(currency="")
                ),
                name="coupon_discount_shape",
            ),
            models.CheckConstraint(
                condition=(
                    Q(duration="repeating") & Q(duration_cycles__isnull=False) & Q(duration_cycles__gte=1)
                )
                | (~Q(duration="repeating") & Q(duration_cycles__isnull=True)),
                name="coupon_cycles_iff_repeating",
            ),
            models.CheckConstraint(
                condition=Q(max_redemptions__isnull=True)
                | Q(times_redeemed__lte=models.F("max_redemptions")),
                name="coupon_redemptions_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        self.currency = (self.currency or "").upper()
        problems = {}
        if self.is_percent:
            if self.percent is None or not Decimal(0) < self.percent <= Decimal(100):
                problems["percent"] = _("Enter a percentage above 0 and at most 100.")
            self.amount_minor = None
        else:
            if not self.amount_minor or self.amount_minor <= 0:
                problems["amount_minor"] = _("Enter the amount off, above zero.")
            if not self.currency:
                problems["currency"] = _("A fixed amount off needs its currency.")
            self.percent = None
        if self.duration == self.Duration.REPEATING:
            if not self.duration_cycles:
                problems["duration_cycles"] = _("Say for how many billing cycles the coupon lasts.")
        else:
            self.duration_cycles = None
        if problems:
            raise ValidationError(problems)

    @property
    def is_percent(self) -> bool:
        return self.discount_type == self.DiscountType.PERCENT

    @property
    def amount(self) -> Money | None:
        """The fixed amount off; None for a percentage."""
        if self.amount_minor is None or not self.currency:
            return None
        return Money(self.amount_minor, self.currency)

    def check_redeemable(
        self, *, today: dt.date, plan: Plan | None = None, addon: Addon | None = None
    ) -> None:
        """Refuse (with the reason, for the customer) a redemption of this coupon on `today` (the
        organization's local date) for `plan` or `addon`; return quietly when it may be redeemed."""
        if self.is_archived:
            raise errors.CouponArchived()
        if self.valid_until is not None and today > self.valid_until:
            raise errors.CouponExpired()
        if self.max_redemptions is not None and self.times_redeemed >= self.max_redemptions:
            raise errors.CouponUsedUp()
        if plan is not None and not self.applies_to_plan(plan):
            raise errors.CouponNotApplicable()
        if addon is not None and not self.applies_to_addon(addon):
            raise errors.CouponNotApplicable(gettext("That coupon code cannot be used for this addon."))

    def _limited_to(self) -> tuple[set[int], set[int]]:
        return {p.pk for p in self.plans.all()}, {a.pk for a in self.addons.all()}

    def applies_to_plan(self, plan: Plan) -> bool:
        if not self.is_percent and self.currency != plan.currency:
            return False
        plans, addons = self._limited_to()
        return (not plans and not addons) or plan.pk in plans

    def applies_to_addon(self, addon: Addon) -> bool:
        if not self.is_percent and self.currency != addon.currency:
            return False
        plans, addons = self._limited_to()
        return (not plans and not addons) or addon.pk in addons


class CouponCodeQuerySet(TenantQuerySet):
    def matching(self, code: str) -> CouponCodeQuerySet:
        """The code a customer typed, whatever its case and surrounding spaces."""
        return self.filter(code__iexact=(code or "").strip())


class CouponCode(TenantModel):
    """A code a customer types to redeem a coupon, with its own limit (Stripe's promotion codes).

    Codes are unique per organization whatever their case: "SPRING" and "spring" are one code."""

    public_id = PublicIdField()
    coupon = models.ForeignKey(
        Coupon, on_delete=models.CASCADE, related_name="codes", verbose_name=_("coupon")
    )
    code = models.CharField(_("code"), max_length=64, validators=[coupon_code_text])
    max_redemptions = models.PositiveIntegerField(
        _("maximum redemptions"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty: no limit of its own."),
    )
    times_redeemed = models.PositiveIntegerField(_("times redeemed"), default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    objects = TenantManager.from_queryset(CouponCodeQuerySet)()
    all_tenants = models.Manager.from_queryset(CouponCodeQuerySet)()

    class Meta(TenantModel.Meta):
        ordering = ["code", "id"]
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("code"),
                name="coupon_code_unique_per_org_any_case",
                violation_error_message=_("This code is already used by a coupon of the organization."),
            ),
            models.CheckConstraint(
                condition=Q(max_redemptions__isnull=True)
                | Q(times_redeemed__lte=models.F("max_redemptions")),
                name="coupon_code_redemptions_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def check_redeemable(
        self, *, today: dt.date, plan: Plan | None = None, addon: Addon | None = None
    ) -> None:
        """This code and its coupon may be redeemed on `today` for `plan`/`addon`, or the reason why not."""
        if not self.is_active:
            raise errors.CouponArchived()
        if self.max_redemptions is not None and self.times_redeemed >= self.max_redemptions:
            raise errors.CouponUsedUp()
        self.coupon.check_redeemable(today=today, plan=plan, addon=addon)


def redeemable_code(
    code: str, *, today: dt.date, plan: Plan | None = None, addon: Addon | None = None
) -> CouponCode:
    """The active organization's coupon code a customer typed, checked redeemable for `plan` (or
    `addon`) on `today`; else a `CouponRefused` saying why (not found, expired, used up, not for
    this plan, no longer offered)."""
    found = (
        CouponCode.objects.matching(code)
        .select_related("coupon")
        .prefetch_related("coupon__plans", "coupon__addons")
        .first()
    )
    if found is None:
        raise errors.CouponNotFound()
    found.check_redeemable(today=today, plan=plan, addon=addon)
    return found
