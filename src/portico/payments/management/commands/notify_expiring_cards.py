"""`portico notify_expiring_cards`: email customers whose default card expires within 30 days.

Run daily; `portico periodic` (started by `make run`) does. Idempotent: a card is notified once per
expiry, however often this runs and however many run at once.
"""

from django.core.management.base import BaseCommand

from portico.payments.expiry import NOTICE_DAYS, notify_expiring_cards


class Command(BaseCommand):
    help = f"Email the customers whose default card expires within {NOTICE_DAYS} days (once per card)."

    def handle(self, *args, **options):
        # Spans tenants on purpose: every organization's cards, each handled under its own tenant.
        sent = notify_expiring_cards()
        self.stdout.write(f"Card expiry notices: {sent} sent")
