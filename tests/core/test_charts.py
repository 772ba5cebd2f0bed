"""The chart module: SVG that parses, bars as tall as their values, a table with the same numbers,
text kept as text, an empty state instead of a broken chart, and round axis ticks."""

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.template import Context, Template

from portico.core.charts import (
    Category,
    MoneyValues,
    NumberValues,
    Series,
    bar_chart,
    line_chart,
    month_categories,
    nice_ticks,
)

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = month_categories([dt.date(2026, m, 1) for m in (1, 2, 3)], "en_US")


def usd_bars(*series: Series, **options):
    return bar_chart(
        id="money",
        title="Invoiced and paid",
        categories=MONTHS,
        series=list(series),
        values=MoneyValues("USD", "en_US"),
        category_header="Month",
        **options,
    )


def parsed(chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))


def bars_of(root: ET.Element, series_index: int) -> list[ET.Element]:
    group = next(g for g in root.iter(f"{SVG}g") if f"chart-s{series_index}" in g.get("class", "").split())
    return list(group.iter(f"{SVG}rect"))


def zero_line(root: ET.Element) -> float:
    return float(
        next(line for line in root.iter(f"{SVG}line") if line.get("class") == "chart-zero").get("y1")
    )


def rendered(chart) -> str:
    return Template("{% load charts %}{% chart chart %}").render(Context({"chart": chart}))


def test_the_svg_is_well_formed_and_labelled_for_assistive_technology():
    chart = usd_bars(Series("Invoiced", [100000, 0, 25000]), Series("Paid", [50000, 12500, 0]))
    root = parsed(chart)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "money-title money-desc"
    assert root.get("viewBox") == "0 0 480 260" and root.get("width") == "100%"
    assert root.find(f"{SVG}title").text == "Invoiced and paid"
    assert root.find(f"{SVG}title").get("id") == "money-title"
    desc = root.find(f"{SVG}desc")
    assert desc.get("id") == "money-desc"
    assert desc.text == (
        "Bar chart of Invoiced, Paid, from January 2026 to March 2026. "
        "The same numbers are in the table below the chart."
    )


def test_bar_heights_are_proportional_to_the_values():
    chart = usd_bars(Series("Invoiced", [100000, 0, 25000]), Series("Paid", [50000, 12500, 75000]))
    root = parsed(chart)
    invoiced, paid = bars_of(root, 0), bars_of(root, 1)
    heights = [float(r.get("height")) for r in invoiced + paid]
    # the axis runs $0 → $1,000 in steps of $200: the tallest bar reaches the top tick
    assert chart.ticks == [0, 20000, 40000, 60000, 80000, 100000]
    per_cent = heights[0] / 100000
    for height, value in zip(heights, [100000, 0, 25000, 50000, 12500, 75000], strict=True):
        assert height == pytest.approx(value * per_cent, abs=0.01)
    # every bar stands on the zero line
    zero = zero_line(root)
    for rect in invoiced + paid:
        assert float(rect.get("y")) + float(rect.get("height")) == pytest.approx(zero, abs=0.01)


def test_negative_values_hang_below_the_zero_line():
    chart = usd_bars(Series("Net", [30000, -10000, 0]))
    root = parsed(chart)
    zero = zero_line(root)
    up, down, _ = bars_of(root, 0)
    assert float(up.get("y")) + float(up.get("height")) == pytest.approx(zero)
    assert float(down.get("y")) == pytest.approx(zero)
    assert float(up.get("height")) == pytest.approx(3 * float(down.get("height")), abs=0.01)
    assert chart.ticks[0] < 0 < chart.ticks[-1]


def test_stacked_bars_pile_up_and_the_table_adds_a_total_column():
    hours = bar_chart(
        id="hours",
        title="Hours per month by task",
        categories=MONTHS,
        series=[
            Series("Design", [Decimal("2.5"), Decimal("0"), Decimal("4")]),
            Series("Build", [Decimal("1.25"), Decimal("3"), Decimal("0")]),
        ],
        values=NumberValues("h", "en_US"),
        category_header="Month",
        stacked=True,
    )
    root = parsed(hours)
    design, build = bars_of(root, 0), bars_of(root, 1)
    # January: Build sits on top of Design
    assert float(build[0].get("y")) + float(build[0].get("height")) == pytest.approx(
        float(design[0].get("y")), abs=0.01
    )
    assert hours.table.headers == ["Design", "Build", "Total"]
    assert hours.table.rows[0].cells == [
        ("Design", "2.5\xa0h"),
        ("Build", "1.25\xa0h"),
        ("Total", "3.75\xa0h"),
    ]
    assert hours.table.totals.cells == [
        ("Design", "6.5\xa0h"),
        ("Build", "4.25\xa0h"),
        ("Total", "10.75\xa0h"),
    ]


def test_the_table_carries_the_exact_numbers_with_a_caption_and_scoped_headers():
    chart = usd_bars(Series("Invoiced", [539085, 0, 25000]), Series("Paid", [200000, 339085, 0]))
    html = rendered(chart)
    assert "<caption>Invoiced and paid</caption>" in html
    assert (
        '<th scope="col">Month</th><th scope="col" class="num">Invoiced</th><th scope="col" class="num">Paid</th>'
        in html
    )
    assert (
        '<tr><th scope="row">January 2026</th><td class="num" data-label="Invoiced">$5,390.85</td>'
        '<td class="num" data-label="Paid">$2,000.00</td></tr>'
    ) in html
    assert '<th scope="row">February 2026</th><td class="num" data-label="Invoiced">$0.00</td>' in html
    assert (
        '<tfoot><tr><th scope="row">Total</th><td class="num" data-label="Invoiced">$5,640.85</td>'
        '<td class="num" data-label="Paid">$5,390.85</td></tr></tfoot>'
    ) in html
    assert "<details" in html and 'aria-hidden="true"' in html  # legend swatches are decoration


