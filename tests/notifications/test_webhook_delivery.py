"""Webhooks out (issue 12, item 4): signed deliveries to a real HTTP receiver, retried with backoff,
in order per endpoint, only to the organization's own endpoints, and nothing for a change that was
rolled back or an organization that has no endpoint."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction

from portico.core import outbox
from portico.core.models import AuditEvent, OutboxDelivery, OutboxEvent
from portico.customers import services as customer_services
from portico.notifications import delivery
from portico.notifications.models import WebhookDelivery
from tests.billing.factories import ACTOR, open_invoice, pay
from tests.factories import CustomerFactory
from tests.notifications.factories import endpoint
from tests.notifications.receiver import Receiver
from tests.notifications.signature import verify_portico_signature

Status = WebhookDelivery.Status


def deliver() -> None:
    """What the worker does after commit: the outbox fans out, the sender sends."""
    outbox.deliver_all_due()
    delivery.send_all_due()


def verified(request, secret, now) -> bool:
    return verify_portico_signature(secret, request.body, request.headers["Portico-Signature"], now=now)


def test_each_delivery_is_signed_as_documented_and_names_objects_by_public_ids(
    org, customer, receiver, clock
):
    target = endpoint(org, url=receiver.url(), events=["invoice.finalized", "invoice.paid"])
    invoice = open_invoice(customer, 12000)
    pay(customer, 12000, (invoice, 12000))
    deliver()

    now = clock.now().timestamp()
    assert [r.headers["Portico-Event-Type"] for r in receiver.requests] == [
        "invoice.finalized",
        "invoice.paid",
    ]
    for request in receiver.requests:
        assert verified(request, target.secret, now)
        assert not verify_portico_signature(
            "whsec_wrong", request.body, request.headers["Portico-Signature"], now=now
        )
        tampered = request.body.replace(b"12000", b"1")
        assert not verify_portico_signature(
            target.secret, tampered, request.headers["Portico-Signature"], now=now
        )
        assert not verified(request, target.secret, now + 301)  # outside the documented tolerance
        body = json.loads(request.body)
        assert set(body) == {"id", "type", "created", "data"} and body["id"].startswith("evt_")
        assert body["id"] == request.headers["Portico-Event-Id"]
        assert request.headers["Content-Type"].startswith("application/json")
    paid = json.loads(receiver.requests[1].body)
    assert paid["type"] == "invoice.paid" and paid["created"] == int(now)
    data = paid["data"]
    assert (data["object"], data["number"], data["status"]) == ("invoice", invoice.number, "paid")
    assert (data["total"], data["balance"], data["currency"]) == (12000, 0, "USD")
    assert data["customer"]["name"] == "Acme Interiors"
    # no primary key: the invoice's public id, as the API shows it, and its customer's
    assert data["id"] == f"in_{invoice.public_id}" and str(invoice.pk) != data["id"]
    assert data["customer"]["id"] == f"cus_{invoice.customer.public_id}"
    assert WebhookDelivery.objects.filter(status=Status.DELIVERED).count() == 2


def test_a_receiver_that_fails_twice_then_succeeds_gets_the_event_exactly_once_more(
    org, customer, receiver, clock
):
    target = endpoint(org, url=receiver.url())
    receiver.answer(500, 503)
    start = clock.now()
    open_invoice(customer, 5000)
    deliver()
    row = WebhookDelivery.objects.get()
    assert (row.status, row.attempts, row.response_status) == (Status.PENDING, 1, 500)
    assert row.next_attempt_at == start + dt.timedelta(minutes=1)
    assert row.response_body.startswith("nope") and len(row.response_body) == 1000  # trimmed

    clock.advance(seconds=59)
    assert delivery.send_all_due().claimed == 0
    clock.advance(seconds=1)
    assert str(delivery.send_all_due()) == "0 delivered, 1 to retry, 0 failed"
    row.refresh_from_db()
    assert (row.attempts, row.response_status) == (2, 503)
    assert row.next_attempt_at == clock.now() + dt.timedelta(minutes=2)

    clock.advance(minutes=2)
    assert delivery.send_all_due().delivered == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.response_status, row.next_attempt_at) == (
        Status.DELIVERED,
        3,
        200,
        None,
    )
    assert row.delivered_at == start + dt.timedelta(minutes=3)

    clock.advance(days=4)
    deliver()
    assert [r.answered for r in receiver.requests] == [500, 503, 200]
    assert len({r.body for r in receiver.requests}) == 1  # the same event, the same id, each time
    times = [int(r.headers["Portico-Signature"].split(",")[0][2:]) for r in receiver.requests]
    assert [t - times[0] for t in times] == [0, 60, 180]
    for request, at in zip(receiver.requests, times, strict=True):
        assert verified(request, target.secret, at)


def test_a_receiver_that_never_succeeds_is_given_up_after_three_days_and_that_is_audited(
    org, customer, receiver, clock
):
    endpoint(org, url=receiver.url())
    receiver.answer(*[500] * 100)
    open_invoice(customer, 5000)
    deliver()
    row = WebhookDelivery.objects.get()
    first = row.last_attempt_at
    while row.status == Status.PENDING:
        clock.set(row.next_attempt_at)
        delivery.send_all_due()
        row.refresh_from_db()
    assert row.status == Status.FAILED and row.next_attempt_at is None
    assert row.last_attempt_at - first <= dt.timedelta(days=3)
    assert row.last_attempt_at + delivery.backoff(row.attempts) > first + dt.timedelta(days=3)
    assert len(receiver.requests) == row.attempts == 20  # 1, 2, 4 … 256 min, then every 6 h
    [failed] = AuditEvent.objects.filter(action="webhook.delivery_failed")
    assert failed.data["attempts"] == 20 and failed.data["error"] == "HTTP 500"


def test_a_redirect_is_not_followed_and_counts_as_a_failure(org, customer, receiver, clock):
    endpoint(org, url=receiver.url())
    receiver.answer(302)
    open_invoice(customer, 5000)
    deliver()
    row = WebhookDelivery.objects.get()
    assert (row.status, row.response_status) == (Status.PENDING, 302)
    assert "not followed" in row.response_body
    assert [r.path for r in receiver.requests] == ["/hooks"]


def test_a_rolled_back_change_emits_nothing_and_a_committed_one_is_sent(org, customer, receiver, clock):
    endpoint(org, url=receiver.url(), events=["customer.updated"])
    with pytest.raises(RuntimeError), transaction.atomic():
        customer_services.update_company(customer=customer, data={"display_name": "Acme Two"}, actor=ACTOR)
        assert OutboxEvent.objects.filter(topic="customer.updated").count() == 1
        raise RuntimeError("the request failed after the change")
    deliver()
    assert OutboxEvent.objects.filter(topic="customer.updated").count() == 0
    assert WebhookDelivery.objects.count() == 0 and receiver.requests == []

    customer_services.update_company(customer=customer, data={"display_name": "Acme Three"}, actor=ACTOR)
    deliver()
    [request] = receiver.requests
    body = json.loads(request.body)
    assert body["type"] == "customer.updated" and body["data"]["name"] == "Acme Three"
    assert body["data"]["details"] == {"changed": "details", "fields": ["display_name"]}


def test_deliveries_follow_event_order_per_endpoint_and_a_slow_endpoint_holds_up_no_other(
    org, customer, receiver, clock
):
    slow = endpoint(org, url=receiver.url("/slow"), events=["invoice.finalized", "invoice.voided"])
    other = Receiver().start()
    try:
        endpoint(org, url=other.url("/fast"), events=["invoice.finalized", "invoice.voided"])
        receiver.answer(500)
        from portico.billing import services as ledger

        first = open_invoice(customer, 1000)
        second = open_invoice(customer, 2000)
        ledger.void_invoice(invoice=first, actor=ACTOR, reason="Duplicate")
        deliver()
        numbers = lambda requests: [  # noqa: E731
            (json.loads(r.body)["type"], json.loads(r.body)["data"]["number"]) for r in requests
        ]
        expected = [
            ("invoice.finalized", first.number),
            ("invoice.finalized", second.number),
            ("invoice.voided", first.number),
        ]
        assert numbers(other.requests) == expected
        # the slow one got the first event only: the others wait behind its retry
        assert numbers(receiver.requests) == expected[:1]
        waiting = WebhookDelivery.objects.filter(endpoint=slow).order_by("event_id")
        assert [d.status for d in waiting] == [Status.PENDING, Status.PENDING, Status.PENDING]
        assert [d.attempts for d in waiting] == [1, 0, 0]
        clock.advance(minutes=1)
        assert delivery.send_all_due().delivered == 3
        assert numbers(receiver.requests) == [expected[0], *expected]
    finally:
        other.stop()


def test_another_organizations_endpoint_never_receives_this_organizations_events(
    org, other_org, customer, receiver, clock
):
    from portico.core.tenancy import tenant

    theirs = Receiver().start()
    try:
        every = [e for e in __import__("portico.notifications.events", fromlist=["names"]).names()]
        endpoint(org, url=receiver.url())
        with tenant(other_org):
            endpoint(other_org, url=theirs.url(), events=every)
        open_invoice(customer, 5000)
        deliver()
        assert len(receiver.requests) == 1 and theirs.requests == []
        assert not WebhookDelivery.all_tenants.filter(organization=other_org).exists()
        with tenant(other_org):
            open_invoice(CustomerFactory(organization=other_org, currency="GBP"), 700)
        deliver()
        assert len(receiver.requests) == 1 and len(theirs.requests) == 1
        assert json.loads(theirs.requests[0].body)["data"]["currency"] == "GBP"
    finally:
        theirs.stop()


def test_a_disabled_endpoint_is_sent_nothing(org, customer, receiver, clock):
    endpoint(org, url=receiver.url(), is_enabled=False)
    open_invoice(customer, 5000)
    deliver()
    assert receiver.requests == [] and WebhookDelivery.objects.count() == 0
    assert not OutboxDelivery.objects.filter(consumer=delivery.CONSUMER).exists()


def test_a_later_event_waits_while_an_earlier_one_of_the_organization_is_not_fanned_out_yet(
    org, customer, receiver, clock
):
    endpoint(org, url=receiver.url())
    first = open_invoice(customer, 1000)
    second = open_invoice(customer, 2000)
    early, late = OutboxDelivery.objects.filter(consumer=delivery.CONSUMER).order_by("event_id")
    outbox.deliver(ids=[late.pk])  # the later event's fan-out ran first (the earlier one's worker is slow)
    assert delivery.send_all_due().claimed == 0 and receiver.requests == []
    outbox.deliver(ids=[early.pk])
    assert delivery.send_all_due().delivered == 2
    assert [json.loads(r.body)["data"]["number"] for r in receiver.requests] == [first.number, second.number]


def test_a_delivery_that_waited_behind_a_failing_one_gets_its_own_three_days(org, customer, receiver, clock):
    endpoint(org, url=receiver.url())
    receiver.answer(*[500] * 21)  # the first one's 20 attempts, then the second one's first
    open_invoice(customer, 1000)
    later = open_invoice(customer, 2000)
    deliver()
    first, second = WebhookDelivery.objects.order_by("event_id")
    while first.status == Status.PENDING:
        clock.set(first.next_attempt_at)
        delivery.send_all_due()
        first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status, second.attempts) == (Status.FAILED, Status.PENDING, 1)
    # its three days run from its own first attempt, three days after the first one's
    assert second.retry_until == second.last_attempt_at + delivery.RETRY_FOR
    assert second.last_attempt_at - first.created_at > dt.timedelta(days=2)
    clock.set(second.next_attempt_at)
    assert delivery.send_all_due().delivered == 1
    assert json.loads(receiver.requests[-1].body)["data"]["number"] == later.number
