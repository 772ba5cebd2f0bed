"""Paying with a saved method, or with a new card saved after the payment (issue 10, item 3)."""

import pytest

from portico.billing.models import Invoice, Payment
from portico.core.audit import Actor
from portico.core.tenancy import tenant
from portico.payments.gateways import CardDetails, gateway_for
from portico.payments.methods import MethodNotFound, MethodRefused, active_methods, remove_method, save_method
from portico.payments.models import GatewayCharge, PaymentAttempt, PaymentMethod
from portico.payments.services import pay_invoices, pay_with_card
from tests.billing.factories import open_invoice
from tests.factories import CustomerFactory

ACTOR = Actor.system("tests")


def card(number="4242424242424242", exp_month=12, exp_year=2030):
    return CardDetails(number=number, exp_month=exp_month, exp_year=exp_year, cvc="123", name="Maria Lopez")


def saved(customer, number="4242424242424242"):
    return save_method(organization=customer.organization, customer=customer, actor=ACTOR, card=card(number))


@pytest.fixture
def invoices(customer, clock):
    return [open_invoice(customer, 10000), open_invoice(customer, 2550)]


def pay_saved(customer, invoices, method, form_token="form-1"):
    return pay_invoices(
        organization=customer.organization,
        customer=customer,
        invoice_numbers=[i.number for i in invoices],
        method=method,
        form_token=form_token,
        actor=ACTOR,
    )


def test_paying_with_a_saved_method_charges_its_token_for_the_customer(customer, invoices):
    method = saved(customer)
    outcome = pay_saved(customer, invoices, method)
    assert outcome.succeeded
    attempt = outcome.attempt
    assert (attempt.payment_method, attempt.off_session, attempt.save_method) == (method, False, False)
    assert (attempt.card_brand, attempt.card_last4) == ("visa", "4242")
    charge = GatewayCharge.objects.get(idempotency_key=attempt.idempotency_key)
    assert (charge.source, charge.amount_minor, charge.status) == (method.token, 12550, "succeeded")
    payment = Payment.objects.get(customer=customer)
    assert (payment.amount_minor, payment.allocated_minor, payment.card_last4) == (12550, 12550, "4242")
    assert set(Invoice.objects.filter(customer=customer).values_list("status", flat=True)) == {"paid"}


def test_a_saved_method_that_fails_when_charged_leaves_the_invoices_unpaid(customer, invoices):
    method = saved(customer, "4000000000000341")
    outcome = pay_saved(customer, invoices, method)
    assert outcome.attempt.status == PaymentAttempt.Status.DECLINED
    assert "declined" in outcome.attempt.decline_reason
    assert not Payment.objects.exists()
    assert [i.balance_minor for i in Invoice.objects.filter(customer=customer).order_by("id")] == [
        10000,
        2550,
    ]


def test_another_customers_or_a_removed_method_is_not_found_and_charges_nothing(
    customer, outsider_customer, other_org, invoices
):
    theirs = saved(outsider_customer)
    with tenant(other_org):
        elsewhere = saved(CustomerFactory(organization=other_org))
    removed = saved(customer, "5555555555554444")
    remove_method(method=removed, actor=ACTOR)
    for i, method in enumerate((theirs, elsewhere, removed)):
        with pytest.raises(MethodNotFound):
            pay_saved(customer, invoices, method, form_token=f"form-{i}")
    assert not PaymentAttempt.objects.exists() and not GatewayCharge.objects.exists()


def test_an_expired_saved_method_is_refused_before_charging(customer, invoices, clock):
    method = saved(customer)
    PaymentMethod.objects.filter(pk=method.pk).update(exp_month=2, exp_year=2026)
    with pytest.raises(MethodRefused, match="expired"):
        pay_saved(customer, invoices, method)
    assert not PaymentAttempt.objects.exists()


def test_a_new_card_is_saved_after_the_payment_when_asked(customer, invoices):
    outcome = pay_with_card(
        card=card("5555555555554444"),
        save_method=True,
        organization=customer.organization,
        customer=customer,
        invoice_numbers=[invoices[0].number],
        form_token="form-1",
        actor=ACTOR,
    )
    assert outcome.succeeded and outcome.method is not None and not outcome.save_error
    assert outcome.attempt.save_method and outcome.attempt.payment_method is None
    method = active_methods(customer).get()
    assert method == outcome.method and method.is_default and method.last4 == "4444"
    charge = GatewayCharge.objects.get(idempotency_key=outcome.attempt.idempotency_key)
    assert charge.source == method.token  # the token charged is the one saved


def test_a_new_card_is_not_saved_unless_asked(customer, invoices):
    outcome = pay_with_card(
        card=card(),
        organization=customer.organization,
        customer=customer,
        invoice_numbers=[invoices[0].number],
        form_token="form-1",
        actor=ACTOR,
    )
    assert outcome.succeeded and outcome.method is None
    assert not PaymentMethod.objects.exists()


def test_a_declined_new_card_pays_nothing_and_is_not_saved(customer, invoices):
    outcome = pay_with_card(
        card=card("4000000000009995"),
        save_method=True,
        organization=customer.organization,
        customer=customer,
        invoice_numbers=[i.number for i in invoices],
        form_token="form-1",
        actor=ACTOR,
    )
    assert outcome.attempt.status == PaymentAttempt.Status.DECLINED
    assert "insufficient funds" in outcome.attempt.decline_reason
    assert not Payment.objects.exists() and not PaymentMethod.objects.exists()
    assert [i.balance_minor for i in Invoice.objects.filter(customer=customer).order_by("id")] == [
        10000,
        2550,
    ]


def test_a_card_that_cannot_be_saved_still_pays(customer, invoices):
    class RefusesToSave(type(gateway_for(customer.organization))):
        def attach(self, **kwargs):
            from portico.payments.gateways import CardDeclined

            raise CardDeclined("processing_error")

    outcome = pay_with_card(
        card=card(),
        save_method=True,
        gateway=RefusesToSave(customer.organization),
        organization=customer.organization,
        customer=customer,
        invoice_numbers=[invoices[0].number],
        form_token="form-1",
        actor=ACTOR,
    )
    assert outcome.succeeded and outcome.method is None
    assert "payment went through" in outcome.save_error and "could not be saved" in outcome.save_error
    assert Payment.objects.get(customer=customer).allocated_minor == 10000
    assert not PaymentMethod.objects.exists()


def test_a_card_and_a_saved_method_at_once_is_refused(customer, invoices):
    method = saved(customer)
    token = gateway_for(customer.organization).tokenize(card())
    from portico.payments.services import PaymentRefused

    with pytest.raises(PaymentRefused):
        pay_invoices(
            organization=customer.organization,
            customer=customer,
            invoice_numbers=[invoices[0].number],
            card=token,
            method=method,
            form_token="form-1",
            actor=ACTOR,
        )
    assert not PaymentAttempt.objects.exists()
