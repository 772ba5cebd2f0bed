"""Charts drawn on the server as SVG: no JavaScript, each with its numbers as a table beside it.

Pure functions of the values they are given (no models, no queries): a page's selector computes the
numbers, `bar_chart` or `line_chart` turns them into a `Chart`, and `{% chart chart %}`
(`core.templatetags.charts`) renders the SVG, its legend and a table of the same numbers in a
`<details>`; with nothing to draw it renders the chart's "nothing yet" sentence instead.

- Values are integers (money in minor units, formatted by `MoneyValues` through the one money
  formatting, Babel in the organization's locale) or `Decimal`s (hours, by `NumberValues`). Floats are
  refused, as everywhere money is.
- The SVG scales to its container (`viewBox`, width 100%); colours come from the CSS design tokens
  (`--chart-1`… in portico.css, light and dark) through `currentColor`, and every series also has
  its own fill pattern (bars) or dash and marker shape (lines), so colour is never the only signal.
- Every text is escaped here: a series or category named `<script>` stays text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from babel.dates import format_skeleton
from babel.numbers import format_compact_currency, format_compact_decimal, format_decimal
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from portico.core.money import Money
from portico.core.templatetags.money import current_locale, format_money

Number = int | Decimal

# The drawing's own coordinates; the page scales them to its width (portico.css `.chart`).
WIDTH, HEIGHT = 480, 260
TOP, RIGHT, BOTTOM = 14, 10, 30
# Widest text per character, in drawing units, at the largest font the CSS uses (phones): the
# left margin is sized for the longest tick label so it is never cut off.
CHAR_WIDTH = 10.5
PATTERNS = 4  # series cycle through this many fills / dashes / markers
_ID = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


# -- values and how they read -------------------------------------------------------------------------


class MoneyValues:
    """Amounts in minor units of one currency: the table says `$1,234.50`, the axis `$1.2K`."""

    def __init__(self, currency: str, locale: str | None = None):
        self.currency = currency
        self.locale = locale

    def full(self, value: Number) -> str:
        return format_money(int(value), self.currency, self.locale or current_locale())

    def axis(self, value: Number) -> str:
        major = Money(int(value), self.currency).decimal
        return format_compact_currency(
            major, self.currency, locale=self.locale or current_locale(), fraction_digits=1
        )


class NumberValues:
    """Quantities such as hours (`Decimal`): `12.25 h` in the table, `12 h` or `1.5K h` on the axis."""

    def __init__(self, unit: str = "", locale: str | None = None, places: int = 2):
        self.unit = unit
        self.locale = locale
        self.places = places

    def _with_unit(self, text: str) -> str:
        return f"{text}\u00a0{self.unit}" if self.unit else text

    def full(self, value: Number) -> str:
        pattern = "#,##0." + "#" * self.places if self.places else "#,##0"
        return self._with_unit(format_decimal(value, format=pattern, locale=self.locale or current_locale()))

    def axis(self, value: Number) -> str:
        text = format_compact_decimal(value, locale=self.locale or current_locale(), fraction_digits=1)
        return self._with_unit(text)


# -- what a chart shows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """A point on the horizontal axis: `label` on the axis ("Jan"), `full_label` in the table."""

    label: str
    full_label: str = ""

    @property
    def long(self) -> str:
        return self.full_label or self.label


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Number]


@dataclass(frozen=True)
class TableRow:
    header: str
    cells: list[tuple[str, str]]  # (column header, formatted value) — the header labels phone rows


@dataclass(frozen=True)
class Table:
    caption: str
    category_header: str
    headers: list[str]
    rows: list[TableRow]
    totals: TableRow | None = None


@dataclass(frozen=True)
class LegendEntry:
    label: str
    swatch: SafeString


@dataclass(frozen=True)
class Chart:
    id: str
    kind: str  # "bar", "stacked", "line" or "step"
    title: str
    description: str
    empty_text: str
    is_empty: bool
    svg: SafeString
    legend: list[LegendEntry]
    table: Table
    ticks: list[Number]


def month_categories(months: Sequence, locale: str | None = None) -> list[Category]:
    """First days of months as categories: "Jan" on the axis, "January 2026" in the table."""
    locale = locale or current_locale()
    return [
        Category(format_skeleton("MMM", month, locale=locale), format_skeleton("yMMMM", month, locale=locale))
        for month in months
    ]


# -- axis ticks -------------------------------------------------------------------------------------


def nice_ticks(low: Number, high: Number, *, count: int = 5, integer: bool = True) -> list[Number]:
    """Evenly spaced round values (steps of 1, 2 or 5 × 10ⁿ) from at or below `min(low, 0)` to at or
    above `max(high, 0)`, about `count` intervals. With `integer`, steps are whole (minor units), so
    the ticks are ints; otherwise Decimals. An all-zero range still gets an axis: 0 to 1."""
    low, high = min(Fraction(low), Fraction(0)), max(Fraction(high), Fraction(0))
    if low == high:
        high = Fraction(1)
    rough = (high - low) / count
    magnitude = Fraction(10) ** (len(str(int(rough))) - 1) if rough >= 1 else _small_magnitude(rough)
    step = next(n * magnitude for n in (1, 2, 5, 10) if n * magnitude >= rough)
    if integer:
        step = max(step, Fraction(1))
        step = Fraction(int(step)) if step.denominator == 1 else Fraction(int(step) + 1)
    first = _floor(low / step) * step
    last = -_floor(-high / step) * step
    ticks, value = [], first
    while value <= last:
        ticks.append(int(value) if integer else _decimal(value))
        value += step
    return ticks


def _small_magnitude(rough: Fraction) -> Fraction:
    magnitude = Fraction(1)
    while magnitude > rough:
        magnitude /= 10
    return magnitude


def _floor(value: Fraction) -> int:
    return value.numerator // value.denominator


def _decimal(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).normalize() + Decimal(0)


# -- building charts ----------------------------------------------------------------------------------


def bar_chart(
    *,
    id: str,
    title: str,
    categories: Sequence[Category],
    series: Sequence[Series],
    values: MoneyValues | NumberValues,
    category_header: str = "",
    description: str = "",
    empty_text: str = "",
    stacked: bool = False,
) -> Chart:
    """Bars per category, one per series side by side, or `stacked` on top of each other (negative
    parts below the zero line). The table has a total row, and with `stacked` a total column."""
    return _chart(
        "stacked" if stacked else "bar",
        id=id,
        title=title,
        categories=categories,
        series=series,
        values=values,
        category_header=category_header,
        description=description,
        empty_text=empty_text,
    )


def line_chart(
    *,
    id: str,
    title: str,
    categories: Sequence[Category],
    series: Sequence[Series],
    values: MoneyValues | NumberValues,
    category_header: str = "",
    description: str = "",
    empty_text: str = "",
    step: bool = False,
) -> Chart:
    """One line per series over the categories (dates, months), e.g. budgeted vs billed vs paid,
    cumulative; with `step` each value holds until the next (a running total that moves in jumps)."""
    return _chart(
        "step" if step else "line",
        id=id,
        title=title,
        categories=categories,
        series=series,
        values=values,
        category_header=category_header,
        description=description,
        empty_text=empty_text,
    )


def _chart(
    kind: str, *, id, title, categories, series, values, category_header, description, empty_text
) -> Chart:
    chart_id, categories, series = id, list(categories), list(series)
    if not _ID.match(chart_id):
        raise ValueError(f"A chart id is lower-case letters, digits and dashes: {chart_id!r}")
    for one in series:
        if len(one.values) != len(categories):
            raise ValueError(
                f"Series {one.label!r} has {len(one.values)} values for {len(categories)} categories"
            )
        for value in one.values:
            if isinstance(value, bool) or not isinstance(value, int | Decimal):
                raise TypeError(f"Chart values are int or Decimal, not {type(value).__name__}")
    integer = isinstance(values, MoneyValues)
    is_empty = not categories or not series or all(v == 0 for s in series for v in s.values)
    bars = kind in ("bar", "stacked")
    if kind == "stacked":
        tops = [sum((s.values[i] for s in series if s.values[i] > 0), 0) for i in range(len(categories))]
        bottoms = [sum((s.values[i] for s in series if s.values[i] < 0), 0) for i in range(len(categories))]
    else:
        tops = bottoms = [v for s in series for v in s.values]
    ticks = nice_ticks(min(bottoms, default=0), max(tops, default=0), integer=integer) if not is_empty else []
    description = _description(kind, description, categories, series)
    table = _table(title, category_header or _("Period"), categories, series, values, kind)
    svg = (
        mark_safe("")
        if is_empty
        else _svg(kind, chart_id, title, description, categories, series, values, ticks)
    )
    legend = [LegendEntry(s.label, _swatch(chart_id, i, bars)) for i, s in enumerate(series)]
    return Chart(
        id=chart_id,
        kind=kind,
        title=title,
        description=description,
        empty_text=empty_text or _("Nothing to show yet."),
        is_empty=is_empty,
        svg=svg,
        legend=legend,
        table=table,
        ticks=ticks,
    )


def _description(kind: str, given: str, categories: list[Category], series: list[Series]) -> str:
    names = ", ".join(s.label for s in series)
    shape = {
        "bar": _("Bar chart"),
        "stacked": _("Stacked bar chart"),
        "line": _("Line chart"),
        "step": _("Step chart"),
    }[kind]
    text = _("%(shape)s of %(series)s") % {"shape": shape, "series": names}
    if categories:
        text += ", " + _("from %(first)s to %(last)s") % {
            "first": categories[0].long,
            "last": categories[-1].long,
        }
    text += ". " + _("The same numbers are in the table below the chart.")
    return f"{given} {text}" if given else text


def _table(title, category_header, categories, series, values, kind) -> Table:
    headers = [s.label for s in series]
    with_total = kind == "stacked" and len(series) > 1
    if with_total:
        headers.append(_("Total"))
    rows = []
    for i, category in enumerate(categories):
        row = [s.values[i] for s in series]
        if with_total:
            row.append(sum(row, 0))
        rows.append(TableRow(category.long, [(h, values.full(v)) for h, v in zip(headers, row, strict=True)]))
    totals = None
    if kind in ("bar", "stacked") and len(categories) > 1:
        sums = [sum(s.values, 0) for s in series]
        if with_total:
            sums.append(sum(sums, 0))
        totals = TableRow(_("Total"), [(h, values.full(v)) for h, v in zip(headers, sums, strict=True)])
    return Table(caption=title, category_header=category_header, headers=headers, rows=rows, totals=totals)


# -- drawing ----------------------------------------------------------------------------------------


def _n(value: float) -> str:
    """A coordinate, short: 12.5 not 12.500000001."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _axis_labels(ticks, values) -> list[str]:
    labels = [values.axis(t) for t in ticks]
    if len(set(labels)) < len(labels):  # compact labels collided ("$1M" twice): say them in full
        labels = [values.full(t) for t in ticks]
    return labels


