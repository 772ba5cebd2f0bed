"""`portico periodic [--once]`: run the registered periodic jobs (`core.periodic`) on their timers.

`make run` starts it beside the task worker and the outbox sweeper. Today's jobs: settling payment
attempts a crash left pending (every 5 minutes) and card expiry notices (daily). `--once` runs each
job once and prints their summaries (for cron, or a check).
"""

import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from portico.core import periodic


class Command(BaseCommand):
    help = "Run the periodic jobs (payment reconciliation, card expiry notices) forever, or --once."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run every job once, print, and exit")
        parser.add_argument(
            "--tick",
            type=float,
            default=5.0,
            help="seconds between checks for due jobs (default %(default)s)",
        )

    def handle(self, *args, once: bool, tick: float, **options):
        # Spans tenants on purpose: each job sweeps every organization and acts under each one's tenant.
        if once:
            for job in periodic.jobs():
                self.stdout.write(periodic.run_job(job))
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        last_run: dict[str, float] = {}
        while not stop.is_set():
            close_old_connections()
            for outcome in periodic.run_due(last_run, time.monotonic()):
                if options["verbosity"] >= 1:
                    self.stdout.write(outcome)
            stop.wait(tick)
