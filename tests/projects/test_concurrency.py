"""Concurrent invoicing on PostgreSQL: real threads, each with its own connection and transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from portico.billing import services as billing
from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice, InvoiceLine
from portico.core.money import Money
from portico.core.tenancy import tenant
from portico.projects import errors, services
from portico.projects.models import Milestone, TimeEntry
from tests.concurrency import race
from tests.factories import CustomerFactory, OrganizationFactory
from tests.projects.factories import ACTOR, logged, project, staff, task

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db):
    assert connection.vendor == "postgresql"
    organization = OrganizationFactory(slug="racing")
    with tenant(organization):
        customer = CustomerFactory(organization=organization, currency="USD")
        hourly = project(customer, rate=10000)
        design = task(hourly, "Design")
        riley = staff(organization, "Riley")
        entries = [logged(hourly, design, riley, "1.25", on=dt.date(2026, 3, day)) for day in range(2, 12)]
        milestone = services.create_milestone(
            project=hourly, name="Deposit", amount=Money(50000, "USD"), actor=ACTOR
        )
        services.mark_milestone_due(milestone=milestone, actor=ACTOR)
    return organization, hourly, entries, milestone


def _invoice(organization, hourly):
    with tenant(organization):
        return services.invoice_project(project=hourly, actor=ACTOR)


def test_concurrent_invoicing_bills_each_entry_and_milestone_once(world):
    organization, hourly, _entries, milestone = world
    outcomes = race(*[lambda: _invoice(organization, hourly) for _ in range(6)])
    issued = [o for o in outcomes if isinstance(o, Invoice)]
    refused = [o for o in outcomes if isinstance(o, errors.NothingToInvoice)]
    assert len(issued) == 1 and len(refused) == 5, outcomes
    (invoice,) = issued
    assert invoice.total_minor == 10 * 12500 + 50000
    billed_lines = InvoiceLine.objects.filter(invoice__source=Invoice.Source.PROJECT)
    assert billed_lines.count() == 2 and Invoice.all_tenants.count() == 1
    assert set(TimeEntry.all_tenants.values_list("state", flat=True)) == {TimeEntry.State.INVOICED}
    assert Milestone.all_tenants.get(pk=milestone.pk).invoice_id == invoice.pk
    assert ledger_violations() == []


def test_invoicing_racing_a_void_and_reinvoice_never_bills_an_entry_twice(world):
    organization, hourly, _entries, _milestone = world
    first = _invoice(organization, hourly)
    for _round in range(3):

        def void_then_invoice(invoice=first):
            with tenant(organization):
                billing.void_invoice(invoice=invoice, actor=ACTOR)
                return services.invoice_project(project=hourly, actor=ACTOR)

        outcomes = race(void_then_invoice, lambda: _invoice(organization, hourly))
        issued = [o for o in outcomes if isinstance(o, Invoice)]
        assert len(issued) == 1, outcomes
        first = issued[0]
        live = Invoice.all_tenants.exclude(status=Invoice.Status.VOID)
        assert live.count() == 1
        hours = sum(
            (
                line.quantity
                for line in InvoiceLine.objects.filter(invoice__in=live)
                if line.description == "Design"
            ),
            Decimal(0),
        )
        assert hours == Decimal("12.50")
        assert set(TimeEntry.all_tenants.values_list("invoice_line__invoice", flat=True)) == {first.pk}
    assert ledger_violations() == []