def test_money_is_formatted_in_the_locale_it_is_given():
    chart = bar_chart(
        id="eur",
        title="Rechnungen",
        categories=month_categories([dt.date(2026, 3, 1)], "de_DE"),
        series=[Series("Rechnungen", [123456])],
        values=MoneyValues("EUR", "de_DE"),
    )
    assert chart.table.rows[0].header == "März 2026"
    assert chart.table.rows[0].cells == [("Rechnungen", "1.234,56\xa0€")]


def test_names_are_escaped_not_injected():
    chart = bar_chart(
        id="hostile",
        title='<script>alert("t")</script>',
        categories=[Category("<b>Jan</b>", "<img src=x onerror=alert(1)>")],
        series=[Series("<script>task</script>", [Decimal("3")])],
        values=NumberValues("h", "en_US"),
    )
    html = rendered(chart)
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;task&lt;/script&gt;" in html
    root = parsed(chart)  # still well formed
    assert root.find(f"{SVG}title").text == '<script>alert("t")</script>'


def test_empty_data_says_nothing_yet_instead_of_drawing():
    for series in ([], [Series("Invoiced", [0, 0, 0]), Series("Paid", [0, 0, 0])]):
        chart = usd_bars(*series, empty_text="Nothing invoiced or paid yet.")
        assert chart.is_empty
        html = rendered(chart)
        assert "Nothing invoiced or paid yet." in html
        assert "<svg" not in html and "<table" not in html
    no_months = bar_chart(id="none", title="t", categories=[], series=[], values=MoneyValues("USD", "en_US"))
    assert no_months.is_empty and "Nothing to show yet." in rendered(no_months)


def test_huge_values_keep_exact_table_numbers_and_a_round_axis():
    huge = 10**15 - 1  # the largest typed amount, in cents
    chart = usd_bars(Series("Invoiced", [huge, huge, 1]))
    assert chart.table.rows[0].cells == [("Invoiced", "$9,999,999,999,999.99")]
    assert chart.table.totals.cells == [("Invoiced", "$19,999,999,999,999.99")]
    assert chart.ticks[-1] >= huge
    ET.fromstring(str(chart.svg))


def test_line_and_step_charts_draw_one_path_per_series_with_distinct_dashes_and_markers():
    burn = line_chart(
        id="burn",
        title="Budget burn",
        categories=MONTHS,
        series=[
            Series("Budgeted", [500000, 500000, 500000]),
            Series("Billed", [100000, 250000, 400000]),
            Series("Paid", [0, 100000, 250000]),
        ],
        values=MoneyValues("USD", "en_US"),
        step=True,
    )
    root = parsed(burn)
    paths = [p for p in root.iter(f"{SVG}path") if p.get("class") == "chart-line"]
    assert len(paths) == 3
    assert {p.get("stroke-dasharray") for p in paths} == {None, "7 4", "2 3"}
    assert "H" in paths[1].get("d") and "V" in paths[1].get("d")  # steps, not slopes
    markers = {m.tag for m in root.iter() if m.get("class") == "chart-marker"}
    assert markers == {f"{SVG}circle", f"{SVG}rect", f"{SVG}path"}
    assert burn.table.totals is None  # running totals are not added up
    assert burn.table.rows[2].cells == [
        ("Budgeted", "$5,000.00"),
        ("Billed", "$4,000.00"),
        ("Paid", "$2,500.00"),
    ]


def test_floats_and_mismatched_lengths_are_refused():
    with pytest.raises(TypeError):
        usd_bars(Series("Invoiced", [1.5, 0, 0]))
    with pytest.raises(ValueError):
        usd_bars(Series("Invoiced", [1, 2]))
    with pytest.raises(ValueError):
        bar_chart(id='x" onload="', title="t", categories=[], series=[], values=MoneyValues("USD"))


@pytest.mark.parametrize(
    ("low", "high", "integer", "expected"),
    [
        (0, 539085, True, [0, 200000, 400000, 600000]),
        (0, 100000, True, [0, 20000, 40000, 60000, 80000, 100000]),
        (-1200, 5000, True, [-2000, 0, 2000, 4000, 6000]),
        (0, 0, True, [0, 1]),
        (0, 3, True, [0, 1, 2, 3]),
        (0, Decimal("7.5"), False, [0, 2, 4, 6, 8]),
        (0, Decimal("0.3"), False, [0, Decimal("0.1"), Decimal("0.2"), Decimal("0.3")]),
        (-500, -100, True, [-500, -400, -300, -200, -100, 0]),
    ],
)
def test_axis_ticks_are_round_steps_that_cover_zero_and_every_value(low, high, integer, expected):
    assert nice_ticks(low, high, integer=integer) == expected


def test_axis_labels_are_compact_and_never_repeat():
    chart = usd_bars(Series("Invoiced", [120000000, 0, 0]))  # $1.2M
    labels = [t.text for t in parsed(chart).iter(f"{SVG}text") if t.get("class") == "chart-tick"]
    assert labels == ["$0", "$500K", "$1M", "$1.5M"]
    small = usd_bars(Series("Invoiced", [35, 0, 0]))  # 35 cents
    labels = [t.text for t in parsed(small).iter(f"{SVG}text") if t.get("class") == "chart-tick"]
    assert labels == ["$0", "$0.1", "$0.2", "$0.3", "$0.4"]
