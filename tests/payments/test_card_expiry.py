"""Card expiry notices (issue 10, item 8): once, 30 days before the default card expires, with a
link to update it; idempotent, per organization. Emails received by a real SMTP server."""

import itertools
from io import StringIO

import pytest
from django.core.management import call_command

from portico.core import clock as core_clock
from portico.core.audit import AuditEvent
from portico.core.tenancy import tenant
from portico.payments.expiry import expiry_months, notify_expiring_cards
from portico.payments.models import PaymentMethod
from tests.factories import ContactFactory, CustomerFactory

_tokens = itertools.count(1)


def saved_card(customer, exp_month, exp_year, *, is_default=True, last4="4242", **fields) -> PaymentMethod:
    """A saved card as the gateway described it (fixed values; never a number)."""
    return PaymentMethod.all_tenants.create(
        organization=customer.organization,
        customer=customer,
        gateway="test",
        token=f"tok_test_ok_{next(_tokens):016x}",
        brand="visa",
        last4=last4,
        exp_month=exp_month,
        exp_year=exp_year,
        is_default=is_default,
        created_at=core_clock.now(),
        **fields,
    )


def run(mailbox, django_capture_on_commit_callbacks) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return notify_expiring_cards()


@pytest.fixture
def billing(customer, contact):
    """The customer's billing email, and Maria, its primary contact (an admin of its portal)."""
    customer.email = "accounts@acme.example"
    customer.save(update_fields=["email"])
    return customer


def test_the_window_is_the_expiries_within_thirty_days():
    import datetime as dt

    assert expiry_months(dt.date(2026, 3, 10)) == [(2026, 3)]
    assert expiry_months(dt.date(2026, 3, 31)) == [(2026, 3), (2026, 4)]  # April 30 is 30 days away
    assert expiry_months(dt.date(2026, 12, 2)) == [(2026, 12)]  # January 31 is 60 days away
    assert expiry_months(dt.date(2026, 1, 28)) == [(2026, 1)]  # February 28 is 31 days away
    assert expiry_months(dt.date(2026, 1, 29)) == [(2026, 1), (2026, 2)]
    assert expiry_months(dt.date(2026, 1, 31)) == [(2026, 1), (2026, 2)]


def test_a_default_card_is_notified_thirty_days_before_it_expires_and_not_a_day_earlier(
    billing, clock, mailbox, django_capture_on_commit_callbacks
):
    card = saved_card(billing, 4, 2026)  # last day of use: April 30, 2026
    clock.set("2026-03-31T04:00:00+00:00")  # still March 30 in Chicago: 31 days before
    assert run(mailbox, django_capture_on_commit_callbacks) == 0
    assert mailbox.messages == []
    clock.set("2026-03-31T06:00:00+00:00")  # March 31 in Chicago: 30 days before
    assert run(mailbox, django_capture_on_commit_callbacks) == 1
    assert sorted(m["To"] for m in mailbox.messages) == ["accounts@acme.example", "maria@acme.example"]
    message = mailbox.to("maria@acme.example")[0]
    assert "Visa •••• 4242 (04/2026)" in message["Subject"] and "RenoTech Solutions" in message["Subject"]
    body = mailbox.body(message)
    assert "expires on April 30, 2026" in body or "expires on Apr. 30, 2026" in body
    assert billing.organization.public_url("/portal/payment-methods/") in body
    assert "://renotech.localhost" in body
    card.refresh_from_db()
    assert card.expiry_notice_for == "2026-04"
    assert AuditEvent.objects.filter(action="payment_method.expiry_notified").count() == 1


def test_a_card_expiring_this_month_is_notified_and_an_expired_one_is_not(
    billing, outsider_customer, clock, mailbox, django_capture_on_commit_callbacks
):
    saved_card(billing, 3, 2026)  # expires March 31: 21 days from the fixture's March 10
    saved_card(outsider_customer, 2, 2026)  # already expired
    assert run(mailbox, django_capture_on_commit_callbacks) == 1
    assert {m["To"] for m in mailbox.messages} == {"accounts@acme.example", "maria@acme.example"}


