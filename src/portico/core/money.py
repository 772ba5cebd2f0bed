"""Money: integer minor units plus an ISO 4217 currency, never floats.

Arithmetic refuses to mix currencies. Allocation splits an amount into parts that always
sum exactly to the original (largest-remainder method), so no cent is ever lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache, total_ordering

from babel.numbers import format_currency, get_currency_precision

from portico.core.errors import CurrencyMismatch  # one class for the ledger and arithmetic


@lru_cache(maxsize=256)
def minor_exponent(currency: str) -> int:
    """Digits after the decimal point for a currency (EUR 2, JPY 0, KWD 3), from CLDR via Babel."""
    return get_currency_precision(currency)


def round_half_up(value: Fraction | Decimal) -> int:
    """Round a fraction of a minor unit to a whole minor unit, half away from zero."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@total_ordering
class Money:
    __slots__ = ("currency", "minor")

    def __init__(self, minor: int, currency: str):
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise TypeError(f"Money takes an integer number of minor units, not {type(minor).__name__}")
        if not (
            isinstance(currency, str) and len(currency) == 3 and currency.isalpha() and currency.isupper()
        ):
            raise ValueError(f"Not an ISO 4217 currency code: {currency!r}")
        object.__setattr__(self, "minor", minor)
        object.__setattr__(self, "currency", currency)

    def __setattr__(self, name, value):
        raise AttributeError("Money is immutable")

    # constructors ---------------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, amount: Decimal | str | int, currency: str) -> Money:
        """Parse a major-unit amount ("12.34"); refuse more precision than the currency has."""
        value = Decimal(str(amount))
        exponent = minor_exponent(currency)
        scaled = value.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{amount} has more than {exponent} decimal places for {currency}")
        return cls(int(scaled), currency)

    @classmethod
    def sum(cls, amounts: Iterable[Money], currency: str) -> Money:
        total = cls.zero(currency)
        for amount in amounts:
            total = total + amount
        return total

    # arithmetic -----------------------------------------------------------------------------------
    def _check(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"Cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._check(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._check(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.minor), self.currency)

    def __mul__(self, factor: int | Decimal | Fraction) -> Money:
        """Multiply by a quantity or rate, rounding once, half-up, to the minor unit."""
        if isinstance(factor, float):
            raise TypeError("Money refuses floats; use Decimal or Fraction")
        if isinstance(factor, int):
            return Money(self.minor * factor, self.currency)
        return Money(round_half_up(Fraction(self.minor) * Fraction(factor)), self.currency)

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor == other.minor and self.currency == other.currency

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._check(other).minor

    def __hash__(self) -> int:
        return hash((self.minor, self.currency))

    def __bool__(self) -> bool:
        return self.minor != 0

    @property
    def is_zero(self) -> bool:
        return self.minor == 0

    @property
    def is_positive(self) -> bool:
        return self.minor > 0

    @property
    def is_negative(self) -> bool:
        return self.minor < 0

    # allocation -----------------------------------------------------------------------------------
    def allocate(self, ratios: Sequence[int | Decimal | Fraction]) -> list[Money]:
        """Split by ratios; parts sum exactly to self. Leftover minor units go to the largest remainders.

        Ties go to the earlier part, so the result is deterministic.
        """
        if not ratios:
            raise ValueError("allocate needs at least one ratio")
        fractions = [Fraction(r) if not isinstance(r, float) else None for r in ratios]
        if any(f is None for f in fractions):
            raise TypeError("ratios must be int, Decimal or Fraction")
        if any(f < 0 for f in fractions):
            raise ValueError("ratios cannot be negative")
        total = sum(fractions, Fraction(0))
        if total == 0:
            raise ValueError("ratios must not all be zero")
        sign = -1 if self.minor < 0 else 1
        amount = abs(self.minor)
        exact = [Fraction(amount) * f / total for f in fractions]
        parts = [int(e) for e in exact]  # floor, amounts are non-negative here
        leftover = amount - sum(parts)
        by_remainder = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
        for i in by_remainder[:leftover]:
            parts[i] += 1
        return [Money(sign * p, self.currency) for p in parts]

    def split(self, n: int) -> list[Money]:
        """Split into n parts as equal as possible (differing by at most one minor unit)."""
        if n < 1:
            raise ValueError("split needs at least one part")
        return self.allocate([1] * n)

    # presentation ---------------------------------------------------------------------------------
    @property
    def decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-minor_exponent(self.currency))

    def format(self, locale: str = "en_US") -> str:
        return format_currency(self.decimal, self.currency, locale=locale)

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return f"Money({self.minor}, {self.currency!r})"
