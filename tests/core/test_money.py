import re
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from portico.core import tenancy
from portico.core.formfields import MoneyField
from portico.core.money import MAX_TYPED_MINOR, AmountError, CurrencyMismatch, Money
from tests.factories import OrganizationFactory

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


# -- amounts typed by people (Money.parse) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "locale", "minor"),
    [
        ("125,50", "EUR", "de_DE", 12550),
        ("1.234,56", "EUR", "de_DE", 123456),
        ("1234,56", "EUR", "de_DE", 123456),
        ("1,234.56", "USD", "en_US", 123456),
        ("125.50", "USD", "en_US", 12550),
        ("1,234", "USD", "en_US", 123400),
        (" 12 ", "USD", "en_US", 1200),
        (".5", "USD", "en_US", 50),
        ("1 234,56", "EUR", "fr_FR", 123456),  # a typed space stands for the locale's narrow space
        ("1.234", "JPY", "de_DE", 1234),
        ("1,234", "KWD", "de_DE", 1234),  # de_DE reads the comma as the decimal mark: 1.234 KWD
        ("12,34,567.00", "INR", "hi_IN", 123456700),
        ("-0", "USD", "en_US", 0),
    ],
)
def test_typed_amounts_are_read_in_the_locale(text, currency, locale, minor):
    assert Money.parse(text, currency, locale) == Money(minor, currency)


def test_a_de_de_comma_is_the_decimal_mark_never_dropped():
    assert Money.parse("125,50", "EUR", "de_DE").minor == 12550  # not 12,550.00


def test_an_ambiguous_amount_in_de_de_is_read_as_babel_strict_reads_it_or_refused():
    # "1,234" in de_DE is 1.234: three decimals, which EUR does not have, so it is refused.
    with pytest.raises(AmountError, match="Too many decimal places for EUR"):
        Money.parse("1,234", "EUR", "de_DE")
    # A group mark where the locale's grouping does not put one is refused, not guessed.
    with pytest.raises(AmountError, match=re.escape("Enter an amount like 1.234,56")):
        Money.parse("12.34", "EUR", "de_DE")
    with pytest.raises(AmountError, match=re.escape("Enter an amount like 1,234.56")):
        Money.parse("12,34", "USD", "en_US")


@pytest.mark.parametrize(
    "text",
    [
        "12,3,4",
        "",
        "   ",
        "Infinity",
        "-Infinity",
        "NaN",
        "1e999999999",
        "1E5",
        "²",
        "１２",
        "1_000",
        "12abc",
        "$12",
        "12\x00",
        "1-2",
        "--5",
        ",",
        "9" * 41,
        "1; DROP TABLE billing_payment",
        "<script>alert(1)</script>",
    ],
)
def test_malformed_amounts_are_refused_with_a_message(text):
    with pytest.raises(AmountError) as refused:
        Money.parse(text, "EUR", "de_DE")
    assert refused.value.message
    assert refused.value.field == "amount"


def test_more_decimals_than_the_currency_has_are_refused():
    with pytest.raises(AmountError, match="Too many decimal places for USD: at most 2"):
        Money.parse("12.345", "USD", "en_US")
    with pytest.raises(AmountError, match="Too many decimal places for JPY"):
        Money.parse("12.00", "JPY", "en_US")
    with pytest.raises(AmountError, match="Too many decimal places for KWD: at most 3"):
        Money.parse("1.2345", "KWD", "en_US")
    assert Money.parse("1.234", "KWD", "en_US") == Money(1234, "KWD")


def test_negative_amounts_are_refused_unless_allowed():
    with pytest.raises(AmountError, match="not negative"):
        Money.parse("-5", "USD", "en_US")
    with pytest.raises(AmountError, match="not negative"):
        Money.parse("\u221212,50", "SEK", "sv_SE")  # the typographic minus sign
    assert Money.parse("-5", "USD", "en_US", allow_negative=True) == Money(-500, "USD")


def test_amounts_beyond_the_typed_maximum_are_refused():
    with pytest.raises(AmountError, match="at most"):
        Money.parse("99999999999999999999", "USD", "en_US")
    assert Money.parse("9,999,999,999,999.99", "USD", "en_US").minor == MAX_TYPED_MINOR


def test_non_text_is_refused():
    with pytest.raises(AmountError):
        Money.parse(None, "USD", "en_US")


LOCALES = ["en_US", "de_DE", "fr_FR", "de_CH", "sv_SE", "ja_JP", "hi_IN", "ar_KW", "es_ES", "pt_BR", "he_IL"]


@given(
    minor=st.integers(min_value=-MAX_TYPED_MINOR, max_value=MAX_TYPED_MINOR),
    currency=st.sampled_from(["USD", "EUR", "JPY", "KWD", "GBP", "CHF", "INR", "SEK"]),
    locale=st.sampled_from(LOCALES),
)
def test_an_amount_formatted_for_typing_parses_back_to_itself(minor, currency, locale):
    amount = Money(minor, currency)
    assert Money.parse(amount.format_input(locale), currency, locale, allow_negative=True) == amount


def test_formatting_for_typing_uses_the_currency_digits_and_no_symbol():
    assert Money(123450, "EUR").format_input("de_DE") == "1.234,50"
    assert Money(1234, "JPY").format_input("ja_JP") == "1,234"
    assert Money(1234, "KWD").format_input("en_US") == "1.234"


# -- the form field ---------------------------------------------------------------------------------------


def test_the_money_field_cleans_in_its_locale_and_shows_form_errors():
    field = MoneyField(currency="EUR", locale="de_DE")
    assert field.clean("1.234,56") == Money(123456, "EUR")
    with pytest.raises(ValidationError, match=re.escape("Enter an amount like 1.234,56")):
        field.clean("1,234.56")
    with pytest.raises(ValidationError, match="Enter an amount"):
        field.clean("")
    assert MoneyField(currency="EUR", locale="de_DE", required=False).clean("") is None
    assert field.prepare_value(Money(12550, "EUR")) == "125,50"


def test_the_money_field_takes_the_active_organizations_locale(db):
    organization = OrganizationFactory(slug="berlin", locale="de_DE", base_currency="EUR")
    field = MoneyField(currency="EUR")
    with tenancy.for_tenant(organization):
        assert field.clean("125,50") == Money(12550, "EUR")
