"""Payments through the API: recorded once however often the request is retried, allocated,
refunded, and refused as the ledger refuses them."""

from __future__ import annotations

import datetime as dt

from portico.api import ids
from portico.api.models import IdempotencyRecord
from portico.billing import services
from portico.billing.models import Invoice, Payment, PaymentAllocation, Refund
from portico.billing.services import LineInput
from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.core.money import Money
from tests.api.conftest import assert_error

SYSTEM = Actor.system()


def _issued(customer, minor=10000):
    invoice = services.create_invoice(
        customer=customer, actor=SYSTEM, lines=[LineInput("Work", Money(minor, customer.currency))]
    )
    return services.finalize_invoice(invoice=invoice, actor=SYSTEM)


def _body(customer, invoice, amount=6000, allocated=6000):
    return {
        "customer": ids.public_id(customer),
        "amount_minor": amount,
        "currency": "USD",
        "method": "check",
        "received_on": "2026-03-09",
        "reference": "CHK 1001",
        "allocations": [{"invoice": ids.public_id(invoice), "amount_minor": allocated}],
    }


def test_a_replayed_payment_post_records_one_payment(api, org, customer):
    invoice = _issued(customer)
    headers = {"Idempotency-Key": "pay-acme-1"}
    first = api.post("/api/v1/payments", _body(customer, invoice), headers=headers)
    assert first.status_code == 201, first.content
    again = api.post("/api/v1/payments", _body(customer, invoice), headers=headers)
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    # Even once the API's record of the key is gone, the ledger's own key keeps it to one payment.
    IdempotencyRecord.all_tenants.all().delete()
    late = api.post("/api/v1/payments", _body(customer, invoice), headers=headers)
    assert late.status_code == 201 and late.json()["id"] == first.json()["id"]
    assert Payment.objects.count() == 1 and PaymentAllocation.objects.count() == 1
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance_minor) == ("partially_paid", 4000)
    body = first.json()
    assert body["id"].startswith("pay_") and body["number"] == "PAY-00001"
    assert body["allocations"][0]["invoice_number"] == invoice.number
    assert api.get("/api/v1/payments/PAY-00001").json() == api.get(f"/api/v1/payments/{body['id']}").json()
    assert AuditEvent.objects.filter(action="payment.recorded").count() == 1


def test_refused_payments_write_nothing(api, org, customer):
    invoice = _issued(customer)
    before = AuditEvent.objects.count()
    error = assert_error(api.post("/api/v1/payments", _body(customer, invoice, 20000, 12000)), 409)
    assert error["code"] == "amount_exceeds_balance"
    error = assert_error(api.post("/api/v1/payments", _body(customer, invoice, 1000, 2000)), 409)
    assert error["code"] == "allocation_exceeds_payment"
    assert_error(api.post("/api/v1/payments", {**_body(customer, invoice), "currency": "EUR"}), 409)
    assert_error(api.post("/api/v1/payments", _body(customer, invoice, 0, 0)), 422, "invalid_amount")
    error = assert_error(
        api.post(
            "/api/v1/payments",
            {**_body(customer, invoice), "allocations": [{"invoice": "INV-9", "amount_minor": 1}]},
        ),
        404,
    )
    assert error["field"] == "allocations.0.invoice"
    assert (Payment.objects.count(), AuditEvent.objects.count()) == (0, before)
    assert Invoice.objects.get().balance_minor == 10000


def test_an_advance_is_allocated_then_refunded(api, org, customer, clock):
    invoice = _issued(customer)
    created = api.post("/api/v1/payments", _body(customer, invoice, 5000, 0)).json()
    assert (created["allocated_minor"], created["unused_minor"]) == (0, 5000)
    path = f"/api/v1/payments/{created['id']}"
    allocated = api.post(
        f"{path}/allocate", {"allocations": [{"invoice": invoice.number, "amount_minor": 3000}]}
    )
    assert allocated.status_code == 200 and allocated.json()["unused_minor"] == 2000
    assert_error(api.post(f"{path}/refund", {"amount_minor": 2500}), 409, "refund_too_large")
    refunded = api.post(f"{path}/refund", {"amount_minor": 2000, "reason": "Overpaid"})
    assert refunded.status_code == 200, refunded.content
    assert (refunded.json()["refunded_minor"], refunded.json()["unused_minor"]) == (2000, 0)
    assert refunded.json()["refunds"] == [
        {"amount_minor": 2000, "refunded_on": "2026-03-10", "method": "check", "reason": "Overpaid"}
    ]
    assert Refund.objects.get().amount_minor == 2000
    assert AuditEvent.objects.filter(action="payment.refunded").count() == 1
    assert Invoice.objects.get().balance_minor == 7000


def test_payments_are_listed_by_customer_and_date(api, org, customer):
    invoice = _issued(customer)
    services.record_payment(
        customer=customer,
        amount=Money(100, "USD"),
        allocations=[(invoice, Money(100, "USD"))],
        method="cash",
        received_on=dt.date(2026, 1, 2),
        actor=SYSTEM,
    )
    api.post("/api/v1/payments", _body(customer, invoice, 200, 200))
    numbers = [
        p["number"] for p in api.get("/api/v1/payments", {"received_on_gte": "2026-03-01"}).json()["data"]
    ]
    assert numbers == ["PAY-00002"]
    assert len(api.get("/api/v1/payments", {"customer": ids.public_id(customer)}).json()["data"]) == 2
