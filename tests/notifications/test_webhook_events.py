"""The events of the catalog that services emit for webhooks: each reaches a subscribed endpoint
with the object's public facts, once per fact."""

from __future__ import annotations

import datetime as dt
import json

from portico.billing import services as ledger
from portico.billing.overdue import emit_overdue
from portico.core import outbox
from portico.core.models import OutboxEvent
from portico.core.money import Money
from portico.demo.loader import load_demo
from portico.notifications import delivery, events
from portico.notifications.models import WebhookEndpoint
from tests.billing.factories import ACTOR, open_invoice, pay
from tests.conftest import login, tenant_client
from tests.notifications.factories import endpoint
from tests.payments.test_pay import pay_online


def received(receiver) -> list[dict]:
    outbox.deliver_all_due()
    delivery.send_all_due()
    return [json.loads(r.body) for r in receiver.requests]


def test_every_event_type_follows_a_topic_that_is_emitted():
    assert len(events.CATALOG) == len(events.BY_NAME) == 20
    assert {e.topic for e in events.CATALOG} >= {"invoice.finalized", "invoice.paid", "portal.login"}
    assert events.BY_NAME["subscription.renewed"].topic == "invoice.finalized"


def test_an_overdue_invoice_is_reported_once_by_the_sweep(org, customer, receiver, clock):
    endpoint(org, url=receiver.url(), events=["invoice.overdue"])
    late = open_invoice(customer, 5000)  # due in 30 days
    paid = open_invoice(customer, 3000)
    pay(customer, 3000, (paid, 3000))
    assert emit_overdue(clock.now() + dt.timedelta(days=30)) == 0  # due today: not overdue yet
    assert emit_overdue(clock.now() + dt.timedelta(days=31)) == 1
    assert emit_overdue(clock.now() + dt.timedelta(days=40)) == 0  # once
    [body] = received(receiver)
    assert body["type"] == "invoice.overdue" and body["data"]["number"] == late.number
    assert body["data"]["balance"] == 5000


def test_a_refund_is_reported_with_its_amount(org, customer, receiver, clock):
    endpoint(org, url=receiver.url(), events=["payment.refunded"])
    payment = pay(customer, 8000)
    ledger.refund_payment(payment=payment, amount=Money(2500, "USD"), actor=ACTOR)
    [body] = received(receiver)
    assert body["type"] == "payment.refunded"
    assert body["data"]["number"] == payment.number and body["data"]["refund"]["amount"] == 2500


def test_a_declined_card_is_reported_as_payment_failed(org, customer, receiver, clock):
    endpoint(org, url=receiver.url(), events=["payment.failed", "payment.succeeded"])
    invoice = open_invoice(customer, 4000)
    pay_online(customer, [invoice.number], card_number="4000000000009995")
    pay_online(customer, [invoice.number], form_token="form-2")
    bodies = received(receiver)
    assert [b["type"] for b in bodies] == ["payment.failed", "payment.succeeded"]
    failed = bodies[0]["data"]
    assert (failed["decline_code"], failed["amount"], failed["invoices"]) == (
        "insufficient_funds",
        4000,
        [invoice.number],
    )


def test_a_portal_sign_in_is_reported(org, customer, portal_login, receiver, clock):
    endpoint(org, url=receiver.url(), events=["portal.login"])
    assert login(tenant_client(org), "maria@acme.example").status_code == 302
    [body] = received(receiver)
    assert body["type"] == "portal.login" and body["data"]["email"] == "maria@acme.example"
    assert body["data"]["customer"]["name"] == "Acme Interiors"
    assert OutboxEvent.objects.filter(topic="portal.login").count() == 1


def test_the_demo_shows_one_disabled_endpoint_and_loads_twice(db):
    demo = load_demo()
    load_demo()
    [example] = WebhookEndpoint.all_tenants.filter(organization=demo.renotech)
    assert not example.is_enabled and example.secret.startswith("whsec_")
    assert not WebhookEndpoint.all_tenants.filter(organization=demo.northwind).exists()


def test_an_invoice_with_a_zero_total_is_paid_as_it_is_issued(org, customer, receiver, clock):
    endpoint(org, url=receiver.url(), events=["invoice.finalized", "invoice.paid"])
    invoice = open_invoice(customer, 0)
    assert [(b["type"], b["data"]["number"]) for b in received(receiver)] == [
        ("invoice.finalized", invoice.number),
        ("invoice.paid", invoice.number),
    ]


