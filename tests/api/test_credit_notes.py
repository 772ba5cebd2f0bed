"""Credit notes through the API: issued (and applied) in one step, applied, refunded, voided, with
the ledger's rules."""

from __future__ import annotations

from portico.api import ids
from portico.billing import services
from portico.billing.models import CreditNote, Invoice
from portico.billing.services import LineInput
from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.core.money import Money
from tests.api.conftest import assert_error
from tests.factories import CustomerFactory

SYSTEM = Actor.system()


def _issued(customer, minor=10000):
    invoice = services.create_invoice(
        customer=customer, actor=SYSTEM, lines=[LineInput("Work", Money(minor, customer.currency))]
    )
    return services.finalize_invoice(invoice=invoice, actor=SYSTEM)


def _credit(customer, invoice=None, minor=3000, **extra):
    return {
        "customer": ids.public_id(customer),
        **({"invoice": invoice.number} if invoice else {}),
        "reason": "Goodwill",
        "lines": [{"description": "Goodwill", "unit_price_minor": minor}],
        **extra,
    }


def test_a_credit_note_is_issued_and_applied_to_its_invoice_at_once(api, org, customer):
    invoice = _issued(customer)
    created = api.post("/api/v1/credit_notes", _credit(customer, invoice, apply_to_invoice=True))
    assert created.status_code == 201, created.content
    note = created.json()
    assert note["id"].startswith("cn_") and note["number"] == "CN-00001" and note["status"] == "closed"
    assert (note["total_minor"], note["applied_minor"], note["remaining_minor"]) == (3000, 3000, 0)
    assert note["invoice"] == ids.public_id(invoice)
    invoice.refresh_from_db()
    assert (invoice.credited_minor, invoice.balance_minor, invoice.status) == (3000, 7000, "partially_paid")
    assert api.get("/api/v1/credit_notes/CN-00001").json() == note
    assert api.get(f"/api/v1/invoices/{invoice.number}").json()["credits"][0]["credit_note"] == "CN-00001"
    assert {"credit_note.created", "credit_note.finalized", "credit.applied"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


def test_remaining_credit_is_applied_refunded_and_an_unused_note_voided(api, org, customer):
    invoice = _issued(customer)
    note = api.post("/api/v1/credit_notes", _credit(customer)).json()
    path = f"/api/v1/credit_notes/{note['id']}"
    error = assert_error(api.post(f"{path}/apply", {"invoice": invoice.number, "amount_minor": 5000}), 409)
    assert error["code"] == "credit_too_large"
    applied = api.post(f"{path}/apply", {"invoice": ids.public_id(invoice), "amount_minor": 1000})
    assert applied.status_code == 200 and applied.json()["remaining_minor"] == 2000
    assert_error(api.post(f"{path}/void"), 409, "invalid_status")  # part of it was applied
    refunded = api.post(f"{path}/refund", {"amount_minor": 2000, "method": "bank_transfer"})
    assert refunded.status_code == 200, refunded.content
    assert (refunded.json()["refunded_minor"], refunded.json()["status"]) == (2000, "closed")
    spare = api.post("/api/v1/credit_notes", _credit(customer, minor=500)).json()
    voided = api.post(f"/api/v1/credit_notes/{spare['id']}/void")
    assert voided.status_code == 200 and voided.json()["status"] == "void"
    assert [n["number"] for n in api.get("/api/v1/credit_notes", {"status": "void"}).json()["data"]] == [
        "CN-00002"
    ]
    assert Invoice.objects.get().balance_minor == 9000


def test_refused_credit_notes_write_nothing(api, org, customer):
    invoice = _issued(customer)
    other = CustomerFactory(organization=org)
    before = AuditEvent.objects.count()
    assert_error(api.post("/api/v1/credit_notes", _credit(customer, lines=[])), 409, "empty_document")
    error = assert_error(api.post("/api/v1/credit_notes", _credit(other, invoice)), 404)
    assert error["field"] == "invoice"  # another customer's invoice
    assert_error(api.post("/api/v1/credit_notes", _credit(customer, invoice, minor=20000)), 409)
    assert (CreditNote.objects.count(), AuditEvent.objects.count()) == (0, before)
