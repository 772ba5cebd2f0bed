from django.conf import settings
from django.core.management.base import BaseCommand

from portico.core.progress import Progress
from portico.demo.loader import PORTAL_EMAIL, demo_extensions, load_demo


class Command(BaseCommand):
    help = "Create or refresh the demo organizations, customers and logins (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None, help="Port shown in the printed addresses")

    def handle(self, *args, **options):
        steps = 2 + len(demo_extensions())
        with Progress("Loading the demo", total=steps, stream=self.stdout) as progress:
            demo = load_demo(progress=lambda label: progress.advance(label=label))
        port = options.get("port") or settings.PORTICO_PUBLIC_PORT or 8000
        base = settings.PORTICO_BASE_DOMAIN
        self.stdout.write(
            self.style.SUCCESS(f"Demo data is ready ({progress.elapsed:.1f}s): {summary(demo)}.")
        )
        # Each portal is on its organization's own host: 127.0.0.1 shows only the platform's page.
        for organization in (demo.renotech, demo.northwind):
            self.stdout.write(f"\n{organization.name}")
            self.stdout.write(f"  portal:  {organization.public_url('/portal/', port=port)}")
            self.stdout.write(f"  console: {organization.public_url('/console/', port=port)}")
            for slug, role, email, password in demo.logins:
                if slug == organization.slug and (email == PORTAL_EMAIL or "staff" in role):
                    self.stdout.write(f"  {role:<40} {email} / {password}")
            if organization.slug in demo.api_keys:
                self.stdout.write(
                    f"  {'API key (write, docs/api.md)':<40} {demo.api_keys[organization.slug]}"
                )
        self.stdout.write(f"\nMore portal logins: see README.md. Health: http://{base}:{port}/healthz")


def summary(demo) -> str:
    """What the demo holds, counted from the database (so a rerun reports the same)."""
    from portico.billing.models import Invoice, Payment
    from portico.customers.models import Customer
    from portico.payments.models import PaymentMethod

    organizations = [demo.renotech, demo.northwind]
    counts = [
        (len(organizations), "organizations"),
        (Customer.all_tenants.filter(organization__in=organizations).count(), "customers"),
        (Invoice.all_tenants.filter(organization__in=organizations).count(), "invoices"),
        (Payment.all_tenants.filter(organization__in=organizations).count(), "payments"),
        (
            PaymentMethod.all_tenants.filter(organization__in=organizations, status="active").count(),
            "saved cards",
        ),
        (len(demo.logins), "logins"),
    ]
    return ", ".join(f"{n} {what}" for n, what in counts)
