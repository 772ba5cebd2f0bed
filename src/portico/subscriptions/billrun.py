"""The bill run: renew every subscription due at or before a moment, each due period billed once.

`run_bill_run(at)` walks the organizations that have subscriptions and, for each, claims due
subscriptions (`next_billing_on` on or before the organization's local date of `at`) in batches of
`batch_size`, ordered by (next_billing_on, id):
- on PostgreSQL with `SELECT … FOR UPDATE OF subscription, customer SKIP LOCKED`: several bill runs
  (or workers on several machines) claim disjoint batches and never wait on each other, so they
  neither bill twice nor skip; the customer row is locked with its subscriptions (the ledger's lock
  order: customer, then what it owns), without waiting, so no deadlock with the services either;
- on SQLite, single-writer: every transaction starts IMMEDIATE (settings), one writer at a time.

A batch is one transaction: for each subscription it catches up every missed period — starting
future subscriptions, ending trials, applying the scheduled changes due, pausing and resuming,
expiring finished billing cycles, cancelling non-renewing ones at term end — and bills each period
once (a `BillingPeriod` row per period: UNIQUE(subscription, start), so the database refuses a
second bill of one period even if code got it wrong). Lines come from `subscriptions.pricing`, the
path the services and previews price with (flat, per-unit, volume and tiered prices, the plan's and
addons' tax rates, the active coupon, its cycles counted down), priced once per distinct
configuration and period in the run however many subscriptions share it; the
invoices are issued by `billing.services.issue_invoices` in bulk, numbered from one block taken at
the end of the batch (gapless: the batch commits whole or not at all). A killed run leaves whole
batches only; the next run continues where it stopped.

After commit, automatic charges leave through the outbox: the invoices of subscriptions that
auto-charge are issued with `auto_charge`, so their `invoice.finalized` events (and only theirs) get
a `payments.auto_charge` delivery; the worker charges the saved card; a decline starts dunning
(`subscriptions.dunning`). Memory is flat: only ids and counters outlive a batch.

Why one module: the steps of one batch (claim, bill, issue, after-commit) share the batch's state
and read top to bottom in the order the run takes them.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter

from django.db import connection, transaction
from django.utils.translation import gettext as _

from portico.billing import services as billing
from portico.billing.models import Invoice
from portico.catalog.models import Addon, Coupon, Plan
from portico.core import bulk, clock, outbox
from portico.core.audit import Actor, audit_row
from portico.core.models import AuditEvent, Organization
from portico.core.money import Money
from portico.subscriptions import notices, periods, pricing
from portico.subscriptions.models import (
    BILLABLE_STATUSES,
    BillingPeriod,
    CouponRedemption,
    ScheduledChange,
    Status,
    Subscription,
    SubscriptionItem,
)

log = logging.getLogger(__name__)

ACTOR = Actor.system("bill run")
# A subscription years behind is caught up over several runs rather than in one giant batch.
MAX_PERIODS_PER_RUN = 120


@dataclass
class BillRunReport:
    at: dt.datetime
    renewed: int = 0  # subscriptions that got at least one invoice
    invoices: int = 0
    periods: int = 0
    amounts: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # currency → minor
    changed: int = 0  # state changes without an invoice (started a trial, paused, cancelled, expired)
    skipped: int = 0  # claimed but had nothing to bill (e.g. paused indefinitely)
    failed: int = 0
    batches: int = 0
    charges_queued: int = 0
    elapsed: float = 0.0
    errors: list[str] = field(default_factory=list)

    def add(self, other: BillRunReport) -> None:
        """Count a committed batch (its counters are kept apart until its transaction commits)."""
        for name in ("renewed", "invoices", "periods", "changed", "skipped", "failed", "charges_queued"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for currency, minor in other.amounts.items():
            self.amounts[currency] += minor
        self.errors += other.errors

    @property
    def rate(self) -> float:
        return self.renewed / self.elapsed if self.elapsed else 0.0

    def amount_text(self) -> str:
        if not self.amounts:
            return "nothing"
        return ", ".join(str(Money(minor, currency)) for currency, minor in sorted(self.amounts.items()))

    def __str__(self) -> str:
        return (
            f"renewed {self.renewed}, invoices {self.invoices} ({self.amount_text()}), "
            f"changed {self.changed}, skipped {self.skipped}, failed {self.failed}, "
            f"{self.elapsed:.1f} s, {self.rate:.0f} renewals/s"
        )


@dataclass
class _Item:
    addon: Addon
    quantity: int


@dataclass
class _Redemption:
    """An active coupon redemption as the bill run counts it down (written back in bulk)."""

    pk: int
    coupon: Coupon
    cycles_left: int | None
    status: str


@dataclass
class _Outcome:
    """What the bill run decided for one subscription, written in bulk with its batch."""

    subscription: Subscription
    invoices: list[tuple[periods.Period, list[billing.LineInput], dict]] = field(default_factory=list)
    changes_applied: list[int] = field(default_factory=list)
    redemption: _Redemption | None = None
    redemption_changed: bool = False
    audits: list[tuple[str, dict]] = field(default_factory=list)
    cancelled: bool = False
    changed: bool = False
    deferred_credits: list = field(default_factory=list)  # proration credits deferred to this renewal
    deferred_cleared: bool = False
    before: tuple = ()  # the tracked fields' values as claimed (`_tracked`)


# -- entry point --------------------------------------------------------------------------------------


def run_bill_run(
    at: dt.datetime | None = None,
    *,
    batch_size: int = 500,
    progress: Callable[[BillRunReport], None] | None = None,
    organization: Organization | None = None,
) -> BillRunReport:
    """Renew everything due at or before `at` (default: now). Safe to run in several processes at
    once and to run again after a crash; see the module's docstring."""
    at = at or clock.now()
    report = BillRunReport(at=at)
    started = time.perf_counter()
    organizations = (
        [organization]
        if organization is not None
        else Organization.objects.filter(
            pk__in=Subscription.all_tenants.filter(status__in=BILLABLE_STATUSES).values("organization_id")
        ).order_by("pk")
    )
    for org in organizations:
        today = _local(at, org)
        failed: set[int] = set()
        catalog = _Catalog(org)
        while True:
            done = _run_batch(org, today, batch_size, failed, report, catalog)
            report.elapsed = time.perf_counter() - started
            if progress is not None and done:
                progress(report)
            if not done:
                break
    report.elapsed = time.perf_counter() - started
    return report


