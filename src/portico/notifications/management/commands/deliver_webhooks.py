"""`portico deliver_webhooks [--once]`: send the due webhook deliveries, forever or once.

`make run` needs no extra process: the task worker sends fresh deliveries and `portico periodic`
sweeps every 30 s. This loop is for installs that want a dedicated sender (run as many as you like:
claims never overlap) and for a check after an outage (`--once` prints a summary).
"""

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from portico.notifications import delivery


class Command(BaseCommand):
    help = "Send the webhook deliveries that are due, forever or --once."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="send what is due, print a summary and exit")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between sweeps")

    def handle(self, *args, once: bool, interval: float, **options):
        # Spans tenants on purpose: each delivery is sent under `tenant(its organization)`.
        if once:
            self.stdout.write(f"Webhooks: {delivery.send_all_due()}")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.is_set():
            close_old_connections()
            report = delivery.send_due()
            if report.claimed and options["verbosity"] >= 1:
                self.stdout.write(f"Webhooks: {report}")
            if not report.claimed:
                stop.wait(interval)
