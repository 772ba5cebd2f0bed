"""Acme's projects as the portal tests see them, built through the services in date order (the clock
moves with them, so invoices, payments and allocations fall in the months the figures below name).

P-1 "Kitchen remodel": $100.00 an hour, a $5,000.00 budget, the customer approves its hours.
  Feb 2  Design  Riley 2.50 h  approved ┐ invoiced on Feb 28: INV A, $650.00
  Feb 10 Build   Sam   4.00 h  approved ┘ (paid $400.00 on Mar 5, credited $50.00: $200.00 open)
  Mar 3  Design  Riley 1.25 h  approved, not invoiced: $125.00 unbilled
  Mar 4  Build   Sam   3.00 h  awaiting approval
  Mar 5  Design  Sam   0.75 h  awaiting approval (notes that a spreadsheet would run as a formula)
  Mar 6  Internal Riley 1.00 h approved (a task that is not billable)
  → billed $650.00, paid $400.00, credited $50.00, outstanding $200.00, unbilled $125.00,
    12.50 h logged, 11.50 h billable, 3.75 h not yet approved, 13.0 % of the budget.
P-2 "Bathroom": fixed price, by milestones; the business approves (none asked of the customer).
  Design sign-off $2,000.00 invoiced Jan 15 (INV B), paid Jan 20 · Tiling $1,500.00 due ·
  Handover $500.00 pending, due Apr 30
  → billed $2,000.00, paid $2,000.00, outstanding $0.00, unbilled $1,500.00.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from portico.billing import services as billing
from portico.core import clock
from portico.core.money import Money
from portico.projects import services
from portico.projects.models import Milestone, Project, TimeEntry
from tests.billing.factories import credit_note, pay
from tests.projects.factories import ACTOR, logged, project, staff, task


@dataclass
class Projects:
    kitchen: Project
    bathroom: Project
    invoice_a: object
    invoice_b: object
    payment: object
    credit: object
    entries: dict[str, TimeEntry]  # by a short name: "feb_design", "mar_build"...
    milestones: dict[str, Milestone]


def at(day: str) -> None:
    clock.freeze(dt.datetime.fromisoformat(f"{day}T15:00:00+00:00"))


def acme_projects(customer) -> Projects:
    organization = customer.organization
    riley, sam = staff(organization, "Riley"), staff(organization, "Sam")

    at("2026-01-05")
    bathroom = project(
        customer, code="P-2", name="Bathroom", rate=None, billing_method=Project.BillingMethod.FIXED
    )
    signoff = services.create_milestone(
        project=bathroom, name="Design sign-off", amount=Money(200000, "USD"), actor=ACTOR,
        due_date=dt.date(2026, 1, 15),
    )  # fmt: skip
    tiling = services.create_milestone(
        project=bathroom,
        name="Tiling",
        amount=Money(150000, "USD"),
        actor=ACTOR,
        due_date=dt.date(2026, 3, 1),
    )
    handover = services.create_milestone(
        project=bathroom,
        name="Handover",
        amount=Money(50000, "USD"),
        actor=ACTOR,
        due_date=dt.date(2026, 4, 30),
    )
    services.mark_milestone_due(milestone=signoff, actor=ACTOR)
    at("2026-01-15")
    invoice_b = services.invoice_project(project=bathroom, actor=ACTOR, issue_date=dt.date(2026, 1, 15))
    at("2026-01-20")
    pay(customer, 200000, (invoice_b, 200000), received_on=dt.date(2026, 1, 20))
    services.mark_milestone_due(milestone=tiling, actor=ACTOR)

    at("2026-02-01")
    kitchen = project(
        customer,
        code="P-1",
        name="Kitchen remodel",
        rate=10000,
        budget_kind=Project.BudgetKind.MONEY,
        budget=Money(500000, "USD"),
        requires_customer_approval=True,
    )
    design, build = task(kitchen, "Design"), task(kitchen, "Build")
    internal = task(kitchen, "Internal", is_billable=False)
    entries = {
        "feb_design": logged(kitchen, design, riley, "2.50", on=dt.date(2026, 2, 2)),
        "feb_build": logged(kitchen, build, sam, "4.00", on=dt.date(2026, 2, 10)),
    }
    at("2026-02-28")
    invoice_a = services.invoice_project(
        project=kitchen, actor=ACTOR, date_to=dt.date(2026, 2, 28), issue_date=dt.date(2026, 2, 28)
    )
    at("2026-03-05")
    payment = pay(customer, 40000, (invoice_a, 40000), received_on=dt.date(2026, 3, 5))
    credit = credit_note(customer, 5000, invoice=invoice_a)
    billing.apply_credit(credit_note=credit, invoice=invoice_a, amount=Money(5000, "USD"), actor=ACTOR)
    entries["mar_design"] = logged(kitchen, design, riley, "1.25", on=dt.date(2026, 3, 3))
    entries["mar_build"] = logged(kitchen, build, sam, "3.00", on=dt.date(2026, 3, 4), approve=False)
    entries["mar_design_sam"] = logged(
        kitchen, design, sam, "0.75", on=dt.date(2026, 3, 5), approve=False, notes="=1+2 site visit"
    )
    entries["mar_internal"] = logged(kitchen, internal, riley, "1.00", on=dt.date(2026, 3, 6))
    at("2026-03-10")
    for key, entry in entries.items():
        entries[key] = TimeEntry.all_tenants.get(pk=entry.pk)
    invoice_a.refresh_from_db()
    invoice_b.refresh_from_db()
    return Projects(
        kitchen=kitchen,
        bathroom=bathroom,
        invoice_a=invoice_a,
        invoice_b=invoice_b,
        payment=payment,
        credit=credit,
        entries=entries,
        milestones={"signoff": signoff, "tiling": tiling, "handover": handover},
    )


def outsider_project(customer, code: str = "Q-9"):
    """Another customer's project with one entry awaiting approval: (project, entry)."""
    theirs = project(customer, code=code, name="Café fit-out", requires_customer_approval=True)
    member = staff(
        customer.organization, f"Outsider {code}", email=f"outsider-{code.lower()}@renotech.example"
    )
    entry = logged(theirs, task(theirs, "Fit-out"), member, "2.00", on=dt.date(2026, 3, 2), approve=False)
    return theirs, entry