def _local(at: dt.datetime, organization) -> dt.date:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(organization.time_zone)).date()


def _due(organization, today: dt.date, failed: set[int]):
    due = Subscription.all_tenants.filter(
        organization=organization, status__in=BILLABLE_STATUSES, next_billing_on__lte=today
    )
    if failed:
        due = due.exclude(pk__any=failed)
    return due.order_by("next_billing_on", "pk")


def _claim(organization, today: dt.date, limit: int, failed: set[int], only: list[int] | None = None):
    due = _due(organization, today, failed)
    if only is not None:
        due = due.filter(pk__in=only)
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True, of=("self", "customer"))
    # The models without their __init__ (`bulk.load`); the timestamps nothing here reads load on use.
    due = due.select_related("customer").defer("created_at", "updated_at", "customer__created_at")
    return bulk.load(due[:limit])


def _run_batch(organization, today, batch_size, failed, report, catalog) -> int:
    """Claim and bill one batch in one transaction; the number claimed (0: nothing left)."""
    claimed: list[Subscription] = []
    try:
        with transaction.atomic():
            claimed = _claim(organization, today, batch_size, failed)
            if claimed:
                part = BillRunReport(at=report.at)
                _bill(organization, today, claimed, part, failed, catalog)
        if claimed:
            report.add(part)
    except Exception:  # a database error in the batch's writes: isolate the culprit
        if not claimed:
            raise
        log.exception("bill run batch of %s failed; retrying its subscriptions one by one", organization)
        for pk in [s.pk for s in claimed]:
            try:
                part = BillRunReport(at=report.at)
                with transaction.atomic():
                    one = _claim(organization, today, 1, failed, only=[pk])
                    if one:
                        _bill(organization, today, one, part, failed, catalog)
                report.add(part)
            except Exception as error:
                failed.add(pk)
                report.failed += 1
                report.errors.append(f"subscription {pk}: {error}")
                log.warning("bill run: subscription %s failed: %s", pk, error)
    if claimed:
        report.batches += 1
    return len(claimed)


# -- one batch ----------------------------------------------------------------------------------------


