"""Several senders at once (PostgreSQL, SKIP LOCKED): every delivery is sent once, and each
endpoint still receives its events in order."""

import json

import pytest

from portico.core import outbox
from portico.notifications import delivery
from portico.notifications.models import WebhookDelivery
from tests.billing.factories import open_invoice
from tests.concurrency import race
from tests.factories import CustomerFactory, OrganizationFactory
from tests.notifications.factories import endpoint
from tests.notifications.receiver import Receiver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_racing_senders_send_each_delivery_once_and_in_order_per_endpoint(settings, receiver, clock):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    organization = OrganizationFactory(slug="racing")
    second = Receiver().start()
    try:
        endpoint(organization, url=receiver.url("/a"))
        endpoint(organization, url=second.url("/b"))
        customer = CustomerFactory(organization=organization)
        numbers = [open_invoice(customer, 100 * (n + 1)).number for n in range(8)]
        outbox.deliver_all_due()
        assert WebhookDelivery.all_tenants.count() == 16

        reports = race(*[delivery.send_all_due for _ in range(4)])
        assert sum(r.delivered for r in reports) == 16, reports
        for server in (receiver, second):
            sent = [json.loads(r.body)["data"]["number"] for r in server.requests]
            assert sent == numbers  # each once, in event order
        assert set(WebhookDelivery.all_tenants.values_list("status", "attempts")) == {("delivered", 1)}
    finally:
        second.stop()
