"""How a subscription is priced: the one path the services, the previews, the console and the bill run
share (docs/billing.md "Pricing a subscription").

A subscription's items — its plan at its quantity (or the staff's price override), each recurring
addon at its quantity — become `proration.Config`s. Each carries its plan's or addon's tax rate
(`catalog.TaxRate`: exclusive rates are added to the line, inclusive ones carved out of it) and,
where the active coupon applies, one shared `proration.Discount` (so a fixed amount off is taken
once per invoice, across the lines it applies to). Then:

- a period's invoice is `period_lines`: `proration.renewal_lines` of those configurations, plus the
  plan's setup fee on the first period (taxed as the plan), as the ledger's `LineInput`s;
- a mid-term change is `proration.prorate_change` of the configurations before and after it
  (`subscriptions.services`), and its preview `proration.preview` of the same ones.

Nothing here queries when the caller hands in what it has loaded (the plan, the items with their
addons, the coupon): the bill run loads its catalog once per organization and run, a page
prefetches. Without them, `Pricing.of` fetches them in a few queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from portico.billing.services import LineInput
from portico.catalog.models import Addon, Coupon, Plan, PricingModel
from portico.catalog.pricing import PricedComponent, price_components, price_for
from portico.core.money import Money
from portico.subscriptions import periods, proration
from portico.subscriptions.models import CouponRedemption, Subscription, SubscriptionItem


def tax_of(priced: Plan | Addon) -> proration.Tax:
    """The plan's or addon's tax rate as proration carries it (no tax when it has none)."""
    if priced.tax_rate_id is None:
        return proration.NO_TAX
    rate = priced.tax_rate
    return proration.Tax(name=rate.name, percent=rate.percent, inclusive=rate.is_inclusive)


def discount_of(coupon: Coupon | None) -> proration.Discount | None:
    if coupon is None:
        return None
    if coupon.is_percent:
        return proration.Discount(name=coupon.name, percent=coupon.percent)
    return proration.Discount(name=coupon.name, amount=coupon.amount)


def active_redemption(subscription: Subscription) -> CouponRedemption | None:
    """The subscription's active redemption: from `prefetch_related("redemptions__coupon")` when
    loaded (no query), else one query."""
    cache = getattr(subscription, "_prefetched_objects_cache", {})
    if "redemptions" in cache:
        rows = [r for r in cache["redemptions"] if r.status == CouponRedemption.RedemptionStatus.ACTIVE]
        return rows[0] if rows else None
    return (
        CouponRedemption.all_tenants.filter(
            subscription=subscription, status=CouponRedemption.RedemptionStatus.ACTIVE
        )
        .select_related("coupon")
        .first()
    )


def plan_components(subscription: Subscription, plan: Plan, quantity: int) -> list[PricedComponent]:
    """The plan's price for `quantity`: the staff's override when there is one (a flat price per
    period, or a price per unit), else the plan's pricing model and tiers."""
    if subscription.price_override_minor is not None:
        return price_components(
            name=plan.name, pricing_model=PricingModel.FLAT, currency=plan.currency,
            quantity=quantity, price_minor=subscription.price_override_minor,
        )  # fmt: skip
    if subscription.unit_price_override is not None:
        return price_components(
            name=plan.name, pricing_model=PricingModel.PER_UNIT, currency=plan.currency,
            quantity=quantity, unit_price=subscription.unit_price_override,
        )  # fmt: skip
    return price_for(plan, quantity)