class _Catalog:
    """Plans and addons (with their tiers and tax rates) and coupons (with what they are limited to)
    by id, loaded once per run and organization; and the lines of each distinct configuration and
    period, priced once (`subscriptions.pricing`) however many subscriptions bill the same."""

    MAX_PRICED = 20_000  # distinct (configuration, period) pairs kept; beyond, the memo starts over

    def __init__(self, organization):
        self.organization = organization
        self.plans: dict[int, Plan] = {}
        self.addons: dict[int, Addon] = {}
        self.coupons: dict[int, Coupon] = {}
        self.coupon_limits: dict[int, tuple[set[int], set[int]]] = {}
        self.priced: dict[tuple, list[billing.LineInput]] = {}

    def plan(self, pk: int) -> Plan:
        if pk not in self.plans:
            self.plans[pk] = Plan.all_tenants.select_related("tax_rate").prefetch_related("tiers").get(pk=pk)
        return self.plans[pk]

    def addon(self, pk: int) -> Addon:
        if pk not in self.addons:
            self.addons[pk] = (
                Addon.all_tenants.select_related("tax_rate").prefetch_related("tiers").get(pk=pk)
            )
        return self.addons[pk]

    def coupon(self, pk: int) -> Coupon:
        if pk not in self.coupons:
            coupon = Coupon.all_tenants.prefetch_related("plans", "addons").get(pk=pk)
            self.coupons[pk] = coupon
            self.coupon_limits[pk] = coupon._limited_to()
        return self.coupons[pk]

    def lines(self, s: Subscription, plan: Plan, items, coupon: Coupon | None, period) -> list:
        """The lines of `period` for the subscription's configuration (`pricing.period_lines`), the
        setup fee on its first period."""
        first = s.cycles_billed == 0
        key = (
            plan.pk,
            s.quantity,
            s.price_override_minor,
            s.unit_price_override,
            tuple((item.addon.pk, item.quantity) for item in items),
            coupon.pk if coupon is not None else None,
            period,
            first,
        )
        found = self.priced.get(key)
        if found is None:
            priced = pricing.Pricing(
                s,
                coupon,
                plan_row=plan,
                items=[(item.addon, item.quantity) for item in items],
                coupon_limits=self.coupon_limits.get(coupon.pk) if coupon is not None else None,
            )
            found = pricing.period_lines(
                priced.everything(), period, setup_fee=pricing.setup_fee_line(plan) if first else None
            )
            if len(self.priced) >= self.MAX_PRICED:
                self.priced.clear()
            self.priced[key] = found
        return list(found)


def _bill(organization, today, claimed: list[Subscription], report, failed: set[int], catalog) -> None:
    ids = [s.pk for s in claimed]
    items: dict[int, list[_Item]] = defaultdict(list)
    for subscription_id, addon_id, quantity in SubscriptionItem.all_tenants.filter(
        subscription_id__any=ids
    ).values_list("subscription_id", "addon_id", "quantity"):
        items[subscription_id].append(_Item(catalog.addon(addon_id), quantity))
    redemptions = {}
    for pk, subscription_id, coupon_id, cycles_left, status in CouponRedemption.all_tenants.filter(
        subscription_id__any=ids, status=CouponRedemption.RedemptionStatus.ACTIVE
    ).values_list("pk", "subscription_id", "coupon_id", "cycles_left", "status"):
        redemptions[subscription_id] = _Redemption(pk, catalog.coupon(coupon_id), cycles_left, status)
    changes: dict[int, list[ScheduledChange]] = defaultdict(list)
    for change in ScheduledChange.all_tenants.filter(
        subscription_id__any=ids, status=ScheduledChange.ChangeStatus.PENDING, effective_on__lte=today
    ).order_by("effective_on", "pk"):
        changes[change.subscription_id].append(change)

    outcomes: list[_Outcome] = []
    for subscription in claimed:
        try:
            outcomes.append(
                _renew(
                    subscription,
                    today,
                    catalog,
                    items.get(subscription.pk, []),
                    redemptions.get(subscription.pk),
                    changes.get(subscription.pk, []),
                )
            )
        except Exception as error:  # pricing refused (a broken plan): skip it, bill the rest
            failed.add(subscription.pk)
            report.failed += 1
            report.errors.append(f"{subscription.number}: {error}")
            log.exception("bill run: %s could not be renewed", subscription.number)
    _write(organization, outcomes, report)


