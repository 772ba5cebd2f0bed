"""Money: integer minor units plus an ISO 4217 currency, never floats.

Arithmetic refuses to mix currencies. Allocation splits an amount into parts that always
sum exactly to the original (largest-remainder method), so no cent is ever lost.

`Money.parse` is the one place where text typed by a person becomes money (DESIGN.md "Money and
ledger invariants"): read in the organization's locale by Babel's strict parser, and refused with a
message (never guessed) when it is ambiguous, malformed, more precise than the currency or too large.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache, total_ordering

from babel.core import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    get_currency_precision,
    get_decimal_symbol,
    get_group_symbol,
    list_currencies,
    parse_decimal,
)
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portico.core.errors import CurrencyMismatch  # one class for the ledger and arithmetic

# The largest amount a person may type, in minor units: far beyond any invoice, and well inside the
# database's 64-bit integers even once summed over many documents.
MAX_TYPED_MINOR = 10**15 - 1
MAX_TYPED_LENGTH = 40
_SPACES = re.compile(r"[\s\xa0\u2007\u202f]")
_BIDI_MARKS = re.compile("[\u200e\u200f\u061c]")
_MINUS_SIGNS = ("\u2212", "\u2012", "\u2013", "\ufe63", "\uff0d")


class AmountError(ValueError):
    """Text that is not an amount of the currency; `message` is fit to show the person who typed it."""

    code = "invalid_amount"

    def __init__(self, message: str, field: str = "amount"):
        super().__init__(message)
        self.message = message
        self.field = field


@lru_cache(maxsize=256)
def minor_exponent(currency: str) -> int:
    """Digits after the decimal point for a currency (EUR 2, JPY 0, KWD 3), from CLDR via Babel."""
    return get_currency_precision(currency)


def round_half_up(value: Fraction | Decimal) -> int:
    """Round a fraction of a minor unit to a whole minor unit, half away from zero."""
    if isinstance(value, Fraction):
        # Exact: Decimal division would round at its context's 28 digits first.
        whole, remainder = divmod(abs(value.numerator), value.denominator)
        if 2 * remainder >= value.denominator:
            whole += 1
        return whole if value >= 0 else -whole
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def exact_minor(amount: Decimal | Fraction | int, currency: str) -> Fraction:
    """A major-unit amount in minor units, exactly and unrounded: a unit price of 0.0015 USD is
    0.15 cents. Prices with sub-minor precision stay exact until a line total is rounded."""
    if isinstance(amount, float):
        raise TypeError("Amounts are Decimal, int or Fraction, never float")
    return Fraction(amount) * 10 ** minor_exponent(currency)


def rounded(minor: Fraction | Decimal | int, currency: str) -> Money:
    """An exact amount of minor units rounded once, half-up, to a whole minor unit: how every line
    total becomes `Money` (the ledger's lines and the catalog's price components alike)."""
    if isinstance(minor, int):
        return Money(minor, currency)
    return Money(round_half_up(minor), currency)


def is_currency(code: str) -> bool:
    """An ISO 4217 code CLDR knows (Babel): "EUR", "JPY", "BHD"; not "XYZ" or "usd"."""
    if not (isinstance(code, str) and len(code) == 3 and code.isalpha() and code.isupper()):
        return False
    return code in _known_currencies()


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


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
    def parse(cls, text: str, currency: str, locale: str, *, allow_negative: bool = False) -> Money:
        """An amount typed by a person, read in `locale` ("1.234,56" in de_DE, "1,234.56" in en_US).

        Babel's strict parser decides what the separators mean; anything it finds ambiguous or
        malformed, any character that is not a digit, sign or separator of the locale (so no
        `Infinity`, `NaN`, exponents or other scripts' digits), more decimals than the currency has,
        a negative amount where none is allowed and an amount beyond `MAX_TYPED_MINOR` are refused.
        """
        return parse_amount(text, currency, locale, allow_negative=allow_negative)

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

    def format_input(self, locale: str = "en_US") -> str:
        """The amount as a person would type it in `locale`, without a symbol ("1.234,50" in de_DE);
        `Money.parse` reads it back to the same amount."""
        parsed = _locale(locale)
        return parsed.decimal_formats[None].apply(
            self.decimal, parsed, currency=self.currency, currency_digits=True
        )

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return f"Money({self.minor}, {self.currency!r})"


# -- parsing typed amounts ------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale or "en_US")
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en_US")


def amount_example(currency: str, locale: str) -> str:
    """What an amount looks like in the locale, for messages: "1.234,56" (EUR, de_DE), "1,234" (JPY)."""
    return Money(123456 if minor_exponent(currency) else 1234, currency).format_input(locale)


def _read_number(text, locale: str, malformed: AmountError) -> Decimal:
    """Text typed in `locale` as a Decimal (sign included), by Babel's strict parser; see `Money.parse`."""
    parsed_locale = _locale(locale)
    if not isinstance(text, str):
        raise malformed
    text = _BIDI_MARKS.sub("", text).strip()
    if not text:
        raise AmountError(_("Enter an amount."))
    if len(text) > MAX_TYPED_LENGTH:
        raise malformed
    group = get_group_symbol(parsed_locale)
    decimal_symbol = get_decimal_symbol(parsed_locale)
    if _SPACES.fullmatch(group):
        # Nobody can type U+202F: any space between digits stands for the locale's (space) separator.
        text = _SPACES.sub(group, text)
    elif group == "\u2019":
        text = text.replace("'", group)
    for minus in _MINUS_SIGNS:
        text = text.replace(minus, "-")
    negative = text.startswith("-")
    digits = text[1:] if text[:1] in "-+" else text
    allowed = set("0123456789") | {group, decimal_symbol}
    if not digits or not set(digits) <= allowed or not (digits[0].isdigit() or digits[0] == decimal_symbol):
        raise malformed
    try:
        value = parse_decimal(digits, locale=parsed_locale, strict=True)
    except NumberFormatError:
        raise malformed from None
    if not value.is_finite():  # cannot happen with the characters allowed above; kept as a guard
        raise malformed
    return -value if negative else value


def parse_amount(text: str, currency: str, locale: str, *, allow_negative: bool = False) -> Money:
    """See `Money.parse`."""
    example = amount_example(currency, locale)
    malformed = AmountError(_("Enter an amount like %(example)s.") % {"example": example})
    value = _read_number(text, locale, malformed)
    negative = value.is_signed()
    value = abs(value)
    exponent = minor_exponent(currency)
    if -value.as_tuple().exponent > exponent:
        if exponent == 0:
            message = _("Too many decimal places for %(currency)s: its amounts are whole numbers.") % {
                "currency": currency
            }
        else:
            message = ngettext(
                "Too many decimal places for %(currency)s: at most %(count)d.",
                "Too many decimal places for %(currency)s: at most %(count)d.",
                exponent,
            ) % {"currency": currency, "count": exponent}
        raise AmountError(message)
    minor = int(value.scaleb(exponent))
    if minor > MAX_TYPED_MINOR:
        raise AmountError(
            _("Enter an amount of at most %(maximum)s.")
            % {"maximum": Money(MAX_TYPED_MINOR, currency).format_input(locale)}
        )
    if negative:
        minor = -minor
        if minor < 0 and not allow_negative:
            raise AmountError(_("Enter an amount that is not negative."))
    return Money(minor, currency)


# Unit prices may be finer than the currency's minor unit (0.0015 per API call): up to this many
# decimal places of the major unit, and at most `MAX_TYPED_MINOR` minor units per unit.
UNIT_PRICE_PLACES = 6


def parse_unit_price(text: str, currency: str, locale: str, *, places: int = UNIT_PRICE_PLACES) -> Decimal:
    """A unit price typed by a person in `locale` ("0,0015" in de_DE), in major units of `currency`,
    read by the same strict rules as `Money.parse` but with up to `places` decimal places. Never
    negative."""
    malformed = AmountError(
        _("Enter a price like %(example)s.") % {"example": amount_example(currency, locale)}
    )
    value = _read_number(text, locale, malformed)
    if value.is_signed() and value != 0:
        raise AmountError(_("Enter a price that is not negative."))
    value = abs(value)
    if -value.as_tuple().exponent > places:
        raise AmountError(
            ngettext(
                "Too many decimal places for a unit price: at most %(count)d.",
                "Too many decimal places for a unit price: at most %(count)d.",
                places,
            )
            % {"count": places}
        )
    if value.scaleb(minor_exponent(currency)) > MAX_TYPED_MINOR:
        raise AmountError(
            _("Enter a price of at most %(maximum)s.")
            % {"maximum": Money(MAX_TYPED_MINOR, currency).format_input(locale)}
        )
    return value


def format_unit_price(value: Decimal, currency: str, locale: str = "en_US") -> str:
    """A unit price as a person would type it in `locale`, keeping its sub-minor digits ("0,0015")
    and at least the currency's ("12,50"); `parse_unit_price` reads it back."""
    places = max(minor_exponent(currency), -value.normalize().as_tuple().exponent, 0)
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=_locale(locale))
