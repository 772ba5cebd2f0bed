"""Card expiry: a customer hears once, 30 days before the card we charge expires (issue 10, item 8).

Only the customer's default active method is watched: it is the one automatic charges use. The
notice is claimed with a conditional UPDATE of `PaymentMethod.expiry_notice_for` (the "YYYY-MM" of
the expiry it was sent for) in the same transaction as the email's outbox event, so two workers
racing send it once and a second run sends nothing; a card replaced by one with a later expiry is
a new method, and its own expiry gets its own notice.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q

from portico.core import clock, tenancy
from portico.core.audit import Actor, audit
from portico.core.models import Organization
from portico.payments.models import PaymentMethod
from portico.payments.notices import send_card_expiring

log = logging.getLogger(__name__)

NOTICE_DAYS = 30
ACTOR = Actor.system("card expiry notices")


def expiry_months(today: dt.date, days: int = NOTICE_DAYS) -> list[tuple[int, int]]:
    """The (year, month) of every card expiry that falls in [today, today + days]: a card expires
    at the end of its month, so this month (whose last day is at most 30 days away) and the next
    ones whose last day is within the window."""
    months, year, month = [], today.year, today.month
    while dt.date(year, month, calendar.monthrange(year, month)[1]) <= today + dt.timedelta(days=days):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def notify_expiring_cards(today: dt.date | None = None) -> int:
    """Email the billing contacts of every customer whose default card expires within 30 days and
    who was not yet told about this expiry; returns how many cards were notified."""
    # Spans tenants on purpose: one sweep for every organization, each handled in its own tenant.
    organizations = Organization.objects.filter(
        is_active=True,
        pk__in=PaymentMethod.all_tenants.filter(status=PaymentMethod.Status.ACTIVE, is_default=True).values(
            "organization_id"
        ),
    ).order_by("pk")
    sent = 0
    for organization in organizations:
        with tenancy.tenant(organization):
            sent += _notify_organization(organization, today or clock.today(organization.time_zone))
    return sent


def _notify_organization(organization, today: dt.date) -> int:
    due = Q(pk__in=[])
    for year, month in expiry_months(today):
        due |= Q(exp_year=year, exp_month=month) & ~Q(expiry_notice_for=f"{year:04d}-{month:02d}")
    candidates = (
        PaymentMethod.objects.filter(due, status=PaymentMethod.Status.ACTIVE, is_default=True)
        .filter(customer__is_active=True)
        .select_related("customer", "organization")
        .order_by("pk")
    )
    sent = 0
    for method in candidates:
        notice = f"{method.exp_year:04d}-{method.exp_month:02d}"
        with transaction.atomic():
            claimed = (
                PaymentMethod.objects.filter(
                    pk=method.pk, status=PaymentMethod.Status.ACTIVE, is_default=True
                )
                .exclude(expiry_notice_for=notice)
                .update(expiry_notice_for=notice)
            )
            if not claimed:  # another worker got it first, or the card was removed meanwhile
                continue
            recipients = send_card_expiring(method)
            audit(ACTOR, "payment_method.expiry_notified", method, expires=notice, to=recipients)
        if recipients:
            sent += 1
        else:
            log.warning(
                "payment method %s expires %s: the customer has no address to tell", method.pk, notice
            )
    return sent
