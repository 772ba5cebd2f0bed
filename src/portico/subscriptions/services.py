"""Every change to a subscription. Each service validates the transition, runs in one transaction,
locks the customer row and then the subscription row (the ledger's lock order: billing.services),
audits (`subscription.<verb>`), emits the outbox events emails hang on, and issues the invoice or
credit note the change implies through `billing.services`. A refused transition raises a
`subscriptions.errors` error and changes nothing (the transaction rolls back whole).

The state machine (which action each status allows) is `ALLOWED` below; the services and the portal
ask `allowed_actions(subscription)`.

Dates are the organization's local dates; terms and periods are [start, end) (`periods`). Money is
priced by `subscriptions.pricing` (the path the bill run and the previews share: the catalog's
pricing models, the coupon, the plan's and addons' tax rates); each invoice line is rounded once by
the ledger.

Terms are billed with `pricing.period_lines` and mid-term changes with
`proration.prorate_change` (the functions the preview uses), by days, in the organization's
proration mode: charges on an invoice, credits on a credit note applied to it (never a refund),
or both deferred to the next renewal invoice (`Subscription.deferred_lines`).

Why one module (for now): the transitions share the locking, the ALLOWED table and the term
billing; splitting by family (trials, changes, pause and cancel) is the next step.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from portico.billing import services as billing
from portico.billing.models import Invoice
from portico.billing.services import LineInput
from portico.catalog.errors import CouponRefused
from portico.catalog.models import Addon, Coupon, CouponCode, Plan, redeemable_code
from portico.core import clock, outbox, tenancy
from portico.core.audit import Actor, audit
from portico.core.money import Money
from portico.customers.models import Customer
from portico.payments import methods as payment_methods
from portico.subscriptions import errors, periods, pricing, proration
from portico.subscriptions.models import (
    BillingPeriod,
    CouponRedemption,
    DowngradeTiming,
    ScheduledChange,
    Status,
    Subscription,
    SubscriptionDocument,
    SubscriptionItem,
    SubscriptionSettings,
    UsedFormToken,
)

S = Status
# Which statuses allow each action (the portal's, the console's and the tests' one definition).
ALLOWED: dict[str, frozenset[str]] = {
    "convert_trial": frozenset({S.IN_TRIAL}),
    "extend_trial": frozenset({S.IN_TRIAL}),
    "cancel_trial": frozenset({S.IN_TRIAL}),
    "change_plan": frozenset({S.FUTURE, S.IN_TRIAL, S.LIVE, S.NON_RENEWING}),
    "change_quantity": frozenset({S.FUTURE, S.IN_TRIAL, S.LIVE, S.NON_RENEWING}),
    "add_addon": frozenset({S.FUTURE, S.IN_TRIAL, S.LIVE, S.NON_RENEWING}),
    "remove_addon": frozenset({S.FUTURE, S.IN_TRIAL, S.LIVE, S.NON_RENEWING}),
    "redeem_coupon": frozenset({S.FUTURE, S.IN_TRIAL, S.LIVE, S.NON_RENEWING}),
    "pause": frozenset({S.LIVE}),
    "pause_at_term_end": frozenset({S.LIVE}),
    "resume": frozenset({S.PAUSED}),
    "cancel": frozenset({S.FUTURE, S.IN_TRIAL, S.LIVE, S.NON_RENEWING, S.PAUSED, S.UNPAID}),
    "cancel_at_term_end": frozenset({S.LIVE}),
    "undo_cancel": frozenset({S.NON_RENEWING}),
    "reactivate": frozenset({S.CANCELLED}),
    "auto_charge": frozenset({S.FUTURE, S.IN_TRIAL, S.LIVE, S.NON_RENEWING, S.PAUSED, S.UNPAID}),
}
# Where an action (when allowed) leaves the subscription, when it does not depend on its options.
ACTIVE = (S.FUTURE, S.IN_TRIAL, S.LIVE, S.NON_RENEWING, S.PAUSED, S.UNPAID)


def allowed_actions(subscription: Subscription) -> frozenset[str]:
    return frozenset(action for action, statuses in ALLOWED.items() if subscription.status in statuses)


# -- helpers ----------------------------------------------------------------------------------------


def subscription_settings(organization) -> SubscriptionSettings:
    return tenancy.related_setting(organization, "subscription_settings", SubscriptionSettings)


def _today(organization) -> dt.date:
    return clock.today(organization.time_zone)


def effective_on(subscription: Subscription, proration_date: dt.date | None) -> dt.date:
    """The local date a change takes effect, from whose start it is prorated (DESIGN.md
    "Proration"): today, or Stripe's `proration_date`, a date inside the current billed period
    [start, end) — so that a change previewed for a chosen day is applied as it was shown."""
    if proration_date is None:
        return _today(subscription.organization)
    start, end = subscription.current_term_start, subscription.current_term_end
    billed = subscription.status in (S.LIVE, S.NON_RENEWING) and start and end
    if not billed:
        raise errors.ProrationDateOutsidePeriod(
            _("Nothing is billed yet, so nothing is prorated: leave out the proration date.")
        )
    if not start <= proration_date < end:
        raise errors.ProrationDateOutsidePeriod(
            _("Choose a proration date inside the current period, %(start)s to %(last)s.")
            % {"start": start.isoformat(), "last": (end - dt.timedelta(days=1)).isoformat()}
        )
    return proration_date


def _require(subscription: Subscription, action: str) -> None:
    if subscription.status not in ALLOWED[action]:
        raise errors.TransitionRefused(subscription.get_status_display(), action)


def _lock(subscription: Subscription) -> Subscription:
    """Lock the customer, then the subscription (the ledger's order); the fresh row."""
    Customer.all_tenants.select_for_update(of=("self",)).get(pk=subscription.customer_id)
    return (
        Subscription.all_tenants.select_for_update(of=("self",))
        .select_related("plan", "customer", "organization")
        .get(pk=subscription.pk)
    )


def lock_subscription(subscription: Subscription) -> Subscription:
    """For the other services of this app (`subscriptions.staff`): the fresh row, locked after its
    customer, inside the caller's transaction."""
    return _lock(subscription)


def _next_number(organization) -> str:
    """A unique per-organization number (the settings row's counter, taken under its row lock;
    not gapless: a rolled-back creation may skip one)."""
    subscription_settings(organization)  # created if missing
    row = SubscriptionSettings.all_tenants.select_for_update().get(organization=organization)
    value = row.next_number
    SubscriptionSettings.all_tenants.filter(pk=row.pk).update(next_number=F("next_number") + 1)
    return f"{row.number_prefix}{value:0{row.number_digits}d}"


def _term_end(subscription: Subscription, start: dt.date, plan: Plan | None = None) -> dt.date:
    return pricing.term_end(plan or subscription.plan, start, subscription.anchor_day)


_anchor_day = pricing.anchor_day


def _start_term(subscription: Subscription, start: dt.date) -> None:
    subscription.anchor_day = _anchor_day(subscription.plan, start)
    subscription.current_term_start = start
    subscription.current_term_end = _term_end(subscription, start)
    subscription.next_billing_on = subscription.current_term_end


def _emit(topic: str, subscription: Subscription, **data) -> None:
    outbox.emit_for(topic, subscription, once=False, number=subscription.number, **data)


def _save(subscription: Subscription) -> None:
    subscription.save()


# -- pricing a term ---------------------------------------------------------------------------------


def _active_redemption(subscription: Subscription) -> CouponRedemption | None:
    return pricing.active_redemption(subscription)


def _paid(subscription: Subscription) -> pricing.Pricing:
    """The current term's pricing as it was paid (its coupon then): what its unused part credits."""
    return pricing.Pricing.paid(subscription)


def _pricing(subscription: Subscription) -> pricing.Pricing:
    """The subscription's items as proration's configurations, its active coupon applied
    (`subscriptions.pricing`, the one path the bill run and the previews price with too)."""
    return pricing.Pricing.of(subscription)


def _use_coupon_cycle(redemption: CouponRedemption | None) -> None:
    if redemption is None or redemption.cycles_left is None:
        return
    redemption.cycles_left -= 1
    if redemption.cycles_left == 0:
        redemption.status = CouponRedemption.RedemptionStatus.ENDED
    redemption.save(update_fields=["cycles_left", "status"])


def _issue(subscription: Subscription, lines: Sequence[LineInput], actor: Actor, memo: str = "") -> Invoice:
    invoice = billing.create_invoice(
        customer=subscription.customer,
        actor=actor,
        lines=lines,
        source=Invoice.Source.SUBSCRIPTION,
        memo=memo or _("Subscription %(number)s") % {"number": subscription.number},
    )
    invoice = billing.finalize_invoice(invoice=invoice, actor=actor, auto_charge=subscription.auto_charge)
    _link(subscription, invoice=invoice)
    if subscription.auto_charge:
        transaction.on_commit(lambda: _charge(invoice))
    return invoice


def _link(subscription: Subscription, *, invoice: Invoice | None = None, credit_note=None) -> None:
    """Record that this subscription issued the document (its history: `subscriptions.history`)."""
    kind = SubscriptionDocument.Kind.INVOICE if invoice is not None else SubscriptionDocument.Kind.CREDIT_NOTE
    SubscriptionDocument.all_tenants.create(
        organization_id=subscription.organization_id,
        subscription=subscription,
        kind=kind,
        invoice=invoice,
        credit_note=credit_note,
    )


def _charge(invoice: Invoice) -> None:
    """After commit: charge a subscription's invoice at once (the customer is at the keyboard).
    The key is the invoice's `invoice.finalized` event, the one `payments.auto_charge` charges it
    with when that event is delivered: the invoice is charged once."""
    from portico.payments.autocharge import charge_automatically

    charge_automatically(invoice, key=f"invoice.finalized:{invoice.finalized_event_id}")


def _bill_term(
    subscription: Subscription, start: dt.date, end: dt.date, actor: Actor, *, setup_fee: bool = False,
    extra: Iterable[LineInput] = (), replacing: bool = False,
) -> Invoice | None:  # fmt: skip
    """Bill [start, end): the period row first (UNIQUE(subscription, start) — a second bill of the
    same period fails in the database), then the invoice (the term's lines as
    `pricing.period_lines` prices them, the setup fee, `extra`, and proration deferred to this
    renewal), linked to it.

    `replacing`: a change of interval on the first day of a term, whose invoice the caller credits
    in full: the new term takes over the period row starting that day (the old invoice stays in the
    subscription's history through its document link)."""
    period = None
    if replacing:
        period = (
            BillingPeriod.all_tenants.select_for_update()
            .filter(subscription=subscription, start=start)
            .first()
        )
        if period is not None:
            old = period.invoice
            if old is not None and not SubscriptionDocument.all_tenants.filter(invoice=old).exists():
                _link(subscription, invoice=old)
            period.end = end
            period.save(update_fields=["end"])
    if period is None:
        try:
            with transaction.atomic():
                period = BillingPeriod.all_tenants.create(
                    organization_id=subscription.organization_id,
                    subscription=subscription,
                    start=start,
                    end=end,
                )
        except IntegrityError:
            raise errors.AlreadyBilled() from None
    priced = _pricing(subscription)
    plan = subscription.plan
    lines = pricing.period_lines(
        priced.everything(),
        periods.Period(start, end),
        setup_fee=pricing.setup_fee_line(plan) if setup_fee else None,
    )
    lines.extend(extra)
    deferred = Proration.from_stored(subscription.deferred_lines)
    subscription.deferred_lines = []
    lines.extend(deferred.charges)
    invoice = _issue(subscription, lines, actor) if lines else None
    _credit(subscription, deferred.credits, invoice, actor)
    period.invoice = invoice
    period.save(update_fields=["invoice"])
    subscription.term_redemption = priced.redemption  # the coupon this term is paid with (or None)
    _use_coupon_cycle(priced.redemption)
    subscription.cycles_billed += 1
    return invoice


# -- proration ------------------------------------------------------------------------------------


def _stored(line: LineInput, kind: str) -> dict:
    return {
        "kind": kind,
        "description": line.description,
        "unit_price_minor": line.unit_price.minor,
        "currency": line.unit_price.currency,
        "quantity": str(line.quantity),
        "discount_percent": str(line.discount_percent),
        "tax_name": line.tax_name,
        "tax_percent": str(line.tax_percent),
        "tax_inclusive": line.tax_inclusive,
        "period_start": line.period_start.isoformat() if line.period_start else None,
        "period_end": line.period_end.isoformat() if line.period_end else None,
    }


def _restored(row: dict) -> LineInput:
    return LineInput(
        description=row["description"],
        unit_price=Money(row["unit_price_minor"], row["currency"]),
        quantity=Decimal(row["quantity"]),
        discount_percent=Decimal(row["discount_percent"]),
        tax_name=row["tax_name"],
        tax_percent=Decimal(row["tax_percent"]),
        tax_inclusive=row["tax_inclusive"],
        period_start=dt.date.fromisoformat(row["period_start"]) if row["period_start"] else None,
        period_end=dt.date.fromisoformat(row["period_end"]) if row["period_end"] else None,
    )


@dataclass(frozen=True)
class Proration:
    """Ledger lines of a change: charged now, credited now, and deferred to the next renewal."""

    charges: list[LineInput] = field(default_factory=list)
    credits: list[LineInput] = field(default_factory=list)
    deferred: list[dict] = field(default_factory=list)

    @classmethod
    def from_stored(cls, rows: list[dict]) -> Proration:
        lines = [(row["kind"], _restored(row)) for row in rows or []]
        return cls(
            charges=[line for kind, line in lines if kind == proration.Kind.CHARGE],
            credits=[line for kind, line in lines if kind == proration.Kind.CREDIT],
        )


def _prorate(
    subscription: Subscription,
    old: Sequence[proration.Config],
    new: Sequence[proration.Config],
    on: dt.date,
    *,
    mode: str | None = None,
    credits_only: bool = False,
) -> Proration:
    """What replacing the `old` items by the `new` ones on `on` costs, mid-term, by days
    (`subscriptions.proration.prorate_change`, the function the preview uses)."""
    start, end = subscription.current_term_start, subscription.current_term_end
    if not (start and end and start <= on < end) or not (old or new):
        return Proration()
    mode = mode or subscription_settings(subscription.organization).proration_mode
    result = proration.prorate_change(list(old), list(new), start, end, on, mode=mode)

    def ledger(lines):
        return [LineInput(**line.line_input()) for line in lines]

    deferred = [_stored(LineInput(**line.line_input()), line.kind) for line in result.deferred]
    if credits_only:  # the unused part of what ends now: credited now, whatever the mode
        return Proration(credits=ledger(result.credits(result.lines)))
    return Proration(charges=ledger(result.charges()), credits=ledger(result.credits()), deferred=deferred)


def _credit(
    subscription: Subscription, lines: Sequence[LineInput], invoice: Invoice | None, actor: Actor
) -> None:
    """Credit lines become a credit note (customer credit, never a refund), applied to `invoice`
    (the charge of the same change) as far as it goes."""
    if not lines:
        return
    credit_note = billing.issue_credit_note(
        customer=subscription.customer,
        lines=lines,
        actor=actor,
        reason=_("Subscription %(number)s: unused time") % {"number": subscription.number},
    )
    _link(subscription, credit_note=credit_note)
    if invoice is None:
        return
    invoice.refresh_from_db()
    amount = min(credit_note.remaining, invoice.balance)
    if invoice.is_open and amount.minor > 0:
        billing.apply_credit(credit_note=credit_note, invoice=invoice, amount=amount, actor=actor)


def _book_proration(subscription: Subscription, result: Proration, actor: Actor) -> None:
    invoice = _issue(subscription, result.charges, actor) if result.charges else None
    _credit(subscription, result.credits, invoice, actor)
    if result.deferred:
        subscription.deferred_lines = [*(subscription.deferred_lines or []), *result.deferred]


def _cancel_pending(subscription: Subscription, *kinds: str) -> int:
    pending = ScheduledChange.all_tenants.filter(
        subscription=subscription, status=ScheduledChange.ChangeStatus.PENDING
    )
    if kinds:
        pending = pending.filter(kind__in=kinds)
    return pending.update(status=ScheduledChange.ChangeStatus.CANCELLED, cancelled_at=clock.now())


def _schedule(subscription: Subscription, kind: str, effective_on: dt.date, payload: dict) -> ScheduledChange:
    try:
        with transaction.atomic():
            return ScheduledChange.all_tenants.create(
                organization_id=subscription.organization_id,
                subscription=subscription,
                kind=kind,
                effective_on=effective_on,
                payload=payload,
            )
    except IntegrityError:
        raise errors.AlreadyScheduled() from None


# -- creating ---------------------------------------------------------------------------------------


def _check_plan(plan: Plan, customer: Customer) -> None:
    if not plan.is_sellable:
        raise errors.PlanNotAvailable()
    if plan.currency != customer.currency:
        raise errors.PlanNotAvailable(
            _("This plan is priced in %(plan)s; your account is billed in %(account)s.")
            % {"plan": plan.currency, "account": customer.currency}
        )


def _check_addon(addon: Addon, plan: Plan) -> None:
    """Sellable for the plan; a recurring addon bills with the plan, so on the plan's interval."""
    if addon.is_archived or addon.currency != plan.currency or not addon.applies_to(plan):
        raise errors.AddonNotAvailable()
    if addon.is_recurring and (addon.interval_unit, addon.interval_count) != (
        plan.interval_unit,
        plan.interval_count,
    ):
        raise errors.AddonNotAvailable(
            _("%(addon)s is billed on another interval than this plan.") % {"addon": addon.name}
        )


def _lock_coupon(code: CouponCode, today: dt.date, plan: Plan) -> CouponCode:
    """Lock the code and its coupon, check them again under the locks, count the redemption."""
    coupon = Coupon.all_tenants.select_for_update().get(pk=code.coupon_id)
    code = CouponCode.all_tenants.select_for_update().get(pk=code.pk)
    code.coupon = coupon
    code.check_redeemable(today=today, plan=plan)
    Coupon.all_tenants.filter(pk=coupon.pk).update(times_redeemed=F("times_redeemed") + 1)
    CouponCode.all_tenants.filter(pk=code.pk).update(times_redeemed=F("times_redeemed") + 1)
    return code


def _redeem(subscription: Subscription, code_text: str, today: dt.date) -> CouponRedemption:
    with tenancy.tenant(subscription.organization):
        found = redeemable_code(code_text, today=today, plan=subscription.plan)
    code = _lock_coupon(found, today, subscription.plan)
    return _redemption(subscription, code.coupon, code)


def _redemption(subscription: Subscription, coupon: Coupon, code: CouponCode | None) -> CouponRedemption:
    cycles = {Coupon.Duration.ONCE: 1, Coupon.Duration.REPEATING: coupon.duration_cycles}.get(coupon.duration)
    return CouponRedemption.all_tenants.create(
        organization_id=subscription.organization_id,
        subscription=subscription,
        coupon=coupon,
        code=code,
        cycles_left=cycles,
    )


def create_subscription(
    *,
    customer: Customer,
    plan: Plan,
    actor: Actor,
    quantity: int = 1,
    addons: Sequence[tuple[Addon, int]] = (),
    coupon_code: str = "",
    start_date: dt.date | None = None,
    trial: bool = True,
    auto_charge: bool = False,
    backdated: bool = False,
) -> Subscription:
    """A new subscription: `future` when it starts later; `in_trial` when the plan has trial days
    (and `trial`); else `live` now, its first term invoiced (plan, addons, setup fee, coupon).

    `backdated` (staff only, `subscriptions.staff`): live since `start_date`, a date before today
    within the first term (no trial), that first term invoiced now in full."""
    organization = customer.organization
    today = _today(organization)
    start = start_date or today
    if backdated:
        if start >= today:
            raise errors.InvalidDate(_("A backdated start is a date before today."), field="start_date")
        if pricing.term_end(plan, start, _anchor_day(plan, start)) <= today:
            raise errors.InvalidDate(
                _("Backdate within one term of the plan: the first term must include today."),
                field="start_date",
            )
        trial = False
    elif start < today:
        raise errors.InvalidStart()
    _check_plan(plan, customer)
    plan.check_quantity(quantity)
    for addon, addon_quantity in addons:
        _check_addon(addon, plan)
        if addon_quantity < 1:
            raise errors.AddonNotAvailable(_("An addon's quantity is at least 1."), field="quantity")
    with transaction.atomic():
        Customer.all_tenants.select_for_update(of=("self",)).get(pk=customer.pk)
        if auto_charge and payment_methods.default_method(customer) is None:
            raise errors.NeedsPaymentMethod()
        has_trial = bool(trial and plan.trial_days)
        status = S.FUTURE if start > today else (S.IN_TRIAL if has_trial else S.LIVE)
        term_start = start if backdated else today
        subscription = Subscription.all_tenants.create(
            organization_id=organization.pk,
            number=_next_number(organization),
            customer=customer,
            plan=plan,
            quantity=quantity,
            currency=plan.currency,
            status=status,
            start_date=start,
            billing_cycles=plan.billing_cycles,
            auto_charge=auto_charge,
            next_billing_on=start,
            anchor_day=_anchor_day(plan, start),
        )
        if has_trial:
            subscription.trial_start = start
            subscription.trial_end = start + dt.timedelta(days=plan.trial_days)
            if status == S.IN_TRIAL:  # a future one starts (and begins its trial) on its start date
                subscription.next_billing_on = subscription.trial_end
        one_time = []
        for addon, addon_quantity in addons:
            if addon.is_recurring:
                SubscriptionItem.all_tenants.create(
                    organization_id=organization.pk,
                    subscription=subscription,
                    addon=addon,
                    quantity=addon_quantity,
                )
            else:
                one_time.extend(pricing.one_time_lines(addon, addon_quantity))
        if coupon_code:
            _redeem(subscription, coupon_code, today)
        invoice = None
        if status == S.LIVE:
            _start_term(subscription, term_start)
            invoice = _bill_term(
                subscription, term_start, subscription.current_term_end, actor, setup_fee=True, extra=one_time
            )
        elif one_time:
            _issue(subscription, one_time, actor)
        _save(subscription)
        extra_audit = {"backdated_to": start.isoformat()} if backdated else {}
        audit(
            actor, "subscription.created", subscription, number=subscription.number, plan=plan.code,
            quantity=quantity, status=status, invoice=invoice.number if invoice else "", **extra_audit,
        )  # fmt: skip
        _emit("subscription.created", subscription, status=status)
    return subscription


# -- trials -----------------------------------------------------------------------------------------


def convert_trial_now(*, subscription: Subscription, actor: Actor) -> Subscription:
    """End the trial today and start the first paid term (invoiced now, with the setup fee)."""
    with transaction.atomic():
        subscription = _lock(subscription)
        _require(subscription, "convert_trial")
        today = _today(subscription.organization)
        _convert(subscription, today, actor)
        _save(subscription)
        audit(actor, "subscription.trial_converted", subscription, number=subscription.number)
        _emit("subscription.activated", subscription)
    return subscription


def _convert(subscription: Subscription, today: dt.date, actor: Actor) -> Invoice:
    subscription.trial_end = max(today, subscription.trial_start or today)
    subscription.status = S.LIVE
    _start_term(subscription, today)
    return _bill_term(subscription, today, subscription.current_term_end, actor, setup_fee=True)


def extend_trial(*, subscription: Subscription, days: int, actor: Actor) -> Subscription:
    with transaction.atomic():
        subscription = _lock(subscription)
        _require(subscription, "extend_trial")
        limit = subscription_settings(subscription.organization).max_trial_extension_days
        if days < 1 or subscription.trial_extended_days + days > limit:
            left = max(0, limit - subscription.trial_extended_days)
            raise errors.TrialExtensionTooLong(
                _("The trial can be extended by %(left)s more days at most.") % {"left": left}
            )
        subscription.trial_end += dt.timedelta(days=days)
        subscription.trial_extended_days += days
        subscription.next_billing_on = subscription.trial_end
        _save(subscription)
        audit(actor, "subscription.trial_extended", subscription, days=days, trial_end=subscription.trial_end)
    return subscription


def cancel_trial(
    *, subscription: Subscription, actor: Actor, reason: str = "", comment: str = ""
) -> Subscription:
    with transaction.atomic():
        subscription = _lock(subscription)
        _require(subscription, "cancel_trial")
        _check_reason(subscription, reason)
        _end(subscription, reason, comment)
        _save(subscription)
        audit(actor, "subscription.trial_cancelled", subscription, reason=reason)
        _emit("subscription.cancelled", subscription, reason=reason)
    return subscription


# -- changing ---------------------------------------------------------------------------------------


def _term_amount(subscription: Subscription, plan: Plan, quantity: int) -> Money:
    return Money.sum((c.total for c in pricing.plan_components(subscription, plan, quantity)), plan.currency)


_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


def _is_downgrade(subscription: Subscription, plan: Plan, quantity: int) -> bool:
    """Stripe's conditions for a change at period end: a shorter interval, or a lower amount on
    the same interval."""
    old, new = subscription.plan, plan
    old_len = _UNIT_DAYS[old.interval_unit] * old.interval_count
    new_len = _UNIT_DAYS[new.interval_unit] * new.interval_count
    if new_len != old_len:
        return new_len < old_len
    return (
        _term_amount(subscription, new, quantity).minor
        < _term_amount(subscription, old, subscription.quantity).minor
    )


def preview_change(
    *, subscription: Subscription, plan: Plan | None = None, quantity: int | None = None,
    at_term_end: bool | None = None, timing: str | None = None,
) -> proration.Preview | None:  # fmt: skip
    """What changing to `plan`/`quantity` today would invoice and credit now and on the next renewal,
    computed by `proration.preview` from the same configurations `change_plan` prorates (None when
    nothing is billed yet: a future or trial subscription, or a change waiting for the term end)."""
    subscription = Subscription.all_tenants.select_related("plan", "organization").get(pk=subscription.pk)
    if subscription.status not in (S.LIVE, S.NON_RENEWING) or not subscription.current_term_end:
        return None
    new_plan = plan or subscription.plan
    new_quantity = subscription.quantity if quantity is None else quantity
    settings = subscription_settings(subscription.organization)
    later = _downgrade_later(settings, at_term_end, timing)
    if later and _is_downgrade(subscription, new_plan, new_quantity):
        return None
    priced, paid = _pricing(subscription), _paid(subscription)
    old, new = [paid.plan()], [priced.plan(new_plan, new_quantity)]
    renewal = [*new, *priced.addons(new_plan)]
    if old[0].interval != new[0].interval:  # a new term of everything now, the old one's unused part credited
        old, new = [*old, *paid.addons()], renewal
    today = _today(subscription.organization)
    return proration.preview(
        old, new, subscription.current_term_start, subscription.current_term_end, today,
        mode=settings.proration_mode, renewal=renewal,
    )  # fmt: skip


def _downgrade_later(settings: SubscriptionSettings, at_term_end: bool | None, timing: str | None) -> bool:
    """Whether a downgrade waits for the term end: staff's `at_term_end`, else the customer's
    `timing` ("now" or "term_end", only where the organization lets the customer choose), else the
    organization's setting (a customer who may choose but did not: at term end, as Stripe does)."""
    if timing is not None:
        if settings.downgrade_timing != DowngradeTiming.CUSTOMER_CHOOSES:
            raise errors.TimingFixed()
        if timing not in (DowngradeTiming.NOW, DowngradeTiming.TERM_END):
            raise errors.TimingFixed(_("Choose now or at the end of the term."))
    if at_term_end is not None:
        return at_term_end
    if timing is not None:
        return timing == DowngradeTiming.TERM_END
    return settings.downgrade_timing != DowngradeTiming.NOW


def change_plan(
    *, subscription: Subscription, actor: Actor, plan: Plan | None = None, quantity: int | None = None,
    at_term_end: bool | None = None, timing: str | None = None, _action: str = "change_plan",
    proration_date: dt.date | None = None,
) -> Subscription:  # fmt: skip
    """Switch plan (within the product's family) and/or quantity (within the plan's limits).
    Upgrades apply now; downgrades now or at term end (the organization's setting, staff's
    `at_term_end`, or the customer's `timing` where the organization lets the customer choose), at
    term end as a `ScheduledChange` the bill run applies. During a trial nothing is charged (and the
    trial goes on, unless the organization ends trials on a change). What applies now is prorated
    from `proration_date` (`effective_on`: default today)."""
    with transaction.atomic():
        subscription = _lock(subscription)
        _require(subscription, _action)
        on = effective_on(subscription, proration_date)
        later = _downgrade_later(subscription_settings(subscription.organization), at_term_end, timing)
        new_plan = plan or subscription.plan
        new_quantity = subscription.quantity if quantity is None else quantity
        if new_plan.pk != subscription.plan_id:
            if new_plan.product_id != subscription.plan.product_id:
                raise errors.PlanNotInFamily()
            _check_plan(new_plan, subscription.customer)
        new_plan.check_quantity(new_quantity)
        if new_plan.pk == subscription.plan_id and new_quantity == subscription.quantity:
            raise errors.NothingToChange()
        if new_plan.pk != subscription.plan_id:
            for item in SubscriptionItem.all_tenants.filter(subscription=subscription).select_related(
                "addon"
            ):
                try:
                    _check_addon(item.addon, new_plan)
                except errors.AddonNotAvailable:
                    raise errors.AddonNotAvailable(
                        _("Remove %(addon)s first: it cannot be kept on that plan.")
                        % {"addon": item.addon.name}
                    ) from None
        settings = subscription_settings(subscription.organization)
        today = _today(subscription.organization)
        billed = subscription.status in (S.LIVE, S.NON_RENEWING)
        downgrade = billed and _is_downgrade(subscription, new_plan, new_quantity)
        details = {"plan": new_plan.code, "quantity": new_quantity, "from_plan": subscription.plan.code,
                   "from_quantity": subscription.quantity}  # fmt: skip
        if downgrade and later:
            _cancel_pending(subscription, ScheduledChange.Kind.CHANGE)
            change = _schedule(
                subscription, ScheduledChange.Kind.CHANGE, subscription.current_term_end,
                {"plan_id": new_plan.pk, "quantity": new_quantity},
            )  # fmt: skip
            audit(
                actor,
                "subscription.change_scheduled",
                subscription,
                effective_on=change.effective_on,
                **details,
            )
            return subscription
        old_plan, old_quantity = subscription.plan, subscription.quantity
        priced, paid = _pricing(subscription), _paid(subscription)
        old_config = paid.plan(old_plan, old_quantity)  # credited as the term was paid
        old_all = [old_config, *paid.addons(old_plan)]
        interval_changed = (old_plan.interval_unit, old_plan.interval_count) != (
            new_plan.interval_unit,
            new_plan.interval_count,
        )
        subscription.plan, subscription.quantity = new_plan, new_quantity
        _cancel_pending(subscription, ScheduledChange.Kind.CHANGE)
        if subscription.status == S.IN_TRIAL and settings.end_trial_on_change:
            _convert(subscription, today, actor)
        elif billed and interval_changed:
            # a new full term starts on the change's day; the unused part of the old term is credited
            unused = _prorate(subscription, old_all, [], on, credits_only=True)
            first_day = subscription.current_term_start == on  # the old term wholly unused
            _start_term(subscription, on)
            invoice = _bill_term(subscription, on, subscription.current_term_end, actor, replacing=first_day)
            _credit(subscription, unused.credits, invoice, actor)
        elif billed:
            new_config = priced.plan(new_plan, new_quantity)
            _book_proration(subscription, _prorate(subscription, [old_config], [new_config], on), actor)
        _save(subscription)
        verb = "plan_changed" if new_plan.pk != old_plan.pk else "quantity_changed"
        audit(actor, f"subscription.{verb}", subscription, **details)
        _emit("subscription.changed", subscription, **details)
    return subscription


def change_quantity(
    *, subscription: Subscription, quantity: int, actor: Actor, at_term_end: bool | None = None,
    proration_date: dt.date | None = None,
):  # fmt: skip
    return change_plan(
        subscription=subscription,
        quantity=quantity,
        actor=actor,
        at_term_end=at_term_end,
        _action="change_quantity",
        proration_date=proration_date,
    )


def add_addon(
    *, subscription: Subscription, addon: Addon, actor: Actor, quantity: int = 1,
    proration_date: dt.date | None = None,
) -> Subscription:  # fmt: skip
    """Add a recurring addon (prorated for the rest of the term from `proration_date`, default
    today) or buy a one-time one (invoiced now)."""
    with transaction.atomic():
        subscription = _lock(subscription)
        _require(subscription, "add_addon")
        on = effective_on(subscription, proration_date)
        _check_addon(addon, subscription.plan)
        if quantity < 1:
            raise errors.AddonNotAvailable(_("An addon's quantity is at least 1."), field="quantity")
        if not addon.is_recurring:
            _issue(subscription, pricing.one_time_lines(addon, quantity), actor)
        else:
            if SubscriptionItem.all_tenants.filter(subscription=subscription, addon=addon).exists():
                raise errors.AddonAlreadyAdded()
            SubscriptionItem.all_tenants.create(
                organization_id=subscription.organization_id,
                subscription=subscription,
                addon=addon,
                quantity=quantity,
            )
            if subscription.status in (S.LIVE, S.NON_RENEWING):
                config = _pricing(subscription).addon(addon, quantity)
                _book_proration(subscription, _prorate(subscription, [], [config], on), actor)
                _save(subscription)  # the charge deferred to the next renewal, in next-renewal mode
        audit(actor, "subscription.addon_added", subscription, addon=addon.code, quantity=quantity)
    return subscription


def remove_addon(
    *, subscription: Subscription, addon: Addon, actor: Actor, proration_date: dt.date | None = None
) -> Subscription:
    """Remove a recurring addon, its unused part credited from `proration_date` (default today)."""
    with transaction.atomic():
        subscription = _lock(subscription)
        _require(subscription, "remove_addon")
        on = effective_on(subscription, proration_date)
        item = SubscriptionItem.all_tenants.filter(subscription=subscription, addon=addon).first()
        if item is None:
            raise errors.AddonNotOnSubscription()
        if subscription.status in (S.LIVE, S.NON_RENEWING):
            config = _paid(subscription).addon(addon, item.quantity)  # credited as the term was paid
            _book_proration(subscription, _prorate(subscription, [config], [], on), actor)
            _save(subscription)  # the credit deferred to the next renewal, in next-renewal mode
        item.delete()
        audit(actor, "subscription.addon_removed", subscription, addon=addon.code)
    return subscription


def preview_remove_addon(*, subscription: Subscription, addon: Addon) -> proration.Preview | None:
    """What removing `addon` today credits now (or on the next renewal, or nothing: the
    organization's proration mode), as `remove_addon` prorates it; None when nothing is billed yet."""
    subscription = Subscription.all_tenants.select_related("plan", "organization").get(pk=subscription.pk)
    start, end = subscription.current_term_start, subscription.current_term_end
    today = _today(subscription.organization)
    item = SubscriptionItem.all_tenants.filter(subscription=subscription, addon=addon).first()
    if item is None:
        raise errors.AddonNotOnSubscription()
    if subscription.status not in (S.LIVE, S.NON_RENEWING) or not (start and end and start <= today < end):
        return None
    priced = _pricing(subscription)
    old = _paid(subscription).addon(addon, item.quantity)
    kept = [priced.plan(), *(priced.addon(a, q) for a, q in priced.addon_items() if a.pk != addon.pk)]
    mode = subscription_settings(subscription.organization).proration_mode
    return proration.preview([old], [], start, end, today, mode=mode, renewal=kept)


def redeem_coupon(*, subscription: Subscription, code: str, actor: Actor) -> CouponRedemption:
    """Redeem a coupon code on the subscription (from its next invoice). Refusals say why."""
    with transaction.atomic():
        subscription = _lock(subscription)
        _require(subscription, "redeem_coupon")
        if _active_redemption(subscription) is not None:
            raise errors.CouponAlreadyApplied()
        redemption = _redeem(subscription, code, _today(subscription.organization))
        audit(
            actor,
            "subscription.coupon_redeemed",
            subscription,
            coupon=redemption.coupon.name,
            code=code.strip(),
        )
    return redemption


# -- the retention offer ----------------------------------------------------------------------------

# Where the cancel flow shows the organization's retention offer (a coupon on what is billed next).
RETENTION_STATUSES = (S.LIVE, S.NON_RENEWING)


def retention_offer(subscription: Subscription) -> Coupon | None:
    """The coupon the cancel flow would offer this subscription now: the organization's retention
    coupon, when it has not been offered before, no coupon is active, and it may be redeemed."""
    coupon = subscription_settings(subscription.organization).retention_coupon
    if coupon is None or subscription.retention_offered_at is not None:
        return None
    if subscription.status not in RETENTION_STATUSES or _active_redemption(subscription) is not None:
        return None
    try:
        coupon.check_redeemable(today=_today(subscription.organization), plan=subscription.plan)
    except CouponRefused:
        return None
    return coupon


def offer_retention(*, subscription: Subscription, actor: Actor) -> Coupon | None:
    """Show the retention offer (once): the coupon offered, recorded as offered; None when there is
    nothing to offer (or it was offered before)."""
    with transaction.atomic():
        subscription = _lock(subscription)
        coupon = retention_offer(subscription)
        if coupon is None:
            return None
        subscription.retention_offered_at = clock.now()
        _save(subscription)
        audit(actor, "subscription.retention_offered", subscription, coupon=coupon.name)
    return coupon


def accept_retention_offer(*, subscription: Subscription, actor: Actor) -> CouponRedemption:
    """Accept the retention offer shown: its coupon redeemed on the subscription (from the next
    invoice), nothing cancelled. A coupon expired, used up or not for this plan since is refused
    with the reason."""
    with transaction.atomic():
        subscription = _lock(subscription)
        coupon = subscription_settings(subscription.organization).retention_coupon
        if coupon is None or subscription.retention_offered_at is None:
            raise errors.RetentionOfferRefused()
        if subscription.status not in RETENTION_STATUSES:
            raise errors.TransitionRefused(subscription.get_status_display(), "redeem_coupon")
        if _active_redemption(subscription) is not None:
            raise errors.CouponAlreadyApplied()
        coupon = Coupon.all_tenants.select_for_update().get(pk=coupon.pk)
        try:
            coupon.check_redeemable(today=_today(subscription.organization), plan=subscription.plan)
        except CouponRefused as refused:
            raise errors.RetentionOfferRefused(
                _("This offer can no longer be accepted: %(why)s") % {"why": refused.message}
            ) from None
        Coupon.all_tenants.filter(pk=coupon.pk).update(times_redeemed=F("times_redeemed") + 1)
        redemption = _redemption(subscription, coupon, None)
        audit(actor, "subscription.retention_accepted", subscription, coupon=coupon.name)
    return redemption


# -- one-time form tokens ------------------------------------------------------------------------------


def earlier_submission(subscription: Subscription, form_token: str) -> UsedFormToken | None:
    """The first submission of this form, when it was submitted before (for this subscription)."""
    if not form_token:
        return None
    return UsedFormToken.all_tenants.filter(
        organization_id=subscription.organization_id, subscription=subscription, token=form_token[:64]
    ).first()


def once(
    *, subscription: Subscription, form_token: str, action: str, result: str, perform
) -> UsedFormToken | None:
    """Run `perform()` (a service call) at most once per form token: its token row is written in the
    same transaction, after the subscription's locks, so a second submission of the form (a double
    click, another tab, a replay) waits for the first, then finds its row and changes nothing.
    Returns None when it ran now, else the earlier submission (whose `result` the caller shows)."""
    if not isinstance(form_token, str) or not _FORM_TOKEN.fullmatch(form_token):
        raise errors.FormExpired()
    try:
        with transaction.atomic():
            _lock(subscription)
            earlier = UsedFormToken.all_tenants.filter(
                organization_id=subscription.organization_id, token=form_token
            ).first()
            if earlier is not None:
                return _same_subscription(earlier, subscription)
            perform()
            UsedFormToken.all_tenants.create(
                organization_id=subscription.organization_id, subscription=subscription,
                token=form_token, action=action, result=str(result)[:500],
            )  # fmt: skip
    except IntegrityError:
        earlier = UsedFormToken.all_tenants.filter(
            organization_id=subscription.organization_id, token=form_token
        ).first()
        if earlier is None:
            raise
        return _same_subscription(earlier, subscription)
    return None


_FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _same_subscription(earlier: UsedFormToken, subscription: Subscription) -> UsedFormToken:
    if earlier.subscription_id != subscription.pk:  # a token of another form: not this one's to repeat
        raise errors.FormExpired()
    return earlier


# -- pausing ----------------------------------------------------------------------------------------


def pause(
    *, subscription: Subscription, actor: Actor, at_term_end: bool = False, resume_on: dt.date | None = None
) -> Subscription:
    """Pause now or at term end, until `resume_on` (a scheduled resume) or indefinitely."""
    with transaction.atomic():
        subscription = _lock(subscription)
        _require(subscription, "pause_at_term_end" if at_term_end else "pause")
        today = _today(subscription.organization)
        pause_on = subscription.current_term_end if at_term_end else today
        if resume_on is not None and resume_on <= max(today, pause_on):
            raise errors.InvalidDate(_("Choose a resume date after the pause starts."), field="resume_on")
        payload = {"resume_on": resume_on.isoformat() if resume_on else None}
        if at_term_end:
            _schedule(subscription, ScheduledChange.Kind.PAUSE, pause_on, payload)
            audit(actor, "subscription.pause_scheduled", subscription, on=pause_on, resume_on=resume_on)
            return subscription
        _cancel_pending(subscription, ScheduledChange.Kind.CHANGE, ScheduledChange.Kind.PAUSE)
        subscription.status = S.PAUSED
        subscription.paused_on = today
        subscription.resume_on = resume_on
        subscription.next_billing_on = resume_on
        if resume_on:
            _schedule(subscription, ScheduledChange.Kind.RESUME, resume_on, {})
        _save(subscription)
        audit(actor, "subscription.paused", subscription, resume_on=resume_on)
        _emit("subscription.paused", subscription, resume_on=resume_on)
    return subscription


def resume(*, subscription: Subscription, actor: Actor) -> Subscription:
    """Resume a paused subscription today: a new term starts today and is invoiced."""
    with transaction.atomic():
        subscription = _lock(subscription)
        _require(subscription, "resume")
        today = _today(subscription.organization)
        _resume(subscription, today, actor)
        _save(subscription)
        audit(actor, "subscription.resumed", subscription)
        _emit("subscription.resumed", subscription)
    return subscription


def _resume(subscription: Subscription, today: dt.date, actor: Actor) -> Invoice:
    _cancel_pending(subscription, ScheduledChange.Kind.RESUME)
    subscription.status = S.LIVE
    subscription.paused_on = subscription.resume_on = None
    _start_term(subscription, today)
    billed = BillingPeriod.all_tenants.filter(subscription=subscription, start=today).first()
    if billed is not None:  # paused and resumed on the day its term was billed: that term stands
        subscription.current_term_end = subscription.next_billing_on = billed.end
        return billed.invoice
    return _bill_term(subscription, today, subscription.current_term_end, actor)


# -- cancelling -------------------------------------------------------------------------------------


def _check_reason(subscription: Subscription, reason: str) -> None:
    reasons = subscription_settings(subscription.organization).cancellation_reasons or []
    if reason and reason not in reasons:
        raise errors.InvalidReason()


def _end(subscription: Subscription, reason: str, comment: str, status: str = S.CANCELLED) -> None:
    _cancel_pending(subscription)
    subscription.status = status
    subscription.cancelled_at = clock.now()
    subscription.cancelled_on = _today(subscription.organization)
    subscription.cancel_reason = reason[:200]
    subscription.cancel_comment = comment
    subscription.next_billing_on = None


def cancel(
    *, subscription: Subscription, actor: Actor, at_term_end: bool = False, reason: str = "", comment: str = "",
    credit: bool | None = None,
) -> Subscription:  # fmt: skip
    """Cancel now (with a prorated credit note for the unused part of the paid term when the
    organization says so, or `credit`), or at term end (`non_renewing`, a scheduled cancel)."""
    with transaction.atomic():
        subscription = _lock(subscription)
        _require(subscription, "cancel_at_term_end" if at_term_end else "cancel")
        _check_reason(subscription, reason)
        if at_term_end:
            _schedule(
                subscription, ScheduledChange.Kind.CANCEL, subscription.current_term_end, {"reason": reason}
            )
            subscription.status = S.NON_RENEWING
            subscription.cancel_reason, subscription.cancel_comment = reason[:200], comment
            _save(subscription)
            audit(
                actor,
                "subscription.cancel_scheduled",
                subscription,
                on=subscription.current_term_end,
                reason=reason,
            )
            _emit("subscription.cancel_scheduled", subscription, on=subscription.current_term_end)
            return subscription
        settings = subscription_settings(subscription.organization)
        wants_credit = settings.credit_on_immediate_cancel if credit is None else credit
        unused = Proration()
        if wants_credit and subscription.status in (S.LIVE, S.NON_RENEWING):
            today = _today(subscription.organization)
            everything = _paid(subscription).everything()  # the unused part, as it was paid
            unused = _prorate(subscription, everything, [], today, mode="invoice_now", credits_only=True)
            _credit(subscription, unused.credits, None, actor)
        _end(subscription, reason, comment)
        subscription.unused_credited = bool(unused.credits)
        _save(subscription)
        audit(actor, "subscription.cancelled", subscription, reason=reason)
        _emit("subscription.cancelled", subscription, reason=reason)
    return subscription


def undo_cancel(*, subscription: Subscription, actor: Actor) -> Subscription:
    with transaction.atomic():
        subscription = _lock(subscription)
        _require(subscription, "undo_cancel")
        _cancel_pending(subscription, ScheduledChange.Kind.CANCEL)
        subscription.status = S.LIVE
        subscription.cancel_reason = subscription.cancel_comment = ""
        _save(subscription)
        audit(actor, "subscription.cancel_undone", subscription)
    return subscription


def reactivate(*, subscription: Subscription, actor: Actor) -> Subscription:
    """Chargebee's rule: within the paid term, keep the term (no invoice); after it, a new term
    starts today and is invoiced. When the unused part was credited at cancellation, the days left
    of the term are charged again (by days, as the credit was)."""
    with transaction.atomic():
        subscription = _lock(subscription)
        _require(subscription, "reactivate")
        today = _today(subscription.organization)
        subscription.status = S.LIVE
        subscription.cancelled_at = subscription.cancelled_on = None
        subscription.cancel_reason = subscription.cancel_comment = ""
        invoice = None
        credited, subscription.unused_credited = subscription.unused_credited, False
        if subscription.current_term_end and today < subscription.current_term_end:
            subscription.next_billing_on = subscription.current_term_end
            if credited:  # the unused time was credited: charge the days left of the term again
                everything = _paid(subscription).everything()  # the days credited, charged again
                again = _prorate(subscription, [], everything, today, mode="invoice_now")
                invoice = _issue(subscription, again.charges, actor) if again.charges else None
        else:
            _start_term(subscription, today)
            invoice = _bill_term(subscription, today, subscription.current_term_end, actor)
        _save(subscription)
        audit(actor, "subscription.reactivated", subscription, invoice=invoice.number if invoice else "")
        _emit("subscription.reactivated", subscription)
    return subscription


# -- payment ----------------------------------------------------------------------------------------


def set_auto_charge(*, subscription: Subscription, enabled: bool, actor: Actor) -> Subscription:
    """Turn automatic charging on (it needs the customer's default saved method) or off."""
    with transaction.atomic():
        subscription = _lock(subscription)
        _require(subscription, "auto_charge")
        if enabled and payment_methods.default_method(subscription.customer) is None:
            raise errors.NeedsPaymentMethod()
        if subscription.auto_charge == enabled:
            return subscription
        subscription.auto_charge = enabled
        _save(subscription)
        audit(actor, "subscription.auto_charge_changed", subscription, enabled=enabled)
    return subscription


@payment_methods.register_method_dependency
def _needed_for_subscription(method) -> str | None:
    """A customer's last card may not be removed while one of its subscriptions charges it."""
    charging = Subscription.all_tenants.filter(
        customer_id=method.customer_id, auto_charge=True, status__in=ACTIVE
    )
    if not charging.exists():
        return None
    if payment_methods.active_methods(method.customer).exclude(pk=method.pk).exists():
        return None
    return _(
        "A subscription is paid automatically with this card; add another card or turn its automatic "
        "payments off before removing this one."
    )


# -- scheduled changes ------------------------------------------------------------------------------


def cancel_scheduled_change(*, change: ScheduledChange, actor: Actor) -> ScheduledChange:
    with transaction.atomic():
        subscription = _lock(change.subscription)
        change = ScheduledChange.all_tenants.select_for_update().get(pk=change.pk)
        if change.status != ScheduledChange.ChangeStatus.PENDING:
            raise errors.ChangeNotPending()
        change.status = ScheduledChange.ChangeStatus.CANCELLED
        change.cancelled_at = clock.now()
        change.save(update_fields=["status", "cancelled_at"])
        if change.kind == ScheduledChange.Kind.CANCEL and subscription.status == S.NON_RENEWING:
            subscription.status = S.LIVE
            subscription.cancel_reason = subscription.cancel_comment = ""
        if change.kind == ScheduledChange.Kind.RESUME and subscription.status == S.PAUSED:
            subscription.resume_on = subscription.next_billing_on = None
        _save(subscription)
        audit(
            actor,
            "subscription.scheduled_change_cancelled",
            subscription,
            kind=change.kind,
            on=change.effective_on,
        )
    return change


# -- the bill run's one period ------------------------------------------------------------------------


def renew(subscription: Subscription, period_start: dt.date, *, actor: Actor | None = None) -> Invoice | None:
    """Bill ONE period of a live (or non-renewing) subscription starting on `period_start`: the
    BillingPeriod row first (IntegrityError → already billed: returns None), then the invoice; the
    term moves to that period. The bill run decides what is due and applies scheduled changes."""
    actor = actor or Actor.system("bill run")
    with transaction.atomic():
        subscription = _lock(subscription)
        if subscription.status not in (S.LIVE, S.NON_RENEWING):
            raise errors.TransitionRefused()
        end = periods.add_interval(
            period_start,
            subscription.plan.interval_unit,
            subscription.plan.interval_count,
            1,
            subscription.anchor_day,
        )
        try:
            invoice = _bill_term(subscription, period_start, end, actor)
        except errors.AlreadyBilled:
            return None
        subscription.current_term_start, subscription.current_term_end = period_start, end
        subscription.next_billing_on = end
        _save(subscription)
        audit(
            actor, "subscription.renewed", subscription, invoice=invoice.number, start=period_start, end=end
        )
    return invoice
