"""What a quantity of a plan or an addon costs, as priced components an invoice line can show.

Pure functions on the catalog's rows and `Money`/`Fraction`, no queries beyond the tiers (prefetch
`tiers` when pricing many). The rule is the ledger's (`billing.pricing`, DESIGN.md "Money and
ledger invariants"): amounts stay exact `Fraction`s of the currency's minor unit until the end,
then each component's total is rounded once, half-up, to the minor unit of the currency (Babel's
digits: JPY 0, USD 2, BHD 3) by `core.money.rounded` — the same rounding the ledger's lines use.

The pricing models, as Stripe and Chargebee define them:
- flat: the plan's price, whatever the quantity (one component);
- per unit: quantity × unit price (one component);
- volume: the tier the whole quantity falls in prices every unit, plus that tier's flat fee;
- tiered (graduated): each tier prices the units within it, plus the flat fee of each tier reached.
A quantity of zero costs nothing under the per-unit, volume and tiered models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.utils.translation import gettext as _

from portico.catalog import errors
from portico.catalog.models import TIERED_MODELS, PricingModel
from portico.core.money import MAX_TYPED_MINOR, Money, exact_minor, rounded

# Beyond any real subscription, and small enough that price × quantity stays far inside 64 bits.
MAX_QUANTITY = 10**9


@dataclass(frozen=True)
class PricedComponent:
    """One part of a price: what an invoice line shows ("Units 11–50", 40 × $0.80 = $32.00)."""

    description: str
    quantity: Fraction
    unit_minor: Fraction  # exact, in minor units: 0.0015 USD is Fraction(3, 20) cents
    total: Money  # quantity × unit, rounded once, half-up

    @property
    def currency(self) -> str:
        return self.total.currency

    @property
    def unit_price(self) -> Decimal:
        """The unit amount in major units (exact for any price the catalog stores)."""
        from portico.core.money import minor_exponent

        value = self.unit_minor / 10 ** minor_exponent(self.currency)
        return Decimal(value.numerator) / Decimal(value.denominator)


@dataclass(frozen=True)
class Tier:
    """A tier as the math needs it: `up_to` units (None: and above), a unit price in major units
    and a flat fee in minor units."""

    up_to: int | None
    unit_price: Decimal
    flat_fee_minor: int = 0


def _quantity(quantity) -> Fraction:
    if isinstance(quantity, float | bool):
        raise TypeError("A quantity is int, Decimal or Fraction, never float")
    value = Fraction(quantity)
    if value < 0:
        raise errors.InvalidPricing(_("A quantity cannot be negative."), field="quantity")
    return value


def _component(description: str, quantity: Fraction, unit_minor: Fraction, currency: str) -> PricedComponent:
    return PricedComponent(description, quantity, unit_minor, rounded(quantity * unit_minor, currency))


def _fee(description: str, fee_minor: int, currency: str) -> PricedComponent:
    return PricedComponent(description, Fraction(1), Fraction(fee_minor), Money(fee_minor, currency))


def _range_label(first: int, up_to: int | None) -> str:
    if up_to is None:
        return _("units %(first)s and above") % {"first": first}
    if first == up_to:
        return _("unit %(first)s") % {"first": first}
    return _("units %(first)s–%(last)s") % {"first": first, "last": up_to}


def tiers_of(priced) -> list[Tier]:
    return [Tier(t.up_to, t.unit_price, t.flat_fee_minor) for t in priced.tier_rows()]


def price_for(priced, quantity=1) -> list[PricedComponent]:
    """The components of `quantity` of a plan or addon (its pricing model, tiers and currency).

    Each component's total is rounded once; the price is their sum (`total_of`)."""
    tiers = tiers_of(priced) if priced.pricing_model in TIERED_MODELS else []
    return price_components(
        name=priced.name,
        pricing_model=priced.pricing_model,
        currency=priced.currency,
        quantity=quantity,
        price_minor=priced.price_minor,
        unit_price=priced.unit_price,
        tiers=tiers,
    )


def price_components(
    *,
    name: str,
    pricing_model: str,
    currency: str,
    quantity,
    price_minor: int = 0,
    unit_price: Decimal = Decimal(0),
    tiers: Sequence[Tier] = (),
) -> list[PricedComponent]:
    """`price_for` on plain values (for previews of prices not saved yet, and the tests)."""
    quantity = _quantity(quantity)
    if pricing_model == PricingModel.FLAT:
        return [_fee(name, price_minor, currency)]
    if quantity == 0:
        return []
    if pricing_model == PricingModel.PER_UNIT:
        return [_component(name, quantity, exact_minor(unit_price, currency), currency)]
    if pricing_model not in TIERED_MODELS:
        raise errors.InvalidPricing()
    check_tiers(pricing_model, tiers)
    if pricing_model == PricingModel.VOLUME:
        return _volume(name, quantity, tiers, currency)
    return _graduated(name, quantity, tiers, currency)


