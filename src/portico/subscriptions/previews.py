"""What a subscription's next invoice and each portal action will cost, before the customer confirms.

Computed from the same pieces the services bill with (`services._Pricing`'s configurations,
`proration.renewal_lines`, `proration.prorate_change`), so the page shows what the service then
issues. `next_invoice` works from rows the caller already loaded (plan and tiers, items and their
addons, active redemptions and their coupons): a list of subscriptions costs no query per row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from portico.catalog.models import Coupon
from portico.core.money import Money
from portico.subscriptions import periods, proration, services
from portico.subscriptions.models import CouponRedemption, Status, Subscription

S = Status


@dataclass(frozen=True)
class NextInvoice:
    on: dt.date
    period: periods.Period
    summary: proration.Summary

    @property
    def total(self) -> Money:
        return self.summary.total


def _discount(coupon: Coupon | None) -> proration.Discount | None:
    if coupon is None:
        return None
    if coupon.is_percent:
        return proration.Discount(name=coupon.name, percent=coupon.percent)
    return proration.Discount(name=coupon.name, amount=coupon.amount)


def active_redemption(subscription: Subscription) -> CouponRedemption | None:
    """From `prefetch_related("redemptions__coupon")` when loaded (no query), else one query."""
    cache = getattr(subscription, "_prefetched_objects_cache", {})
    if "redemptions" in cache:
        rows = [r for r in cache["redemptions"] if r.status == CouponRedemption.RedemptionStatus.ACTIVE]
        return rows[0] if rows else None
    return services._active_redemption(subscription)


def configs(
    subscription: Subscription, *, coupon: Coupon | None = None, items=None
) -> list[proration.Config]:
    """The plan and every addon as proration's configurations (as `services._Pricing.everything`),
    the active coupon applied (or `coupon` instead, for a coupon preview)."""
    if coupon is None:
        redemption = active_redemption(subscription)
        if redemption is not None and redemption.cycles_left != 0:
            coupon = redemption.coupon
    else:
        redemption = None
    pricing = services._Pricing(subscription, _discount(coupon), coupon, redemption)
    if items is None:
        items = list(subscription.items.all())
    return [pricing.plan(), *(pricing.addon(item.addon, item.quantity) for item in items)]


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
    period = periods.Period(start, services._term_end(subscription, start))
    lines = proration.renewal_lines(configs(subscription, coupon=coupon), period)
    return NextInvoice(start, period, proration.Summary.of(lines, subscription.currency))


def cancel_credit(subscription: Subscription, today: dt.date) -> proration.Summary | None:
    """The credit note an immediate cancellation issues (as `services.cancel` prorates it)."""
    settings = services.subscription_settings(subscription.organization)
    start, end = subscription.current_term_start, subscription.current_term_end
    if not settings.credit_on_immediate_cancel or subscription.status not in (S.LIVE, S.NON_RENEWING):
        return None
    if not (start and end and start <= today < end):
        return None
    result = proration.prorate_change(configs(subscription), [], start, end, today, mode="invoice_now")
    return proration.Summary.of(result.credits(result.lines), subscription.currency)


def resume_invoice(subscription: Subscription, today: dt.date) -> NextInvoice:
    """The invoice a resume today issues: a new term from today, anchored on today (as
    `services.resume` bills it)."""
    plan = subscription.plan
    anchor = services._anchor_day(plan, today)
    period = periods.Period(
        today, periods.add_interval(today, plan.interval_unit, plan.interval_count, 1, anchor)
    )
    lines = proration.renewal_lines(configs(subscription), period)
    return NextInvoice(today, period, proration.Summary.of(lines, subscription.currency))


def term_price(subscription: Subscription) -> Money:
    """What one full term of the current configuration costs (coupon included)."""
    start = subscription.current_term_start or subscription.start_date
    period = periods.Period(start, services._term_end(subscription, start))
    lines = proration.renewal_lines(configs(subscription), period)
    return proration.Summary.of(lines, subscription.currency).total


def convert_invoice(subscription: Subscription, today: dt.date) -> tuple[NextInvoice, Money]:
    """The invoice converting a trial today issues (as `services.convert_trial_now` bills it): the
    first term from today and the plan's setup fee; (the term, the invoice's total)."""
    term = resume_invoice(subscription, today)
    fee = Money(subscription.plan.setup_fee_minor or 0, subscription.currency)
    return term, term.total + fee


def reactivate_invoice(subscription: Subscription, today: dt.date) -> NextInvoice | None:
    """Chargebee's rule as `services.reactivate` applies it: within the paid term nothing is
    invoiced (None); after it, a new term from today."""
    if subscription.current_term_end and today < subscription.current_term_end:
        return None
    return resume_invoice(subscription, today)


def add_addon(subscription: Subscription, addon, quantity: int, today: dt.date) -> proration.Preview | None:
    """What adding a recurring addon today costs, as `services.add_addon` prorates it (nothing → its
    config) in the organization's proration mode; None when nothing is billed yet (future, trial)."""
    start, end = subscription.current_term_start, subscription.current_term_end
    if subscription.status not in (S.LIVE, S.NON_RENEWING) or not (start and end and start <= today < end):
        return None
    pricing = services._Pricing.of(subscription)
    new = pricing.addon(addon, quantity)
    mode = services.subscription_settings(subscription.organization).proration_mode
    return proration.preview([], [new], start, end, today, mode=mode, renewal=[*pricing.everything(), new])
