"""A real `deliver_webhooks` process, killed with SIGKILL while it waits for the receiver's answer:
the delivery is not lost (its lease runs out and the restarted sender sends it) and is delivered once. On
PostgreSQL, as in production: the senders are separate processes on the test database."""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portico.core import outbox
from portico.notifications import delivery
from portico.notifications.models import WebhookDelivery
from tests.billing.factories import open_invoice
from tests.core.test_outbox_worker import database_url
from tests.factories import CustomerFactory, OrganizationFactory
from tests.notifications.factories import endpoint
from tests.notifications.signature import verify_portico_signature

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def test_a_sender_killed_mid_delivery_leaves_the_webhook_to_be_delivered_after_restart(
    settings, receiver, clock
):
    from django.db import connection

    assert connection.vendor == "postgresql"
    # Nothing is sent by this process at commit: only the worker process below may send.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    organization = OrganizationFactory(slug="killed")
    target = endpoint(organization, url=receiver.url())
    open_invoice(CustomerFactory(organization=organization), 5000)
    outbox.deliver_all_due()  # the fan-out; the send task it enqueues is not run
    row = WebhookDelivery.all_tenants.get()
    assert (row.status, row.attempts) == (WebhookDelivery.Status.PENDING, 0)
    clock.set(dt.datetime.now(dt.UTC))  # the worker reads the real time

    receiver.answer("stall")
    worker = _start_worker()
    try:
        if not receiver.stalled.wait(timeout=60):
            worker.kill()
            pytest.fail(f"the worker never sent the webhook: {worker.communicate()[0].decode()}")
        row.refresh_from_db()
        assert (row.status, row.attempts) == (WebhookDelivery.Status.SENDING, 1)
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(timeout=30) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        receiver.release()

    # The dead worker's lease still holds: nobody sends it meanwhile.
    row.refresh_from_db()
    assert row.status == WebhookDelivery.Status.SENDING
    clock.set(row.claimed_until - dt.timedelta(seconds=1))
    assert delivery.send_all_due().claimed == 0
    # Two minutes later (moved in the database: the worker reads the real time) the lease has run out
    # and a restarted worker sends it; the receiver answers 200 now.
    WebhookDelivery.all_tenants.filter(pk=row.pk).update(
        claimed_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    )
    restarted = _start_worker()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row.refresh_from_db()
            if row.status == WebhookDelivery.Status.DELIVERED:
                break
            time.sleep(0.2)
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(timeout=30) == 0, restarted.communicate()[0].decode()
    finally:
        if restarted.poll() is None:
            restarted.kill()
            restarted.wait()
    assert (row.status, row.attempts, row.response_status) == (WebhookDelivery.Status.DELIVERED, 2, 200)
    stalled, sent = receiver.requests
    assert (stalled.answered, sent.answered) == (None, 200) and stalled.body == sent.body
    assert json.loads(sent.body)["type"] == "invoice.finalized"
    assert verify_portico_signature(target.secret, sent.body, sent.headers["Portico-Signature"])
    clock.set(dt.datetime.now(dt.UTC) + dt.timedelta(days=4))
    assert delivery.send_all_due().claimed == 0 and len(receiver.requests) == 2


def _start_worker() -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portico.settings_test",
        "DATABASE_URL": database_url(),
        "PYTHONPATH": str(ROOT / "src"),
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "deliver_webhooks", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
