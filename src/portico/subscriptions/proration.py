"""Proration of a subscription change, by days (DESIGN.md "Proration"; docs/billing.md, worked examples).

Pure functions over plain values (no ORM): `subscriptions.services` converts its rows into `Config`s,
calls `prorate_change` (or `preview`, which calls the same functions) and issues what comes back
through the ledger. As Zoho Billing and Chargebee do it:

- A term is `[term_start, term_end)` in the organization's local dates; a change on local date `d`
  applies from the start of `d`, so `remaining = (term_end − d).days`, `total = (term_end −
  term_start).days`.
- Credit for the unused part of what was paid for the old configuration, charge for the remaining
  part of the new one, each its own line naming its period. A line's amount is the configuration's
  price for a whole period after its coupon, × remaining / total, exact (`Fraction`) until it is
  rounded once, half-up, to the currency's minor unit; tax is then computed on the line by the
  ledger's own `billing.pricing.line_amounts` (exclusive: added; inclusive: carved out).
- A change within the same interval keeps the term end (the term never restarts). A change of
  interval (monthly → yearly) starts a new full term on `d`, charged in full now, with the unused
  part of the old term credited.
- Credits are never refunds: the caller puts credit lines on a credit note (customer credit), which
  it applies to the invoice of the charge lines; what is left stays the customer's credit.
- Modes (per organization): `invoice_now` (lines issued now), `next_renewal` (lines wait for the
  next renewal invoice), `none` (the change applies, nothing is prorated).
- During a trial nothing is charged, unless the organization ends the trial on a change: then a new
  term starts on `d` and is charged in full (nothing was paid, so nothing is credited).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from babel.dates import format_date
from django.utils.translation import gettext as _

from portico.billing.pricing import LineAmounts, document_totals, line_amounts
from portico.catalog.pricing import PricedComponent
from portico.core.money import Money, round_half_up
from portico.subscriptions.periods import Period, add_interval


class Mode(StrEnum):
    INVOICE_NOW = "invoice_now"
    NEXT_RENEWAL = "next_renewal"
    NONE = "none"


class Kind(StrEnum):
    CREDIT = "credit"
    CHARGE = "charge"


@dataclass(frozen=True)
class Discount:
    """A coupon as proration needs it: a percentage (12.5 means 12.5 %) or a fixed amount per period."""

    name: str = ""
    percent: Decimal | int | Fraction | None = None
    amount: Money | None = None

    def __post_init__(self):
        if (self.percent is None) == (self.amount is None):
            raise ValueError("A discount is either a percentage or a fixed amount")
        if isinstance(self.percent, float):
            raise TypeError("Percentages are Decimal, int or Fraction, never float")
        if self.percent is not None and not 0 <= Fraction(self.percent) <= 100:
            raise ValueError("A percentage is between 0 and 100")
        if self.amount is not None and self.amount.minor < 0:
            raise ValueError("A fixed discount is not negative")

    def apply(self, price_minor: Fraction | int, currency: str) -> Fraction:
        """The price after the discount, exact; a fixed amount never takes it below zero."""
        if self.percent is not None:
            return Fraction(price_minor) * (1 - Fraction(self.percent) / 100)
        if self.amount.currency != currency:
            raise ValueError(f"A {self.amount.currency} discount cannot apply to a {currency} price")
        return max(Fraction(0), Fraction(price_minor) - self.amount.minor)


@dataclass(frozen=True)
class Tax:
    """A tax rate as the ledger's lines carry it (`billing.services.LineInput`)."""

    name: str = ""
    percent: Decimal | int = Decimal(0)
    inclusive: bool = False


NO_TAX = Tax()


@dataclass(frozen=True)
class Config:
    """One priced item of a subscription (the plan, or one addon) for one billing interval.

    `components` are `catalog.pricing`'s for `quantity` (`price_for(plan, quantity)`), or a function
    quantity → components (`lambda q: price_for(plan, q)`). Prices include the tax when `tax` is
    inclusive, as the catalog's prices do."""

    name: str
    currency: str
    components: Sequence[PricedComponent] | Callable[[object], Sequence[PricedComponent]]
    quantity: int | Fraction | Decimal = 1
    unit: str = "month"
    count: int = 1
    discount: Discount | None = None
    tax: Tax = NO_TAX

    def priced(self) -> list[PricedComponent]:
        parts = self.components(self.quantity) if callable(self.components) else self.components
        for part in parts:
            if part.currency != self.currency:
                raise ValueError(f"A {part.currency} price in a {self.currency} configuration")
        return list(parts)

    @property
    def period_price(self) -> Money:
        """The price of a whole period before the discount: Σ of the components' rounded totals,
        what the renewal invoice's lines charge."""
        return Money.sum((part.total for part in self.priced()), self.currency)

    @property
    def period_net(self) -> Fraction:
        """The price of a whole period after the discount, exact (before exclusive tax)."""
        price = self.period_price.minor
        return self.discount.apply(price, self.currency) if self.discount else Fraction(price)

    @property
    def label(self) -> str:
        if self.quantity == 1:
            return self.name
        quantity = Fraction(self.quantity)
        shown = (
            quantity.numerator
            if quantity.denominator == 1
            else Decimal(quantity.numerator) / quantity.denominator
        )
        return f"{self.name} × {shown}"

    @property
    def interval(self) -> tuple[str, int]:
        return (self.unit, self.count)


