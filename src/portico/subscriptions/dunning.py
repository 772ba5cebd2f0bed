"""Dunning: an automatic charge of a renewal that failed is retried on the organization's schedule
(`SubscriptionSettings.dunning_retry_days`, days after the first failure, e.g. 1, 3 and 5), then the
final action it chose is taken (mark the subscription unpaid, or cancel it). A payment in between —
by the customer in the portal, by staff, by credit — stops it: a retry first looks whether the
invoice is still outstanding.

The renewal's first charge is `payments.auto_charge`'s, on the invoice's `invoice.finalized` event
(the bill run issues the invoices of subscriptions that auto-charge with `auto_charge`), keyed by
that event: a customer with AutoCharge on as well is charged once. Its decline reaches
`charge_declined` below, which starts dunning.
Each retry's charge is keyed by the invoice and the attempt number: two dunning runs at once, or a
run again after a crash, charge once per attempt. The customer is told of each decline by
`payments.autocharge` (the payment-failed email, once per attempt)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from portico.billing.models import Invoice
from portico.core import clock, outbox
from portico.core.audit import Actor, audit
from portico.payments.autocharge import charge_automatically
from portico.payments.models import PaymentAttempt
from portico.payments.services import reserved_amounts
from portico.subscriptions.models import (
    BillingPeriod,
    DunningFinalAction,
    Status,
    Subscription,
    SubscriptionDocument,
)
from portico.subscriptions.notices import subscription_settings

log = logging.getLogger(__name__)

ACTOR = Actor.system("dunning")
CHUNK = 200
WAIT = dt.timedelta(days=1)  # a charge still processing is looked at again the next day


@dataclass
class DunningReport:
    retried: int = 0
    recovered: int = 0
    stopped: int = 0  # paid in between
    final: int = 0
    waiting: int = 0  # a charge still processing: checked again later, not counted

    def __str__(self) -> str:
        return (
            f"{self.retried} retried, {self.recovered} recovered, {self.stopped} paid meanwhile, "
            f"{self.final} final actions, {self.waiting} waiting for a charge in progress"
        )


def _local(at: dt.datetime, organization) -> dt.date:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(organization.time_zone)).date()


def _lock(subscription_id: int) -> Subscription:
    """The subscription, locked after its customer (the ledger's lock order)."""
    row = Subscription.all_tenants.select_related("customer").get(pk=subscription_id)
    from portico.customers.models import Customer

    Customer.all_tenants.select_for_update().filter(pk=row.customer_id).first()
    return (
        Subscription.all_tenants.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=subscription_id)
    )


def _declined(outcome) -> bool:
    return outcome is not None and outcome.attempt.status == PaymentAttempt.Status.DECLINED


def _in_flight(invoice: Invoice, outcome=None) -> bool:
    """A charge of `invoice` is still processing (ours: `outcome` pending; or anyone's: a pending
    attempt reserves part of it): not a failure, not yet a payment — wait for it to settle."""
    if outcome is not None and outcome.pending:
        return True
    return reserved_amounts([invoice.pk]).get(invoice.pk, 0) > 0


def subscription_of(invoice: Invoice) -> Subscription | None:
    """The subscription whose period `invoice` bills, or that issued it (`SubscriptionDocument`)."""
    period = BillingPeriod.all_tenants.filter(invoice_id=invoice.pk).select_related("subscription").first()
    if period is not None:
        return period.subscription
    link = (
        SubscriptionDocument.all_tenants.filter(invoice_id=invoice.pk).select_related("subscription").first()
    )
    return link.subscription if link is not None else None


def charge_settled(invoice: Invoice, outcome) -> None:
    """An automatic charge of `invoice` came back (`payments.autocharge`'s outcome handler): when it
    bills a subscription that auto-charges, a decline starts dunning and a charge still processing
    (its own, or another that held the invoice: `outcome` None) is watched (checked again the next
    day, never counted as a failure). Once per invoice: a
    retry's own outcome finds its dunning started."""
    if outcome is not None and (outcome.repeated or not (_declined(outcome) or outcome.pending)):
        return
    subscription = subscription_of(invoice)
    if subscription is None or not subscription.auto_charge:
        return
    today = clock.today(invoice.organization.time_zone)
    if outcome is not None and _declined(outcome):
        start_dunning(subscription, invoice, failed_on=today)
    else:
        invoice.refresh_from_db()
        if invoice.is_outstanding and _in_flight(invoice, outcome):
            start_dunning(subscription, invoice, failed_on=today, pending=True)


