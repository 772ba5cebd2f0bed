"""Refunds to the card (`payments.refunds.refund_to_card`) against the `test` gateway: full, partial,
too much, a payment already applied to invoices, the same request twice, and who may do it in the
console. Stripe's own refund is tested against localstripe in tests/payments/test_stripe_refunds.py."""

from __future__ import annotations

import pytest

from portico.accounts.models import StaffRole
from portico.billing import services as ledger
from portico.billing.invariants import ledger_violations
from portico.billing.models import Invoice, Payment, Refund
from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.core.money import Money
from portico.payments import refunds
from portico.payments.gateways import CardDetails, gateway_for
from portico.payments.models import CardRefund, GatewayCharge
from tests.billing.factories import open_invoice
from tests.conftest import tenant_client
from tests.factories import staff_user

ACTOR = Actor.system("tests")
BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"
VISA = CardDetails(number="4242 4242 4242 4242", exp_month=12, exp_year=2030, cvc="123")


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def card_payment(customer, minor: int, *allocations, key: str = "charge-1") -> Payment:
    """A payment charged through the test gateway and booked as the portal books it."""
    gateway = gateway_for(customer.organization, "test")
    token = gateway.tokenize(VISA)
    charge = gateway.charge(source=token.token, amount=usd(minor), idempotency_key=key)
    assert charge.succeeded
    return ledger.record_payment(
        customer=customer,
        amount=usd(minor),
        allocations=[(invoice, usd(part)) for invoice, part in allocations],
        method=Payment.Method.CARD,
        received_on=customer.organization.created_at.date(),
        actor=ACTOR,
        channel=Payment.Channel.ONLINE,
        gateway="test",
        gateway_reference=charge.reference,
        card_brand=token.brand,
        card_last4=token.last4,
    )


def gateway_refunds(payment) -> list[GatewayCharge]:
    return list(
        GatewayCharge.all_tenants.filter(kind=GatewayCharge.Kind.REFUND, source=payment.gateway_reference)
    )


def test_a_full_refund_goes_back_to_the_card_and_is_booked(customer):
    payment = card_payment(customer, 5000)
    refund = refunds.refund_to_card(payment=payment, amount=usd(5000), actor=ACTOR, reason="cancelled")
    payment.refresh_from_db()
    assert (payment.refunded_minor, payment.unused_minor) == (5000, 0)
    assert refund.method == Payment.Method.CARD and refund.reason == "cancelled"
    assert refund.gateway_reference.startswith("re_")
    [charge] = gateway_refunds(payment)
    assert charge.reference == refund.gateway_reference and charge.amount_minor == 5000
    row = CardRefund.all_tenants.get(payment=payment)
    assert (row.status, row.refund, row.idempotency_key) == (
        "succeeded",
        refund,
        f"refund:{payment.pk}:{row.pk}",
    )
    assert AuditEvent.all_tenants.filter(
        action="payment.refunded_to_card", object_id=str(payment.pk)
    ).exists()
    assert ledger_violations() == []


def test_a_partial_refund_leaves_the_rest_refundable(customer):
    payment = card_payment(customer, 5000)
    refunds.refund_to_card(payment=payment, amount=usd(1200), actor=ACTOR)
    payment.refresh_from_db()
    assert (payment.refunded_minor, payment.unused_minor) == (1200, 3800)
    assert refunds.refundable(payment) == usd(3800)
    refunds.refund_to_card(payment=payment, amount=usd(3800), actor=ACTOR)
    payment.refresh_from_db()
    assert refunds.refundable(payment) == usd(0)
    assert len(gateway_refunds(payment)) == 2


def test_refunding_more_than_is_left_is_refused_and_nothing_is_asked_or_booked(customer):
    payment = card_payment(customer, 5000)
    refunds.refund_to_card(payment=payment, amount=usd(4000), actor=ACTOR)
    with pytest.raises(refunds.RefundRefused, match=r"At most \$10.00"):
        refunds.refund_to_card(payment=payment, amount=usd(1001), actor=ACTOR)
    assert Refund.all_tenants.filter(payment=payment).count() == 1
    assert len(gateway_refunds(payment)) == 1
    assert CardRefund.all_tenants.filter(payment=payment).count() == 1