@dataclass
class Pricing:
    """A subscription's items as proration's configurations.

    `coupon` is the active coupon (None when there is none or its cycles are used up), `redemption`
    its redemption (counted down by whoever bills a period); `plan` the plan the subscription is on
    (default: `subscription.plan`), `items` its addon items as (addon, quantity) pairs (default: its
    SubscriptionItem rows); `coupon_limits` the coupon's (plan ids, addon ids) when the caller knows
    them (the bill run), else read from the coupon."""

    subscription: Subscription
    coupon: Coupon | None = None
    redemption: CouponRedemption | None = None
    plan_row: Plan | None = None
    items: list[tuple[Addon, int]] | None = None
    coupon_limits: tuple[set[int], set[int]] | None = None
    discount: proration.Discount | None = field(init=False)

    def __post_init__(self):
        self.discount = discount_of(self.coupon)

    @classmethod
    def of(cls, subscription: Subscription, *, coupon: Coupon | None = None, items=None) -> Pricing:
        """The subscription's pricing with its active coupon (or `coupon` instead, for a preview of
        redeeming it); `items` as SubscriptionItem rows already loaded, if they are."""
        redemption = None
        if coupon is None:
            redemption = active_redemption(subscription)
            if redemption is not None and redemption.cycles_left != 0:
                coupon = redemption.coupon
            else:
                redemption = None
        pairs = None if items is None else [(item.addon, item.quantity) for item in items]
        return cls(subscription, coupon, redemption, items=pairs)

    @classmethod
    def paid(cls, subscription: Subscription, *, items=None) -> Pricing:
        """The subscription's pricing as its current term was paid: with the coupon that discounted
        that term (`Subscription.term_redemption`), whatever has become of it since — what a credit
        for the term's unused part (or a charge of the same days again) must be priced with."""
        redemption = None
        if subscription.term_redemption_id is not None:
            redemption = CouponRedemption.all_tenants.select_related("coupon").get(
                pk=subscription.term_redemption_id
            )
        pairs = None if items is None else [(item.addon, item.quantity) for item in items]
        return cls(subscription, redemption.coupon if redemption else None, None, items=pairs)

    # -- what the coupon applies to

    def _limits(self) -> tuple[set[int], set[int]]:
        if self.coupon_limits is None:
            self.coupon_limits = self.coupon._limited_to()
        return self.coupon_limits

    def _applies(self, priced: Plan | Addon, *, is_plan: bool) -> bool:
        coupon = self.coupon
        if coupon is None:
            return False
        if not coupon.is_percent and coupon.currency != priced.currency:
            return False
        plans, addons = self._limits()
        if not plans and not addons:
            return True
        return priced.pk in (plans if is_plan else addons)

    # -- configurations

    @property
    def current_plan(self) -> Plan:
        return self.plan_row if self.plan_row is not None else self.subscription.plan

    def plan(self, plan: Plan | None = None, quantity: int | None = None) -> proration.Config:
        sub = self.subscription
        plan = plan or self.current_plan
        quantity = sub.quantity if quantity is None else quantity
        return proration.Config(
            name=plan.name,
            currency=plan.currency,
            components=plan_components(sub, plan, quantity),
            quantity=quantity,
            unit=plan.interval_unit,
            count=plan.interval_count,
            discount=self.discount if self._applies(plan, is_plan=True) else None,
            tax=tax_of(plan),
        )

    def addon(self, addon: Addon, quantity: int, plan: Plan | None = None) -> proration.Config:
        plan = plan or self.current_plan  # addons bill on the plan's term
        return proration.Config(
            name=addon.name,
            currency=addon.currency,
            components=price_for(addon, quantity),
            quantity=quantity,
            unit=plan.interval_unit,
            count=plan.interval_count,
            discount=self.discount if self._applies(addon, is_plan=False) else None,
            tax=tax_of(addon),
        )

    def addon_items(self) -> list[tuple[Addon, int]]:
        if self.items is None:
            rows = (
                SubscriptionItem.all_tenants.filter(subscription=self.subscription)
                .select_related("addon", "addon__tax_rate")
                .prefetch_related("addon__tiers")
            )
            self.items = [(row.addon, row.quantity) for row in rows]
        return [(addon, q) for addon, q in self.items if addon.charge_type == Addon.ChargeType.RECURRING]

    def addons(self, plan: Plan | None = None) -> list[proration.Config]:
        return [self.addon(addon, quantity, plan) for addon, quantity in self.addon_items()]

    def everything(self, plan: Plan | None = None) -> list[proration.Config]:
        return [self.plan(plan), *self.addons(plan)]


def one_time_lines(addon: Addon, quantity: int) -> list[LineInput]:
    """A one-time addon's charge: its components as lines (as `proration.renewal_lines` writes a
    component: quantity × unit when both are whole, else 1 × its rounded total), taxed as the addon."""
    config = proration.Config(
        name=addon.name, currency=addon.currency, components=price_for(addon, quantity), tax=tax_of(addon)
    )
    lines = []
    for line in proration.renewal_lines([config], periods.Period(dt.date.max, dt.date.max)):
        values = line.line_input()
        values["period_start"] = values["period_end"] = None
        lines.append(LineInput(**values))
    return lines


def setup_fee_line(plan: Plan) -> LineInput | None:
    """The plan's setup fee, billed with the first period, taxed as the plan."""
    if not plan.setup_fee_minor:
        return None
    return LineInput(
        description=_("Setup fee: %(plan)s") % {"plan": plan.name},
        unit_price=Money(plan.setup_fee_minor, plan.currency),
    ).taxed(plan.tax_rate)


def period_lines(
    configs: Sequence[proration.Config], period: periods.Period, *, setup_fee: LineInput | None = None
) -> list[LineInput]:
    """The invoice lines of one billing period: each configuration's components as
    `proration.renewal_lines` prices them (coupon and tax per line), then the setup fee if any."""
    lines = [LineInput(**line.line_input()) for line in proration.renewal_lines(configs, period)]
    if setup_fee is not None:
        lines.append(setup_fee)
    return lines


def term_end(plan: Plan, start: dt.date, anchor_day: int | None) -> dt.date:
    """The end (exclusive) of the period of `plan` starting on `start`, month ends clamped to the
    anchor's day (Jan 31 → Feb 28 → Mar 31)."""
    return periods.add_interval(start, plan.interval_unit, plan.interval_count, 1, anchor_day)


def anchor_day(plan: Plan, start: dt.date) -> int | None:
    """The day of month a monthly or yearly plan started on `start` renews on (None: by days/weeks)."""
    return start.day if plan.interval_unit in ("month", "year") else None


def total_of(lines: Iterable[LineInput], currency: str) -> Money:
    from portico.billing.services import price_line

    return Money.sum((price_line(line).total for line in lines), currency)
