"""`portico billrun [--at ISO-DATETIME] [--batch-size N]`: renew everything due at or before then
(default: now), then retry failed charges due (dunning) and send the notices due. A progress bar
on a terminal, a summary line at the end. Safe to run in several processes at once."""

from __future__ import annotations

import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from portico.core import clock


class Command(BaseCommand):
    requires_system_checks = []  # a worker's command: the checks (and their URL imports) cost seconds
    help = "Renew every subscription due at or before --at (default now); retry failed charges; send notices."

    def add_arguments(self, parser):
        parser.add_argument("--at", help="ISO date-time, e.g. 2026-04-01T06:00:00+00:00 (default: now)")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--no-dunning", action="store_true", help="Only renew (no retries, no notices).")

    def handle(self, *args, at=None, batch_size=500, no_dunning=False, **options):
        from portico.subscriptions.billrun import run_bill_run
        from portico.subscriptions.dunning import run_dunning
        from portico.subscriptions.notices import send_notices

        moment = clock.now()
        if at:
            moment = parse_datetime(at)
            if moment is None:
                try:
                    moment = dt.datetime.combine(dt.date.fromisoformat(at), dt.time())
                except ValueError:
                    raise CommandError(f"--at {at!r} is not an ISO date-time") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
        if batch_size < 1:
            raise CommandError("--batch-size is at least 1")
        tty = self.stdout.isatty() if hasattr(self.stdout, "isatty") else sys.stdout.isatty()

        def progress(report):
            line = (
                f"batch {report.batches}: renewed {report.renewed}, invoices {report.invoices}, "
                f"failed {report.failed}, {report.rate:.0f}/s"
            )
            if tty:
                self.stdout.write(f"\r{line}", ending="")
                self.stdout.flush()
            else:
                self.stdout.write(line)
                self.stdout.flush()

        report = run_bill_run(moment, batch_size=batch_size, progress=progress)
        if tty:
            self.stdout.write("")
        summary = f"bill run at {moment.isoformat()}: {report}"
        if not no_dunning:
            summary += f"; dunning: {run_dunning(moment)}; notices: {send_notices(moment)} sent"
        self.stdout.write(summary)
        for error in report.errors[:20]:
            self.stderr.write(error)
