"""Project builders for tests: fixed rates and hours, built through the services (so the rules hold)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.core.money import Money
from portico.projects import services
from portico.projects.models import Project

ACTOR = Actor.system("tests")
MARCH_2 = dt.date(2026, 3, 2)


def project(customer, *, code: str = "P-1", rate: int | None = 10000, **fields) -> Project:
    fields.setdefault("name", "Kitchen remodel")
    fields.setdefault("billing_method", Project.BillingMethod.PROJECT_RATE)
    return services.create_project(
        customer=customer,
        code=code,
        rate=Money(rate, customer.currency) if rate is not None else None,
        actor=ACTOR,
        **fields,
    )


def task(project, name: str = "Design", rate: int | None = None, **fields):
    money = Money(rate, project.currency) if rate is not None else None
    return services.create_task(project=project, name=name, rate=money, actor=ACTOR, **fields)


def staff(organization, name: str = "Riley", rate: int | None = None, **fields):
    email = fields.pop("email", f"{name.lower()}@renotech.example")
    return services.create_staff_member(
        organization=organization, name=name, email=email, default_rate_minor=rate, actor=ACTOR, **fields
    )


def logged(project, task, staff_member, hours: str, *, on: dt.date = MARCH_2, approve: bool = True, **fields):
    entry = services.log_time(
        project=project,
        task=task,
        staff_member=staff_member,
        date=on,
        hours=Decimal(hours),
        actor=ACTOR,
        **fields,
    )
    if approve:
        entry = services.approve_time_entry(entry=entry, actor=ACTOR)
    return entry


def portal_actor(user) -> Actor:
    return Actor(kind=AuditEvent.ActorKind.PORTAL, user=user, label=user.email)