# -- one subscription ---------------------------------------------------------------------------------


def _renew(
    subscription: Subscription,
    today: dt.date,
    catalog: _Catalog,
    items: list[_Item],
    redemption: _Redemption | None,
    changes: list[ScheduledChange],
) -> _Outcome:
    """Walk the subscription forward to `today`, billing each period that starts on or before it."""
    outcome = _Outcome(subscription, redemption=redemption, before=_tracked(subscription))
    s = subscription
    pending = list(changes)
    for _step in range(MAX_PERIODS_PER_RUN):
        on = s.next_billing_on
        if on is None or on > today or s.status not in BILLABLE_STATUSES:
            break
        # Scheduled changes due by this boundary, oldest first.
        due_changes = [c for c in pending if c.effective_on <= on]
        for change in due_changes:
            pending.remove(change)
            if _apply_change(s, change, on, outcome, catalog):
                outcome.changes_applied.append(change.pk)
        if s.status not in BILLABLE_STATUSES or s.next_billing_on != on:
            continue
        if s.status == Status.FUTURE:
            plan = catalog.plan(s.plan_id)
            if plan.trial_days and s.trial_end is None:
                s.status = Status.IN_TRIAL
                s.trial_start = s.start_date
                s.trial_end = s.start_date + dt.timedelta(days=plan.trial_days)
                s.next_billing_on = s.trial_end
                outcome.audits.append(("subscription.trial_started", {"trial_end": s.trial_end}))
                outcome.changed = True
                continue
            s.status = Status.LIVE
            outcome.audits.append(("subscription.started", {"on": on}))
            _bill_period(s, on, catalog, items, outcome)
        elif s.status == Status.IN_TRIAL:
            s.status = Status.LIVE
            outcome.audits.append(("subscription.trial_ended", {"on": on}))
            _bill_period(s, on, catalog, items, outcome)
        elif s.status == Status.PAUSED:
            if s.resume_on is not None and s.resume_on <= on:
                s.status = Status.LIVE
                s.paused_on = None
                s.resume_on = None
                s.anchor_day = pricing.anchor_day(catalog.plan(s.plan_id), on)  # as `services.resume`
                outcome.audits.append(("subscription.resumed", {"on": on}))
                _bill_period(s, on, catalog, items, outcome)  # a new term starts on the resume date
            else:
                s.next_billing_on = s.resume_on  # paused indefinitely: nothing until resumed
                outcome.changed = True
        elif s.status == Status.NON_RENEWING:
            _cancel(s, on, outcome, reason=s.cancel_reason or "non_renewing")
        else:  # live, at the end of its term
            if s.billing_cycles is not None and s.cycles_billed >= s.billing_cycles:
                s.status = Status.EXPIRED
                s.next_billing_on = None
                outcome.audits.append(("subscription.expired", {"on": on, "cycles": s.cycles_billed}))
                outcome.changed = True
                continue
            _bill_period(s, on, catalog, items, outcome)
    return outcome


def _apply_change(s: Subscription, change: ScheduledChange, on: dt.date, outcome: _Outcome, catalog) -> bool:
    payload = change.payload or {}
    kind = change.kind
    if kind == ScheduledChange.Kind.CHANGE:
        if payload.get("plan"):
            s.plan_id = int(payload["plan"])
            catalog.plan(s.plan_id)
        if payload.get("quantity"):
            s.quantity = int(payload["quantity"])
        outcome.audits.append(("subscription.change_applied", {"on": on, **payload}))
    elif kind == ScheduledChange.Kind.PAUSE:
        if s.status not in (Status.LIVE, Status.NON_RENEWING):
            return False
        s.status = Status.PAUSED
        s.paused_on = change.effective_on
        resume = payload.get("resume_on")
        s.resume_on = dt.date.fromisoformat(resume) if resume else None
        s.next_billing_on = s.resume_on
        outcome.audits.append(("subscription.paused", {"on": change.effective_on, "resume_on": s.resume_on}))
    elif kind == ScheduledChange.Kind.RESUME:
        if s.status != Status.PAUSED:
            return False
        s.resume_on = change.effective_on
        s.next_billing_on = change.effective_on
    elif kind == ScheduledChange.Kind.CANCEL:
        _cancel(s, change.effective_on, outcome, reason=payload.get("reason", ""))
    outcome.changed = True
    return True


