"""What a line costs: discount, tax and rounding, written once (DESIGN.md "Money and ledger invariants").

Pure functions on `Money`, `Decimal` and `Fraction`, no database: invoices, credit notes, the bill
run and projects all price their lines here. Amounts are exact fractions of the currency's minor
unit until the end, then each is rounded once, half-up (`core.money.round_half_up`), per line; taxes
are per line; a document's totals are sums of its lines' rounded amounts and are never re-rounded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from portico.core.money import Money, round_half_up


@dataclass(frozen=True)
class LineAmounts:
    """A line's amounts, each already rounded to the currency's minor unit."""

    net: Money  # after discount, before tax
    discount: Money  # what the discount took off the pre-tax price
    tax: Money
    total: Money  # after discount, with tax: what the customer pays for the line

    @property
    def net_minor(self) -> int:
        return self.net.minor

    @property
    def discount_minor(self) -> int:
        return self.discount.minor

    @property
    def tax_minor(self) -> int:
        return self.tax.minor

    @property
    def total_minor(self) -> int:
        return self.total.minor


def _percent(value: Decimal | int | Fraction) -> Fraction:
    if isinstance(value, float):
        raise TypeError("Percentages are Decimal, int or Fraction, never float")
    return Fraction(value) / 100


def _carve_out(total: int, rate: Fraction) -> int:
    """The tax inside a tax-inclusive amount: total × rate / (1 + rate), rounded half-up."""
    return round_half_up(Fraction(total) * rate / (1 + rate))


def line_amounts(
    quantity: Decimal | int | Fraction,
    unit_price: Money,
    discount_percent: Decimal | int | Fraction = 0,
    tax_rate: Decimal | int | Fraction = 0,
    tax_inclusive: bool = False,
) -> LineAmounts:
    """Discount first, then tax; each amount rounded once, half-up, to the currency's minor unit.

    `tax_rate` and `discount_percent` are percentages (8.25 means 8.25 %). Exclusive tax is added to
    the discounted price. An inclusive price already contains the tax, so the tax is carved out of
    the discounted total, and the discount is measured on the pre-tax amounts (so that
    net + discount is the line's undiscounted pre-tax price, as on an exclusive line).
    """
    if isinstance(quantity, float):
        raise TypeError("A quantity is Decimal, int or Fraction, never float")
    currency = unit_price.currency
    gross = Fraction(unit_price.minor) * Fraction(quantity)
    after_discount = gross * (1 - _percent(discount_percent))
    rate = _percent(tax_rate)
    if tax_inclusive:
        total = round_half_up(after_discount)
        tax = _carve_out(total, rate)
        net = total - tax
        undiscounted_total = round_half_up(gross)
        discount = (undiscounted_total - _carve_out(undiscounted_total, rate)) - net
    else:
        net = round_half_up(after_discount)
        discount = round_half_up(gross) - net
        tax = round_half_up(Fraction(net) * rate)
        total = net + tax
    return LineAmounts(
        net=Money(net, currency),
        discount=Money(discount, currency),
        tax=Money(tax, currency),
        total=Money(total, currency),
    )


@dataclass(frozen=True)
class DocumentTotals:
    """An invoice's or credit note's totals: sums of its lines' rounded amounts."""

    subtotal: Money  # Σ net + Σ discount: the lines before their discounts, before tax
    discount: Money
    net: Money  # Σ net: after discounts, before tax
    tax: Money
    total: Money


def document_totals(lines: Iterable[LineAmounts], currency: str) -> DocumentTotals:
    """Add up already-rounded line amounts; nothing is rounded again."""
    lines = list(lines)
    net = Money.sum((line.net for line in lines), currency)
    discount = Money.sum((line.discount for line in lines), currency)
    return DocumentTotals(
        subtotal=net + discount,
        discount=discount,
        net=net,
        tax=Money.sum((line.tax for line in lines), currency),
        total=Money.sum((line.total for line in lines), currency),
    )


def prorate(amount: Money, remaining_days: int, total_days: int) -> Money:
    """`amount × remaining / total`, exact until rounded once, half-up (DESIGN.md "Proration").

    `amount` is a line's pre-tax amount after its discount; tax is then computed on the prorated
    line like on any line. E.g. $30.00 × 14 / 31 = $13.55.
    """
    if total_days <= 0:
        raise ValueError("A period has at least one day")
    if not 0 <= remaining_days <= total_days:
        raise ValueError("The remaining days lie within the period")
    return Money(
        round_half_up(Fraction(amount.minor) * Fraction(remaining_days, total_days)), amount.currency
    )