def test_a_payment_recorded_by_staff_is_not_refunded_to_a_card(customer):
    from tests.billing.factories import pay

    payment = pay(customer, 5000)
    with pytest.raises(refunds.RefundRefused, match="Only a card payment made online"):
        refunds.refund_to_card(payment=payment, amount=usd(100), actor=ACTOR)
    assert not CardRefund.all_tenants.exists()


def test_refunding_an_applied_payment_reopens_its_invoices_most_recent_first(customer, clock):
    older = open_invoice(customer, 3000)
    clock.advance(days=1)
    newer = open_invoice(customer, 4000)
    payment = card_payment(customer, 8000, (older, 3000), (newer, 4000))  # 10.00 unused
    refunds.refund_to_card(payment=payment, amount=usd(5000), actor=ACTOR)
    payment.refresh_from_db()
    older.refresh_from_db()
    newer.refresh_from_db()
    # 10.00 came from the unused money, 40.00 from the newer invoice; the older stays paid
    assert (payment.allocated_minor, payment.unused_minor, payment.refunded_minor) == (3000, 0, 5000)
    assert (newer.balance_minor, newer.status) == (4000, Invoice.Status.OPEN)
    assert (older.balance_minor, older.status) == (0, Invoice.Status.PAID)
    refunds.refund_to_card(payment=payment, amount=usd(1000), actor=ACTOR)
    older.refresh_from_db()
    assert (older.balance_minor, older.paid_minor, older.status) == (
        1000,
        2000,
        Invoice.Status.PARTIALLY_PAID,
    )
    assert AuditEvent.all_tenants.filter(action="payment.allocations_released").count() == 2
    assert ledger_violations() == []


def test_the_same_refund_request_twice_refunds_once(customer):
    payment = card_payment(customer, 5000)
    first = refunds.refund_to_card(payment=payment, amount=usd(1000), actor=ACTOR, request_id="form-1")
    again = refunds.refund_to_card(payment=payment, amount=usd(1000), actor=ACTOR, request_id="form-1")
    assert again == first
    payment.refresh_from_db()
    assert payment.refunded_minor == 1000
    assert len(gateway_refunds(payment)) == 1


def test_a_pending_refund_holds_its_amount_against_a_second_staff_member(customer, clock):
    payment = card_payment(customer, 5000)
    CardRefund.all_tenants.create(
        organization=customer.organization,
        payment=payment,
        form_token="in-flight",
        idempotency_key=f"refund:{payment.pk}:in-flight",
        currency="USD",
        amount_minor=5000,
        gateway="test",
        created_at=clock.now(),
    )
    with pytest.raises(refunds.RefundRefused, match=r"At most \$0.00"):
        refunds.refund_to_card(payment=payment, amount=usd(5000), actor=ACTOR, request_id="other-form")
    with pytest.raises(refunds.RefundInProgress):
        refunds.refund_to_card(payment=payment, amount=usd(5000), actor=ACTOR, request_id="in-flight")
    assert not Refund.all_tenants.filter(payment=payment).exists()


def test_a_refund_the_gateway_refuses_books_nothing(customer):
    payment = card_payment(customer, 5000)
    Payment.all_tenants.filter(pk=payment.pk).update(gateway_reference="ch_test_unknown")
    payment.refresh_from_db()
    with pytest.raises(refunds.RefundRefused, match="nothing was booked"):
        refunds.refund_to_card(payment=payment, amount=usd(1000), actor=ACTOR)
    payment.refresh_from_db()
    assert (payment.refunded_minor, payment.unused_minor) == (0, 5000)
    assert CardRefund.all_tenants.get(payment=payment).status == CardRefund.Status.FAILED
    assert refunds.refundable(payment) == usd(5000)


# -- the console --------------------------------------------------------------------------------------


def _staff(org, role):
    client = tenant_client(org)
    client.force_login(staff_user(org, email=f"{role}@renotech.example", role=role), backend=BACKEND)
    return client


