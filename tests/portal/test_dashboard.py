"""The overview page's account figures: they come from the same invoices, so they never contradict
each other (what is outstanding, what of it is overdue, and when the next payment is due)."""

import datetime as dt
import random
import re

import pytest

from portico.billing.models import Invoice
from portico.billing.services import void_invoice
from portico.core.formatting import format_local_date
from portico.core.templatetags.money import format_money
from tests.billing.factories import ACTOR, open_invoice, pay
from tests.factories import ContactFactory, CustomerFactory
from tests.portal.conftest import client_for


def cards(response) -> dict[str, tuple[str, str]]:
    """Label → (value, note) of each summary card, as the page shows them."""
    html = re.sub(r"\s+", " ", response.content.decode())
    found = re.findall(
        r'<div class="card stat"><h2 class="stat-label">([^<]+)</h2><p class="stat-value">([^<]+)</p>'
        r'(?:<p class="muted">([^<]+)</p>)?',
        html,
    )
    return {label: (value, note) for label, value, note in found}


def usd(minor: int) -> str:
    return format_money(minor, "USD", "en_US")


def test_an_overdue_balance_is_never_called_nothing_due(portal_client, customer, clock):
    clock.set("2026-10-01T15:00:00+00:00")
    invoice = open_invoice(customer, 539085)  # due Oct 31, 2026
    pay(customer, 200000, (invoice, 200000), received_on=dt.date(2026, 10, 5))
    clock.set("2026-12-01T15:00:00+00:00")
    shown = cards(portal_client.get("/portal/"))
    assert shown["Total outstanding"][0] == "$3,390.85"
    assert shown["Overdue"] == ("$3,390.85", "1 invoice overdue")
    assert shown["Next due date"] == ("Overdue since Oct 31, 2026", "")


def test_overdue_invoices_are_counted_in_real_plural_and_the_next_upcoming_date_follows(
    portal_client, customer, clock
):
    clock.set("2026-09-01T15:00:00+00:00")
    open_invoice(customer, 10000)
    open_invoice(customer, 20000)  # both due Oct 1
    clock.set("2026-11-20T15:00:00+00:00")
    open_invoice(customer, 5000)  # due Dec 20
    clock.set("2026-12-01T15:00:00+00:00")
    shown = cards(portal_client.get("/portal/"))
    assert shown["Overdue"] == ("$300.00", "2 invoices overdue")
    assert shown["Next due date"] == ("Overdue since Oct 1, 2026", "Next due date after that: Dec 20, 2026")


def test_nothing_owed_says_nothing_due(portal_client, customer, clock):
    invoice = open_invoice(customer, 10000)
    pay(customer, 10000, (invoice, 10000))
    shown = cards(portal_client.get("/portal/"))
    assert shown["Total outstanding"][0] == "$0.00" and shown["Overdue"] == ("$0.00", "")
    assert shown["Next due date"] == ("Nothing due", "")


def test_a_british_organization_shows_british_dates_on_the_overview(other_org, clock):
    other_org.locale = "en_GB"
    other_org.save()
    customer = CustomerFactory(organization=other_org, display_name="Fjord Media", currency="GBP")
    clock.set("2026-11-20T15:00:00+00:00")
    open_invoice(customer, 5000)  # due Dec 20
    client = client_for(ContactFactory(customer=customer, email="ingrid@fjord.example"))
    assert cards(client.get("/portal/"))["Next due date"] == ("20 Dec 2026", "")


@pytest.mark.parametrize("seed", range(12))
def test_dashboard_figures_agree_with_each_other_for_any_set_of_invoices(org, clock, seed):
    """Property: for a random set of invoices (issued on random days, some partly or fully paid, some
    void), outstanding = Σ balances, overdue = Σ balances past due, the count matches, and the next
    due date is the earliest due date of the open balances ("overdue since" exactly when past)."""
    rng = random.Random(seed)
    customer = CustomerFactory(organization=org, display_name=f"Customer {seed}")
    client = client_for(ContactFactory(customer=customer, email=f"c{seed}@example.com"))
    start = dt.datetime(2026, 6, 1, 15, tzinfo=dt.UTC)
    invoices = []
    for _ in range(rng.randint(0, 6)):
        clock.set(start + dt.timedelta(days=rng.randint(0, 150)))
        invoice = open_invoice(customer, rng.randint(1, 90000))
        outcome = rng.choice(["open", "open", "partly", "paid", "void"])
        if outcome == "void":
            void_invoice(invoice=invoice, actor=ACTOR, reason="Test")
        elif outcome != "open":
            amount = invoice.total_minor if outcome == "paid" else rng.randint(1, invoice.total_minor)
            pay(customer, amount, (invoice, amount))
        invoices.append(Invoice.objects.get(pk=invoice.pk))
    clock.set("2026-11-15T15:00:00+00:00")
    today = dt.date(2026, 11, 15)  # Chicago
    shown = cards(client.get("/portal/"))

    owing = [i for i in invoices if i.status != Invoice.Status.VOID and i.balance_minor > 0]
    late = [i for i in owing if i.due_date < today]
    assert shown["Total outstanding"][0] == usd(sum(i.balance_minor for i in owing))
    assert shown["Overdue"][0] == usd(sum(i.balance_minor for i in late))
    expected_note = "" if not late else f"{len(late)} invoice{'s' if len(late) > 1 else ''} overdue"
    assert shown["Overdue"][1] == expected_note
    value, note = shown["Next due date"]
    if not owing:
        assert value == "Nothing due" and shown["Overdue"][0] == usd(0)
    else:
        earliest = min(i.due_date for i in owing)
        upcoming = [i.due_date for i in owing if i.due_date >= today]
        if late:
            assert value == f"Overdue since {format_local_date(earliest, 'en_US')}"
            after = (
                f"Next due date after that: {format_local_date(min(upcoming), 'en_US')}" if upcoming else ""
            )
            assert note == after
        else:
            assert value == format_local_date(earliest, "en_US")
    # Whatever the set: something overdue is never "nothing due", and "overdue since" only when overdue.
    assert bool(late) == value.startswith("Overdue since")
    assert (value == "Nothing due") == (not owing)