@dataclass(frozen=True)
class ProratedLine:
    """One line of a proration (or a renewal): `period` is `[start, end)`; `days` of `period_days`.

    The ledger line is `quantity` × `unit_price` less `discount_percent`, taxed by `tax` (a
    prorated line is 1 × its prorated price, the coupon already inside it); `amounts` is what
    `billing.pricing.line_amounts` makes of it, so the ledger computes the same. Amounts are
    positive; `kind` says which way they go (`amount` is negative for a credit)."""

    kind: Kind
    description: str
    period: Period
    days: int
    period_days: int
    unit_price: Money
    tax: Tax
    amounts: LineAmounts
    quantity: Decimal = Decimal(1)
    discount_percent: Decimal = Decimal(0)

    @property
    def period_start(self) -> dt.date:
        return self.period.start

    @property
    def period_end(self) -> dt.date:
        """End exclusive, like every period here (the ledger's `period_end` is the last day)."""
        return self.period.end

    @property
    def amount(self) -> Money:
        """What the line charges (positive) or credits (negative), tax included."""
        return self.amounts.total if self.kind == Kind.CHARGE else -self.amounts.total

    def line_input(self) -> dict:
        """The keyword arguments of `billing.services.LineInput` for this line (on an invoice for a
        charge, on a credit note for a credit); the ledger's period end is the last day."""
        return {
            "description": self.description,
            "unit_price": self.unit_price,
            "quantity": self.quantity,
            "discount_percent": self.discount_percent,
            "tax_name": self.tax.name,
            "tax_percent": Decimal(self.tax.percent),
            "tax_inclusive": self.tax.inclusive,
            "period_start": self.period.start,
            "period_end": self.period.last_day,
        }


def _date(value: dt.date, locale: str) -> str:
    return format_date(value, "d MMM y", locale=locale)


def _describe(kind: Kind, config: Config, period: Period, locale: str) -> str:
    values = {
        "item": config.label,
        "start": _date(period.start, locale),
        "end": _date(period.last_day, locale),
    }
    if kind == Kind.CREDIT:
        text = _("Unused time on %(item)s from %(start)s to %(end)s") % values
    else:
        text = _("Remaining time on %(item)s from %(start)s to %(end)s") % values
    if config.discount and config.discount.name:
        text += " " + _("(after %(discount)s)") % {"discount": config.discount.name}
    return text


def prorated_line(
    kind: Kind, config: Config, period: Period, days: int, *, locale: str = "en_US"
) -> ProratedLine:
    """The line for the last `days` of the `period` (whose length prices `config` in full): the exact
    `period_net × days / period.days`, rounded once, half-up; tax per line by the ledger's rule."""
    total_days = period.days
    if total_days <= 0 or not 0 < days <= total_days:
        raise ValueError("A prorated line covers 1 to all of its period's days")
    remaining = Period(period.end - dt.timedelta(days=days), period.end)
    unit_price = Money(round_half_up(config.period_net * Fraction(days, total_days)), config.currency)
    amounts = line_amounts(1, unit_price, 0, config.tax.percent, config.tax.inclusive)
    return ProratedLine(
        kind=Kind(kind),
        description=_describe(kind, config, remaining, locale),
        period=remaining,
        days=days,
        period_days=total_days,
        unit_price=unit_price,
        tax=config.tax,
        amounts=amounts,
    )