def test_a_trial_ending_is_reported_once_with_its_notice(org, customer, receiver, clock):
    from portico.subscriptions.models import Status
    from portico.subscriptions.notices import send_notices
    from tests.catalog.factories import plan
    from tests.subscriptions.test_billrun import subscribe

    endpoint(org, url=receiver.url(), events=["subscription.trial_ending"])
    trialing = subscribe(
        customer,
        plan(org, "noticed", price_minor=1000),
        status=Status.IN_TRIAL,
        trial_start=dt.date(2026, 2, 2),
        trial_end=dt.date(2026, 2, 16),
        next_billing_on=dt.date(2026, 2, 16),
    )
    for day in (10, 13, 14):  # the notice is due from the 13th (3 days before), once
        send_notices(dt.datetime(2026, 2, day, 15, tzinfo=dt.UTC))
    [body] = received(receiver)
    assert body["type"] == "subscription.trial_ending"
    assert body["data"]["number"] == trialing.number and body["data"]["trial_end"] == "2026-02-16"


def test_project_invoicing_and_a_disputed_entry_are_reported_by_public_ids(
    org, customer, portal_login, receiver, clock
):
    from portico.projects import services as projects
    from tests.projects.factories import ACTOR, logged, portal_actor, project, staff, task

    endpoint(org, url=receiver.url(), events=["project.invoiced", "time_entry.disputed"])
    kitchen = project(customer, rate=10000, requires_customer_approval=True)
    design, riley = task(kitchen, "Design"), staff(org, "Riley")
    logged(kitchen, design, riley, "1.50")
    invoice = projects.invoice_project(project=kitchen, actor=ACTOR)
    entry = logged(kitchen, design, riley, "3.00", approve=False)
    maria = portal_actor(portal_login)
    projects.dispute_time_entry(entry=entry, comment="We agreed on <b>2</b> hours", actor=maria)
    invoiced, disputed = received(receiver)
    assert invoiced["type"] == "project.invoiced"
    assert (
        invoiced["data"]["id"] == f"prj_{kitchen.public_id}" and invoiced["data"]["invoice"] == invoice.number
    )
    assert invoiced["data"]["details"]["total"] == 15000
    assert "invoice" not in invoiced["data"]["details"]  # the event's invoice primary key stays inside
    assert disputed["type"] == "time_entry.disputed"
    assert (disputed["data"]["id"], disputed["data"]["hours"]) == (f"te_{entry.public_id}", "3.00")
    assert disputed["data"]["dispute_comment"] == "We agreed on <b>2</b> hours"


def test_a_comment_in_a_conversation_is_reported_with_its_thread(org, customer, contact, receiver, clock):
    from tests.engagement.conversation_factories import conversation

    endpoint(org, url=receiver.url(), events=["comment.posted"])
    invoice = open_invoice(customer, 5000)
    thread = conversation(contact, body="Why <b>this</b> fee?", about=invoice)
    [body] = received(receiver)
    message = thread.messages.get()
    assert body["type"] == "comment.posted"
    assert body["data"]["id"] == f"msg_{message.public_id}" and body["data"]["body"] == "Why <b>this</b> fee?"
    assert body["data"]["conversation"]["id"] == f"conv_{thread.public_id}"
    assert body["data"]["conversation"]["about"] == f"in_{invoice.public_id}"
    assert body["data"]["author"] == {"kind": "customer", "name": "Maria Lopez"}


def test_a_webhook_names_objects_by_the_ids_the_api_answers_with(org, customer, receiver, clock):
    from portico.api.models import Scope
    from portico.api.services import create_key

    endpoint(org, url=receiver.url(), events=["invoice.finalized", "payment.refunded"])
    invoice = open_invoice(customer, 5000)
    payment = pay(customer, 8000, (invoice, 5000))
    ledger.refund_payment(payment=payment, amount=Money(1000, "USD"), actor=ACTOR)
    finalized, refunded = received(receiver)
    secret = create_key(organization=org, name="t", scope=Scope.READ, actor=ACTOR).secret
    api = tenant_client(org)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    shown = api.get(f"/api/v1/invoices/{invoice.number}", **auth).json()
    assert finalized["data"]["id"] == shown["id"] and finalized["data"]["customer"]["id"] == shown["customer"]
    shown = api.get(f"/api/v1/payments/{refunded['data']['id']}", **auth).json()
    assert shown["number"] == payment.number