def _cancel(s: Subscription, on: dt.date, outcome: _Outcome, *, reason: str) -> None:
    s.status = Status.CANCELLED
    s.cancelled_on = on
    s.cancelled_at = clock.now()
    s.next_billing_on = None
    outcome.cancelled = True
    outcome.changed = True
    outcome.audits.append(("subscription.cancelled", {"on": on, "reason": reason, "by": "bill run"}))


def _bill_period(s: Subscription, start: dt.date, catalog: _Catalog, items, outcome: _Outcome) -> None:
    plan = catalog.plan(s.plan_id)
    period = periods.Period(start, pricing.term_end(plan, start, s.anchor_day))
    redemption = outcome.redemption
    coupon = None
    if (
        redemption is not None
        and redemption.status == CouponRedemption.RedemptionStatus.ACTIVE
        and (redemption.cycles_left is None or redemption.cycles_left > 0)
    ):
        coupon = redemption.coupon
    lines = catalog.lines(s, plan, items, coupon, period)
    s.term_redemption_id = redemption.pk if coupon is not None else None  # what this term is paid with
    if coupon is not None and redemption.cycles_left is not None:  # as `services._use_coupon_cycle`
        redemption.cycles_left -= 1
        if redemption.cycles_left == 0:
            redemption.status = CouponRedemption.RedemptionStatus.ENDED
        outcome.redemption_changed = True
    if s.deferred_lines:  # proration deferred to the next renewal (`services`, mode "next_renewal")
        from portico.subscriptions.services import Proration

        deferred = Proration.from_stored(s.deferred_lines)
        s.deferred_lines = []
        lines.extend(deferred.charges)
        outcome.deferred_credits = list(deferred.credits)
        outcome.deferred_cleared = True
    outcome.invoices.append((period, lines, {"subscription": s.number, "period_start": start}))
    s.cycles_billed += 1
    s.current_term_start, s.current_term_end = period.start, period.end
    s.next_billing_on = period.end


# -- writing a batch ----------------------------------------------------------------------------------


SUBSCRIPTION_FIELDS = [
    "status",
    "plan",
    "quantity",
    "trial_start",
    "trial_end",
    "current_term_start",
    "current_term_end",
    "next_billing_on",
    "cycles_billed",
    "anchor_day",
    "term_redemption",
    "paused_on",
    "resume_on",
    "cancelled_on",
    "cancelled_at",
]
_tracked = attrgetter(*(Subscription._meta.get_field(name).attname for name in SUBSCRIPTION_FIELDS))


