"""What a quantity costs under each pricing model, against amounts worked out by hand: exact until
each component's total, then rounded once, half-up, to the currency's minor unit (JPY 0, USD 2,
BHD 3 digits)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from portico.catalog import errors
from portico.catalog.pricing import Tier, check_tiers, price_components, price_for, total_of
from portico.core.money import Money, round_half_up
from tests.catalog.factories import addon, plan

VOLUME = [Tier(10, Decimal("5.00")), Tier(50, Decimal("4.00")), Tier(None, Decimal("3.00"), 1000)]
GRADUATED = [Tier(10, Decimal("5.00"), 200), Tier(50, Decimal("4.00"), 100), Tier(None, Decimal("3.00"))]


def totals(pricing_model, quantity, currency="USD", **prices):
    parts = price_components(
        name="Plan", pricing_model=pricing_model, currency=currency, quantity=quantity, **prices
    )
    return [part.total.minor for part in parts]


@pytest.mark.parametrize(
    ("pricing_model", "quantity", "currency", "prices", "expected"),
    [
        # flat: the price, whatever the quantity
        ("flat", 1, "USD", {"price_minor": 2900}, [2900]),
        ("flat", 7, "USD", {"price_minor": 2900}, [2900]),
        # per unit, 0.0015 USD: 12,345 × 0.15 ¢ = 1,851.75 ¢ → 1,852 ¢ (rounded once, not per unit)
        ("per_unit", 12345, "USD", {"unit_price": Decimal("0.0015")}, [1852]),
        ("per_unit", 10, "USD", {"unit_price": Decimal("0.0015")}, [2]),  # 1.5 ¢ → 2 ¢, half up
        ("per_unit", 3, "USD", {"unit_price": Decimal("0.0015")}, [0]),  # 0.45 ¢ → 0 ¢
        ("per_unit", 0, "USD", {"unit_price": Decimal("9.99")}, []),
        # volume: the tier the whole quantity reaches prices every unit
        ("volume", 10, "USD", {"tiers": VOLUME}, [5000]),  # 10 × 5.00
        ("volume", 11, "USD", {"tiers": VOLUME}, [4400]),  # 11 × 4.00
        ("volume", 50, "USD", {"tiers": VOLUME}, [20000]),  # 50 × 4.00
        ("volume", 51, "USD", {"tiers": VOLUME}, [15300, 1000]),  # 51 × 3.00 + the tier's 10.00 fee
        # tiered (graduated): each tier prices its own units, plus the fee of each tier reached
        ("tiered", 10, "USD", {"tiers": GRADUATED}, [5000, 200]),
        ("tiered", 11, "USD", {"tiers": GRADUATED}, [5000, 200, 400, 100]),
        ("tiered", 60, "USD", {"tiers": GRADUATED}, [5000, 200, 16000, 100, 3000]),  # 243.00 in all
        # JPY has no minor unit: 7 × ¥12.5 = ¥87.5 → ¥88; ¥1,200 flat stays ¥1,200
        ("per_unit", 7, "JPY", {"unit_price": Decimal("12.5")}, [88]),
        ("flat", 1, "JPY", {"price_minor": 1200}, [1200]),
        ("volume", 3, "JPY", {"tiers": [Tier(2, Decimal("0.5")), Tier(None, Decimal("0.5"), 10)]}, [2, 10]),
        # BHD has three digits (fils): 3 × 0.0125 = 0.0375 BHD = 37.5 fils → 38 fils
        ("per_unit", 3, "BHD", {"unit_price": Decimal("0.0125")}, [38]),
        # 100 × 0.0105 = 1.050; 50 × 0.0095 = 0.475; + 0.250 fee = 1.775 BHD
        (
            "tiered",
            150,
            "BHD",
            {"tiers": [Tier(100, Decimal("0.0105")), Tier(None, Decimal("0.0095"), 250)]},
            [1050, 475, 250],
        ),
    ],
)
def test_the_price_of_a_quantity(pricing_model, quantity, currency, prices, expected):
    assert totals(pricing_model, quantity, currency, **prices) == expected


def test_components_name_their_tier_and_keep_the_exact_unit_amount():
    parts = price_components(
        name="API calls", pricing_model="tiered", currency="USD", quantity=60, tiers=GRADUATED
    )
    assert [(p.description, p.quantity, p.unit_minor) for p in parts] == [
        ("API calls (units 1–10)", 10, 500),
        ("API calls (units 1–10) — flat fee", 1, 200),
        ("API calls (units 11–50)", 40, 400),
        ("API calls (units 11–50) — flat fee", 1, 100),
        ("API calls (units 51 and above)", 10, 300),
    ]
    assert total_of(parts, "USD") == Money(24300, "USD")
    per_call = price_components(
        name="Calls", pricing_model="per_unit", currency="USD", quantity=12345, unit_price=Decimal("0.0015")
    )
    assert per_call[0].unit_minor == Fraction(3, 20) and per_call[0].unit_price == Decimal("0.0015")
    assert per_call[0].total == Money(1852, "USD")


def test_a_plan_and_an_addon_are_priced_from_their_rows(org):
    tiered = plan(
        org,
        "storage",
        pricing_model="tiered",
        price_minor=0,
        tiers=[(10, "5.00", 200), (50, "4.00", 100), (None, "3.00", 0)],
    )
    assert [p.total.minor for p in price_for(tiered, 60)] == [5000, 200, 16000, 100, 3000]
    extra = addon(org, pricing_model="per_unit", unit_price=Decimal("0.0015"))
    assert price_for(extra, 12345)[0].total == Money(1852, "USD")


def test_a_fraction_rounds_exactly_even_beyond_decimals_precision():
    # 10**30 + 1/2 minor units: a 28-digit Decimal division would lose the half
    assert round_half_up(Fraction(2 * 10**30 + 1, 2)) == 10**30 + 1
    assert round_half_up(Fraction(-5, 2)) == -3


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ([], "Add at least one tier"),
        ([Tier(10, Decimal(1)), Tier(5, Decimal(1)), Tier(None, Decimal(1))], "must end above 10"),
        ([Tier(10, Decimal(1)), Tier(10, Decimal(1)), Tier(None, Decimal(1))], "must end above 10"),
        ([Tier(None, Decimal(1)), Tier(10, Decimal(1))], "must be the last tier"),
        ([Tier(10, Decimal(1)), Tier(20, Decimal(1))], "Leave the last tier's upper limit empty"),
        ([Tier(0, Decimal(1)), Tier(None, Decimal(1))], "must end above 0"),
        ([Tier(None, Decimal(-1))], "cannot be negative"),
    ],
)
def test_tiers_that_leave_a_gap_or_overlap_are_refused(tiers, message):
    with pytest.raises(errors.InvalidTiers, match=message):
        check_tiers("volume", tiers)


def test_only_volume_and_tiered_pricing_take_tiers():
    with pytest.raises(errors.InvalidTiers, match="Only volume and tiered"):
        check_tiers("per_unit", [Tier(None, Decimal(1))])
    check_tiers("per_unit", [])


def test_a_negative_or_float_quantity_is_refused():
    with pytest.raises(errors.InvalidPricing):
        price_components(
            name="x", pricing_model="per_unit", currency="USD", quantity=-1, unit_price=Decimal(1)
        )
    with pytest.raises(TypeError):
        price_components(
            name="x", pricing_model="per_unit", currency="USD", quantity=1.5, unit_price=Decimal(1)
        )


def test_a_plans_quantity_limits(org):
    seats = plan(
        org, "seats", pricing_model="per_unit", unit_price=Decimal(5), min_quantity=2, max_quantity=10
    )
    seats.check_quantity(2)
    seats.check_quantity(10)
    with pytest.raises(errors.InvalidPricing, match="at least 2"):
        seats.check_quantity(1)
    with pytest.raises(errors.InvalidPricing, match="at most 10"):
        seats.check_quantity(11)


def test_sellable_plans_leave_out_archived_plans_and_products(org):
    from portico.catalog.models import Plan
    from tests.catalog.factories import product

    family = product(org, name="Suite")
    small = plan(org, "small", product_row=family, position=0)
    large = plan(org, "large", product_row=family, position=1)
    plan(org, "old", product_row=family, is_archived=True)
    gone = plan(org, "gone", product_row=product(org, name="Retired", is_archived=True))
    assert list(Plan.objects.family_of(small)) == [small, large]
    assert gone not in Plan.objects.sellable() and small.is_sellable and not gone.is_sellable
