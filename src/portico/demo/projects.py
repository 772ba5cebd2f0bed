"""Demo additions of projects: two projects of RenoTech for Acme Interiors.

- `ACME-KITCHEN`, a kitchen remodel at a fixed price of $18,000.00 in three milestones: the first two
  invoiced and paid, the third due (delivered, to be invoiced with the next invoice).
- `ACME-OFFICE`, an office renovation billed by the hour at each staff member's rate, whose time the
  customer approves in the portal: four months of time entries (Monday to Thursday) up to yesterday.
  The first two thirty-day periods were approved by Maria (Acme's portal admin), invoiced and paid;
  later approved time is unbilled; the last two weeks await her approval, and one entry of them she
  disputed, with a comment.

Everything goes through `projects.services` (time, approvals, disputes, invoices) and
`billing.services` (payments), with the demo's clock moved to each step's moment (as `demo.billing`
does), so the ledger, the audit trail and the portal's totals read as they would have happened.
RenoTech's portal settings keep the projects module on. Northwind gets no project (isolation: its
`maria@acme.example` sees none). Idempotent: the projects are made once (when RenoTech has none).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from portico.accounts.models import User
from portico.billing import services as billing
from portico.billing.models import Payment
from portico.core import clock, tenancy
from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.core.money import Money
from portico.projects import services
from portico.projects.models import Project, StaffMember

ACTOR = Actor.system("demo")
KITCHEN, OFFICE = "ACME-KITCHEN", "ACME-OFFICE"
DAYS = 120  # the office project's time: the working days from 120 days ago to yesterday
INVOICED_PERIODS = ((0, 29), (30, 59))  # days after the first day, inclusive: invoiced and paid
AWAITING_DAYS = 14  # the last two weeks await the customer's approval
DISPUTE = "Eli was not on site that Wednesday: we only saw Dana. Please check these hours."

# name, email, default rate (minor units), rate on the office project (None: the default)
STAFF = [
    ("Dana Carpenter", "dana@renotech.example", 8000, 8500),
    ("Eli Watts", "eli@renotech.example", 11000, None),
    ("Riley Owner", "owner@renotech.example", 12000, 14000),
]
# the office project's tasks: name, billable
TASKS = [
    ("Planning", True),
    ("Demolition", True),
    ("Electrical", True),
    ("Carpentry", True),
    ("Site meetings", False),
]
# the kitchen's milestones: name, amount, days ago it was due (invoiced then), days ago it was paid
MILESTONES = [
    ("Design and permits", 300000, 110, 95),
    ("Cabinets and countertops", 900000, 50, 35),
    ("Finishing and handover", 600000, 3, None),
]


def _moment(organization, day: dt.date, hour: int = 17) -> None:
    clock.freeze(dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(organization.time_zone)))


def _pay(invoice, reference: str, day: dt.date) -> Payment:
    invoice.refresh_from_db()
    return billing.record_payment(
        customer=invoice.customer,
        amount=invoice.balance,
        allocations=[(invoice, invoice.balance)],
        method=Payment.Method.BANK_TRANSFER,
        received_on=day,
        reference=reference,
        actor=ACTOR,
    )


def _staff(organization) -> dict[str, StaffMember]:
    found = {}
    for name, email, rate, _ in STAFF:
        staff = StaffMember.all_tenants.filter(organization=organization, email=email).first()
        if staff is None:
            user = User.all_tenants.filter(organization=organization, email=email, is_staff=True).first()
            staff = services.create_staff_member(
                organization=organization,
                name=name,
                email=email,
                user=user,
                default_rate_minor=rate,
                actor=ACTOR,
            )
        found[name.split()[0]] = staff
    return found


def _kitchen(organization, acme, today: dt.date) -> Project:
    _moment(organization, today - dt.timedelta(days=130), 10)
    project = services.create_project(
        customer=acme,
        code=KITCHEN,
        name="Kitchen remodel",
        description="New cabinets, countertops and lighting for the showroom kitchen, at a fixed price.",
        billing_method=Project.BillingMethod.FIXED,
        budget_kind=Project.BudgetKind.MONEY,
        budget=Money(sum(amount for _, amount, _, _ in MILESTONES), acme.currency),
        start_date=today - dt.timedelta(days=130),
        actor=ACTOR,
    )
    milestones = [
        services.create_milestone(
            project=project,
            name=name,
            amount=Money(amount, acme.currency),
            due_date=today - dt.timedelta(days=due),
            actor=ACTOR,
        )
        for name, amount, due, _ in MILESTONES
    ]
    for milestone, (_, _, due, paid) in zip(milestones, MILESTONES, strict=True):
        day = today - dt.timedelta(days=due)
        _moment(organization, day, 9)
        services.mark_milestone_due(milestone=milestone, actor=ACTOR)
        if paid is None:
            continue  # delivered, to be invoiced
        invoice = services.invoice_project(project=project, actor=ACTOR)
        paid_on = today - dt.timedelta(days=paid)
        _moment(organization, paid_on, 11)
        _pay(invoice, f"TR-{KITCHEN}-{milestone.pk}", paid_on)
    return project


def _day_entries(day: dt.date, week: int) -> list[tuple[str, str, str, str]]:
    """What was logged on `day` (week `week` of the project): (task, staff, hours, notes)."""
    main = "Planning" if week < 2 else "Demolition" if week < 5 else "Carpentry"
    weekday = day.weekday()
    if weekday == 0:
        return [("Site meetings", "Riley", "0.50", "Weekly site meeting"), (main, "Dana", "6.00", "")]
    if weekday == 1:
        rows = [(main, "Dana", "7.50", "")]
        if week >= 3:
            rows.append(("Electrical", "Eli", "4.25", "Rewiring, east wing"))
        return rows
    if weekday == 2:
        if week >= 3:
            return [("Electrical", "Eli", "6.75", "Lighting circuits")]
        return [(main, "Dana", "5.00", "")]
    if weekday == 3:
        return [(main, "Dana", "8.00", ""), ("Planning", "Riley", "1.25", "Schedule and suppliers")]
    return []


def _office(organization, acme, maria: Actor, staff: dict[str, StaffMember], today: dt.date) -> Project:
    first = today - dt.timedelta(days=DAYS)
    _moment(organization, first, 9)
    project = services.create_project(
        customer=acme,
        code=OFFICE,
        name="Office renovation",
        description="Open-plan office on the second floor: demolition, rewiring and carpentry, billed by the hour.",
        billing_method=Project.BillingMethod.STAFF_RATE,
        rate=Money(9500, acme.currency),
        budget_kind=Project.BudgetKind.HOURS,
        budget_hours=Decimal("650.00"),
        invoice_grouping=Project.Grouping.TASK,
        requires_customer_approval=True,
        start_date=first,
        actor=ACTOR,
    )
    tasks = {
        name: services.create_task(project=project, name=name, is_billable=billable, actor=ACTOR)
        for name, billable in TASKS
    }
    for name, _, _, rate in STAFF:
        member = staff[name.split()[0]]
        services.set_project_member(
            project=project,
            staff_member=member,
            rate=Money(rate, acme.currency) if rate is not None else None,
            actor=ACTOR,
        )

    # each week's time is logged on its last working day, and approved by Maria three days later
    weeks: dict[int, list[tuple[dt.date, tuple]]] = defaultdict(list)
    for offset in range(DAYS):
        day = first + dt.timedelta(days=offset)
        for row in _day_entries(day, offset // 7):
            weeks[offset // 7].append((day, row))
    events: list[tuple[dt.date, int, object]] = []  # (day, order, step)
    awaiting_from = today - dt.timedelta(days=AWAITING_DAYS)
    for rows in weeks.values():
        last = max(day for day, _ in rows)
        events.append((last, 0, ("log", rows)))
        if any(day < awaiting_from for day, _ in rows):
            events.append(
                (min(last + dt.timedelta(days=3), today - dt.timedelta(days=1)), 1, ("approve", rows))
            )
    for n, (start, end) in enumerate(INVOICED_PERIODS):
        period_end = first + dt.timedelta(days=end)
        invoiced_on = period_end + dt.timedelta(days=10)
        events.append((invoiced_on, 2, ("invoice", (first + dt.timedelta(days=start), period_end))))
        events.append((invoiced_on + dt.timedelta(days=15 + 3 * n), 4, ("pay", n)))
    events.append((today - dt.timedelta(days=1), 3, ("dispute", None)))

    logged: dict[tuple, object] = {}
    invoices = []
    for day, _, (step, what) in sorted(events, key=lambda e: (e[0], e[1])):
        _moment(organization, day)
        if step == "log":
            entries = services.log_time_bulk(
                project=project,
                entries=[
                    services.TimeInput(tasks[task], staff[who], on, Decimal(hours), notes)
                    for on, (task, who, hours, notes) in what
                ],
                actor=ACTOR,
            )
            for (on, row), entry in zip(what, entries, strict=True):
                logged[(on, row)] = entry
        elif step == "approve":
            services.approve_time_entries(
                entries=[logged[(on, row)] for on, row in what if on < awaiting_from], actor=maria
            )
        elif step == "invoice":
            date_from, date_to = what
            invoices.append(
                services.invoice_project(project=project, actor=ACTOR, date_from=date_from, date_to=date_to)
            )
        elif step == "pay":
            _pay(invoices[what], f"TR-{OFFICE}-{what + 1}", day)
        else:
            electrical = [
                entry
                for (on, row), entry in sorted(logged.items(), key=lambda item: item[0][0])
                if on >= awaiting_from and row[1] == "Eli" and on.weekday() == 2
            ]
            services.dispute_time_entry(entry=electrical[-1], comment=DISPUTE, actor=maria)
    return project


def _portal_shows_projects(organization) -> None:
    """The projects module (and the customer's approval of hours) is on in RenoTech's portal."""
    from portico.portal import services as portal
    from portico.portal.models import preferences_of

    preferences = preferences_of(organization)
    blocked = {"projects", "projects.view", "projects.approve"}
    if blocked & set(preferences.disabled):
        portal.set_portal_preferences(
            organization=organization,
            disabled=[entry for entry in preferences.disabled if entry not in blocked],
            enabled=list(preferences.enabled),
            actor=ACTOR,
        )


def extend(demo) -> None:
    from portico.demo.loader import PORTAL_EMAIL

    organization = demo.renotech
    with tenancy.tenant(organization), clock.restored():
        _portal_shows_projects(organization)
        if Project.objects.exists():
            return
        today = clock.today(organization.time_zone)
        acme = demo.customers["acme"]
        maria_login = User.all_tenants.get(organization=organization, email=PORTAL_EMAIL)
        maria = Actor(kind=AuditEvent.ActorKind.PORTAL, user=maria_login, label=maria_login.email)
        staff = _staff(organization)
        _kitchen(organization, acme, today)
        _office(organization, acme, maria, staff, today)
