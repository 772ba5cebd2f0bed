"""The bill run's cost rule: an organization without an endpoint gets no outbox delivery row for
webhooks (the per-organization check runs once per batch), and one with an endpoint for
`subscription.renewed` hears of each period the bill run invoices."""

from __future__ import annotations

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.core import outbox
from portico.core.models import OutboxDelivery, OutboxEvent
from portico.core.tenancy import tenant
from portico.notifications import delivery
from portico.notifications.models import WebhookDelivery
from portico.subscriptions.billrun import run_bill_run
from tests.notifications.factories import endpoint
from tests.subscriptions.billrun_world import THREE_LATE, seed


def test_a_bill_run_writes_no_webhook_rows_for_an_organization_without_an_endpoint(org, other_org, receiver):
    seed(org, 3)
    with tenant(other_org):
        endpoint(other_org, url="https://93.184.215.14/hooks", events=["invoice.paid"])  # another type
    with CaptureQueriesContext(connection) as queries:
        report = run_bill_run(THREE_LATE)
    assert report.invoices == 9
    assert OutboxEvent.all_tenants.filter(organization=org, topic="invoice.finalized").count() == 9
    assert not OutboxDelivery.all_tenants.filter(consumer=delivery.CONSUMER).exists()
    asked = [q for q in queries.captured_queries if "notifications_webhookendpoint" in q["sql"]]
    assert 1 <= len(asked) <= 2, asked  # once per emit_many of the batch, not once per invoice
    outbox.deliver_all_due()
    assert WebhookDelivery.all_tenants.count() == 0


def test_the_bill_run_renews_subscriptions_as_subscription_renewed_webhooks(org, receiver, clock):
    seed(org, 2)
    target = endpoint(org, url=receiver.url(), events=["subscription.renewed"])
    run_bill_run(THREE_LATE)
    assert OutboxDelivery.objects.filter(consumer=delivery.CONSUMER).count() == 6
    outbox.deliver_all_due()
    delivery.send_all_due()
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert [b["type"] for b in bodies] == ["subscription.renewed"] * 6
    assert sorted({b["data"]["number"] for b in bodies}) == ["SUB-000001", "SUB-000002"]
    starts = sorted((b["data"]["number"], b["data"]["period_start"]) for b in bodies)
    assert [s for _n, s in starts[:3]] == ["2026-02-01", "2026-03-01", "2026-04-01"]
    assert all(b["data"]["invoice"].startswith("INV-") for b in bodies)
    assert WebhookDelivery.objects.filter(endpoint=target, status="delivered").count() == 6
