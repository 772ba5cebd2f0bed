"""Dunning (issue 11, section 5): a renewal charged automatically to a card that declines is retried
on the organization's schedule (days 1, 3 and 5 after the failure), then the final action is taken;
a payment in between stops it. Real test-gateway charges, emails received by a real SMTP server."""

import datetime as dt

import pytest

from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice
from portico.core.audit import Actor
from portico.payments.gateways import CardDetails
from portico.payments.methods import save_method
from portico.payments.models import GatewayCharge
from portico.subscriptions.billrun import run_bill_run
from portico.subscriptions.dunning import run_dunning
from portico.subscriptions.models import Status, Subscription, SubscriptionSettings
from tests.billing.factories import pay
from tests.subscriptions.billrun_world import ONE_LATE, PERIOD_TOTAL, seed

ACTOR = Actor.system("tests")
DECLINES = "4000000000000341"  # saved fine, declined when charged


def at(day: int) -> dt.datetime:
    return dt.datetime(2026, 2, day, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def subscriber(org, customer, clock):
    clock.set(ONE_LATE)
    save_method(
        organization=org,
        customer=customer,
        actor=ACTOR,
        card=CardDetails(number=DECLINES, exp_month=12, exp_year=2030, cvc="123", name="Maria Lopez"),
    )
    seed(org, 1, customers=[customer], auto_charge_every=1)
    return Subscription.objects.get()


def _renew_and_fail(clock, run):
    clock.set(ONE_LATE)
    with run(execute=True):
        report = run_bill_run(ONE_LATE)
    assert (report.invoices, report.charges_queued) == (1, 1)


def _retry(clock, run, day):
    clock.set(at(day))
    with run(execute=True):
        return run_dunning(at(day))


def test_a_declined_renewal_is_retried_on_days_1_3_5_then_marked_unpaid(
    subscriber, clock, mailbox, django_capture_on_commit_callbacks
):
    run = django_capture_on_commit_callbacks
    _renew_and_fail(clock, run)
    subscriber.refresh_from_db()
    invoice = Invoice.objects.get()
    assert (invoice.total_minor, invoice.balance_minor) == (PERIOD_TOTAL, PERIOD_TOTAL)
    assert GatewayCharge.objects.count() == 1
    assert (subscriber.dunning_invoice_id, subscriber.next_retry_on) == (invoice.pk, dt.date(2026, 2, 11))

    assert _retry(clock, run, 10).retried == 0  # not yet due
    for day, attempts, next_retry in ((11, 1, dt.date(2026, 2, 13)), (13, 2, dt.date(2026, 2, 15))):
        assert _retry(clock, run, day).retried == 1
        assert _retry(clock, run, day).retried == 0  # once per day, however often dunning runs
        subscriber.refresh_from_db()
        assert (subscriber.dunning_attempts, subscriber.next_retry_on, subscriber.status) == (
            attempts,
            next_retry,
            Status.LIVE,
        )
    report = _retry(clock, run, 15)
    assert (report.retried, report.final) == (1, 1)
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.next_retry_on, subscriber.next_billing_on) == (
        Status.UNPAID,
        None,
        None,
    )
    assert GatewayCharge.objects.count() == 4  # the renewal and three retries
    failed = [
        m for m in mailbox.messages if "declined" in mailbox.body(m) or "could not" in m["Subject"].lower()
    ]
    assert len(failed) == 4, [m["Subject"] for m in mailbox.messages]
    assert ledger_violations() == []


def test_the_final_action_may_cancel_and_says_so(
    subscriber, org, clock, mailbox, django_capture_on_commit_callbacks
):
    SubscriptionSettings.objects.update_or_create(
        organization=org, defaults={"dunning_final_action": "cancel", "dunning_retry_days": [2]}
    )
    org.refresh_from_db()
    run = django_capture_on_commit_callbacks
    _renew_and_fail(clock, run)
    subscriber.refresh_from_db()
    assert subscriber.next_retry_on == dt.date(2026, 2, 12)
    assert _retry(clock, run, 12).final == 1
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.cancel_reason) == (Status.CANCELLED, "unpaid")
    cancelled = [m for m in mailbox.messages if "is cancelled" in m["Subject"]]
    assert len(cancelled) == 1 and subscriber.number in cancelled[0]["Subject"]


def test_a_payment_between_retries_stops_dunning(
    subscriber, customer, clock, mailbox, django_capture_on_commit_callbacks
):
    run = django_capture_on_commit_callbacks
    _renew_and_fail(clock, run)
    assert _retry(clock, run, 11).retried == 1
    invoice = Invoice.objects.get()
    clock.set(at(12))
    pay(customer, PERIOD_TOTAL, (invoice, PERIOD_TOTAL))  # paid by bank transfer in between
    report = _retry(clock, run, 13)
    assert (report.retried, report.stopped) == (0, 1)
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.dunning_invoice_id, subscriber.next_retry_on) == (
        Status.LIVE,
        None,
        None,
    )
    assert GatewayCharge.objects.count() == 2  # no charge after the payment
    assert _retry(clock, run, 15).retried == 0
    assert ledger_violations() == []


