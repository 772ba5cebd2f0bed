"""A real `deliver_outbox` worker process, killed with SIGKILL while it is delivering an email: the
email is not lost (its lease runs out and a sweep delivers it) and not doubled. On PostgreSQL, as in
production: the worker is a separate process on the test database."""

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection

from portico.core import outbox
from portico.core.mail import message_id, send_rendered_email
from portico.core.models import OutboxDelivery
from tests.factories import OrganizationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


class StallingServer:
    """Accepts connections and never says a word: an SMTP client waits for the greeting forever."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.connected = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        try:
            while True:
                conn, _address = self.socket.accept()
                self.connections.append(conn)
                self.connected.set()
        except OSError:
            return

    def close(self):
        for conn in self.connections:
            conn.close()
        self.socket.close()


def database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_worker_killed_while_delivering_leaves_the_email_to_be_delivered_once(settings, mailbox, clock):
    assert connection.vendor == "postgresql"
    # Nothing is delivered by this process at commit: only the worker process below may try.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    organization = OrganizationFactory(slug="killed")
    send_rendered_email(
        organization=organization, to=["a@example.com"], subject="Your receipt", text="Thanks"
    )
    delivery = OutboxDelivery.all_tenants.get()

    stall = StallingServer()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portico.settings_test",
        "DATABASE_URL": database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{stall.port}",
        "PYTHONPATH": str(ROOT / "src"),
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "deliver_outbox", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        if not stall.connected.wait(timeout=60):
            worker.kill()
            pytest.fail(f"the worker never connected to the mail server: {worker.communicate()[0].decode()}")
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (OutboxDelivery.Status.IN_PROGRESS, 1)
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(timeout=30) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        stall.close()

    # The mail server works again; the dead worker's lease still holds, then runs out.
    delivery.refresh_from_db()
    assert delivery.status == OutboxDelivery.Status.IN_PROGRESS and mailbox.messages == []
    clock.set(delivery.claimed_until - dt.timedelta(seconds=1))
    assert outbox.deliver_all_due().claimed == 0
    clock.set(delivery.claimed_until + dt.timedelta(seconds=1))
    assert outbox.deliver_all_due().delivered == 1
    [message] = mailbox.messages
    assert message["Subject"] == "Your receipt" and message["Message-ID"] == message_id(delivery.event)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (OutboxDelivery.Status.DELIVERED, 2)
    clock.advance(hours=1)
    assert outbox.deliver_all_due().claimed == 0 and len(mailbox.messages) == 1
