"""`portico reconcile_payments`: settle online payment attempts a crash left pending.

Run it every few minutes (cron, a systemd timer), like `portico billrun`. Each attempt pending for
longer than `--older-than` minutes is asked about at its gateway: a charge that went through is
booked, a declined one marked declined, and one the gateway never received marked not completed.
"""

import datetime as dt

from django.core.management.base import BaseCommand

from portico.payments.services import STALE_AFTER, reconcile_pending_attempts


class Command(BaseCommand):
    help = "Settle online payment attempts left pending (booked, declined or not charged)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=int(STALE_AFTER.total_seconds() // 60),
            help="minutes an attempt must have been pending (default %(default)s)",
        )

    def handle(self, *args, older_than: int, **options):
        # Spans tenants on purpose: the stale attempts are found with `PaymentAttempt.all_tenants`
        # (one sweep for every organization), and each is settled under `tenant(its organization)`.
        report = reconcile_pending_attempts(older_than=dt.timedelta(minutes=older_than))
        self.stdout.write(f"Payment attempts: {report}")