def _svg(kind, chart_id, title, description, categories, series, values, ticks) -> SafeString:
    labels = _axis_labels(ticks, values)
    left = min(max(40, int(max(len(label) for label in labels) * CHAR_WIDTH) + 10), WIDTH // 3)
    plot_width, plot_height = WIDTH - left - RIGHT, HEIGHT - TOP - BOTTOM
    low, high = Fraction(ticks[0]), Fraction(ticks[-1])

    def y(value: Number) -> float:
        return TOP + float(plot_height * (high - Fraction(value)) / (high - low))

    band = plot_width / len(categories)
    parts = [
        f'<svg class="chart-svg chart-kind-{kind}" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        _patterns(chart_id, len(series)),
        '<g class="chart-axis">',
    ]
    for tick, label in zip(ticks, labels, strict=True):
        line_class = "chart-zero" if tick == 0 else "chart-grid"
        ty = _n(y(tick))
        parts.append(f'<line class="{line_class}" x1="{left}" x2="{WIDTH - RIGHT}" y1="{ty}" y2="{ty}"/>')
        parts.append(
            f'<text class="chart-tick" x="{left - 6}" y="{ty}" dy="0.35em" text-anchor="end">{escape(label)}</text>'
        )
    every = max(1, -(-len(categories) // 12))  # at most about twelve labels under the axis
    for i, category in enumerate(categories):
        if i % every:
            continue
        alternate = " chart-label-alt" if (i // every) % 2 else ""
        cx = _n(left + band * (i + 0.5))
        parts.append(
            f'<text class="chart-label{alternate}" x="{cx}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"{escape(category.label)}</text>"
        )
    parts.append("</g>")
    if kind in ("bar", "stacked"):
        parts.extend(_bars(kind, chart_id, categories, series, values, left, band, y))
    else:
        parts.extend(_lines(kind, categories, series, values, left, band, y))
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _fill(chart_id: str, index: int) -> str:
    return "currentColor" if index % PATTERNS == 0 else f"url(#{chart_id}-p{index % PATTERNS})"


def _patterns(chart_id: str, count: int) -> str:
    """Series 2… fill their bars with stripes, dots or a cross-hatch in their colour (series 1 is solid)."""
    shapes = {
        1: '<path d="M0 0V6" stroke="currentColor" stroke-width="3"/>',
        2: '<circle cx="3" cy="3" r="1.6" fill="currentColor"/>',
        3: '<path d="M0 0V6M0 0H6" stroke="currentColor" stroke-width="2"/>',
    }
    defs = []
    for index in range(1, min(count, PATTERNS)):
        rotate = ' patternTransform="rotate(45)"' if index != 2 else ""
        defs.append(
            f'<pattern id="{chart_id}-p{index}" class="chart-s{index}" patternUnits="userSpaceOnUse" '
            f'width="6" height="6"{rotate}><rect class="chart-pattern-ground" width="6" height="6"/>'
            f"{shapes[index]}</pattern>"
        )
    return f"<defs>{''.join(defs)}</defs>" if defs else ""


def _bars(kind, chart_id, categories, series, values, left, band, y) -> list[str]:
    parts = []
    inner = band * 0.8
    width = inner / len(series) if kind == "bar" else inner * 0.75
    for s_index, one in enumerate(series):
        css = f"chart-bar chart-s{s_index % PATTERNS}"
        parts.append(f'<g class="{css}" fill="{_fill(chart_id, s_index)}">')
        for c_index, value in enumerate(one.values):
            if kind == "bar":
                x = left + band * c_index + band * 0.1 + width * s_index
                start = 0
            else:
                x = left + band * c_index + (band - width) / 2
                # stacked: positives pile up from zero, negatives down from zero, in series order
                same_sign = [
                    s.values[c_index]
                    for s in series[:s_index]
                    if (s.values[c_index] > 0) == (value > 0) and s.values[c_index] != 0
                ]
                start = sum(same_sign, 0)
            y0, y1 = y(start), y(start + value)
            label = f"{one.label}, {categories[c_index].long}: {values.full(value)}"
            parts.append(
                f'<rect x="{_n(x)}" y="{_n(min(y0, y1))}" width="{_n(width)}" height="{_n(abs(y1 - y0))}">'
                f"<title>{escape(label)}</title></rect>"
            )
        parts.append("</g>")
    return parts


DASHES = ("", "7 4", "2 3", "9 3 2 3")


def _marker(index: int, x: float, y: float) -> str:
    shape = index % PATTERNS
    if shape == 0:
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3.5"'
    if shape == 1:
        return f'<rect x="{_n(x - 3.5)}" y="{_n(y - 3.5)}" width="7" height="7"'
    if shape == 2:
        return f'<path d="M{_n(x)} {_n(y - 4.5)}L{_n(x + 4.5)} {_n(y + 3.5)}H{_n(x - 4.5)}Z"'
    return (
        f'<path d="M{_n(x)} {_n(y - 4.5)}L{_n(x + 4.5)} {_n(y)}L{_n(x)} {_n(y + 4.5)}L{_n(x - 4.5)} {_n(y)}Z"'
    )


def _lines(kind, categories, series, values, left, band, y) -> list[str]:
    parts = []
    for s_index, one in enumerate(series):
        points = [(left + band * (i + 0.5), y(v)) for i, v in enumerate(one.values)]
        path = f"M{_n(points[0][0])} {_n(points[0][1])}"
        for x, py in points[1:]:
            path += f"H{_n(x)}V{_n(py)}" if kind == "step" else f"L{_n(x)} {_n(py)}"
        dash = DASHES[s_index % PATTERNS]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<g class="chart-series chart-s{s_index % PATTERNS}">')
        parts.append(f'<path class="chart-line" d="{path}"{dash_attr}/>')
        for i, (x, py) in enumerate(points):
            label = f"{one.label}, {categories[i].long}: {values.full(one.values[i])}"
            parts.append(
                f'{_marker(s_index, x, py)} class="chart-marker"><title>{escape(label)}</title></{_tag(s_index)}>'
            )
        parts.append("</g>")
    return parts


def _tag(index: int) -> str:
    return ("circle", "rect", "path", "path")[index % PATTERNS]


def _swatch(chart_id: str, index: int, bars: bool) -> SafeString:
    """The legend's sample of a series: its bar fill, or its line's dash and marker."""
    css = f"chart-swatch chart-s{index % PATTERNS}"
    if bars:
        body = f'<rect class="chart-bar" x="1" y="1" width="22" height="12" fill="{_fill(chart_id, index)}"/>'
    else:
        dash = DASHES[index % PATTERNS]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        body = (
            f'<path class="chart-line" d="M0 7H24"{dash_attr}/>{_marker(index, 12, 7)} class="chart-marker"/>'
        )
    return mark_safe(
        f'<svg class="{css}" viewBox="0 0 24 14" width="24" height="14" aria-hidden="true" focusable="false">{body}</svg>'
    )
