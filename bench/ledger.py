"""The ledger in the portal at scale: one customer with 10,000 invoices in an organization of
1,000 customers. Server time (median, p99) of the dashboard, invoice list, invoice detail and a
one-year statement page (and the payments and credits pages), each beside the floor view; then the
time to render a 2,000-line statement PDF. Figures are printed, never asserted."""

from __future__ import annotations

import datetime as dt
import time

from django.db import connection

from portico.billing import documents
from portico.billing.models import Invoice
from portico.billing.statements import statement_for
from portico.core import clock
from portico.core.models import Organization
from portico.customers.models import ContactPerson, Customer, PortalRole
from tests.factories import portal_user
from tests.perf.bulk import bulk_ledger

CUSTOMERS = 1_000
INVOICES = 10_000
OTHERS_EACH = 5


def build():
    """The organization, its busy customer's login and today's date (idempotent per database)."""
    today = clock.today("America/Chicago")
    organization, created = Organization.objects.get_or_create(
        slug="benchco", defaults={"name": "Bench Co", "time_zone": "America/Chicago"}
    )
    busy = Customer.all_tenants.filter(organization=organization, display_name="Busy Buyer Inc").first()
    if not created and busy is not None:
        contact = ContactPerson.all_tenants.get(customer=busy, email="ap@busy.example")
        return organization, busy, contact.user, today
    started = time.perf_counter()
    customers = Customer.all_tenants.bulk_create(
        [
            Customer(organization=organization, display_name=f"Customer {n:04d}", currency="USD")
            for n in range(CUSTOMERS - 1)
        ]
        + [Customer(organization=organization, display_name="Busy Buyer Inc", currency="USD")]
    )
    customers = list(Customer.all_tenants.filter(organization=organization).order_by("pk"))
    busy = next(c for c in customers if c.display_name == "Busy Buyer Inc")
    for customer in customers:
        if customer.pk != busy.pk:
            bulk_ledger(customer, OTHERS_EACH, end=today, tag=f"O{customer.pk}-", lines_per_invoice=1)
    # Ten years of invoices, about a thousand a year; what is older than six months is settled
    # (an account with 5,000 unpaid invoices is not one a business keeps billing).
    bulk_ledger(busy, INVOICES, end=today, tag="B-", span_days=3650, settled_after_days=180)
    contact = ContactPerson.all_tenants.create(
        organization=organization,
        customer=busy,
        first_name="Avery",
        email="ap@busy.example",
        is_primary=True,
        has_portal_access=True,
        portal_role=PortalRole.ADMIN,
    )
    user = portal_user(contact)
    with connection.cursor() as cursor:
        # Planner statistics and the visibility map (index-only counts), as autovacuum keeps them.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(
        f"built {Invoice.all_tenants.filter(organization=organization).count()} invoices for "
        f"{CUSTOMERS} customers in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return organization, busy, user, today


def run(h):
    organization, busy, user, today = build()
    client = h.client(organization, user)
    recent = (
        Invoice.all_tenants.filter(customer=busy)
        .order_by("-issue_date", "-id")
        .values_list("number", flat=True)[3]
    )
    h.compare("ledger: dashboard (10k invoices)", client, "/portal/")
    h.compare("ledger: invoice list", client, "/portal/invoices/")
    h.compare(
        "ledger: invoice list, overdue by total", client, "/portal/invoices/?status=overdue&sort=-total"
    )
    h.compare("ledger: invoice detail", client, f"/portal/invoices/{recent}/")
    h.compare("ledger: payments (10k, with allocations)", client, "/portal/payments/")
    h.compare("ledger: credits", client, "/portal/credits/")
    start = today - dt.timedelta(days=365)
    h.compare(
        "ledger: statement, one year",
        client,
        f"/portal/statements/?period=custom&start={start.isoformat()}&end={today.isoformat()}",
        n=max(20, h.requests // 4),
    )
    year = statement_for(busy, start, today)
    h.notes.append(f"ledger: the one-year statement has {len(year.lines)} lines")

    everything = statement_for(busy, today - dt.timedelta(days=3650), today)
    # The period whose statement has (about) 2,000 lines: from the date of the 2,000th line from the end.
    period = statement_for(busy, everything.lines[-2000].date, today)
    h.timed(
        f"ledger: statement PDF of {len(period.lines)} lines",
        lambda: documents.statement_pdf_bytes(period),
        n=3,
    )