@outbox.consumer("subscription.charge", name="subscriptions.auto_charge")
def charge_renewal_queued_before_the_upgrade(event) -> None:
    """The bill run once queued its charges as `subscription.charge` events; those still in the
    outbox when this version starts are charged as they were meant to be, with the key they carry
    (the invoice's `invoice.finalized` event: the new path charges the same invoice once)."""
    payload = event.payload
    subscription = Subscription.all_tenants.filter(pk=payload["subscription"]).first()
    invoice = Invoice.all_tenants.filter(pk=payload["invoice"]).first()
    if subscription is None or invoice is None or not subscription.auto_charge:
        return
    charge_automatically(invoice, key=payload["key"])  # its outcome reaches `charge_settled`


def start_dunning(
    subscription: Subscription, invoice: Invoice, *, failed_on: dt.date, pending: bool = False
) -> bool:
    """Schedule the retries of `invoice`'s failed charge (once per invoice); False if already dunning it.
    `pending`: the charge is still processing — only a check is scheduled (tomorrow); the retries
    start once it has settled as declined."""
    with transaction.atomic():
        s = _lock(subscription.pk)
        if s.dunning_invoice_id == invoice.pk:
            return False
        days = subscription_settings(s.organization).dunning_retry_days or []
        s.dunning_invoice_id = invoice.pk
        s.dunning_attempts = 0
        if pending:
            s.next_retry_on = failed_on + WAIT
        else:
            s.next_retry_on = failed_on + dt.timedelta(days=days[0]) if days else None
        s.save(update_fields=["dunning_invoice", "dunning_attempts", "next_retry_on", "updated_at"])
        verb = "subscription.charge_pending" if pending else "subscription.dunning_started"
        audit(ACTOR, verb, s, invoice=invoice.number, next_retry_on=s.next_retry_on)
        if not days and not pending:
            _final_action(s, invoice)
    return True


def _stop(s: Subscription) -> None:
    s.dunning_invoice_id = None
    s.dunning_attempts = 0
    s.next_retry_on = None
    s.save(update_fields=["dunning_invoice", "dunning_attempts", "next_retry_on", "updated_at"])


def _final_action(s: Subscription, invoice: Invoice) -> None:
    action = subscription_settings(s.organization).dunning_final_action
    s.next_retry_on = None
    if action == DunningFinalAction.CANCEL:
        s.status = Status.CANCELLED
        s.cancelled_on = clock.today(s.organization.time_zone)
        s.cancelled_at = clock.now()
        s.cancel_reason = "unpaid"
        s.next_billing_on = None
        s.save()
        audit(ACTOR, "subscription.cancelled", s, reason="unpaid", invoice=invoice.number)
        outbox.emit_for(
            "subscription.cancelled", s, once=False, number=s.number, reason="unpaid", unpaid=True
        )
    else:
        s.status = Status.UNPAID
        s.next_billing_on = None
        s.save()
        audit(ACTOR, "subscription.marked_unpaid", s, invoice=invoice.number)


def run_dunning(at: dt.datetime | None = None) -> DunningReport:
    """Retry every failed charge whose retry day has come (in each organization's zone)."""
    from portico.core.models import Organization

    at = at or clock.now()
    report = DunningReport()
    organizations = Organization.objects.filter(
        pk__in=Subscription.all_tenants.filter(next_retry_on__isnull=False).values("organization_id")
    )
    for organization in organizations:
        today = _local(at, organization)
        due = Subscription.all_tenants.filter(
            organization=organization, next_retry_on__lte=today, dunning_invoice__isnull=False
        ).order_by("pk")
        last = 0
        while True:
            ids = list(due.filter(pk__gt=last).values_list("pk", flat=True)[:CHUNK])
            if not ids:
                break
            last = ids[-1]
            for pk in ids:
                _retry(pk, today, report)
    return report


