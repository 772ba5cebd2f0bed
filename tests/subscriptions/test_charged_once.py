"""One charge per subscription invoice, whichever path gets there first (issue 11: the charge keys
unified): the service's immediate charge after commit, the `payments.auto_charge` delivery of the
invoice's `invoice.finalized` event, and the customer's own AutoCharge all use the event's key."""

from __future__ import annotations

from portico.billing.models import Invoice
from portico.core import outbox
from portico.core.models import OutboxDelivery, OutboxEvent
from portico.payments.autocharge import charge_issued_invoice
from portico.payments.methods import set_auto_charge
from portico.payments.models import GatewayCharge
from portico.subscriptions.billrun import run_bill_run
from portico.subscriptions.models import Subscription
from tests.catalog.factories import plan
from tests.subscriptions.billrun_world import ONE_LATE, PERIOD_TOTAL, seed
from tests.subscriptions.factories import ACTOR, card, subscribe


def test_a_new_subscriptions_invoice_is_charged_once_by_the_service_and_not_again_by_the_outbox(
    org, customer, clock, django_capture_on_commit_callbacks
):
    card(customer)
    set_auto_charge(customer=customer, enabled=True, actor=ACTOR)  # the customer-wide switch too
    monthly = plan(org, "monthly", price_minor=4200)
    with django_capture_on_commit_callbacks(execute=True):
        subscribe(customer, monthly, auto_charge=True)
    invoice = Invoice.all_tenants.get(customer=customer)
    assert (invoice.total_minor, invoice.balance_minor) == (4200, 0)
    event = OutboxEvent.all_tenants.get(topic="invoice.finalized", payload__id=invoice.pk)
    assert event.payload["auto_charge"] is True
    # The event was delivered after commit too, and comes again (at least once): the same key,
    # nothing charged twice.
    delivery = OutboxDelivery.all_tenants.get(event=event, consumer="payments.auto_charge")
    assert delivery.status == OutboxDelivery.Status.DELIVERED
    with django_capture_on_commit_callbacks(execute=True):
        charge_issued_invoice(event)
    assert outbox.deliver_all_due().failed == 0
    assert GatewayCharge.all_tenants.filter(kind="charge").count() == 1
    invoice.refresh_from_db()
    assert invoice.paid_minor == 4200


def test_the_bill_run_gives_only_auto_charging_invoices_a_charge_delivery(org, clock):
    clock.set(ONE_LATE)
    seed(org, 4, auto_charge_every=2)  # subscriptions 0 and 2 auto-charge; nobody has a card here
    report = run_bill_run(ONE_LATE)
    assert (report.invoices, report.charges_queued) == (4, 2)
    charging = Subscription.all_tenants.filter(auto_charge=True).values_list("number", flat=True)
    deliveries = OutboxDelivery.all_tenants.filter(consumer="payments.auto_charge")
    assert deliveries.count() == 2
    numbers = {d.event.payload["number"] for d in deliveries}
    invoices = Invoice.all_tenants.filter(number__in=numbers)
    assert sorted(i.memo.rsplit(" ", 1)[1] for i in invoices) == sorted(charging)
    assert {i.total_minor for i in invoices} == {PERIOD_TOTAL}


def test_a_declined_charge_of_a_services_invoice_starts_dunning_too(
    org, customer, clock, django_capture_on_commit_callbacks
):
    # A mid-term upgrade's invoice (no billing period: linked by SubscriptionDocument), charged at
    # once to a card that declines: the retries are scheduled as for a renewal.
    from portico.subscriptions import services
    from tests.subscriptions.factories import world

    w = world(org)
    card(customer, "4000000000000341")  # saved, declined when charged
    sub = subscribe(customer, w.starter, quantity=1)
    services.set_auto_charge(subscription=sub, enabled=True, actor=ACTOR)
    clock.set("2026-03-20T15:00:00+00:00")
    with django_capture_on_commit_callbacks(execute=True):
        services.change_plan(subscription=sub, plan=w.pro, actor=ACTOR)
    upgrade = Invoice.all_tenants.filter(customer=customer).order_by("id").last()
    assert upgrade.balance_minor > 0
    sub.refresh_from_db()
    assert sub.dunning_invoice_id == upgrade.pk
    assert str(sub.next_retry_on) == "2026-03-21"  # the organization's first retry day: 1 day later


def test_a_charge_queued_by_the_bill_run_before_the_upgrade_is_still_charged_once(org, customer, clock):
    # An older bill run wrote a `subscription.charge` event beside the invoice; delivered now, it
    # charges the invoice with the key the new path uses too: once.
    from portico.core import outbox

    card(customer)
    clock.set(ONE_LATE)
    seed(org, 1, customers=[customer], auto_charge_every=1)
    run_bill_run(ONE_LATE)
    invoice = Invoice.all_tenants.get(customer=customer)
    finalized = OutboxEvent.all_tenants.get(topic="invoice.finalized", payload__id=invoice.pk)
    sub = Subscription.all_tenants.get()
    # as then: the renewal's charge was the `subscription.charge` delivery, not the invoice event's
    OutboxDelivery.all_tenants.filter(event=finalized).delete()
    outbox.emit(
        "subscription.charge",
        organization=org,
        payload={"subscription": sub.pk, "invoice": invoice.pk, "customer": customer.pk,
                 "key": f"invoice.finalized:{finalized.pk}"},
    )  # fmt: skip
    assert outbox.deliver_all_due().failed == 0
    legacy = OutboxDelivery.all_tenants.get(consumer="subscriptions.auto_charge")
    assert legacy.status == OutboxDelivery.Status.DELIVERED
    invoice.refresh_from_db()
    assert invoice.balance_minor == 0
    assert GatewayCharge.all_tenants.filter(kind="charge").count() == 1
