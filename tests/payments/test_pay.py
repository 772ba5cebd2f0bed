"""Paying online: one charge, one payment allocated across the chosen invoices, never twice."""

import pytest

from portico.billing import errors as billing_errors
from portico.billing.models import Invoice, Payment, PaymentAllocation
from portico.core.audit import Actor
from portico.core.money import Money
from portico.core.tenancy import tenant
from portico.payments.gateways import CardDetails
from portico.payments.models import PaymentAttempt
from portico.payments.services import PaymentRefused, pay_invoices
from portico.payments.test_gateway import TestGateway
from tests.billing.factories import open_invoice, pay
from tests.factories import CustomerFactory, OrganizationFactory

ACTOR = Actor.system("tests")


def token(number="4242424242424242"):
    return TestGateway().tokenize(CardDetails(number=number, exp_month=12, exp_year=2030, cvc="123"))


def pay_online(customer, numbers, form_token="form-1", card_number="4242424242424242", **kwargs):
    return pay_invoices(
        organization=customer.organization,
        customer=customer,
        invoice_numbers=numbers,
        card=token(card_number),
        form_token=form_token,
        actor=ACTOR,
        **kwargs,
    )


@pytest.fixture
def invoices(customer, clock):
    return [open_invoice(customer, a) for a in (10000, 25050, 4999)]


def test_bulk_pay_allocates_exactly_and_records_one_payment(customer, invoices):
    outcome = pay_online(customer, [i.number for i in invoices])
    assert outcome.succeeded
    payment = Payment.objects.get(customer=customer)
    assert payment.amount == Money(40049, "USD")
    assert (payment.allocated_minor, payment.unused_minor) == (40049, 0)
    assert (payment.channel, payment.gateway, payment.card_last4, payment.card_brand) == (
        "online",
        "test",
        "4242",
        "visa",
    )
    assert payment.idempotency_key == f"payment_attempt:{outcome.attempt.pk}"
    allocations = {
        a.invoice.number: a.amount_minor for a in PaymentAllocation.objects.filter(payment=payment)
    }
    assert allocations == {invoices[0].number: 10000, invoices[1].number: 25050, invoices[2].number: 4999}
    for invoice in invoices:
        invoice.refresh_from_db()
        assert (invoice.status, invoice.balance_minor) == (Invoice.Status.PAID, 0)
    assert outcome.attempt.payment == payment and outcome.attempt.status == PaymentAttempt.Status.SUCCEEDED


def test_the_same_form_submitted_twice_pays_once(customer, invoices):
    first = pay_online(customer, [invoices[0].number], form_token="same")
    second = pay_online(customer, [invoices[0].number], form_token="same")
    assert second.repeated and second.attempt.pk == first.attempt.pk
    assert Payment.objects.filter(customer=customer).count() == 1
    assert PaymentAttempt.objects.count() == 1


def test_the_idempotency_key_is_stored_before_the_gateway_is_called(customer, invoices):
    seen = {}

    class Spy(TestGateway):
        def charge(self, *, idempotency_key, **kwargs):
            seen["row"] = PaymentAttempt.objects.get(idempotency_key=idempotency_key)
            return super().charge(idempotency_key=idempotency_key, **kwargs)

    pay_online(customer, [invoices[0].number], gateway=Spy())
    assert seen["row"].status == PaymentAttempt.Status.PENDING
    assert seen["row"].idempotency_key == f"payment_attempt:{seen['row'].pk}"


def test_a_declined_card_records_the_reason_and_moves_no_money(customer, invoices):
    outcome = pay_online(customer, [invoices[0].number], card_number="4000000000009995")
    assert outcome.attempt.status == PaymentAttempt.Status.DECLINED
    assert outcome.attempt.decline_code == "insufficient_funds"
    assert "insufficient funds" in outcome.attempt.decline_reason
    assert not Payment.objects.exists()
    invoices[0].refresh_from_db()
    assert invoices[0].balance_minor == 10000


def test_another_customers_invoice_in_the_form_refuses_everything(
    customer, outsider_customer, invoices, clock
):
    theirs = open_invoice(outsider_customer, 5000)
    with pytest.raises(billing_errors.InvoiceNotFound):
        pay_online(customer, [invoices[0].number, theirs.number])
    assert not PaymentAttempt.objects.exists() and not Payment.objects.exists()


def test_another_organizations_invoice_number_is_not_found(customer, invoices, clock):
    elsewhere = CustomerFactory(organization=OrganizationFactory(slug="elsewhere"))
    theirs = open_invoice(elsewhere, 5000)
    with pytest.raises(billing_errors.InvoiceNotFound):
        pay_online(customer, [theirs.number + "x", invoices[0].number])
    assert not PaymentAttempt.objects.exists()


def test_paying_a_paid_invoice_is_refused(customer, invoices):
    pay(customer, 10000, (invoices[0], 10000))
    with pytest.raises(billing_errors.InvoiceNotPayable, match="already paid"):
        pay_online(customer, [invoices[0].number])
    assert not PaymentAttempt.objects.exists()


