"""`portico deliver_outbox [--once]`: the outbox's sweeper.

Runs beside the task worker (`make run` starts both). It delivers whatever is due: retries whose
backoff has passed, deliveries whose task was never run, and those a killed worker left under an
expired lease. Deliveries of a fresh event usually go out at once from their task; this loop is what
makes delivery certain. Run as many as you like: claims never overlap. `--once` sweeps once and
prints a one-line summary (for cron or a check after an outage).
"""

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from portico.core import outbox
from portico.core.models import OutboxDelivery


class Command(BaseCommand):
    help = "Deliver the outbox's due events to their consumers (emails, …), forever or --once."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="sweep once, print a summary and exit")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between sweeps (default %(default)s)"
        )

    def handle(self, *args, once: bool, interval: float, **options):
        # Spans tenants on purpose: one sweeper claims every organization's due deliveries
        # (`OutboxDelivery.all_tenants`), and each is delivered under `tenant(its organization)`.
        if once:
            report = outbox.deliver_all_due()
            waiting = OutboxDelivery.all_tenants.filter(status=OutboxDelivery.Status.PENDING).count()
            failed = OutboxDelivery.all_tenants.filter(status=OutboxDelivery.Status.FAILED).count()
            self.stdout.write(f"Outbox: {report}; {waiting} waiting, {failed} failed in all")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.is_set():
            close_old_connections()
            report = outbox.deliver()
            if report.claimed and options["verbosity"] >= 1:
                self.stdout.write(f"Outbox: {report}")
            if report.claimed < outbox.BATCH:
                stop.wait(interval)
