"""Statements by email (issue 14, item 6; cf. invoiceninja#8675): staff send a customer the
statement of a period, or a monthly schedule set on the customer (`Customer.statement_day`) sends
last month's on that day.

Billing only records the decision: `send_statement` writes a `statement.sent` event, keyed by the
customer and period, in its transaction, and audits it. The email (the statement PDF, the open
invoices' PDFs, the pay link) is rendered by the outbox worker in `notifications.statements`. The
key makes the period's statement go out once: a second send of the same period, a sweep run twice
or two sweeps at once emit nothing more.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import transaction

from portico.billing.statements import check_period, period_bounds
from portico.core import clock, outbox
from portico.core.audit import Actor, audit
from portico.core.models import OutboxEvent
from portico.core.periodic import periodic
from portico.customers.models import Customer

TOPIC = "statement.sent"


def statement_key(customer_id: int, start: dt.date, end: dt.date) -> str:
    return f"{TOPIC}:{customer_id}:{start.isoformat()}:{end.isoformat()}"


def send_statement(
    *, customer: Customer, start: dt.date, end: dt.date, actor: Actor
) -> tuple[OutboxEvent, bool]:
    """Email the customer the statement of `start`–`end` (inclusive), once per period; returns the
    event and whether it is new (False: that period's statement was sent already, nothing is sent)."""
    check_period(start, end)
    key = statement_key(customer.pk, start, end)
    with transaction.atomic():
        customer = Customer.all_tenants.select_for_update().get(pk=customer.pk)
        earlier = OutboxEvent.all_tenants.filter(organization_id=customer.organization_id, key=key).first()
        if earlier is not None:
            return earlier, False
        event = outbox.emit(
            TOPIC,
            organization=customer.organization,
            payload={"customer": customer.pk, "start": start.isoformat(), "end": end.isoformat()},
            key=key,
        )
        audit(actor, "statement.sent", customer, start=start, end=end)
    return event, True


def send_scheduled_statements(at: dt.datetime | None = None) -> int:
    """Send last month's statement to every customer whose statement day has come this month (in
    the organization's time zone); a day missed (the sweep down) is caught up later in the month.
    The number of statements sent."""
    at = at or clock.now()
    sent = 0
    customers = (
        Customer.all_tenants.filter(statement_day__isnull=False, is_active=True)
        .select_related("organization")
        .order_by("pk")
    )
    actor = Actor.system("statement schedule")
    for customer in customers.iterator(chunk_size=500):
        today = at.astimezone(ZoneInfo(customer.organization.time_zone)).date()
        if today.day < customer.statement_day:
            continue
        start, end = period_bounds("last_month", today)
        _event, new = send_statement(customer=customer, start=start, end=end, actor=actor)
        sent += new
    return sent


@periodic("billing.statement_emails", every=dt.timedelta(hours=1))
def sweep() -> str:
    return f"scheduled statements: {send_scheduled_statements()} sent"
