"""`portico check_ledger [--organization SLUG]`: verify the ledger invariants against the database."""

from django.core.management.base import BaseCommand, CommandError

from portico.billing.invariants import ledger_violations
from portico.core.models import Organization
from portico.core.tenancy import tenant


class Command(BaseCommand):
    help = "Check the ledger invariants (balances, sums, gapless numbers); exit 1 when one is broken."

    def add_arguments(self, parser):
        parser.add_argument("--organization", help="slug of one organization (default: all)")

    def handle(self, *args, organization=None, **options):
        organizations = Organization.objects.order_by("slug")
        if organization:
            organizations = organizations.filter(slug=organization)
            if not organizations.exists():
                raise CommandError(f"No organization with slug {organization!r}")
        problems = []
        for each in organizations:
            with tenant(each):
                problems += [f"{each.slug}: {problem}" for problem in ledger_violations(each)]
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} ledger invariant(s) broken")
        self.stdout.write("Ledger invariants hold.")
