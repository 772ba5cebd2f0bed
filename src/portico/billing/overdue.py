"""`invoice.overdue`: emitted once per invoice, by a periodic sweep, when it becomes overdue.

Overdue is derived (open, balance > 0, due before today in the organization's zone): nothing changes
on the invoice at midnight, so no service is there to emit. The sweep asks every organization for its
overdue invoices and emits the event for those that have none yet (keyed `invoice.overdue:…:<id>`,
so a second sweep, a concurrent one or one after a crash emits nothing twice). A sweep that missed
days catches up: the invoice is still overdue. One that is paid before the sweep sees it is not
reported (it is no longer overdue).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from portico.billing.models import Invoice
from portico.core import clock, outbox
from portico.core.models import Organization, OutboxEvent
from portico.core.periodic import periodic

TOPIC = "invoice.overdue"
CHUNK = 500


def _key(invoice_id: int) -> str:
    return f"{TOPIC}:billing.invoice:{invoice_id}"


def emit_overdue(at: dt.datetime | None = None) -> int:
    """Emit `invoice.overdue` for every overdue invoice that has not had it; the number emitted."""
    at = at or clock.now()
    emitted = 0
    organizations = Organization.objects.filter(
        pk__in=Invoice.all_tenants.filter(status__in=Invoice.OPEN_STATUSES, balance_minor__gt=0).values(
            "organization_id"
        )
    )
    for organization in organizations:
        today = _local(at, organization)
        overdue = Invoice.all_tenants.filter(organization=organization).overdue(today).order_by("pk")
        last = 0
        while True:  # in chunks of ids: flat memory, one query for the keys already emitted
            chunk = list(overdue.filter(pk__gt=last).select_related("organization")[:CHUNK])
            if not chunk:
                break
            last = chunk[-1].pk
            done = set(
                OutboxEvent.all_tenants.filter(
                    organization=organization, key__in=[_key(i.pk) for i in chunk]
                ).values_list("key", flat=True)
            )
            for invoice in chunk:
                if _key(invoice.pk) in done:
                    continue
                with transaction.atomic():
                    outbox.emit_for(
                        TOPIC,
                        invoice,
                        number=invoice.number,
                        due_date=invoice.due_date,
                        balance=invoice.balance,
                    )
                emitted += 1
    return emitted


def _local(at: dt.datetime, organization) -> dt.date:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(organization.time_zone)).date()


@periodic("billing.overdue", every=dt.timedelta(hours=1))
def sweep() -> str:
    return f"overdue invoices: {emit_overdue()} emitted"
