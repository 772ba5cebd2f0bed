"""`billing.pricing`: what a line costs, rounded once per line, half-up, to the currency's minor unit.

The properties are checked against an independent computation in `Decimal` with ample precision,
so that the module's `Fraction` arithmetic and its one rounding step are both tested.
"""

from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portico.billing import services
from portico.billing.pricing import document_totals, line_amounts, prorate
from portico.core.money import Money
from tests.billing.factories import ACTOR, taxed

CURRENCIES = ["USD", "EUR", "JPY", "KWD"]  # 2, 2, 0 and 3 minor digits

quantities = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10000), places=4)
percents = st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=4)
prices = st.integers(min_value=0, max_value=10**9)


def half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def reference(quantity, unit_minor, discount, rate, inclusive):
    """The rule as DESIGN.md states it, in Decimal (60 digits: exact for these inputs)."""
    with localcontext() as ctx:
        ctx.prec = 60
        gross = Decimal(unit_minor) * quantity
        after_discount = gross * (1 - discount / 100)
        r = rate / 100
        if inclusive:
            total = half_up(after_discount)
            tax = half_up(Decimal(total) * r / (1 + r))
            net = total - tax
            undiscounted = half_up(gross)
            discount_amount = undiscounted - half_up(Decimal(undiscounted) * r / (1 + r)) - net
        else:
            net = half_up(after_discount)
            discount_amount = half_up(gross) - net
            tax = half_up(Decimal(net) * r)
            total = net + tax
    return net, discount_amount, tax, total


@given(quantities, prices, percents, percents, st.booleans(), st.sampled_from(CURRENCIES))
def test_line_amounts_follow_the_rule_in_any_currency(
    quantity, unit_minor, discount, rate, inclusive, currency
):
    amounts = line_amounts(quantity, Money(unit_minor, currency), discount, rate, inclusive)
    assert (amounts.net, amounts.discount, amounts.tax, amounts.total) == tuple(
        Money(m, currency) for m in reference(quantity, unit_minor, discount, rate, inclusive)
    )
    assert amounts.total == amounts.net + amounts.tax
    assert min(amounts.net.minor, amounts.discount.minor, amounts.tax.minor) >= 0


@given(quantities, prices, percents, st.sampled_from(CURRENCIES))
def test_an_exclusive_line_without_discount_or_tax_costs_quantity_times_price(
    quantity, unit_minor, rate, currency
):
    plain = line_amounts(quantity, Money(unit_minor, currency))
    assert plain.discount.is_zero and plain.tax.is_zero
    assert plain.total == plain.net == Money(half_up(quantity * unit_minor), currency)
    # with tax only, the net is unchanged and the tax is on top
    taxed_line = line_amounts(quantity, Money(unit_minor, currency), 0, rate)
    assert taxed_line.net == plain.net and taxed_line.total >= plain.total


@given(quantities, prices, percents, st.sampled_from(CURRENCIES))
def test_an_inclusive_price_is_what_the_customer_pays(quantity, unit_minor, rate, currency):
    amounts = line_amounts(quantity, Money(unit_minor, currency), 0, rate, True)
    assert amounts.total == Money(half_up(quantity * unit_minor), currency)
    assert amounts.discount.is_zero


def test_exclusive_tax_is_added_after_the_discount():
    amounts = line_amounts(Decimal(3), Money(1999, "USD"), Decimal(10), Decimal("8.25"))
    # 3 × 19.99 = 59.97; −10 % = 53.973 → 53.97; tax 8.25 % of 53.97 = 4.4525 → 4.45
    assert (amounts.net, amounts.discount, amounts.tax, amounts.total) == (
        Money(5397, "USD"),
        Money(600, "USD"),
        Money(445, "USD"),
        Money(5842, "USD"),
    )


def test_inclusive_tax_with_a_discount_is_carved_out_of_the_discounted_price():
    # 120.00 incl. 20 %, −10 %: pays 108.00, of which tax 18.00; undiscounted net 100.00 → discount 10.00
    amounts = line_amounts(1, Money(12000, "EUR"), 10, 20, True)
    assert (amounts.total.minor, amounts.tax.minor, amounts.net.minor, amounts.discount.minor) == (
        10800,
        1800,
        9000,
        1000,
    )


