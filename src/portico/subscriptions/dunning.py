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

from portico.billing.models import Invoice
from portico.core import clock, outbox
from portico.core.audit import Actor, audit
from portico.payments.autocharge import charge_automatically
from portico.payments.models import PaymentAttempt
from portico.subscriptions.models import BillingPeriod, DunningFinalAction, Status, Subscription
from portico.subscriptions.notices import subscription_settings

log = logging.getLogger(__name__)

ACTOR = Actor.system("dunning")
CHUNK = 200


@dataclass
class DunningReport:
    retried: int = 0
    recovered: int = 0
    stopped: int = 0  # paid in between
    final: int = 0

    def __str__(self) -> str:
        return (
            f"{self.retried} retried, {self.recovered} recovered, {self.stopped} paid meanwhile, "
            f"{self.final} final actions"
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


def charge_declined(invoice: Invoice, outcome) -> None:
    """A declined automatic charge (`payments.autocharge`'s decline handler): when the invoice bills
    a period of a subscription that auto-charges, its dunning starts (once per invoice; a retry's
    own decline finds it started)."""
    period = BillingPeriod.all_tenants.filter(invoice_id=invoice.pk).select_related("subscription").first()
    subscription = period.subscription if period is not None else None
    if subscription is None or not subscription.auto_charge:
        return
    start_dunning(subscription, invoice, failed_on=clock.today(invoice.organization.time_zone))


def start_dunning(subscription: Subscription, invoice: Invoice, *, failed_on: dt.date) -> bool:
    """Schedule the retries of `invoice`'s failed charge (once per invoice); False if already dunning it."""
    with transaction.atomic():
        s = _lock(subscription.pk)
        if s.dunning_invoice_id == invoice.pk:
            return False
        days = subscription_settings(s.organization).dunning_retry_days or []
        s.dunning_invoice_id = invoice.pk
        s.dunning_attempts = 0
        s.next_retry_on = failed_on + dt.timedelta(days=days[0]) if days else None
        s.save(update_fields=["dunning_invoice", "dunning_attempts", "next_retry_on", "updated_at"])
        audit(ACTOR, "subscription.dunning_started", s, invoice=invoice.number, next_retry_on=s.next_retry_on)
        if not days:
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
        attempt = s.dunning_attempts + 1
    # The charge runs outside our transaction (it commits its reservation before calling the gateway).
    charge_automatically(invoice, key=f"dunning:{invoice.pk}:{attempt}")
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
        days = subscription_settings(s.organization).dunning_retry_days or []
        s.dunning_attempts = attempt
        audit(ACTOR, "subscription.dunning_retry_failed", s, invoice=invoice.number, attempt=attempt)
        if attempt >= len(days):
            _final_action(s, invoice)
            report.final += 1
            return
        s.next_retry_on = s.next_retry_on + dt.timedelta(days=days[attempt] - days[attempt - 1])
        s.save(update_fields=["dunning_attempts", "next_retry_on", "updated_at"])
