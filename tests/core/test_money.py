from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portico.core.money import CurrencyMismatch, Money

currencies = st.sampled_from(["USD", "EUR", "JPY", "KWD", "GBP"])
amounts = st.integers(min_value=-(10**12), max_value=10**12)


def test_adding_and_comparing_in_one_currency():
    assert Money(1050, "USD") + Money(25, "USD") == Money(1075, "USD")
    assert Money(1050, "USD") - Money(1100, "USD") == Money(-50, "USD")
    assert Money(5, "USD") < Money(6, "USD")
    assert Money.sum([Money(1, "EUR"), Money(2, "EUR")], "EUR") == Money(3, "EUR")


@pytest.mark.parametrize("operation", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a < b])
def test_mixing_currencies_is_refused(operation):
    with pytest.raises(CurrencyMismatch):
        operation(Money(100, "USD"), Money(100, "EUR"))


def test_money_refuses_floats_and_bad_codes():
    with pytest.raises(TypeError):
        Money(10.5, "USD")
    with pytest.raises(TypeError):
        Money(10, "USD") * 1.5
    with pytest.raises(ValueError):
        Money(10, "usd")


def test_multiplying_rounds_half_up_once():
    assert Money(1001, "USD") * Decimal("0.5") == Money(501, "USD")  # 500.5 → 501
    assert Money(-1001, "USD") * Decimal("0.5") == Money(-501, "USD")
    assert Money(999, "USD") * Fraction(1, 3) == Money(333, "USD")


def test_parsing_respects_the_currency_exponent():
    assert Money.from_decimal("12.34", "USD") == Money(1234, "USD")
    assert Money.from_decimal("1234", "JPY") == Money(1234, "JPY")
    assert Money.from_decimal("1.005", "KWD") == Money(1005, "KWD")
    with pytest.raises(ValueError):
        Money.from_decimal("12.345", "USD")
    with pytest.raises(ValueError):
        Money.from_decimal("1.5", "JPY")


def test_formatting_follows_the_locale():
    assert Money(123456, "USD").format("en_US") == "$1,234.56"
    assert Money(123456, "EUR").format("de_DE") == "1.234,56\xa0€"
    assert Money(1234, "JPY").format("ja_JP") == "￥1,234"


def test_split_gives_the_leftover_cents_to_the_first_parts():
    assert Money(100, "USD").split(3) == [Money(34, "USD"), Money(33, "USD"), Money(33, "USD")]
    assert Money(-100, "USD").split(3) == [Money(-34, "USD"), Money(-33, "USD"), Money(-33, "USD")]


def test_allocate_by_ratios():
    assert Money(1000, "USD").allocate([1, 1, 2]) == [Money(250, "USD"), Money(250, "USD"), Money(500, "USD")]
    assert Money(5, "USD").allocate([3, 7]) == [Money(2, "USD"), Money(3, "USD")]
    assert Money(100, "USD").allocate([0, 1]) == [Money(0, "USD"), Money(100, "USD")]


@given(amount=amounts, currency=currencies, n=st.integers(min_value=1, max_value=50))
def test_split_always_sums_exactly_and_parts_differ_by_at_most_one(amount, currency, n):
    parts = Money(amount, currency).split(n)
    assert sum(p.minor for p in parts) == amount
    assert max(p.minor for p in parts) - min(p.minor for p in parts) <= 1


@given(
    amount=amounts,
    currency=currencies,
    ratios=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30).filter(any),
)
def test_allocation_always_sums_exactly_and_stays_within_a_cent_of_the_exact_share(amount, currency, ratios):
    parts = Money(amount, currency).allocate(ratios)
    assert len(parts) == len(ratios)
    assert sum(p.minor for p in parts) == amount
    total = sum(ratios)
    for part, ratio in zip(parts, ratios, strict=True):
        exact = Fraction(amount * ratio, total)
        assert abs(part.minor - exact) < 1
        assert part.currency == currency