def _volume(name: str, quantity: Fraction, tiers: Sequence[Tier], currency: str) -> list[PricedComponent]:
    first = 1
    for tier in tiers:
        if tier.up_to is None or quantity <= tier.up_to:
            label = f"{name} ({_range_label(first, tier.up_to)})"
            parts = [_component(label, quantity, exact_minor(tier.unit_price, currency), currency)]
            if tier.flat_fee_minor:
                parts.append(_fee(f"{name} ({_('flat fee')})", tier.flat_fee_minor, currency))
            return parts
        first = tier.up_to + 1
    raise errors.InvalidTiers()  # check_tiers guarantees an unbounded last tier


def _graduated(name: str, quantity: Fraction, tiers: Sequence[Tier], currency: str) -> list[PricedComponent]:
    parts, below = [], 0
    for tier in tiers:
        if quantity <= below:
            break
        top = quantity if tier.up_to is None else min(quantity, Fraction(tier.up_to))
        label = f"{name} ({_range_label(below + 1, tier.up_to)})"
        parts.append(_component(label, top - below, exact_minor(tier.unit_price, currency), currency))
        if tier.flat_fee_minor:
            parts.append(_fee(f"{label} — {_('flat fee')}", tier.flat_fee_minor, currency))
        if tier.up_to is None:
            break
        below = tier.up_to
    return parts


def total_of(components: Sequence[PricedComponent], currency: str) -> Money:
    """The sum of already-rounded components; nothing is rounded again."""
    return Money.sum((c.total for c in components), currency)


def check_tiers(pricing_model: str, tiers: Sequence[Tier]) -> None:
    """Tiers cover every quantity exactly once: bounds positive and strictly ascending, only the last
    one unbounded; only volume and tiered pricing have tiers. Prices and fees are never negative."""
    if pricing_model not in TIERED_MODELS:
        if tiers:
            raise errors.InvalidTiers(
                _("Only volume and tiered pricing use tiers: remove the tiers or choose one of them.")
            )
        return
    if not tiers:
        raise errors.InvalidTiers(_("Add at least one tier: volume and tiered pricing are priced by tiers."))
    previous = 0
    for position, tier in enumerate(tiers, start=1):
        last = position == len(tiers)
        if tier.unit_price is None or tier.unit_price < 0 or tier.flat_fee_minor < 0:
            raise errors.InvalidTiers(_("Tier %(n)s: prices and fees cannot be negative.") % {"n": position})
        if tier.flat_fee_minor > MAX_TYPED_MINOR:
            raise errors.InvalidTiers(_("Tier %(n)s: the flat fee is too large.") % {"n": position})
        if tier.up_to is None:
            if not last:
                raise errors.InvalidTiers(
                    _("Tier %(n)s has no upper limit, so it must be the last tier.") % {"n": position}
                )
            continue
        if last:
            raise errors.InvalidTiers(
                _("Leave the last tier's upper limit empty, so that every quantity has a price.")
            )
        if tier.up_to <= previous:
            raise errors.InvalidTiers(
                _(
                    "Tier %(n)s must end above %(previous)s, where the tier before it ends (order tiers from small to large)."
                )
                % {"n": position, "previous": previous}
            )
        if tier.up_to > MAX_QUANTITY:
            raise errors.InvalidTiers(
                _("Tier %(n)s: an upper limit is at most %(max)s units.")
                % {"n": position, "max": MAX_QUANTITY}
            )
        previous = tier.up_to


def check_quantity(plan, quantity) -> None:
    """A quantity within the plan's minimum and maximum (and `MAX_QUANTITY`)."""
    value = _quantity(quantity)
    if value < plan.min_quantity:
        raise errors.InvalidPricing(
            _("The quantity is at least %(min)s for this plan.") % {"min": plan.min_quantity},
            field="quantity",
        )
    limit = plan.max_quantity if plan.max_quantity is not None else MAX_QUANTITY
    if value > limit:
        raise errors.InvalidPricing(
            _("The quantity is at most %(max)s for this plan.") % {"max": limit}, field="quantity"
        )
