"""The proration table: changes worked out by hand, amounts written as literals (never computed by the
code under test). Each case's arithmetic is in its comment: `price × remaining / total` days, exact,
then rounded once, half-up, to the minor unit; tax then per line (docs/billing.md has the same
numbers). Unless a case says otherwise the term is 1 Mar 2026 → 1 Apr 2026 (31 days), the change is
on 15 Mar 2026, so 17 days remain (15…31 March), and the organization invoices prorations now.

Prices: Pro $20.00 per unit a month, Business $50.00 per unit a month (× 3: $60.00 and $150.00)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portico.catalog.pricing import Tier, price_components
from portico.core.money import Money
from portico.subscriptions.periods import Period, period_containing
from portico.subscriptions.proration import (
    Config,
    Discount,
    Kind,
    Mode,
    Tax,
    preview,
    prorate_change,
    prorated_line,
    renewal_lines,
)

MAR_1, APR_1, MAR_15 = date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 15)
TIERS = [Tier(10, Decimal("5.00")), Tier(50, Decimal("4.00")), Tier(None, Decimal("3.00"))]
LAUNCH = Discount(name="Launch 20% off", percent=Decimal(20))
TEN_OFF = Discount(name="$10 off", amount=Money(1000, "USD"))
SALES_TAX = Tax(name="Sales tax", percent=Decimal("8.25"))
VAT = Tax(name="VAT", percent=Decimal(20), inclusive=True)


def per_unit(name, unit_price, quantity, currency="USD", **config):
    def components(q):
        return price_components(
            name=name, pricing_model="per_unit", currency=currency, quantity=q, unit_price=Decimal(unit_price)
        )

    return Config(name, currency, components, quantity=quantity, **config)


def flat(name, price_minor, currency="USD", **config):
    parts = price_components(
        name=name, pricing_model="flat", currency=currency, quantity=1, price_minor=price_minor
    )
    return Config(name, currency, parts, **config)


def tiered(name, model, quantity):
    return Config(
        name,
        "USD",
        price_components(name=name, pricing_model=model, currency="USD", quantity=quantity, tiers=TIERS),
        quantity=quantity,
    )


PRO_3 = per_unit("Pro", "20.00", 3)
BUSINESS_3 = per_unit("Business", "50.00", 3)


@dataclass
class Case:
    id: str
    old: Config
    new: Config
    lines: list[tuple[str, str, int]]  # kind, description, signed total in minor units
    net: int
    term: tuple[date, date] = (MAR_1, APR_1)
    on: date = MAR_15
    options: dict = field(default_factory=dict)
    new_term: tuple[date, date] | None = None
    taxes: list[int] | None = None  # each line's tax, when the case is about tax


CASES = [
    # 6000 × 17/31 = 3290.32 → 3290 credited; 15000 × 17/31 = 8225.81 → 8226 charged; 8226 − 3290 = 4936.
    Case(
        "upgrade mid-term",
        PRO_3,
        BUSINESS_3,
        [
            ("credit", "Unused time on Pro × 3 from 15 Mar 2026 to 31 Mar 2026", -3290),
            ("charge", "Remaining time on Business × 3 from 15 Mar 2026 to 31 Mar 2026", 8226),
        ],
        4936,
    ),
    # The same amounts the other way: 15000 × 17/31 → 8226 credited, 6000 × 17/31 → 3290 charged.
    Case(
        "downgrade mid-term",
        BUSINESS_3,
        PRO_3,
        [
            ("credit", "Unused time on Business × 3 from 15 Mar 2026 to 31 Mar 2026", -8226),
            ("charge", "Remaining time on Pro × 3 from 15 Mar 2026 to 31 Mar 2026", 3290),
        ],
        -4936,
    ),
    # Last day (31 Mar, 1 day left): 6000 / 31 = 193.55 → 194; 15000 / 31 = 483.87 → 484; 484 − 194 = 290.
    Case(
        "upgrade on the last day",
        PRO_3,
        BUSINESS_3,
        [
            ("credit", "Unused time on Pro × 3 from 31 Mar 2026 to 31 Mar 2026", -194),
            ("charge", "Remaining time on Business × 3 from 31 Mar 2026 to 31 Mar 2026", 484),
        ],
        290,
        on=date(2026, 3, 31),
    ),
    # Last day, downgrading: 484 credited, 194 charged; 194 − 484 = −290 (customer credit).
    Case(
        "downgrade on the last day",
        BUSINESS_3,
        PRO_3,
        [
            ("credit", "Unused time on Business × 3 from 31 Mar 2026 to 31 Mar 2026", -484),
            ("charge", "Remaining time on Pro × 3 from 31 Mar 2026 to 31 Mar 2026", 194),
        ],
        -290,
        on=date(2026, 3, 31),
    ),
    # First day (31 of 31 days left): the whole 6000 credited, the whole 15000 charged; 9000.
    Case(
        "upgrade on the first day",
        PRO_3,
        BUSINESS_3,
        [
            ("credit", "Unused time on Pro × 3 from 1 Mar 2026 to 31 Mar 2026", -6000),
            ("charge", "Remaining time on Business × 3 from 1 Mar 2026 to 31 Mar 2026", 15000),
        ],
        9000,
        on=MAR_1,
    ),
    # Quantity 3 → 5: 6000 × 17/31 → 3290; 10000 × 17/31 = 5483.87 → 5484; 5484 − 3290 = 2194.
    Case(
        "quantity up",
        PRO_3,
        per_unit("Pro", "20.00", 5),
        [
            ("credit", "Unused time on Pro × 3 from 15 Mar 2026 to 31 Mar 2026", -3290),
            ("charge", "Remaining time on Pro × 5 from 15 Mar 2026 to 31 Mar 2026", 5484),
        ],
        2194,
    ),
    # Quantity 5 → 2 on 10 Mar (22 days left): 10000 × 22/31 = 7096.77 → 7097; 4000 × 22/31 = 2838.71 → 2839;
    # 2839 − 7097 = −4258.
    Case(
        "quantity down",
        per_unit("Pro", "20.00", 5),
        per_unit("Pro", "20.00", 2),
        [
            ("credit", "Unused time on Pro × 5 from 10 Mar 2026 to 31 Mar 2026", -7097),
            ("charge", "Remaining time on Pro × 2 from 10 Mar 2026 to 31 Mar 2026", 2839),
        ],
        -4258,
        on=date(2026, 3, 10),
    ),
    # 20 % coupon on both: 6000 × 0.8 = 4800, × 17/31 = 2632.26 → 2632; 15000 × 0.8 = 12000, × 17/31 =
    # 6580.65 → 6581; 6581 − 2632 = 3949.
    Case(
        "percent coupon",
        per_unit("Pro", "20.00", 3, discount=LAUNCH),
        per_unit("Business", "50.00", 3, discount=LAUNCH),
        [
            (
                "credit",
                "Unused time on Pro × 3 from 15 Mar 2026 to 31 Mar 2026 (after Launch 20% off)",
                -2632,
            ),
            (
                "charge",
                "Remaining time on Business × 3 from 15 Mar 2026 to 31 Mar 2026 (after Launch 20% off)",
                6581,
            ),
        ],
        3949,
    ),
    # $10 off each period: (6000 − 1000) × 17/31 = 2741.94 → 2742; (15000 − 1000) × 17/31 = 7677.42 → 7677;
    # 7677 − 2742 = 4935.
    Case(
        "fixed coupon",
        per_unit("Pro", "20.00", 3, discount=TEN_OFF),
        per_unit("Business", "50.00", 3, discount=TEN_OFF),
        [
            ("credit", "Unused time on Pro × 3 from 15 Mar 2026 to 31 Mar 2026 (after $10 off)", -2742),
            (
                "charge",
                "Remaining time on Business × 3 from 15 Mar 2026 to 31 Mar 2026 (after $10 off)",
                7677,
            ),
        ],
        4935,
    ),
    # Exclusive 8.25 % on top of the nets 3290 and 8226: 3290 × 0.0825 = 271.43 → 271, total 3561;
    # 8226 × 0.0825 = 678.65 → 679, total 8905; 8905 − 3561 = 5344.
    Case(
        "exclusive tax",
        per_unit("Pro", "20.00", 3, tax=SALES_TAX),
        per_unit("Business", "50.00", 3, tax=SALES_TAX),
        [
            ("credit", "Unused time on Pro × 3 from 15 Mar 2026 to 31 Mar 2026", -3561),
            ("charge", "Remaining time on Business × 3 from 15 Mar 2026 to 31 Mar 2026", 8905),
        ],
        5344,
        taxes=[271, 679],
    ),
    # Inclusive 20 % VAT, €60.00 → €150.00 with VAT: totals 3290 and 8226 as above; VAT carved out:
    # 3290 × 20/120 = 548.33 → 548; 8226 × 20/120 = 1371 exactly; 8226 − 3290 = 4936.
    Case(
        "inclusive tax",
        flat("Pro", 6000, "EUR", tax=VAT),
        flat("Business", 15000, "EUR", tax=VAT),
        [
            ("credit", "Unused time on Pro from 15 Mar 2026 to 31 Mar 2026", -3290),
            ("charge", "Remaining time on Business from 15 Mar 2026 to 31 Mar 2026", 8226),
        ],
        4936,
        taxes=[548, 1371],
    ),
    # Tiered (1–10 at $5, 11–50 at $4, 51+ at $3), 8 → 12 units: 8 × 500 = 4000; 10 × 500 + 2 × 400 = 5800.
    # 4000 × 17/31 = 2193.55 → 2194; 5800 × 17/31 = 3180.65 → 3181; 3181 − 2194 = 987.
    Case(
        "tiered pricing",
        tiered("Seats", "tiered", 8),
        tiered("Seats", "tiered", 12),
        [
            ("credit", "Unused time on Seats × 8 from 15 Mar 2026 to 31 Mar 2026", -2194),
            ("charge", "Remaining time on Seats × 12 from 15 Mar 2026 to 31 Mar 2026", 3181),
        ],
        987,
    ),
    # Volume (same tiers price every unit), 10 → 11 units: 10 × 500 = 5000; 11 × 400 = 4400 (cheaper).
    # 5000 × 17/31 = 2741.94 → 2742; 4400 × 17/31 = 2412.90 → 2413; 2413 − 2742 = −329.
    Case(
        "volume pricing",
        tiered("Seats", "volume", 10),
        tiered("Seats", "volume", 11),
        [
            ("credit", "Unused time on Seats × 10 from 15 Mar 2026 to 31 Mar 2026", -2742),
            ("charge", "Remaining time on Seats × 11 from 15 Mar 2026 to 31 Mar 2026", 2413),
        ],
        -329,
    ),
    # Leap February: term 1 Feb 2028 → 1 Mar 2028 is 29 days; on 15 Feb 15 days remain (15…29).
    # 2900 × 15/29 = 1500; 5800 × 15/29 = 3000 (exact); 3000 − 1500 = 1500.
    Case(
        "leap year February",
        flat("Pro", 2900),
        flat("Business", 5800),
        [
            ("credit", "Unused time on Pro from 15 Feb 2028 to 29 Feb 2028", -1500),
            ("charge", "Remaining time on Business from 15 Feb 2028 to 29 Feb 2028", 3000),
        ],
        1500,
        term=(date(2028, 2, 1), date(2028, 3, 1)),
        on=date(2028, 2, 15),
    ),
    # Anchored on 31 Jan 2026: the term is 28 Feb → 31 Mar (31 days, recovering the 31st); on 10 Mar
    # 21 days remain (10…30 Mar). 3100 × 21/31 = 2100; 6200 × 21/31 = 4200; 4200 − 2100 = 2100.
    Case(
        "month-end anchor",
        flat("Pro", 3100),
        flat("Business", 6200),
        [
            ("credit", "Unused time on Pro from 10 Mar 2026 to 30 Mar 2026", -2100),
            ("charge", "Remaining time on Business from 10 Mar 2026 to 30 Mar 2026", 4200),
        ],
        2100,
        term=tuple(period_containing(date(2026, 1, 31), "month", 1, date(2026, 3, 10))),
        on=date(2026, 3, 10),
    ),
    # Monthly → yearly ($200 per unit a year): unused 6000 × 17/31 → 3290 credited, and a new full year
    # 15 Mar 2026 → 15 Mar 2027 charged: 3 × 20000 = 60000; 60000 − 3290 = 56710.
    Case(
        "interval change monthly to yearly",
        PRO_3,
        per_unit("Pro yearly", "200.00", 3, unit="year"),
        [
            ("credit", "Unused time on Pro × 3 from 15 Mar 2026 to 31 Mar 2026", -3290),
            ("charge", "Pro yearly", 60000),  # 3 × $200.00, a term billed as any term
        ],
        56710,
        new_term=(MAR_15, date(2027, 3, 15)),
    ),
    # Trial 1 → 15 Mar, change on 5 Mar: nothing charged, nothing credited, the trial kept.
    Case(
        "change during a trial",
        PRO_3,
        BUSINESS_3,
        [],
        0,
        term=(MAR_1, MAR_15),
        on=date(2026, 3, 5),
        options={"in_trial": True},
    ),
    # The organization ends the trial on a change: a paid month starts 5 Mar → 5 Apr, charged in full
    # (15000); nothing was paid, so nothing is credited.
    Case(
        "change ending a trial",
        PRO_3,
        BUSINESS_3,
        [("charge", "Business", 15000)],  # 3 × $50.00
        15000,
        term=(MAR_1, MAR_15),
        on=date(2026, 3, 5),
        options={"in_trial": True, "end_trial": True},
        new_term=(date(2026, 3, 5), date(2026, 4, 5)),
    ),
    # JPY has no minor digits: ¥3,000 × 17/31 = 1645.16 → ¥1,645; ¥5,000 × 17/31 = 2741.94 → ¥2,742;
    # 2742 − 1645 = ¥1,097.
    Case(
        "JPY",
        flat("Pro", 3000, "JPY"),
        flat("Business", 5000, "JPY"),
        [
            ("credit", "Unused time on Pro from 15 Mar 2026 to 31 Mar 2026", -1645),
            ("charge", "Remaining time on Business from 15 Mar 2026 to 31 Mar 2026", 2742),
        ],
        1097,
    ),
    # Half-up ties: every 2 days, 1 day left: 101 / 2 = 50.5 → 51; 201 / 2 = 100.5 → 101; 101 − 51 = 50.
    Case(
        "half-up ties",
        flat("Pro", 101, unit="day", count=2),
        flat("Business", 201, unit="day", count=2),
        [
            ("credit", "Unused time on Pro from 2 Mar 2026 to 2 Mar 2026", -51),
            ("charge", "Remaining time on Business from 2 Mar 2026 to 2 Mar 2026", 101),
        ],
        50,
        term=(MAR_1, date(2026, 3, 3)),
        on=date(2026, 3, 2),
    ),
    # On the term's end (a change scheduled for the renewal): no day left, nothing prorated.
    Case("change on the term end", PRO_3, BUSINESS_3, [], 0, on=APR_1),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_proration_table(case):
    result = prorate_change(case.old, case.new, *case.term, case.on, mode=Mode.INVOICE_NOW, **case.options)
    assert [(line.kind, line.description, line.amount.minor) for line in result.lines] == case.lines
    assert result.net.minor == case.net
    assert result.due_now == result.lines and result.deferred == []
    assert result.charged_now.minor == max(case.net, 0)
    assert result.credited_now.minor == max(-case.net, 0)  # a credit, never a refund
    assert result.term == (case.new_term or case.term)
    assert result.anchor_day == (case.new_term[0].day if case.new_term else None)
    if case.taxes is not None:
        assert [line.amounts.tax.minor for line in result.lines] == case.taxes
    for line in result.lines:
        assert line.period.end == result.term.end or line.kind == Kind.CREDIT


def test_the_month_end_anchor_term_recovers_the_31st():
    assert period_containing(date(2026, 1, 31), "month", 1, date(2026, 3, 10)) == Period(
        date(2026, 2, 28), date(2026, 3, 31)
    )


def test_next_renewal_mode_defers_the_lines_to_the_renewal_invoice():
    # The upgrade of the first case: credit 3290, charge 8226 wait for 1 Apr. The renewal invoice
    # (1 Apr → 1 May, Business × 3) is 15000 + 8226 = 23226; the credit 3290 applied leaves 19936.
    shown = preview(PRO_3, BUSINESS_3, MAR_1, APR_1, MAR_15, mode="next_renewal")
    assert shown.result.due_now == [] and [line.amount.minor for line in shown.result.deferred] == [
        -3290,
        8226,
    ]
    assert shown.charged_now.minor == 0 and shown.credited_now.minor == 0
    assert shown.next_invoice_on == APR_1
    assert [
        (line.description, line.quantity, line.unit_price.minor, line.period)
        for line in shown.next_invoice.lines
    ] == [
        ("Business", 3, 5000, (APR_1, date(2026, 5, 1))),
        ("Remaining time on Business × 3 from 15 Mar 2026 to 31 Mar 2026", 1, 8226, (MAR_15, APR_1)),
    ]
    assert shown.next_invoice.total.minor == 23226
    assert shown.next_invoice_credit.total.minor == 3290
    assert shown.next_invoice_due.minor == 19936


def test_invoice_now_preview_shows_the_invoice_the_credit_note_and_the_next_invoice():
    # Exclusive tax case: invoice 8226 + 679 tax = 8905; credit note 3290 + 271 = 3561; charged now
    # 8905 − 3561 = 5344; the next invoice is a whole month of Business × 3: 15000 + 15000 × 0.0825
    # (1237.5 → 1238) = 16238.
    old = per_unit("Pro", "20.00", 3, tax=SALES_TAX)
    new = per_unit("Business", "50.00", 3, tax=SALES_TAX)
    shown = preview(old, new, MAR_1, APR_1, MAR_15)
    assert (shown.invoice.net.minor, shown.invoice.tax.minor, shown.invoice.total.minor) == (8226, 679, 8905)
    assert (shown.credit_note.net.minor, shown.credit_note.tax.minor, shown.credit_note.total.minor) == (
        3290,
        271,
        3561,
    )
    assert shown.charged_now.minor == 5344 and shown.credited_now.minor == 0
    assert (shown.next_invoice.tax.minor, shown.next_invoice.total.minor) == (1238, 16238)
    assert shown.next_invoice_due.minor == 16238
    # the preview is the applied result, line for line
    assert shown.result == prorate_change(old, new, MAR_1, APR_1, MAR_15)


def test_a_downgrade_preview_leaves_a_credit_and_charges_nothing():
    shown = preview(BUSINESS_3, PRO_3, MAR_1, APR_1, MAR_15)
    assert shown.charged_now.minor == 0 and shown.credited_now.minor == 4936
    assert shown.next_invoice.total.minor == 6000


def test_mode_none_changes_without_prorating():
    result = prorate_change(PRO_3, BUSINESS_3, MAR_1, APR_1, MAR_15, mode="none")
    assert result.lines == [] and result.net.minor == 0 and result.term == (MAR_1, APR_1)
    # an interval change still bills its new term (nothing credited)
    yearly = prorate_change(
        PRO_3, per_unit("Pro yearly", "200.00", 3, unit="year"), MAR_1, APR_1, MAR_15, mode="none"
    )
    assert [line.amount.minor for line in yearly.lines] == [60000]


def test_ledger_line_inputs_price_the_same():
    from portico.billing.services import LineInput, price_line

    result = prorate_change(
        flat("Pro", 6000, "EUR", tax=VAT), flat("Business", 15000, "EUR", tax=VAT), MAR_1, APR_1, MAR_15
    )
    renewal = renewal_lines(tiered("Seats", "tiered", 12), Period(APR_1, date(2026, 5, 1)))
    for line in result.lines + renewal:
        fields = line.line_input()
        assert fields["period_end"] in (date(2026, 3, 31), date(2026, 4, 30))  # the ledger's: the last day
        assert price_line(LineInput(**fields)) == line.amounts


def test_changes_that_cannot_be_prorated_are_refused():
    with pytest.raises(ValueError):
        prorate_change(PRO_3, BUSINESS_3, MAR_1, APR_1, date(2026, 4, 2))
    with pytest.raises(ValueError):
        prorate_change(PRO_3, flat("Yen", 100, "JPY"), MAR_1, APR_1, MAR_15)


# -- properties ---------------------------------------------------------------------------------------

prices = st.integers(min_value=0, max_value=10**9)
terms = st.builds(
    lambda start, unit, count: (start, unit, count),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    st.sampled_from(["day", "week", "month", "year"]),
    st.integers(1, 3),
)
taxes = st.sampled_from([Tax(), SALES_TAX, VAT])
discounts = st.sampled_from([None, LAUNCH, Discount(percent=Decimal("12.5"))])


def _term(start, unit, count):
    from portico.subscriptions.periods import add_interval

    return Period(start, add_interval(start, unit, count))


@given(terms, prices, taxes, discounts, st.integers(0, 400), st.sampled_from(["USD", "JPY", "BHD"]))
def test_a_change_to_the_same_configuration_nets_to_zero(term, price, tax, discount, offset, currency):
    start, unit, count = term
    period = _term(start, unit, count)
    on = date.fromordinal(start.toordinal() + offset % (period.days + 1))
    config = flat("Pro", price, currency, unit=unit, count=count, tax=tax, discount=discount)
    result = prorate_change(config, config, period.start, period.end, on)
    assert result.net.minor == 0
    assert sum(line.amounts.tax.minor for line in result.lines if line.kind == Kind.CHARGE) == sum(
        line.amounts.tax.minor for line in result.lines if line.kind == Kind.CREDIT
    )


@given(terms, prices, taxes, discounts, st.integers(1, 400))
def test_a_term_split_at_any_day_sums_to_its_price_within_a_minor_unit_per_line(
    term, price, tax, discount, offset
):
    start, unit, count = term
    period = _term(start, unit, count)
    used = 1 + (offset - 1) % period.days  # days before the change: 1 … all of them
    config = flat("Pro", price, unit=unit, count=count, tax=tax, discount=discount)
    full = prorated_line(Kind.CHARGE, config, period, period.days)
    on = date.fromordinal(start.toordinal() + used)
    parts = [prorated_line(Kind.CHARGE, config, period, used)]
    if used < period.days:
        # what a change on `on` charges for the rest of the term
        parts += prorate_change(config, config, period.start, period.end, on).charges()
    assert abs(sum(part.unit_price.minor for part in parts) - full.unit_price.minor) <= 1
    assert abs(sum(part.amounts.total.minor for part in parts) - full.amounts.total.minor) <= len(parts)


def test_an_addon_bought_mid_term_charges_its_remaining_time_only():
    # $9.00 a month × 17/31 = 493.55 → 494.
    result = prorate_change([], [flat("Extra storage", 900)], MAR_1, APR_1, MAR_15)
    assert [(line.kind, line.description, line.amount.minor) for line in result.lines] == [
        ("charge", "Remaining time on Extra storage from 15 Mar 2026 to 31 Mar 2026", 494)
    ]


def test_cancelling_with_a_prorated_credit_credits_the_unused_time_only():
    # 6000 × 17/31 → 3290, all of it the customer's credit.
    result = prorate_change([PRO_3], [], MAR_1, APR_1, MAR_15)
    assert [line.amount.minor for line in result.lines] == [-3290]
    assert result.charged_now.minor == 0 and result.credited_now.minor == 3290
    shown = preview([PRO_3], [], MAR_1, APR_1, MAR_15)
    assert shown.credited_now.minor == 3290 and shown.next_invoice.lines == []


def test_renewal_lines_bill_each_component_with_the_coupon_per_line():
    # Tiered 12 seats: 10 × $5.00 = 5000 and 2 × $4.00 = 800; a 20 % coupon on each line:
    # 5000 × 0.8 = 4000 (discount 1000), 800 × 0.8 = 640 (discount 160); tax 8.25 % on each net:
    # 4000 × 0.0825 = 330, 640 × 0.0825 = 52.8 → 53.
    seats = Config(
        "Seats",
        "USD",
        lambda q: price_components(
            name="Seats", pricing_model="tiered", currency="USD", quantity=q, tiers=TIERS
        ),
        quantity=12,
        discount=LAUNCH,
        tax=SALES_TAX,
    )
    period = Period(APR_1, date(2026, 5, 1))
    lines = renewal_lines(seats, period)
    assert [
        (
            line.description,
            line.quantity,
            line.unit_price.minor,
            line.amounts.discount.minor,
            line.amounts.tax.minor,
        )
        for line in lines
    ] == [("Seats (units 1–10)", 10, 500, 1000, 330), ("Seats (units 11–50)", 2, 400, 160, 53)]
    # $10 off, taken off the lines in order: 1000 off the 5000 line (→ 1 × 4000), nothing left for the next.
    fixed = renewal_lines(Config("Seats", "USD", seats.components, quantity=12, discount=TEN_OFF), period)
    assert [(line.description, line.quantity, line.unit_price.minor) for line in fixed] == [
        ("Seats (units 1–10) ($10 off: −$10.00)", 1, 4000),
        ("Seats (units 11–50)", 2, 400),
    ]