@pytest.mark.parametrize(
    "quantity, unit_minor, discount, expected_net",
    [
        (1, 1, 50, 1),  # exactly half a cent rounds up
        (1, 3, 50, 2),  # 1.5 → 2
        (1, 5, 10, 5),  # 4.5 → 5
        (1, 7, 10, 6),  # 6.3 → 6
        (Decimal("0.3333"), 100, 0, 33),  # 33.33 → 33
        (Decimal("0.0050"), 100, 0, 1),  # 0.5 → 1 (half-up, not to even)
        (Decimal("0.0250"), 100, 0, 3),  # 2.5 → 3 (banker's rounding would give 2)
    ],
)
def test_rounding_is_half_up_once_per_line(quantity, unit_minor, discount, expected_net):
    assert line_amounts(quantity, Money(unit_minor, "USD"), discount).net.minor == expected_net


def test_yen_lines_round_to_whole_yen():
    # ¥1,005 × 10 % tax = ¥100.5 → ¥101
    amounts = line_amounts(1, Money(1005, "JPY"), 0, 10)
    assert (amounts.tax, amounts.total) == (Money(101, "JPY"), Money(1106, "JPY"))


def test_dinar_lines_round_to_the_fils():
    # KWD 1.234 × 3 = 3.702, −5 % = 3.5169 → 3.517; tax 5 % = 0.17585 → 0.176
    amounts = line_amounts(3, Money(1234, "KWD"), 5, 5)
    assert (amounts.net, amounts.discount, amounts.tax, amounts.total) == (
        Money(3517, "KWD"),
        Money(185, "KWD"),
        Money(176, "KWD"),
        Money(3693, "KWD"),
    )
    assert amounts.total.decimal == Decimal("3.693")


def test_floats_are_refused():
    with pytest.raises(TypeError):
        line_amounts(1.5, Money(100, "USD"))
    with pytest.raises(TypeError):
        line_amounts(1, Money(100, "USD"), 0, 8.25)


def test_document_totals_add_rounded_lines_without_rounding_again():
    lines = [line_amounts(1, Money(1, "USD"), 50, 50) for _ in range(3)]  # each: net 1, tax 1 (0.5 → 1)
    totals = document_totals(lines, "USD")
    assert (totals.net, totals.tax, totals.total) == (Money(3, "USD"), Money(3, "USD"), Money(6, "USD"))
    assert totals.subtotal == totals.net + totals.discount


def test_proration_follows_the_design_example():
    # $30/month, period Jan 15 → Feb 15 (31 days), upgrade to $60 on Feb 1 (14 days remaining)
    assert prorate(Money(3000, "USD"), 14, 31) == Money(1355, "USD")
    assert prorate(Money(6000, "USD"), 14, 31) == Money(2710, "USD")
    with pytest.raises(ValueError):
        prorate(Money(3000, "USD"), 32, 31)


def test_existing_invoice_totals_are_unchanged(customer):
    """The amounts invoices had before pricing moved into its own module (same lines, same cents)."""
    invoice = services.create_invoice(
        customer=customer,
        actor=ACTOR,
        lines=[
            taxed(1999, "8.25", quantity=Decimal(3), discount_percent=Decimal(10)),
            taxed(10000, "20", True),
            taxed(12000, "20", True, discount_percent=Decimal(10)),
            taxed(333, "7", quantity=Decimal("2.5")),
        ],
    )
    rows = list(invoice.lines.values_list("net_minor", "discount_minor", "tax_minor", "total_minor"))
    assert rows == [
        (5397, 600, 445, 5842),
        (8333, 0, 1667, 10000),
        (9000, 1000, 1800, 10800),
        (833, 0, 58, 891),
    ]
    assert (invoice.subtotal_minor, invoice.discount_minor, invoice.tax_minor, invoice.total_minor) == (
        5397 + 600 + 8333 + 9000 + 1000 + 833,
        1600,
        445 + 1667 + 1800 + 58,
        5842 + 10000 + 10800 + 891,
    )