# -- a charge still processing is no failure ------------------------------------------------------------


def _processing_payment(customer, invoice, clock):
    """The customer paid the invoice with a charge the bank has not decided yet (a debit, a 3-D Secure
    check): its attempt pending, processing at the gateway, its reservation held."""
    from portico.payments.methods import default_method
    from portico.payments.services import reconcile_pending_attempts
    from tests.payments.test_reconcile_gateways import (
        CrashBeforeCharge,
        charge_under_the_key,
        pending_attempt,
    )

    attempt = pending_attempt(customer, [invoice], default_method(customer), CrashBeforeCharge())
    charge_under_the_key(attempt)
    GatewayCharge.objects.filter(idempotency_key=attempt.idempotency_key).update(
        status=GatewayCharge.Status.PROCESSING
    )
    now = clock.now()
    clock.set(now + dt.timedelta(minutes=16))
    assert reconcile_pending_attempts().waiting == 1
    clock.set(now)
    return attempt


def _settle(attempt, status, clock):
    from portico.payments.services import reconcile_pending_attempts

    GatewayCharge.objects.filter(idempotency_key=attempt.idempotency_key).update(status=status)
    report = reconcile_pending_attempts()
    assert (report.booked, report.declined) == (
        (1, 0) if status == GatewayCharge.Status.SUCCEEDED else (0, 1)
    )


def test_a_charge_processing_between_retries_is_not_a_failure_and_takes_no_final_action(
    subscriber, customer, clock, mailbox, django_capture_on_commit_callbacks
):
    run = django_capture_on_commit_callbacks
    _renew_and_fail(clock, run)
    invoice = Invoice.objects.get()
    clock.set(at(10))
    attempt = _processing_payment(customer, invoice, clock)
    charges = GatewayCharge.objects.count()
    for day in range(11, 21):  # past every retry day (11, 13, 15): the charge still processing
        report = _retry(clock, run, day)
        assert (report.retried, report.final, report.waiting) == (0, 0, 1), day
        subscriber.refresh_from_db()
        assert (subscriber.status, subscriber.dunning_attempts) == (Status.LIVE, 0)
        assert subscriber.next_retry_on == dt.date(2026, 2, day + 1)  # looked at again the next day
    assert GatewayCharge.objects.count() == charges  # nothing charged meanwhile
    # the bank declines it: the retries go on from there, then the final action
    _settle(attempt, GatewayCharge.Status.DECLINED, clock)
    assert _retry(clock, run, 21).retried == 1
    subscriber.refresh_from_db()
    assert (subscriber.dunning_attempts, subscriber.next_retry_on) == (1, dt.date(2026, 2, 23))
    assert _retry(clock, run, 23).retried == 1
    report = _retry(clock, run, 25)
    assert (report.retried, report.final) == (1, 1)
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.dunning_attempts) == (Status.UNPAID, 3)
    assert ledger_violations() == []


def test_a_processing_charge_that_succeeds_stops_dunning(
    subscriber, customer, clock, mailbox, django_capture_on_commit_callbacks
):
    run = django_capture_on_commit_callbacks
    _renew_and_fail(clock, run)
    invoice = Invoice.objects.get()
    clock.set(at(10))
    attempt = _processing_payment(customer, invoice, clock)
    assert _retry(clock, run, 11).waiting == 1
    _settle(attempt, GatewayCharge.Status.SUCCEEDED, clock)
    report = _retry(clock, run, 12)
    assert (report.retried, report.stopped, report.final) == (0, 1, 0)
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.dunning_invoice_id, subscriber.next_retry_on) == (
        Status.LIVE,
        None,
        None,
    )
    invoice.refresh_from_db()
    assert invoice.balance_minor == 0
    assert ledger_violations() == []


def test_a_renewal_charge_that_finds_a_charge_processing_starts_no_retries(
    subscriber, customer, clock, mailbox, django_capture_on_commit_callbacks
):
    """The renewal is issued; before its charge runs, the customer pays it with a charge still
    processing: the renewal's charge finds nothing free to charge — watched, not a decline."""
    clock.set(ONE_LATE)
    with django_capture_on_commit_callbacks() as callbacks:
        assert run_bill_run(ONE_LATE).charges_queued == 1
    invoice = Invoice.objects.get()
    attempt = _processing_payment(customer, invoice, clock)
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    subscriber.refresh_from_db()
    assert (subscriber.dunning_invoice_id, subscriber.dunning_attempts) == (invoice.pk, 0)
    assert subscriber.next_retry_on == dt.date(2026, 2, 11)  # a check the next day, not a retry
    assert not [m for m in mailbox.messages if "declined" in mailbox.body(m)]  # no decline to tell
    report = _retry(clock, django_capture_on_commit_callbacks, 11)
    assert (report.retried, report.waiting, report.final) == (0, 1, 0)
    _settle(attempt, GatewayCharge.Status.SUCCEEDED, clock)
    assert _retry(clock, django_capture_on_commit_callbacks, 12).stopped == 1
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.dunning_invoice_id) == (Status.LIVE, None)