@dataclass(frozen=True)
class ProrationResult:
    """What a change costs. `due_now` lines are issued now (charges on an invoice, credits on a credit
    note applied to it); `deferred` lines go on the next renewal invoice (mode `next_renewal`)."""

    mode: Mode
    currency: str
    term: Period  # the term after the change (a new one for an interval change or an ended trial)
    lines: list[ProratedLine] = field(default_factory=list)
    due_now: list[ProratedLine] = field(default_factory=list)
    deferred: list[ProratedLine] = field(default_factory=list)
    new_term: bool = False
    trial_ended: bool = False

    @property
    def anchor_day(self) -> int | None:
        """The new anchor's day of month when a new term starts (None: the anchor stays)."""
        return self.term.start.day if self.new_term else None

    def _sum(self, lines: Iterable[ProratedLine], kind: Kind | None = None) -> Money:
        return Money.sum((line.amount for line in lines if kind is None or line.kind == kind), self.currency)

    @property
    def net(self) -> Money:
        """Charges − credits over every line (negative: the customer is owed credit)."""
        return self._sum(self.lines)

    @property
    def charged_now(self) -> Money:
        """What the invoice issued now leaves to pay once the credit note of now is applied to it."""
        return max(self._sum(self.due_now), Money.zero(self.currency))

    @property
    def credited_now(self) -> Money:
        """What stays the customer's credit after the credit note of now is applied (never refunded)."""
        return max(-self._sum(self.due_now), Money.zero(self.currency))

    def charges(self, lines: Iterable[ProratedLine] | None = None) -> list[ProratedLine]:
        return [line for line in (self.due_now if lines is None else lines) if line.kind == Kind.CHARGE]

    def credits(self, lines: Iterable[ProratedLine] | None = None) -> list[ProratedLine]:
        return [line for line in (self.due_now if lines is None else lines) if line.kind == Kind.CREDIT]


def _as_configs(value: Config | Sequence[Config]) -> list[Config]:
    return [value] if isinstance(value, Config) else list(value)


def prorate_change(
    old: Config | Sequence[Config],
    new: Config | Sequence[Config],
    term_start: dt.date,
    term_end: dt.date,
    change_on: dt.date,
    *,
    mode: Mode | str = Mode.INVOICE_NOW,
    in_trial: bool = False,
    end_trial: bool = False,
    locale: str = "en_US",
) -> ProrationResult:
    """Prorate replacing the `old` item(s) by the `new` one(s) from the local date `change_on`
    within the paid term `[term_start, term_end)` (during a trial: the trial's dates).

    Pass only the items that change: an addon bought mid-term is `old=[]`, `new=[addon]`; an addon
    removed, or a cancellation credited for its unused time, is `old=[item], new=[]`."""
    mode = Mode(mode)
    olds, news = _as_configs(old), _as_configs(new)
    if not olds and not news:
        raise ValueError("Nothing changes")
    currencies = {config.currency for config in olds + news}
    if len(currencies) != 1:
        raise ValueError("A change cannot switch currencies")
    currency = currencies.pop()
    if not term_start < term_end:
        raise ValueError("A term lasts at least one day")
    if not term_start <= change_on <= term_end:
        raise ValueError("A change takes effect within the current term")
    term = Period(term_start, term_end)
    interval = (news or olds)[0].interval
    if any(config.interval != interval for config in news):
        raise ValueError("Every item of a subscription bills on the same interval")

    if in_trial:
        if not end_trial:
            return ProrationResult(mode=mode, currency=currency, term=term)
        # The trial ends today: a paid term starts now, charged in full (nothing to credit).
        new_term = Period(change_on, add_interval(change_on, *interval))
        lines = renewal_lines(news, new_term, locale=locale)
        return ProrationResult(
            mode=mode,
            currency=currency,
            term=new_term,
            lines=lines,
            due_now=lines,
            new_term=True,
            trial_ended=True,
        )

    remaining = (term_end - change_on).days
    changes_interval = any(config.interval != interval for config in olds)
    credits = []
    if mode != Mode.NONE and remaining:
        credits = [prorated_line(Kind.CREDIT, config, term, remaining, locale=locale) for config in olds]
    if changes_interval:
        # A new full term starts today and is billed now, whatever the mode (it is the new term's
        # first invoice); the unused part of the old term is credited on it.
        new_term = Period(change_on, add_interval(change_on, *interval))
        charges = renewal_lines(news, new_term, locale=locale)  # billed as any term is
        lines = [line for line in credits if line.unit_price] + charges
        return ProrationResult(
            mode=mode, currency=currency, term=new_term, lines=lines, due_now=lines, new_term=True
        )
    charges = []
    if mode != Mode.NONE and remaining:
        charges = [prorated_line(Kind.CHARGE, config, term, remaining, locale=locale) for config in news]
    lines = [line for line in credits + charges if line.unit_price]
    return ProrationResult(
        mode=mode,
        currency=currency,
        term=term,
        lines=lines,
        due_now=lines if mode == Mode.INVOICE_NOW else [],
        deferred=lines if mode == Mode.NEXT_RENEWAL else [],
    )


