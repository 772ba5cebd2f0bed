"""The demo's projects: RenoTech's fixed-price kitchen for Acme (two milestones paid, one due) and its
hourly office renovation (four months of time: invoiced and paid, approved and unbilled, awaiting the
customer's approval, one disputed), whose totals are the ledger's; Northwind has none; loading the
demo twice changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice, PaymentAllocation
from portico.core.money import Money
from portico.core.tenancy import tenant
from portico.demo.loader import load_demo
from portico.portal.models import preferences_of
from portico.projects import services
from portico.projects.models import Milestone, Project, ProjectInvoice, ProjectMember, StaffMember, TimeEntry
from portico.projects.selectors import project_totals_of

PROJECT_MODELS = (Project, StaffMember, ProjectMember, TimeEntry, Milestone, ProjectInvoice, Invoice)


def _counts():
    return {model.__name__: model._base_manager.count() for model in PROJECT_MODELS}


def test_the_demo_projects_show_each_state_and_their_totals_are_the_ledgers(db, clock):
    demo = load_demo()
    assert ledger_violations() == []
    acme = demo.customers["acme"]
    with tenant(demo.renotech):
        today = clock.now().astimezone(dt.UTC).date()  # 2026-03-10, also in Chicago at 15:00 UTC
        kitchen = Project.objects.get(code="ACME-KITCHEN")
        office = Project.objects.get(code="ACME-OFFICE")
        assert (kitchen.customer, office.customer) == (acme, acme)
        assert (kitchen.billing_method, office.billing_method) == ("fixed", "staff_rate")
        assert office.requires_customer_approval

        # the kitchen: $3,000.00 and $9,000.00 invoiced and paid, $6,000.00 due
        milestones = Milestone.objects.filter(project=kitchen).select_related("project", "invoice")
        assert [(m.display_status, m.amount_minor) for m in milestones.order_by("due_date")] == [
            ("paid", 300000),
            ("paid", 900000),
            ("due", 600000),
        ]
        totals = project_totals_of(kitchen)
        assert (totals.billed, totals.paid, totals.outstanding, totals.unbilled) == (
            Money(1200000, "USD"),
            Money(1200000, "USD"),
            Money(0, "USD"),
            Money(600000, "USD"),
        )
        assert totals.burn_percent == Decimal("66.7")

        # the office: four months of time ending yesterday, in every state
        entries = list(TimeEntry.objects.filter(project=office).select_related("task", "staff_member"))
        dates = [e.date for e in entries]
        assert (min(dates), max(dates)) == (today - dt.timedelta(days=120), today - dt.timedelta(days=1))
        by_state = {}
        for entry in entries:
            by_state.setdefault(entry.state, []).append(entry)
        assert set(by_state) == {"invoiced", "approved", "unapproved", "disputed"}
        (disputed,) = by_state["disputed"]
        assert disputed.dispute_comment and disputed.disputed_by_contact.email == "maria@acme.example"
        awaiting_from = today - dt.timedelta(days=14)
        assert all(e.date >= awaiting_from for e in by_state["unapproved"] + by_state["disputed"])
        assert all(e.date < awaiting_from for e in by_state["approved"] + by_state["invoiced"])
        assert {e.approved_by_contact.email for e in by_state["approved"] + by_state["invoiced"]} == {
            "maria@acme.example"
        }
        billable_approved = [e for e in by_state["approved"] if e.task.is_billable]
        assert billable_approved and max(e.date for e in by_state["invoiced"]) < min(
            e.date for e in billable_approved
        )

        # its two invoices are paid, and bill exactly the invoiced hours at each staff member's rate
        links = list(ProjectInvoice.objects.filter(project=office).select_related("invoice"))
        assert len(links) == 2 and {link.invoice.status for link in links} == {"paid"}
        rates = {
            m.staff_member_id: m.rate_minor or m.staff_member.default_rate_minor for m in office.members.all()
        }
        by_hand = sum(int(e.hours * rates[e.staff_member_id]) for e in by_state["invoiced"])
        invoiced = sum(link.invoice.total_minor for link in links)
        assert invoiced == by_hand
        paid = sum(
            PaymentAllocation.objects.filter(invoice__in=[link.invoice for link in links]).values_list(
                "amount_minor", flat=True
            )
        )
        totals = project_totals_of(office)
        assert (totals.billed.minor, totals.paid.minor, totals.outstanding.minor) == (invoiced, paid, 0)
        assert totals.billed_hours == sum(e.hours for e in by_state["invoiced"])
        # unbilled: the approved billable time, as invoicing it now would bill it
        unbilled = services.preview_project_invoice(project=office)
        assert totals.unbilled == unbilled.total
        assert (
            unbilled.total.minor
            == sum(int(e.hours * rates[e.staff_member_id]) for e in billable_approved)
            > 0
        )
        pending = [e for e in by_state["unapproved"] + by_state["disputed"] if e.task.is_billable]
        assert totals.pending_hours == sum(e.hours for e in pending)
        assert Decimal(0) < totals.burn_percent < Decimal(100)  # billable hours of its hours budget

        preferences = preferences_of(demo.renotech)
        assert preferences.allows("projects", "view") and preferences.allows("projects", "approve")
    assert not Project.all_tenants.filter(organization=demo.northwind).exists()


def test_the_demo_projects_load_twice_the_same(db):
    load_demo()
    first = _counts()
    load_demo()
    assert _counts() == first
    assert first["Project"] == 2 and first["TimeEntry"] > 50
    assert ledger_violations() == []
