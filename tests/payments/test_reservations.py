"""A checkout reserves what it will pay before the gateway is called; others see it as taken until
the attempt settles (booked, declined, expired). DESIGN.md "Money and ledger invariants"."""

import pytest

from portico.billing.models import Payment
from portico.core.money import Money
from portico.payments.models import PaymentAttempt, PaymentReservation
from portico.payments.services import (
    PaymentInProgress,
    PaymentRefused,
    reconcile_pending_attempts,
    reserved_amounts,
)
from portico.payments.test_gateway import TestGateway
from tests.billing.factories import open_invoice
from tests.payments.test_pay import pay_online
from tests.payments.test_reconcile import CrashBeforeCharge, interrupted
from tests.portal.test_ledger_pages import CARD, form_token, text


@pytest.fixture
def invoice(customer, clock):
    return open_invoice(customer, 90000)


def test_the_reservation_is_committed_before_the_gateway_is_called(customer, invoice):
    seen = {}

    class Spy(TestGateway):
        def charge(self, **kwargs):
            seen["reserved"] = reserved_amounts([invoice.pk])
            return super().charge(**kwargs)

    pay_online(customer, [invoice.number], gateway=Spy())
    assert seen["reserved"] == {invoice.pk: 90000}
    assert reserved_amounts([invoice.pk]) == {}  # booked: holds nothing any more


def test_a_second_checkout_while_the_first_is_at_the_gateway_is_refused(customer, invoice):
    first = interrupted(customer, [invoice], CrashBeforeCharge(), form_token="tab-1")
    assert first.status == PaymentAttempt.Status.PENDING
    with pytest.raises(PaymentInProgress, match="already being processed") as refusal:
        pay_online(customer, [invoice.number], form_token="tab-2")
    assert "$900.00" in refusal.value.message and invoice.number in refusal.value.message
    assert PaymentAttempt.objects.count() == 1 and not Payment.objects.exists()


def test_a_declined_card_releases_the_reservation(customer, invoice):
    declined = pay_online(customer, [invoice.number], form_token="tab-1", card_number="4000000000000002")
    assert declined.attempt.status == PaymentAttempt.Status.DECLINED
    assert reserved_amounts([invoice.pk]) == {}
    assert pay_online(customer, [invoice.number], form_token="tab-2").succeeded


def test_a_reservation_no_longer_holds_once_its_attempt_is_stale(customer, invoice, clock):
    interrupted(customer, [invoice], CrashBeforeCharge(), form_token="tab-1")
    clock.advance(minutes=14)
    with pytest.raises(PaymentInProgress):
        pay_online(customer, [invoice.number], form_token="tab-2")
    clock.advance(minutes=2)
    assert reserved_amounts([invoice.pk]) == {}
    assert pay_online(customer, [invoice.number], form_token="tab-3").succeeded


def test_an_expired_attempt_holds_nothing_after_reconciliation(customer, invoice, clock):
    interrupted(customer, [invoice], CrashBeforeCharge(), form_token="tab-1")
    clock.advance(minutes=16)
    assert reconcile_pending_attempts().expired == 1
    assert PaymentReservation.objects.get().attempt.status == PaymentAttempt.Status.EXPIRED
    assert reserved_amounts([invoice.pk]) == {}


def test_only_what_is_not_reserved_can_be_paid_by_another_checkout(customer, invoice):
    interrupted(customer, [invoice], CrashBeforeCharge(), form_token="tab-1")
    PaymentReservation.objects.update(amount_minor=30000)  # the first tab pays $300 of the $900
    PaymentAttempt.objects.update(amount_minor=30000, allocations=[[invoice.pk, 30000]])
    with pytest.raises(PaymentRefused, match=r"Only \$600.00 .* \$300.00 is already being processed"):
        pay_online(customer, [invoice.number], form_token="tab-2", amount=Money(60001, "USD"))
    with pytest.raises(PaymentRefused, match="changed to"):  # the page showed the whole balance
        pay_online(customer, [invoice.number], form_token="tab-3", expected_total=Money(90000, "USD"))
    outcome = pay_online(customer, [invoice.number], form_token="tab-4", expected_total=Money(60000, "USD"))
    assert outcome.succeeded and outcome.attempt.payment.amount_minor == 60000


def test_refused_checkouts_write_no_attempt_and_no_reservation(customer, invoice):
    interrupted(customer, [invoice], CrashBeforeCharge(), form_token="tab-1")
    for token in ("tab-2", "tab-3"):
        with pytest.raises(PaymentInProgress):
            pay_online(customer, [invoice.number], form_token=token)
    assert PaymentAttempt.objects.count() == 1 and PaymentReservation.objects.count() == 1


def test_the_pay_page_of_an_invoice_another_tab_is_paying_explains_it(portal_client, customer, invoice):
    page = portal_client.get(f"/portal/invoices/{invoice.number}/pay/").content.decode()
    interrupted(customer, [invoice], CrashBeforeCharge(), form_token="tab-1")
    response = portal_client.post(
        f"/portal/invoices/{invoice.number}/pay/", {"form_token": form_token(page), **CARD}, follow=True
    )
    assert "already being processed" in text(response) and "not charged" in text(response)
    assert PaymentAttempt.objects.count() == 1
    listing = text(portal_client.get("/portal/pay/"))
    assert "Payment in progress" in listing and f'value="{invoice.number}"' not in listing