def renewal_lines(
    config: Config | Sequence[Config], period: Period, *, locale: str = "en_US"
) -> list[ProratedLine]:
    """The lines of the renewal invoice for `period`, as `subscriptions.services` bills a term: one
    line per priced component (quantity × unit when both are whole, else 1 × the component's
    rounded total); a percentage coupon is each line's discount, a fixed one is taken off the lines
    in order (never below zero, shared by the items that carry the same discount); tax per line."""
    lines, left = [], {}
    for item in _as_configs(config):
        discount = item.discount
        for part in item.priced():
            if part.quantity.denominator == 1 and part.unit_minor.denominator == 1:
                description = part.description
                quantity, unit_price = (
                    Decimal(part.quantity.numerator),
                    Money(int(part.unit_minor), item.currency),
                )
            else:
                description = f"{part.description} ({part.quantity} × {part.unit_price})"
                quantity, unit_price = Decimal(1), part.total
            percent = Decimal(0)
            if discount is not None and discount.percent is not None:
                percent = Decimal(discount.percent)
            elif discount is not None:
                net = line_amounts(quantity, unit_price).net.minor
                off = min(left.setdefault(discount, discount.amount.minor), net)
                left[discount] -= off
                if off:
                    off_text = f"−{Money(off, item.currency)}"
                    description = f"{description} ({discount.name}: {off_text})"
                    quantity, unit_price = Decimal(1), Money(net - off, item.currency)
            amounts = line_amounts(quantity, unit_price, percent, item.tax.percent, item.tax.inclusive)
            if not amounts.total and not amounts.discount:
                continue
            lines.append(
                ProratedLine(
                    kind=Kind.CHARGE,
                    description=description,
                    period=period,
                    days=period.days,
                    period_days=period.days,
                    unit_price=unit_price,
                    tax=item.tax,
                    amounts=amounts,
                    quantity=quantity,
                    discount_percent=percent,
                )
            )
    return lines


@dataclass(frozen=True)
class Summary:
    """Totals of some lines as a document would show them (sums of rounded line amounts)."""

    lines: list[ProratedLine]
    net: Money
    tax: Money
    total: Money

    @classmethod
    def of(cls, lines: Sequence[ProratedLine], currency: str) -> Summary:
        totals = document_totals((line.amounts for line in lines), currency)
        return cls(list(lines), totals.net, totals.tax, totals.total)


@dataclass(frozen=True)
class Preview:
    """What the customer sees before confirming a change, computed by `prorate_change` itself.

    `invoice`: the invoice issued now (charge lines); `credit_note`: the credit note issued now
    (credit lines), applied to that invoice; `charged_now` and `credited_now` what remains of each;
    `next_invoice`: the next renewal invoice (on `next_invoice_on`) with any deferred lines, and
    `next_invoice_credit` the deferred credit applied to it; `next_invoice_due` what it leaves to pay."""

    result: ProrationResult
    invoice: Summary
    credit_note: Summary
    charged_now: Money
    credited_now: Money
    next_invoice_on: dt.date
    next_invoice: Summary
    next_invoice_credit: Summary
    next_invoice_due: Money


def preview(
    old: Config | Sequence[Config],
    new: Config | Sequence[Config],
    term_start: dt.date,
    term_end: dt.date,
    change_on: dt.date,
    *,
    mode: Mode | str = Mode.INVOICE_NOW,
    in_trial: bool = False,
    end_trial: bool = False,
    renewal: Config | Sequence[Config] | None = None,
    locale: str = "en_US",
) -> Preview:
    """`prorate_change` and the next renewal invoice, as the confirmation page shows them.

    `renewal` is what the next period bills when it differs from `new` (a coupon that runs out)."""
    result = prorate_change(
        old,
        new,
        term_start,
        term_end,
        change_on,
        mode=mode,
        in_trial=in_trial,
        end_trial=end_trial,
        locale=locale,
    )
    currency = result.currency
    news = _as_configs(new if renewal is None else renewal)
    next_lines = result.charges(result.deferred)
    if news:  # nothing renews after a cancellation
        next_period = Period(result.term.end, add_interval(result.term.end, *news[0].interval))
        next_lines = renewal_lines(news, next_period, locale=locale) + next_lines
    next_invoice = Summary.of(next_lines, currency)
    next_credit = Summary.of(result.credits(result.deferred), currency)
    return Preview(
        result=result,
        invoice=Summary.of(result.charges(), currency),
        credit_note=Summary.of(result.credits(), currency),
        charged_now=result.charged_now,
        credited_now=result.credited_now,
        next_invoice_on=result.term.end,
        next_invoice=next_invoice,
        next_invoice_credit=next_credit,
        next_invoice_due=max(next_invoice.total - next_credit.total, Money.zero(currency)),
    )