def test_the_notice_is_sent_once_and_a_second_run_sends_nothing(
    billing, clock, mailbox, django_capture_on_commit_callbacks
):
    saved_card(billing, 3, 2026)
    assert run(mailbox, django_capture_on_commit_callbacks) == 1
    assert len(mailbox.messages) == 2
    clock.advance(days=1)
    assert run(mailbox, django_capture_on_commit_callbacks) == 0
    clock.advance(days=10)
    assert run(mailbox, django_capture_on_commit_callbacks) == 0
    assert len(mailbox.messages) == 2


def test_a_card_that_is_not_the_default_or_was_removed_is_not_notified(
    billing, clock, mailbox, django_capture_on_commit_callbacks
):
    saved_card(billing, 12, 2030)  # the default, far from expiry
    spare = saved_card(billing, 3, 2026, is_default=False, last4="1111")
    removed = saved_card(
        billing,
        3,
        2026,
        is_default=False,
        last4="2222",
        status=PaymentMethod.Status.REMOVED,
        removed_at=core_clock.now(),
    )
    assert run(mailbox, django_capture_on_commit_callbacks) == 0
    assert mailbox.messages == []
    for method in (spare, removed):
        method.refresh_from_db()
        assert method.expiry_notice_for == ""


def test_a_new_expiry_gets_its_own_notice(billing, clock, mailbox, django_capture_on_commit_callbacks):
    card = saved_card(billing, 3, 2026)
    assert run(mailbox, django_capture_on_commit_callbacks) == 1
    # The bank extended the same card (the gateway's card.updated): a new expiry, a new notice later.
    PaymentMethod.objects.filter(pk=card.pk).update(exp_month=4)
    assert run(mailbox, django_capture_on_commit_callbacks) == 0  # April 30 is 51 days away
    clock.set("2026-04-01T12:00:00+00:00")
    assert run(mailbox, django_capture_on_commit_callbacks) == 1
    card.refresh_from_db()
    assert card.expiry_notice_for == "2026-04"
    assert len(mailbox.messages) == 4


def test_another_organizations_cards_are_notified_in_their_own_tenant(
    billing, other_org, clock, mailbox, django_capture_on_commit_callbacks
):
    saved_card(billing, 3, 2026)
    with tenant(other_org):
        theirs = CustomerFactory(organization=other_org, email="ap@northwind-client.example")
        ContactFactory(customer=theirs, email="maria@acme.example", is_primary=True)
        their_card = saved_card(theirs, 3, 2026, last4="4444")
    out = StringIO()
    # as the worker runs it: no organization active
    with tenant(None), django_capture_on_commit_callbacks(execute=True):
        call_command("notify_expiring_cards", stdout=out)
    assert out.getvalue().strip() == "Card expiry notices: 2 sent"
    northwind = [m for m in mailbox.messages if "Northwind Studio" in m["Subject"]]
    assert sorted(m["To"] for m in northwind) == ["ap@northwind-client.example", "maria@acme.example"]
    assert all("4444" in m["Subject"] for m in northwind)
    assert all(other_org.public_url("/portal/payment-methods/") in mailbox.body(m) for m in northwind)
    renotech = [m for m in mailbox.messages if "RenoTech" in m["Subject"]]
    assert len(renotech) == 2 and all("4242" in m["Subject"] for m in renotech)
    with tenant(other_org):
        assert AuditEvent.objects.filter(action="payment_method.expiry_notified").get().object_id == str(
            their_card.pk
        )


def test_a_customer_without_an_address_is_marked_and_not_counted(
    customer, clock, mailbox, django_capture_on_commit_callbacks
):
    customer.email = ""
    customer.save(update_fields=["email"])
    card = saved_card(customer, 3, 2026)
    assert run(mailbox, django_capture_on_commit_callbacks) == 0
    card.refresh_from_db()
    assert card.expiry_notice_for == "2026-03" and mailbox.messages == []