def test_paying_a_void_invoice_is_refused(customer, invoices):
    from portico.billing.services import void_invoice

    void_invoice(invoice=invoices[1], actor=ACTOR)
    with pytest.raises(billing_errors.InvoiceNotPayable, match="voided"):
        pay_online(customer, [invoices[0].number, invoices[1].number])
    assert not PaymentAttempt.objects.exists()


def test_paying_more_than_the_balance_is_refused(customer, invoices):
    with pytest.raises(billing_errors.AmountExceedsBalance):
        pay_online(customer, [invoices[0].number], amount=Money(10001, "USD"))
    assert not PaymentAttempt.objects.exists()


def test_paying_part_of_one_invoice_leaves_it_partially_paid(customer, invoices):
    pay_online(customer, [invoices[0].number], amount=Money(2500, "USD"))
    invoices[0].refresh_from_db()
    assert (invoices[0].status, invoices[0].balance_minor) == (Invoice.Status.PARTIALLY_PAID, 7500)


def test_invoices_in_two_currencies_are_refused(customer, invoices):
    euro = Invoice.objects.get(pk=invoices[2].pk)
    Invoice.objects.filter(pk=euro.pk).update(currency="EUR")
    with pytest.raises(PaymentRefused, match="different currencies"):
        pay_online(customer, [invoices[0].number, euro.number])
    assert not PaymentAttempt.objects.exists()


def test_a_changed_balance_since_the_page_was_shown_is_not_charged(customer, invoices):
    with pytest.raises(PaymentRefused, match="changed"):
        pay_online(customer, [invoices[0].number], expected_total=Money(9000, "USD"))
    assert not PaymentAttempt.objects.exists()


def test_if_an_invoice_was_paid_meanwhile_the_charged_money_stays_as_credit(customer, invoices):
    class PaysFirst(TestGateway):
        def charge(self, **kwargs):
            pay(customer, 10000, (invoices[0], 10000))  # staff record a cheque while the card is charged
            return super().charge(**kwargs)

    outcome = pay_online(customer, [invoices[0].number], gateway=PaysFirst())
    assert outcome.succeeded
    online = Payment.objects.get(channel=Payment.Channel.ONLINE)
    assert (online.amount_minor, online.allocated_minor, online.unused_minor) == (10000, 0, 10000)


def test_the_card_number_and_cvc_are_never_stored_or_logged(portal_client, customer, clock, caplog):
    import logging
    import re

    from django.db import connection

    from portico.core.models import AuditEvent

    caplog.set_level(logging.DEBUG)
    invoice = open_invoice(customer, 10000)
    html = portal_client.get(f"/portal/invoices/{invoice.number}/pay/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    for attempt, number in enumerate(("4000 0000 0000 0002", "4242 4242 4242 4242")):
        portal_client.post(
            f"/portal/invoices/{invoice.number}/pay/",
            {
                "form_token": f"{token}-{attempt}",
                "name": "Maria Lopez",
                "number": number,
                "exp_month": "12",
                "exp_year": "2031",
                "cvc": "737",
            },
        )
    assert Payment.objects.filter(card_last4="4242").exists()
    from django.contrib.sessions.backends.db import SessionStore

    def strings_in(value):
        """Every text a stored value holds (ids, amounts and dates are not where a CVC would hide)."""
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from strings_in(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                yield from strings_in(item)

    stored = []
    for model in (PaymentAttempt, Payment, AuditEvent):
        for row in model.all_tenants.values():
            stored += strings_in(row)
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_data FROM django_session")
        for (data,) in cursor.fetchall():
            stored += strings_in(SessionStore().decode(data))
    stored += [record.getMessage() for record in caplog.records]
    for secret in (
        "4242424242424242",
        "4242 4242 4242 4242",
        "4000000000000002",
        "4000 0000 0000 0002",
        "737",
    ):
        # As a token of its own: random tokens (letters, digits, - and _) may hold "737" by chance.
        pattern = re.compile(rf"(?<![\w-]){re.escape(secret)}(?![\w-])")
        assert not any(pattern.search(text) for text in stored), secret


def test_staff_see_their_organizations_payment_attempts_in_the_console(org, other_org, customer, invoices):
    from tests.conftest import tenant_client
    from tests.factories import staff_user

    pay_online(customer, [invoices[0].number], card_number="4000000000000069")
    elsewhere = CustomerFactory(organization=other_org, display_name="Elsewhere Ltd", currency="GBP")
    with tenant(other_org):
        theirs = open_invoice(elsewhere, 700)
        pay_invoices(
            organization=other_org,
            customer=elsewhere,
            invoice_numbers=[theirs.number],
            card=token(),
            form_token="x",
            actor=ACTOR,
        )
    client = tenant_client(org)
    client.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    html = client.get("/console/payments/paymentattempt/").content.decode()
    assert "Acme Interiors" in html and "expired_card" in html and "Elsewhere Ltd" not in html
