"""The ledger's rules are written once (billing.models) and every reader and every action follows them:

- which invoices are open, outstanding and overdue: the `Invoice` predicates, the queryset methods
  and every caller's query (selectors, the portal's queries and summaries) agree on random ledgers;
- which actions a document allows: for every state × action, the service accepts exactly when the
  model's `can_*` says so, and the console shows the button exactly then;
- drafts are deleted, never voided, for invoices and credit notes alike.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import transaction

from portico.billing import errors, selectors, services
from portico.billing.invariants import ledger_violations
from portico.billing.models import CreditNote, Invoice, Payment
from portico.core import clock as clock_module
from portico.core.money import Money
from portico.core.tenancy import for_tenant
from portico.portal import ledger_queries
from tests.billing.factories import ACTOR, credit_note, draft_invoice, line, open_invoice, pay
from tests.conftest import tenant_client
from tests.factories import staff_user

SRC = Path(__file__).resolve().parents[2] / "src" / "portico"


# -- one definition -----------------------------------------------------------------------------------


def test_open_statuses_and_the_overdue_condition_are_written_in_one_module():
    """Other modules call `Invoice.objects.outstanding()` / `.overdue(on)`; none restates the rule."""
    writers = {"OPEN_STATUSES =": set(), "due_date__lt": set(), "Status.PARTIALLY_PAID)": set()}
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        for needle, found in writers.items():
            if needle in text:
                found.add(str(path.relative_to(SRC)))
    assert writers == {needle: {"billing/models.py"} for needle in writers}


def _random_ledger(org, customers, seed: int, base: dt.date) -> None:
    """Invoices in every status, balance and due date (rows written directly: the rule is what is
    tested here, not how the services reach these states)."""
    rng = random.Random(seed)
    for i in range(120):
        status = rng.choice(Invoice.Status.values)
        total = rng.choice([0, 1, 500, 10000])
        paid = rng.randint(0, total) if status != Invoice.Status.DRAFT else 0
        credited = rng.randint(0, total - paid) if status != Invoice.Status.DRAFT else 0
        balance = 0 if status in (Invoice.Status.DRAFT, Invoice.Status.VOID) else total - paid - credited
        customer = rng.choice(customers)
        Invoice.all_tenants.create(
            organization=org,
            customer=customer,
            number="" if status == Invoice.Status.DRAFT else f"R{seed}-{i}",
            status=status,
            currency=rng.choice([customer.currency, customer.currency, "EUR"]),
            issue_date=None if status == Invoice.Status.DRAFT else base - dt.timedelta(days=30),
            due_date=rng.choice([None, *(base + dt.timedelta(days=d) for d in range(-3, 4))]),
            total_minor=total,
            paid_minor=paid,
            credited_minor=credited,
            balance_minor=balance,
        )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_reader_of_the_ledger_agrees_with_the_one_rule(org, customer, outsider_customer, clock, seed):
    clock.set("2026-03-10T15:00:00+00:00")
    today = clock_module.today(org.time_zone)
    _random_ledger(org, [customer, outsider_customer], seed, today)
    portal = SimpleNamespace(organization=org, customer=customer)

    with for_tenant(org):
        mine = Invoice.objects.filter(customer=customer)
        rows = list(mine)
        for on in (today - dt.timedelta(days=2), today, today + dt.timedelta(days=2)):
            overdue = {i.pk for i in rows if i.is_overdue_on(on)}
            assert set(mine.overdue(on).values_list("pk", flat=True)) == overdue
            assert {i.pk for i in selectors.overdue_of(customer, on)} == overdue
            assert set(mine.due(on).values_list("pk", flat=True)) == {
                i.pk for i in rows if i.is_outstanding and not i.is_overdue_on(on)
            }
        outstanding = {i.pk for i in rows if i.is_outstanding}
        assert set(mine.outstanding().values_list("pk", flat=True)) == outstanding
        assert set(mine.open().values_list("pk", flat=True)) == {i.pk for i in rows if i.is_open}
        assert {i.pk for i in selectors.open_invoices_of(customer)} == outstanding
        assert {i.pk for i in ledger_queries.outstanding_invoices_of(portal)} == outstanding
        overdue_today = {i.pk for i in rows if i.is_overdue_on(today)}
        assert {i.pk for i in ledger_queries.filter_invoices(portal, status="overdue")} == overdue_today
        assert {
            i.pk for i in ledger_queries.filter_invoices(portal, status="due")
        } == outstanding - overdue_today
        for invoice in ledger_queries.invoices_of(portal):
            badge = ledger_queries.badge_for(invoice, today)
            assert (badge.tone == "danger") == invoice.is_overdue_on(today)

        for summary in ledger_queries.account_summaries(portal):
            in_currency = [i for i in rows if i.currency == summary.currency]
            late = [i for i in in_currency if i.is_overdue_on(today)]
            assert summary.overdue == Money(sum(i.balance_minor for i in late), summary.currency)
            assert summary.overdue_count == len(late)
            assert summary.outstanding == Money(
                sum(i.balance_minor for i in in_currency if i.is_outstanding), summary.currency
            )
            assert summary.outstanding == selectors.outstanding_of(customer, summary.currency)


# -- which actions a document allows -------------------------------------------------------------------


class _Undo(Exception):
    pass


def accepts(call: Callable[[], object]) -> bool:
    """Whether the service does it (then undone: each action is tried on the same state)."""
    try:
        with transaction.atomic():
            call()
            raise _Undo
    except _Undo:
        return True
    except errors.BillingError:
        return False


@pytest.fixture
def staff(org):
    client = tenant_client(org)
    client.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    return client


def console_offers(staff, model_name: str, pk: int) -> tuple[set[str], bool]:
    response = staff.get(f"/console/billing/{model_name}/{pk}/change/")
    assert response.status_code == 200
    return {str(tool["label"]) for tool in response.context["billing_tools"]}, response.context.get(
        "has_delete_permission", False
    )


def _invoice_in(state: str, customer) -> Invoice:
    if state == "draft":
        return draft_invoice(customer, 1000)
    if state == "zero_total":  # finalized for nothing: paid at once, nobody paid anything
        return open_invoice(customer, 0)
    invoice = open_invoice(customer, 1000)
    if state == "partially_paid":
        pay(customer, 400, (invoice, 400))
    elif state == "partially_credited":
        credit_note(customer, 300, invoice, apply_to_invoice=True)
    elif state == "paid":
        pay(customer, 1000, (invoice, 1000))
    elif state == "void":
        services.void_invoice(invoice=invoice, actor=ACTOR)
    invoice.refresh_from_db()
    return invoice


INVOICE_BUTTONS = {
    "finalize": "Finalize",
    "send": "Send",
    "record_payment": "Record payment",
    "credit": "Issue credit note",
    "void": "Void",
}


def _invoice_services(invoice: Invoice, customer) -> dict[str, Callable]:
    one_cent = Money(1, customer.currency)
    return {
        "finalize": lambda: services.finalize_invoice(invoice=invoice, actor=ACTOR),
        "delete": lambda: services.delete_draft_invoice(invoice=invoice, actor=ACTOR),
        "send": lambda: services.send_invoice(invoice=invoice, actor=ACTOR),
        "record_payment": lambda: services.record_payment(
            customer=customer,
            amount=one_cent,
            allocations=[(invoice, one_cent)],
            method=Payment.Method.CASH,
            received_on=dt.date(2026, 3, 10),
            actor=ACTOR,
        ),
        "credit": lambda: services.create_credit_note(
            customer=customer, invoice=invoice, lines=[line(1, customer.currency)], actor=ACTOR
        ),
        "void": lambda: services.void_invoice(invoice=invoice, actor=ACTOR),
    }


@pytest.mark.parametrize(
    "state", ["draft", "open", "partially_paid", "partially_credited", "paid", "zero_total", "void"]
)
def test_an_invoice_allows_in_the_console_exactly_what_the_services_accept(customer, staff, state):
    invoice = _invoice_in(state, customer)
    calls = _invoice_services(invoice, customer)
    assert set(calls) == set(Invoice.Action.values)
    accepted = {action for action, call in calls.items() if accepts(call)}
    assert invoice.allowed_actions() == accepted
    for action in Invoice.Action.values:
        assert getattr(invoice, f"can_{action}")() == (action in accepted)
    buttons, deletable = console_offers(staff, "invoice", invoice.pk)
    assert buttons == {INVOICE_BUTTONS[a] for a in accepted if a in INVOICE_BUTTONS}
    assert deletable == ("delete" in accepted)
    assert ledger_violations() == []


def _credit_note_in(state: str, customer, invoice: Invoice) -> CreditNote:
    if state == "draft":
        return services.create_credit_note(customer=customer, lines=[line(1000)], actor=ACTOR)
    note = credit_note(customer, 1000)
    amount = {"partly_applied": 300, "fully_applied": 1000}.get(state)
    if amount:
        services.apply_credit(credit_note=note, invoice=invoice, amount=Money(amount, "USD"), actor=ACTOR)
    elif state == "partly_refunded":
        services.refund_credit_note(credit_note=note, amount=Money(200, "USD"), actor=ACTOR)
    elif state == "void":
        services.void_credit_note(credit_note=note, actor=ACTOR)
    note.refresh_from_db()
    return note


CREDIT_NOTE_BUTTONS = {
    "finalize": "Finalize",
    "apply": "Apply to an invoice",
    "refund": "Refund",
    "void": "Void",
}


@pytest.mark.parametrize(
    "state", ["draft", "open", "partly_applied", "fully_applied", "partly_refunded", "void"]
)
def test_a_credit_note_allows_in_the_console_exactly_what_the_services_accept(customer, staff, state):
    invoice = open_invoice(customer, 5000)
    note = _credit_note_in(state, customer, invoice)
    cent = Money(1, "USD")
    calls = {
        "finalize": lambda: services.finalize_credit_note(credit_note=note, actor=ACTOR),
        "delete": lambda: services.delete_draft_credit_note(credit_note=note, actor=ACTOR),
        "apply": lambda: services.apply_credit(credit_note=note, invoice=invoice, amount=cent, actor=ACTOR),
        "refund": lambda: services.refund_credit_note(credit_note=note, amount=cent, actor=ACTOR),
        "void": lambda: services.void_credit_note(credit_note=note, actor=ACTOR),
    }
    assert set(calls) == set(CreditNote.Action.values)
    accepted = {action for action, call in calls.items() if accepts(call)}
    assert note.allowed_actions() == accepted
    buttons, deletable = console_offers(staff, "creditnote", note.pk)
    assert buttons == {CREDIT_NOTE_BUTTONS[a] for a in accepted if a in CREDIT_NOTE_BUTTONS}
    assert deletable == ("delete" in accepted)


@pytest.mark.parametrize("state", ["advance", "partly_allocated", "fully_allocated", "refunded"])
def test_a_payment_allows_in_the_console_exactly_what_the_services_accept(customer, staff, state):
    invoice = open_invoice(customer, 5000)
    allocated = {"partly_allocated": 400, "fully_allocated": 1000}.get(state)
    payment = pay(customer, 1000, *([(invoice, allocated)] if allocated else []))
    if state == "refunded":
        services.refund_payment(payment=payment, amount=Money(1000, "USD"), actor=ACTOR)
    payment.refresh_from_db()
    cent = Money(1, "USD")
    calls = {
        "allocate": lambda: services.allocate_payment(
            payment=payment, allocations=[(invoice, cent)], actor=ACTOR
        ),
        "refund": lambda: services.refund_payment(payment=payment, amount=cent, actor=ACTOR),
    }
    accepted = {action for action, call in calls.items() if accepts(call)}
    assert {a for a in calls if getattr(payment, f"can_{a}")()} == accepted
    buttons, _deletable = console_offers(staff, "payment", payment.pk)
    assert buttons == {{"allocate": "Apply to invoices", "refund": "Refund unused"}[a] for a in accepted}


# -- drafts are deleted, not voided --------------------------------------------------------------------


def test_a_draft_credit_note_is_deleted_not_voided(customer, staff):
    draft = services.create_credit_note(customer=customer, lines=[line(1000)], actor=ACTOR)
    with pytest.raises(errors.InvalidStatus, match="A draft is deleted, not voided"):
        services.void_credit_note(credit_note=draft, actor=ACTOR)
    draft.refresh_from_db()
    assert draft.status == CreditNote.Status.DRAFT

    # the console's void URL, typed by hand, refuses it with the same message and changes nothing
    response = staff.post(f"/console/billing/creditnote/{draft.pk}/void/", follow=True)
    assert "A draft is deleted, not voided" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == CreditNote.Status.DRAFT

    services.delete_draft_credit_note(credit_note=draft, actor=ACTOR)
    assert not CreditNote.all_tenants.filter(pk=draft.pk).exists()


def test_a_draft_invoice_is_deleted_not_voided(customer):
    draft = draft_invoice(customer, 1000)
    with pytest.raises(errors.InvalidStatus, match="A draft is deleted, not voided"):
        services.void_invoice(invoice=draft, actor=ACTOR)
    draft.refresh_from_db()
    assert draft.status == Invoice.Status.DRAFT
    services.delete_draft_invoice(invoice=draft, actor=ACTOR)
    assert not Invoice.all_tenants.filter(pk=draft.pk).exists()


def test_an_issued_document_cannot_be_deleted(customer):
    invoice, note = open_invoice(customer, 1000), credit_note(customer, 500)
    with pytest.raises(errors.InvoiceNotEditable):
        services.delete_draft_invoice(invoice=invoice, actor=ACTOR)
    with pytest.raises(errors.InvalidStatus):
        services.delete_draft_credit_note(credit_note=note, actor=ACTOR)
    assert Invoice.all_tenants.filter(pk=invoice.pk).exists()
    assert CreditNote.all_tenants.filter(pk=note.pk).exists()
