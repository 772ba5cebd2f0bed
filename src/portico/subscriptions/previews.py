"""What a subscription's next invoice and each portal action will cost, before the customer confirms.

Computed from the same pieces the services and the bill run bill with (`subscriptions.pricing`'s
configurations and period lines, `proration.prorate_change`), so the page shows what is then
issued. `next_invoice` works from rows the caller already loaded (plan and tiers, items and their
addons, active redemptions and their coupons): a list of subscriptions costs no query per row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from portico.billing import services as billing
from portico.billing.pricing import document_totals
from portico.catalog.models import Coupon
from portico.core.money import Money
from portico.subscriptions import periods, pricing, proration, services
from portico.subscriptions.models import CouponRedemption, Status, Subscription

S = Status


@dataclass(frozen=True)
class NextInvoice:
    """The next invoice: its date, period, lines and totals; `credit` is proration credit deferred
    to it (applied to it when it is issued), `due` what it then leaves to pay."""

    on: dt.date
    period: periods.Period
    summary: proration.Summary
    credit: Money | None = None

    @property
    def total(self) -> Money:
        return self.summary.total

    @property
    def due(self) -> Money:
        if not self.credit:
            return self.total
        return max(self.total - self.credit, Money.zero(self.total.currency))


def active_redemption(subscription: Subscription) -> CouponRedemption | None:
    """From `prefetch_related("redemptions__coupon")` when loaded (no query), else one query."""
    return pricing.active_redemption(subscription)


def _pricing(subscription: Subscription, *, coupon: Coupon | None = None, items=None) -> pricing.Pricing:
    if items is None and "items" in getattr(subscription, "_prefetched_objects_cache", {}):
        items = list(subscription.items.all())
    return pricing.Pricing.of(subscription, coupon=coupon, items=items)


def configs(
    subscription: Subscription, *, coupon: Coupon | None = None, items=None
) -> list[proration.Config]:
    """The plan and every recurring addon as proration's configurations, the active coupon applied
    (or `coupon` instead, for a coupon preview)."""
    return _pricing(subscription, coupon=coupon, items=items).everything()


def paid_configs(subscription: Subscription) -> list[proration.Config]:
    """The configurations as the current term was paid (its coupon then): what its unused part
    credits (`pricing.Pricing.paid`)."""
    return pricing.Pricing.paid(subscription).everything()


def _term_end(subscription: Subscription, start: dt.date) -> dt.date:
    return pricing.term_end(subscription.plan, start, subscription.anchor_day)


def next_invoice(subscription: Subscription, *, coupon: Coupon | None = None) -> NextInvoice | None:
    """The next renewal (or first) invoice: its date, period and totals; None when nothing renews."""
    status = subscription.status
    if status in (S.LIVE,) and subscription.current_term_end:
        start = subscription.current_term_end
    elif status == S.IN_TRIAL and subscription.trial_end:
        start = subscription.trial_end
    elif status == S.FUTURE:
        start = subscription.start_date
    elif status == S.PAUSED and subscription.resume_on:
        start = subscription.resume_on
    else:
        return None  # non-renewing, unpaid, cancelled, expired, paused indefinitely
    if subscription.billing_cycles and subscription.cycles_billed >= subscription.billing_cycles:
        return None
    period = periods.Period(start, _term_end(subscription, start))
    fee = pricing.setup_fee_line(subscription.plan) if subscription.cycles_billed == 0 else None
    lines = pricing.period_lines(configs(subscription, coupon=coupon), period, setup_fee=fee)
    # Proration deferred to this renewal (mode "next renewal"): its charges are on the invoice, its
    # credits applied to it (as the bill run bills it).
    deferred = services.Proration.from_stored(subscription.deferred_lines or [])
    lines += list(deferred.charges)
    summary = _summary(lines, subscription.currency)
    credit = Money.sum((billing.price_line(line).total for line in deferred.credits), subscription.currency)
    return NextInvoice(start, period, summary, credit)


def _summary(lines, currency: str) -> proration.Summary:
    totals = document_totals((billing.price_line(line) for line in lines), currency)
    return proration.Summary(list(lines), totals.net, totals.tax, totals.total)


def cancel_credit(subscription: Subscription, today: dt.date) -> proration.Summary | None:
    """The credit note an immediate cancellation issues (as `services.cancel` prorates it)."""
    settings = services.subscription_settings(subscription.organization)
    start, end = subscription.current_term_start, subscription.current_term_end
    if not settings.credit_on_immediate_cancel or subscription.status not in (S.LIVE, S.NON_RENEWING):
        return None
    if not (start and end and start <= today < end):
        return None
    result = proration.prorate_change(paid_configs(subscription), [], start, end, today, mode="invoice_now")
    return proration.Summary.of(result.credits(result.lines), subscription.currency)


def resume_invoice(subscription: Subscription, today: dt.date) -> NextInvoice:
    """The invoice a resume today issues: a new term from today, anchored on today (as
    `services.resume` bills it)."""
    plan = subscription.plan
    anchor = pricing.anchor_day(plan, today)
    period = periods.Period(
        today, periods.add_interval(today, plan.interval_unit, plan.interval_count, 1, anchor)
    )
    lines = proration.renewal_lines(configs(subscription), period)
    return NextInvoice(today, period, proration.Summary.of(lines, subscription.currency))


def term_price(subscription: Subscription) -> Money:
    """What one full term of the current configuration costs (coupon included)."""
    start = subscription.current_term_start or subscription.start_date
    period = periods.Period(start, _term_end(subscription, start))
    lines = proration.renewal_lines(configs(subscription), period)
    return proration.Summary.of(lines, subscription.currency).total


def convert_invoice(subscription: Subscription, today: dt.date) -> tuple[NextInvoice, Money]:
    """The invoice converting a trial today issues (as `services.convert_trial_now` bills it): the
    first term from today and the plan's setup fee; (the term, the invoice's total)."""
    term = resume_invoice(subscription, today)
    fee = pricing.setup_fee_line(subscription.plan)
    return term, term.total + (billing.price_line(fee).total if fee else Money.zero(subscription.currency))


def reactivate_invoice(subscription: Subscription, today: dt.date) -> NextInvoice | None:
    """Chargebee's rule as `services.reactivate` applies it: within the paid term nothing is
    invoiced (None) — unless its unused part was credited at the cancellation: then the days left
    are charged again (by days, as the credit was); after the term, a new term from today."""
    end = subscription.current_term_end
    if end and today < end:
        if not subscription.unused_credited:
            return None
        result = proration.prorate_change(
            [], paid_configs(subscription), subscription.current_term_start, end, today, mode="invoice_now"
        )
        charges = result.charges(result.lines)
        if not charges:
            return None
        return NextInvoice(
            today, periods.Period(today, end), proration.Summary.of(charges, subscription.currency)
        )
    return resume_invoice(subscription, today)


def add_addon(subscription: Subscription, addon, quantity: int, today: dt.date) -> proration.Preview | None:
    """What adding a recurring addon today costs, as `services.add_addon` prorates it (nothing → its
    config) in the organization's proration mode; None when nothing is billed yet (future, trial)."""
    start, end = subscription.current_term_start, subscription.current_term_end
    if subscription.status not in (S.LIVE, S.NON_RENEWING) or not (start and end and start <= today < end):
        return None
    priced = _pricing(subscription)
    new = priced.addon(addon, quantity)
    mode = services.subscription_settings(subscription.organization).proration_mode
    return proration.preview([], [new], start, end, today, mode=mode, renewal=[*priced.everything(), new])