def _write(organization, outcomes: list[_Outcome], report: BillRunReport) -> None:
    drafts: list[billing.IssueDraft] = []
    owners: list[tuple[_Outcome, periods.Period]] = []
    memo = _("Subscription %(number)s")
    for outcome in outcomes:
        for period, lines, data in outcome.invoices:
            drafts.append(
                billing.IssueDraft(
                    customer=outcome.subscription.customer,
                    lines=lines,
                    issue_date=period.start,
                    memo=memo % {"number": outcome.subscription.number},
                    audit_data=data,
                    auto_charge=outcome.subscription.auto_charge,
                )
            )
            owners.append((outcome, period))
    invoices = billing.issue_invoices(drafts, organization=organization, actor=ACTOR)
    # UNIQUE(subscription, start): a period billed before (by code gone wrong, or a run that did
    # not hold the lock) fails the whole batch here — its invoices and numbers roll back with it.
    billed = bulk.insert_rows(
        BillingPeriod,
        [
            {
                "organization_id": organization.pk,
                "subscription_id": outcome.subscription.pk,
                "start": period.start,
                "end": period.end,
                "invoice_id": invoice.pk,
            }
            for (outcome, period), invoice in zip(owners, invoices, strict=True)
        ],
    )
    now = clock.now()
    # Only the fields the batch changed, of the subscriptions it changed (a renewal moves the term).
    changed: set[int] = set()
    touched = []
    for outcome in outcomes:
        after = _tracked(outcome.subscription)
        differ = [i for i, (a, b) in enumerate(zip(outcome.before, after, strict=True)) if a != b]
        if differ:
            changed.update(differ)
            outcome.subscription.updated_at = now
            touched.append(outcome.subscription)
    if touched:
        bulk_update(Subscription, touched, [SUBSCRIPTION_FIELDS[i] for i in sorted(changed)] + ["updated_at"])
    cleared = [o.subscription.pk for o in outcomes if o.deferred_cleared]
    if cleared:
        Subscription.all_tenants.filter(pk__in=cleared).update(deferred_lines=[])
    applied = [pk for o in outcomes for pk in o.changes_applied]
    if applied:
        ScheduledChange.all_tenants.filter(pk__in=applied).update(
            status=ScheduledChange.ChangeStatus.APPLIED, applied_at=now
        )
    redemptions = [o.redemption for o in outcomes if o.redemption_changed]
    if redemptions:
        bulk_update(CouponRedemption, redemptions, ["cycles_left", "status"])
    audits = []
    by_subscription: dict[int, list[Invoice]] = defaultdict(list)
    for (outcome, _period), invoice in zip(owners, invoices, strict=True):
        by_subscription[outcome.subscription.pk].append(invoice)
    for outcome in outcomes:
        s = outcome.subscription
        for action, data in outcome.audits:
            audits.append(audit_row(ACTOR, action, s, **data))
        billed_invoices = by_subscription.get(s.pk, [])
        if billed_invoices:
            report.renewed += 1
            audits.append(
                audit_row(ACTOR, "subscription.renewed", s, invoices=[i.number for i in billed_invoices])
            )
        elif outcome.changed:
            report.changed += 1
        else:
            report.skipped += 1
    bulk.insert_rows(AuditEvent, audits)
    credited = [o for o in outcomes if o.deferred_credits]
    if credited:  # rare (a downgrade's credit deferred to the renewal): the services' credit note
        from portico.subscriptions.services import _credit

        for outcome in credited:
            first = by_subscription.get(outcome.subscription.pk, [None])[0]
            _credit(outcome.subscription, outcome.deferred_credits, first, ACTOR)
    for invoice in invoices:
        report.amounts[invoice.currency] += invoice.total_minor
    report.invoices += len(invoices)
    report.periods += billed
    # Charges leave after commit, through the outbox (`invoice.finalized`, issued with auto_charge).
    report.charges_queued += sum(
        1 for draft in drafts if draft.auto_charge and draft.invoice.balance_minor > 0
    )
    cancelled = [o.subscription for o in outcomes if o.cancelled]
    if cancelled:  # the email leaves after commit, as for any cancellation (`notices`)
        outbox.emit_many(
            "subscription.cancelled",
            organization=organization,
            events=[
                notices.cancelled_event(s, reason=s.cancel_reason or "", by="bill run") for s in cancelled
            ],
        )


def bulk_update(model, rows: list, names: list[str]) -> None:
    """One UPDATE for many rows (Django's `bulk_update` builds a CASE per field and row, which costs
    more than the rest of the batch). PostgreSQL: `UPDATE … FROM unnest(array, array, …)`, one array
    of new values per column (each one text literal, `bulk.array_literal`); SQLite (3.33+):
    `UPDATE … FROM (VALUES …)`, whose columns are named column1, column2, …"""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    if connection.vendor == "postgresql":
        arrays = ", ".join(["%s::bigint[]"] + [f"%s::{f.db_type(connection)}[]" for f in fields])
        columns = ", ".join(["id"] + [quote(f.column) for f in fields])
        assignments = ", ".join(f"{quote(f.column)} = t.{quote(f.column)}" for f in fields)
        params = [bulk.array_literal([row.pk for row in rows])] + [
            bulk.array_literal([getattr(row, f.attname) for row in rows]) for f in fields
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS t({columns}) "  # noqa: S608
                f"WHERE {table}.id = t.id",
                params,
            )
        return
    assignments = ", ".join(f"{quote(f.column)} = v.column{i + 2}" for i, f in enumerate(fields))
    width = len(fields) + 1
    step = max(1, 900 // width)  # SQLite's default limit on parameters per statement is 999
    with connection.cursor() as cursor:
        for first in range(0, len(rows), step):
            chunk = rows[first : first + step]
            values, params = [], []
            for row in chunk:
                values.append("(" + ", ".join(["%s"] * width) + ")")
                params.append(row.pk)
                for f in fields:
                    params.append(f.get_db_prep_save(getattr(row, f.attname), connection))
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join(values)}) AS v "  # noqa: S608
                f"WHERE {table}.id = v.column1",
                params,
            )