def _retry(pk: int, today: dt.date, report: DunningReport) -> None:
    with transaction.atomic():
        s = _lock(pk)
        if s.next_retry_on is None or s.next_retry_on > today or s.dunning_invoice_id is None:
            return  # another run took it
        invoice = Invoice.all_tenants.get(pk=s.dunning_invoice_id)
        if not invoice.is_outstanding:  # paid (or credited, or voided) in between: stop
            _stop(s)
            audit(ACTOR, "subscription.dunning_stopped", s, invoice=invoice.number, reason="paid")
            report.stopped += 1
            return
        if _in_flight(invoice):  # a charge is processing (ours or the customer's): check tomorrow
            _wait(s, today, invoice, report)
            return
        attempt = s.dunning_attempts + 1
        days = subscription_settings(s.organization).dunning_retry_days or []
        if not days:  # watched while processing, declined since, and no retry wanted
            _final_action(s, invoice)
            report.final += 1
            return
    # The charge runs outside our transaction (it commits its reservation before calling the gateway).
    # The same attempt number gives the same key: a charge that was processing is found, not repeated.
    outcome = charge_automatically(invoice, key=f"dunning:{invoice.pk}:{attempt}")
    report.retried += 1
    with transaction.atomic():
        s = _lock(pk)
        if s.dunning_invoice_id != invoice.pk or s.dunning_attempts != attempt - 1:
            return  # a concurrent run recorded this attempt
        invoice.refresh_from_db()
        if not invoice.is_outstanding:
            _stop(s)
            audit(ACTOR, "subscription.dunning_recovered", s, invoice=invoice.number, attempt=attempt)
            report.recovered += 1
            return
        if _in_flight(invoice, outcome):  # processing at the gateway: not a failure (yet)
            _wait(s, today, invoice, report)
            return
        s.dunning_attempts = attempt
        audit(ACTOR, "subscription.dunning_retry_failed", s, invoice=invoice.number, attempt=attempt)
        if attempt >= len(days):
            _final_action(s, invoice)
            report.final += 1
            return
        s.next_retry_on = s.next_retry_on + dt.timedelta(days=days[attempt] - days[attempt - 1])
        s.save(update_fields=["dunning_attempts", "next_retry_on", "updated_at"])


def _wait(s: Subscription, today: dt.date, invoice: Invoice, report: DunningReport) -> None:
    """A charge is processing: no attempt counted, no final action; looked at again tomorrow."""
    s.next_retry_on = today + WAIT
    s.save(update_fields=["next_retry_on", "updated_at"])
    audit(ACTOR, "subscription.dunning_waiting", s, invoice=invoice.number, next_check_on=s.next_retry_on)
    report.waiting += 1


@dataclass(frozen=True)
class DunningState:
    """Where a subscription's dunning stands (the console's subscription page)."""

    invoice: Invoice
    attempts: int  # failed retries so far
    retries: int  # retries the schedule has
    next_retry_on: dt.date | None
    final_action: str  # its label
    processing: bool  # a charge of the invoice is still processing

    def describe(self) -> str:
        if self.processing:
            return _("a charge is processing; checked again on %(on)s (not counted as a failure).") % {
                "on": self.next_retry_on
            }
        if self.next_retry_on is None:
            return _("%(attempts)s of %(retries)s retries failed; the final action was taken.") % {
                "attempts": self.attempts,
                "retries": self.retries,
            }
        return _(
            "%(attempts)s of %(retries)s retries failed; next retry on %(on)s; after the last: %(final)s."
        ) % {
            "attempts": self.attempts,
            "retries": self.retries,
            "on": self.next_retry_on,
            "final": self.final_action,
        }


def state_of(subscription: Subscription) -> DunningState | None:
    """The dunning of `subscription`'s failed (or processing) charge, or None when there is none."""
    if subscription.dunning_invoice_id is None:
        return None
    invoice = Invoice.all_tenants.get(pk=subscription.dunning_invoice_id)
    settings = subscription_settings(subscription.organization)
    return DunningState(
        invoice=invoice,
        attempts=subscription.dunning_attempts,
        retries=len(settings.dunning_retry_days or []),
        next_retry_on=subscription.next_retry_on,
        final_action=DunningFinalAction(settings.dunning_final_action).label,
        processing=invoice.is_outstanding and _in_flight(invoice),
    )
