"""A customer's statement (JSON, CSV, PDF: the same numbers as the portal's) and saved payment
methods through the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from portico.api import ids
from portico.billing import services
from portico.billing.services import LineInput
from portico.billing.statements import statement_for
from portico.core import clock as core_clock
from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.core.money import Money
from portico.payments import methods
from portico.payments.models import PaymentMethod
from tests.api.conftest import assert_error

SYSTEM = Actor.system()


def _account(customer):
    """An invoice in February, paid in part in March, and a credit note in March."""
    invoice = services.create_invoice(
        customer=customer, actor=SYSTEM, lines=[LineInput("Work", Money(10000, "USD"))]
    )
    invoice = services.finalize_invoice(invoice=invoice, actor=SYSTEM, issue_date=dt.date(2026, 2, 10))
    services.record_payment(
        customer=customer,
        amount=Money(4000, "USD"),
        allocations=[(invoice, Money(4000, "USD"))],
        method="bank_transfer",
        received_on=dt.date(2026, 3, 2),
        reference="=HYPERLINK()",
        actor=SYSTEM,
    )
    services.issue_credit_note(customer=customer, lines=[LineInput("Fix", Money(1500, "USD"))], actor=SYSTEM)
    return invoice


def test_the_statement_is_the_portals_in_json_csv_and_pdf(api, org, customer, clock):
    _account(customer)
    base = f"/api/v1/customers/{ids.public_id(customer)}/statement"
    params = {"from": "2026-03-01", "to": "2026-03-10"}
    response = api.get(base, params)
    assert response.status_code == 200, response.content
    body = response.json()
    expected = statement_for(customer, dt.date(2026, 3, 1), dt.date(2026, 3, 10))
    assert (body["from"], body["to"], body["currency"]) == ("2026-03-01", "2026-03-10", "USD")
    assert body["opening_balance_minor"] == expected.opening_balance.minor == 10000
    assert body["closing_balance_minor"] == expected.closing_balance.minor == 4500
    assert [(line["type"], line["credit_minor"], line["balance_minor"]) for line in body["lines"]] == [
        ("payment", 4000, 6000),
        ("credit_note", 1500, 4500),  # issued today
    ]
    assert body["opening_balance_minor"] + body["total_debits_minor"] - body["total_credits_minor"] == 4500
    assert api.get(base).json()["from"] == "2026-03-01"  # this month by default, as the portal

    csv_response = api.get(f"{base}.csv", params)
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_response.content.decode())))
    assert [row[1] for row in rows[1:]] == ["opening", *[line["type"] for line in body["lines"]], "closing"]
    assert [Decimal(row[6]) * 100 for row in rows[1:-1]] == [
        Decimal(body["opening_balance_minor"]),
        *[Decimal(line["balance_minor"]) for line in body["lines"]],
    ]
    assert Decimal(rows[-1][6]) * 100 == body["closing_balance_minor"]

    pdf = api.get(f"{base}.pdf", params)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_bad_statement_period_is_a_422_naming_the_parameter(api, org, customer):
    base = f"/api/v1/customers/{ids.public_id(customer)}/statement"
    error = assert_error(api.get(base, {"from": "2026-03-10", "to": "2026-03-01"}), 422)
    assert (error["code"], error["field"]) == ("statement_period_invalid", "to")
    error = assert_error(api.get(base, {"from": "0001-01-01", "to": "2026-03-01"}), 422)
    assert error["field"] == "from"
    assert_error(api.get(f"{base}.csv", {"from": "yesterday"}), 422)


def _card(customer, last4, *, default=False):
    return PaymentMethod.objects.create(
        organization=customer.organization,
        customer=customer,
        gateway="test",
        token=f"tok_test_{last4}",
        brand="visa",
        last4=last4,
        exp_month=12,
        exp_year=2035,
        is_default=default,
        created_at=core_clock.now(),
    )


def test_payment_methods_are_listed_and_removed_with_the_services_rules(api, org, customer, clock):
    first = _card(customer, "4242", default=True)
    clock.advance(seconds=1)
    second = _card(customer, "1881")
    listed = api.get(f"/api/v1/customers/{ids.public_id(customer)}/payment_methods").json()["data"]
    assert [(m["id"], m["last4"], m["is_default"]) for m in listed] == [
        (second.public_id, "1881", False),
        (first.public_id, "4242", True),
    ]
    assert api.delete(f"/api/v1/payment_methods/{first.public_id}").status_code == 204
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.is_default) == ("removed", True)  # the other one took over
    assert AuditEvent.objects.filter(action="payment_method.removed").count() == 1
    assert_error(api.get(f"/api/v1/payment_methods/{first.public_id}"), 404)
    methods.set_auto_charge(customer=customer, enabled=True, actor=SYSTEM)
    assert_error(api.delete(f"/api/v1/payment_methods/{second.public_id}"), 409, "payment_method_in_use")
    second.refresh_from_db()
    assert second.status == "active"
