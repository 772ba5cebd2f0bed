"""Project totals reconcile with the ledger: for random histories of logging, approving, invoicing,
paying in part, voiding and crediting, a project's billed, paid, credited, outstanding and unbilled
amounts match a shadow model kept here (hours × rate rounded half-up per task line, by hand) and the
ledger's own invoice rows; and the selectors run a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from portico.billing import services as billing
from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice
from portico.core import clock, tenancy
from portico.core.money import Money
from portico.projects import errors, selectors, services
from portico.projects.models import Project, TimeEntry
from tests.billing.factories import line
from tests.factories import CustomerFactory, OrganizationFactory
from tests.projects.factories import ACTOR, logged, project, staff, task

HOURS = st.sampled_from(["0.25", "0.50", "0.75", "1.00", "1.33", "0.17", "2.40", "7.75"])
pick = st.integers(min_value=0, max_value=1_000)
share = st.fractions(min_value=0, max_value=1)
TASK_RATES = {"Design": 12345, "Build": 9500}  # the task-rate project's; the other bills 10000 for all


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


class ProjectLedger(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()  # each history is rolled back in teardown
        clock.freeze(dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC))
        self.organization = OrganizationFactory()
        self.token = tenancy.activate(self.organization)
        self.customer = CustomerFactory(organization=self.organization, currency="USD")
        by_task = project(self.customer, code="T", rate=None, billing_method=Project.BillingMethod.TASK_RATE)
        flat = project(self.customer, code="F", rate=10000)
        self.projects = [by_task, flat]
        self.tasks = {
            by_task.pk: [task(by_task, name, rate=rate) for name, rate in TASK_RATES.items()],
            flat.pk: [task(flat, name) for name in TASK_RATES],
        }
        self.riley = staff(self.organization, "Riley")
        # the shadow model
        self.unbilled: dict[int, list[tuple[int, Decimal]]] = {
            p.pk: [] for p in self.projects
        }  # (task, hours)
        self.pending: dict[int, list[tuple]] = {p.pk: [] for p in self.projects}  # (entry, task, hours)
        self.invoices: dict[int, dict] = {}  # invoice id → project, total, paid, credited, void, entries
        self.day = 0

    def teardown(self):
        tenancy.deactivate(self.token)
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def _rate(self, project_pk: int, task_pk: int) -> int:
        if project_pk == self.projects[1].pk:
            return 10000
        return next(t.rate_minor for t in self.tasks[project_pk] if t.pk == task_pk)

    def _shadow_unbilled(self, project_pk: int) -> int:
        """One line per task (and rate), each rounded once."""
        hours_per_task: dict[int, Decimal] = {}
        for task_pk, hours in self.unbilled[project_pk]:
            hours_per_task[task_pk] = hours_per_task.get(task_pk, Decimal(0)) + hours
        return sum(_round(hours * self._rate(project_pk, t)) for t, hours in hours_per_task.items())

    def _open(self):
        return sorted(
            pk
            for pk, i in self.invoices.items()
            if not i["void"] and i["total"] - i["paid"] - i["credited"] > 0
        )

    @rule(which=pick, task_index=pick, hours=HOURS, approve=st.booleans())
    def log(self, which, task_index, hours, approve):
        chosen = self.projects[which % 2]
        work = self.tasks[chosen.pk][task_index % 2]
        self.day += 1
        entry = logged(
            chosen,
            work,
            self.riley,
            hours,
            on=dt.date(2026, 1, 1) + dt.timedelta(days=self.day % 60),
            approve=approve,
        )
        if approve:
            self.unbilled[chosen.pk].append((work.pk, Decimal(hours)))
        else:
            self.pending[chosen.pk].append((entry.pk, work.pk, Decimal(hours)))

    @rule(which=pick)
    def approve_waiting(self, which):
        chosen = self.projects[which % 2]
        waiting = self.pending[chosen.pk]
        if not waiting:
            return
        services.approve_time_entries(
            entries=TimeEntry.objects.filter(pk__in=[pk for pk, _t, _h in waiting]), actor=ACTOR
        )
        self.unbilled[chosen.pk].extend((task_pk, hours) for _pk, task_pk, hours in waiting)
        self.pending[chosen.pk] = []

    @rule(which=pick)
    def invoice(self, which):
        chosen = self.projects[which % 2]
        expected = self._shadow_unbilled(chosen.pk)
        if not self.unbilled[chosen.pk]:
            with pytest.raises(errors.NothingToInvoice):
                services.invoice_project(project=chosen, actor=ACTOR)
            return
        invoice = services.invoice_project(project=chosen, actor=ACTOR)
        assert invoice.total_minor == expected
        self.invoices[invoice.pk] = dict(
            project=chosen.pk,
            total=expected,
            paid=0,
            credited=0,
            void=False,
            entries=self.unbilled[chosen.pk],
        )
        self.unbilled[chosen.pk] = []

    @rule(index=pick, fraction=share)
    def pay_part(self, index, fraction):
        open_ = self._open()
        if not open_:
            return
        pk = open_[index % len(open_)]
        shadow = self.invoices[pk]
        amount = max(1, int((shadow["total"] - shadow["paid"] - shadow["credited"]) * fraction))
        billing.record_payment(
            customer=self.customer,
            amount=Money(amount, "USD"),
            allocations=[(Invoice.objects.get(pk=pk), Money(amount, "USD"))],
            method="bank_transfer",
            received_on=dt.date(2026, 3, 10),
            actor=ACTOR,
        )
        shadow["paid"] += amount

    @rule(index=pick, fraction=share)
    def credit_part(self, index, fraction):
        open_ = self._open()
        if not open_:
            return
        pk = open_[index % len(open_)]
        shadow = self.invoices[pk]
        amount = max(1, int((shadow["total"] - shadow["paid"] - shadow["credited"]) * fraction))
        billing.issue_credit_note(
            customer=self.customer,
            lines=[line(amount, "USD", "Goodwill")],
            invoice=Invoice.objects.get(pk=pk),
            apply_to_invoice=True,
            actor=ACTOR,
        )
        shadow["credited"] += amount

    @rule(index=pick)
    def void(self, index):
        voidable = sorted(
            pk for pk, i in self.invoices.items() if not i["void"] and not i["paid"] and not i["credited"]
        )
        if not voidable:
            return
        pk = voidable[index % len(voidable)]
        billing.void_invoice(invoice=Invoice.objects.get(pk=pk), actor=ACTOR)
        shadow = self.invoices[pk]
        shadow["void"] = True
        self.unbilled[shadow["project"]].extend(shadow["entries"])

    @invariant()
    def totals_reconcile_with_the_shadow_and_the_ledger(self):
        totals = selectors.project_totals(self.projects)
        for chosen in self.projects:
            mine = [i for pk, i in self.invoices.items() if i["project"] == chosen.pk and not i["void"]]
            t = totals[chosen.pk]
            billed = sum(i["total"] for i in mine)
            paid = sum(i["paid"] for i in mine)
            credited = sum(i["credited"] for i in mine)
            assert (t.billed.minor, t.paid.minor, t.credited.minor) == (billed, paid, credited)
            assert t.outstanding.minor == billed - paid - credited
            assert t.unbilled.minor == self._shadow_unbilled(chosen.pk)
            assert t.unbilled_hours == sum((h for _t, h in self.unbilled[chosen.pk]), Decimal(0))
            assert t.pending_hours == sum((h for _p, _t, h in self.pending[chosen.pk]), Decimal(0))
            ledger = Invoice.objects.filter(project_invoice__project=chosen).exclude(
                status=Invoice.Status.VOID
            )
            assert billed == sum(i.total_minor for i in ledger)
            assert t.outstanding.minor == sum(i.balance_minor for i in ledger)
            assert t.billed == t.paid + t.credited + t.outstanding
            assert t.unbilled == services.preview_project_invoice(project=chosen).total
        assert ledger_violations(self.organization) == []


def test_project_totals_reconcile_with_the_ledger_for_random_histories(db):
    run_state_machine_as_test(
        ProjectLedger,
        settings=settings(
            max_examples=15,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )


# -- selectors -------------------------------------------------------------------------------------


@pytest.fixture
def riley(org):
    return staff(org, "Riley")


def _queries(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return len(captured), result


def test_totals_of_many_projects_take_the_same_queries_as_of_one(customer, riley, clock):
    def build(n):
        made = []
        for i in range(n):
            p = project(
                customer, code=f"Q{n}-{i}", budget_kind=Project.BudgetKind.MONEY, budget=Money(100000, "USD")
            )
            logged(p, task(p), riley, "1.00")
            logged(p, task(p, "Other"), riley, "2.00")
            services.invoice_project(project=p, actor=ACTOR)
            logged(p, task(p, "Third"), riley, "0.50")
            made.append(p)
        return made

    one, many = build(1), build(8)
    few_queries, _ = _queries(lambda: selectors.project_totals(one))
    many_queries, totals = _queries(lambda: selectors.project_totals(many))
    assert few_queries == many_queries == 6
    first = totals[many[0].pk]
    assert (first.billed.minor, first.unbilled.minor, first.unbilled_hours, first.burn_percent) == (
        30000,
        5000,
        Decimal("0.50"),
        Decimal("30.0"),
    )


def test_the_hours_review_filters_and_totals_in_constant_queries(customer, riley, org, clock):
    p = project(customer)
    design, survey = task(p, "Design"), task(p, "Survey", is_billable=False)
    sam = staff(org, "Sam")
    logged(p, design, riley, "1.25", on=dt.date(2026, 2, 27))
    logged(p, design, riley, "2.00", on=dt.date(2026, 3, 2))
    services.invoice_project(project=p, actor=ACTOR)
    logged(p, design, sam, "0.75", on=dt.date(2026, 3, 3))
    logged(p, survey, sam, "3.00", on=dt.date(2026, 3, 4), approve=False)

    def review(**filters):
        def run():
            r = selectors.hours_review(project=p, **filters)
            return r, [(e.date.day, e.hours, e.task.name, e.staff_member.name) for e in r.entries]

        return _queries(run)

    count, (march, rows) = review(date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))
    assert count == 4
    assert rows == [
        (2, Decimal("2.00"), "Design", "Riley"),
        (3, Decimal("0.75"), "Design", "Sam"),
        (4, Decimal("3.00"), "Survey", "Sam"),
    ]
    assert (march.total_hours, march.billable_hours, march.billed_hours, march.unbilled_hours) == (
        Decimal("5.75"),
        Decimal("2.75"),
        Decimal("2.00"),
        Decimal("0.75"),
    )
    assert [(name, hours) for _pk, name, hours in march.by_staff] == [
        ("Riley", Decimal("2.00")),
        ("Sam", Decimal("3.75")),
    ]
    count, (_unbilled, rows) = review(billed=False, staff_member=sam)
    assert count == 4 and [r[0] for r in rows] == [3, 4]
    for extra in range(30):
        logged(p, design, riley, "0.25", on=dt.date(2026, 3, 5 + extra % 20))
    assert review()[0] == 4


def test_budget_burn_and_hours_per_month_follow_the_ledger(customer, riley, clock):
    from tests.billing.factories import pay

    p = project(customer, budget_kind=Project.BudgetKind.HOURS, budget_hours=Decimal("20"))
    design, build = task(p, "Design"), task(p, "Build")
    logged(p, design, riley, "2.00", on=dt.date(2026, 1, 15))
    logged(p, build, riley, "3.00", on=dt.date(2026, 1, 20))
    clock.set("2026-01-31T18:00:00+00:00")
    january = services.invoice_project(project=p, actor=ACTOR)
    logged(p, build, riley, "1.50", on=dt.date(2026, 3, 3))
    clock.set("2026-03-20T18:00:00+00:00")
    pay(customer, 20000, (january, 20000))
    march = services.invoice_project(project=p, actor=ACTOR)
    series = selectors.budget_burn_series(p)
    assert [
        (pt.month, pt.billed.minor, pt.paid.minor, pt.cumulative_billed.minor, pt.cumulative_paid.minor)
        for pt in series
    ] == [
        (dt.date(2026, 1, 1), 50000, 0, 50000, 0),
        (dt.date(2026, 2, 1), 0, 0, 50000, 0),
        (dt.date(2026, 3, 1), 15000, 20000, 65000, 20000),
    ]
    assert march.total_minor == 15000
    assert [(m.month, m.task_name, m.hours) for m in selectors.hours_by_month_and_task(p)] == [
        (dt.date(2026, 1, 1), "Build", Decimal("3.00")),
        (dt.date(2026, 1, 1), "Design", Decimal("2.00")),
        (dt.date(2026, 3, 1), "Build", Decimal("1.50")),
    ]
    assert selectors.project_totals_of(p).burn_percent == Decimal("32.5")  # 6.5 of 20 hours


def test_selectors_fail_closed_without_an_organization(customer, riley):
    p = project(customer)
    with tenancy.tenant(None), pytest.raises(tenancy.NoActiveTenant):
        selectors.project_totals([p])