def test_finance_refunds_to_the_card_from_the_payment_page_after_confirming(org, customer):
    payment = card_payment(customer, 5000)
    client = _staff(org, StaffRole.FINANCE)
    page = client.get(f"/console/billing/payment/{payment.pk}/change/").content.decode()
    assert "Refund to card" in page and "Visa •••• 4242" in page and payment.gateway_reference in page
    url = f"/console/billing/payment/{payment.pk}/refund-to-card/"
    form = client.get(url)
    assert form.status_code == 200 and 'value="50.00"' in form.content.decode()
    request_id = form.context["form"].initial["request_id"]
    confirm = client.post(url, {"amount": "20.00", "reason": "damaged", "request_id": request_id})
    assert confirm.status_code == 200
    assert "$20.00 will be sent back to Visa •••• 4242" in confirm.content.decode()
    assert not Refund.all_tenants.filter(payment=payment).exists()  # not before the confirmation
    data = {"amount": "20.00", "reason": "damaged", "request_id": request_id, "confirmed": "True"}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # the double click
    payment.refresh_from_db()
    assert payment.refunded_minor == 2000
    assert len(gateway_refunds(payment)) == 1
    event = AuditEvent.all_tenants.get(action="payment.refunded_to_card")
    assert event.actor_label == "finance@renotech.example (finance)"


@pytest.mark.parametrize("role", [StaffRole.SUPPORT, StaffRole.READ_ONLY])
def test_support_and_read_only_staff_may_not_refund_to_the_card(org, customer, role):
    payment = card_payment(customer, 5000)
    client = _staff(org, role)
    url = f"/console/billing/payment/{payment.pk}/refund-to-card/"
    assert (
        "Refund to card" not in client.get(f"/console/billing/payment/{payment.pk}/change/").content.decode()
    )
    assert client.get(url).status_code == 403
    data = {"amount": "20.00", "reason": "", "request_id": "x", "confirmed": "True"}
    assert client.post(url, data).status_code == 403
    payment.refresh_from_db()
    assert payment.refunded_minor == 0 and not gateway_refunds(payment)


@pytest.mark.parametrize("role", [StaffRole.OWNER, StaffRole.ADMINISTRATOR])
def test_owners_and_administrators_refund_to_the_card(org, customer, role):
    payment = card_payment(customer, 5000)
    url = f"/console/billing/payment/{payment.pk}/refund-to-card/"
    data = {"amount": "50.00", "reason": "", "request_id": f"r-{role}", "confirmed": "True"}
    assert _staff(org, role).post(url, data).status_code == 302
    payment.refresh_from_db()
    assert payment.refunded_minor == 5000


def test_the_console_says_why_a_refund_failed(org, customer):
    payment = card_payment(customer, 5000)
    url = f"/console/billing/payment/{payment.pk}/refund-to-card/"
    data = {"amount": "60.00", "reason": "", "request_id": "too-much", "confirmed": "True"}
    response = _staff(org, StaffRole.OWNER).post(url, data)
    assert response.status_code == 200
    assert "At most $50.00 of this payment can be refunded." in response.content.decode()


# -- Stripe (localstripe) -------------------------------------------------------------------------------


def test_an_applied_stripe_payment_is_refunded_to_the_card_through_stripe(stripe_org, customer, localstripe):
    from tests.payments.test_stripe_gateway import saved_card, stripe_api

    gateway = gateway_for(stripe_org)
    reference, card = saved_card(gateway, customer, localstripe)
    invoice = open_invoice(customer, 6000)
    charge = gateway.charge(
        source=card.token, amount=usd(6000), idempotency_key="c-refund", customer_reference=reference
    )
    payment = ledger.record_payment(
        customer=customer,
        amount=usd(6000),
        allocations=[(invoice, usd(6000))],
        method=Payment.Method.CARD,
        received_on=invoice.issue_date,
        actor=ACTOR,
        channel=Payment.Channel.ONLINE,
        gateway="stripe",
        gateway_reference=charge.reference,
        card_brand=card.brand,
        card_last4=card.last4,
    )
    refund = refunds.refund_to_card(payment=payment, amount=usd(2500), actor=ACTOR, request_id="stripe-1")
    again = refunds.refund_to_card(payment=payment, amount=usd(2500), actor=ACTOR, request_id="stripe-1")
    assert again == refund and refund.gateway_reference.startswith("re_")
    at_stripe = stripe_api(localstripe, "GET", "/v1/refunds?limit=100")["data"]
    assert [(r["id"], r["amount"]) for r in at_stripe] == [(refund.gateway_reference, 2500)]
    invoice.refresh_from_db()
    assert (invoice.balance_minor, invoice.status) == (2500, Invoice.Status.PARTIALLY_PAID)
    assert ledger_violations() == []
