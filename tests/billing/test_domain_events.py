"""The ledger's domain events land in the outbox with the change that caused them (for webhooks and
integrations to come), once per fact, and a refused change leaves none."""

import pytest

from portico.billing import errors, services
from portico.core import outbox
from portico.core.models import OutboxEvent
from portico.payments.models import PaymentAttempt
from tests.billing.factories import ACTOR, credit_note, draft_invoice, open_invoice
from tests.payments.test_pay import pay_online


def events(topic: str) -> list[dict]:
    return list(OutboxEvent.all_tenants.filter(topic=topic).order_by("pk").values_list("payload", flat=True))


def test_finalizing_an_invoice_emits_invoice_finalized_once(customer, clock):
    invoice = open_invoice(customer, 12000)
    assert events("invoice.finalized") == [
        {
            "object": "billing.invoice",
            "id": invoice.pk,
            "customer": customer.pk,
            "number": invoice.number,
            "total": {"minor": 12000, "currency": "USD"},
            "auto_charge": False,
        }
    ]
    event = OutboxEvent.all_tenants.get(topic="invoice.finalized")
    # A delivery per consumer that wants it: payments' automatic charge wants only the invoices to
    # be charged automatically, and this customer has not turned automatic payments on; webhooks
    # serve only organizations with an endpoint, and this one has none.
    assert outbox.consumers_of("invoice.finalized", organization_id=customer.organization_id) == [
        "payments.auto_charge"
    ]
    assert (
        outbox.consumers_of("invoice.finalized", event.payload, organization_id=customer.organization_id)
        == []
    )
    assert event.organization_id == customer.organization_id and event.delivery_count == 0
    assert not event.deliveries.exists()


def test_a_refused_finalize_emits_nothing(customer):
    draft = draft_invoice(customer)
    draft.lines.all().delete()
    with pytest.raises(errors.EmptyInvoice):
        services.finalize_invoice(invoice=draft, actor=ACTOR)
    assert not OutboxEvent.all_tenants.exists()


def test_each_sending_of_an_invoice_is_an_event(customer, clock, django_capture_on_commit_callbacks):
    invoice = open_invoice(customer, 5000)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_invoice(invoice=invoice, actor=ACTOR, to=["ap@acme.example"])
        services.send_invoice(invoice=invoice, actor=ACTOR, to=["boss@acme.example"])
    assert [e["to"] for e in events("invoice.sent")] == [["ap@acme.example"], ["boss@acme.example"]]
    assert OutboxEvent.all_tenants.filter(topic="email.send").count() == 2


def test_voiding_an_invoice_emits_invoice_voided(customer):
    invoice = open_invoice(customer, 5000)
    services.void_invoice(invoice=invoice, actor=ACTOR, reason="Duplicate")
    assert [(e["id"], e["reason"]) for e in events("invoice.voided")] == [(invoice.pk, "Duplicate")]
    with pytest.raises(errors.InvalidStatus):
        services.void_invoice(invoice=invoice, actor=ACTOR)
    assert len(events("invoice.voided")) == 1


def test_issuing_a_credit_note_emits_credit_note_issued(customer):
    note = credit_note(customer, 2500)
    assert [(e["id"], e["number"], e["total"]) for e in events("credit_note.issued")] == [
        (note.pk, note.number, {"minor": 2500, "currency": "USD"})
    ]


def test_a_card_payment_emits_payment_succeeded_and_a_declined_one_nothing(customer, clock):
    invoice = open_invoice(customer, 7000)
    declined = pay_online(customer, [invoice.number], form_token="f-1", card_number="4000000000000002")
    assert declined.attempt.status == PaymentAttempt.Status.DECLINED
    assert events("payment.succeeded") == []
    outcome = pay_online(customer, [invoice.number], form_token="f-2")
    payment = outcome.attempt.payment
    assert [(e["id"], e["amount"]) for e in events("payment.succeeded")] == [
        (payment.pk, {"minor": 7000, "currency": "USD"})
    ]
