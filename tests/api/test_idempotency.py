"""`Idempotency-Key`: the first response replayed byte for byte; another body or path is a 409."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from portico.api.models import IdempotencyRecord
from portico.customers.models import Customer
from tests.api.conftest import ApiClient, assert_error, new_key
from tests.concurrency import race
from tests.factories import OrganizationFactory


def test_a_retried_post_replays_the_first_response_byte_for_byte(api, org):
    headers = {"Idempotency-Key": "create-acme-1"}
    first = api.post("/api/v1/customers", {"display_name": "Acme"}, headers=headers)
    again = api.post("/api/v1/customers", {"display_name": "Acme"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again["Content-Type"] == first["Content-Type"]
    assert again["Idempotent-Replayed"] == "true"
    assert Customer.objects.count() == 1


def test_the_same_key_with_another_body_or_path_is_a_409(api, org):
    headers = {"Idempotency-Key": "k-1"}
    api.post("/api/v1/customers", {"display_name": "Acme"}, headers=headers)
    assert_error(
        api.post("/api/v1/customers", {"display_name": "Other"}, headers=headers),
        409,
        "idempotency_key_reused",
    )
    assert_error(
        api.post("/api/v1/products", {"name": "Acme"}, headers=headers), 409, "idempotency_key_reused"
    )
    assert Customer.objects.count() == 1


def test_a_refusal_is_replayed_too_and_a_new_key_runs_again(api, org):
    bad = {"display_name": ""}
    first = api.post("/api/v1/customers", bad, headers={"Idempotency-Key": "bad"})
    assert_error(first, 422)
    assert api.post("/api/v1/customers", bad, headers={"Idempotency-Key": "bad"}).content == first.content


def test_keys_are_per_api_key_and_organization(api, org, other_api):
    body = {"display_name": "Acme"}
    api.post("/api/v1/customers", body, headers={"Idempotency-Key": "same"})
    theirs = other_api.post("/api/v1/customers", body, headers={"Idempotency-Key": "same"})
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert Customer.all_tenants.count() == 2


def test_a_malformed_key_is_refused(api, org):
    error = assert_error(
        api.post("/api/v1/customers", {"display_name": "A"}, headers={"Idempotency-Key": "x" * 256}), 400
    )
    assert error["field"] == "Idempotency-Key"
    assert not Customer.objects.exists()


def test_a_key_expires_after_24_hours(api, org, clock):
    headers = {"Idempotency-Key": "daily"}
    api.post("/api/v1/customers", {"display_name": "Acme"}, headers=headers)
    clock.advance(hours=25)
    again = api.post("/api/v1/customers", {"display_name": "Acme"}, headers=headers)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Customer.objects.count() == 2 and IdempotencyRecord.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_posts_create_one_customer(transactional_db):
    assert connection.vendor == "postgresql"
    organization = OrganizationFactory(slug="racing")
    token = new_key(organization)
    body = {"display_name": "Racing customer"}

    def post():
        response = ApiClient(token, host=organization.host).post(
            "/api/v1/customers", body, headers={"Idempotency-Key": "race-1"}
        )
        return response.status_code, response.content

    outcomes = race(*[post for _ in range(8)])
    assert Customer.all_tenants.filter(organization=organization).count() == 1, outcomes
    created = [content for status, content in outcomes if status == 201]
    assert created and all(content == created[0] for content in created), outcomes
    others = [json.loads(content)["error"]["code"] for status, content in outcomes if status != 201]
    assert set(others) <= {"idempotency_in_progress"}, outcomes


def test_records_past_their_24_hours_are_forgotten(api, org, clock):
    api.post("/api/v1/customers", {"display_name": "Old"}, headers={"Idempotency-Key": "old"})
    clock.advance(hours=25)
    api.post("/api/v1/customers", {"display_name": "New"}, headers={"Idempotency-Key": "new"})
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_payment_posts_record_one_payment(transactional_db):
    """Money: eight identical `POST /payments` with one key at the same moment record one payment
    and one allocation; every 201 is the first answer, byte for byte."""
    from portico.api import ids
    from portico.billing import services as ledger
    from portico.billing.models import Invoice, Payment, PaymentAllocation
    from portico.billing.services import LineInput
    from portico.core.audit import Actor
    from portico.core.money import Money
    from portico.core.tenancy import tenant
    from tests.factories import CustomerFactory

    assert connection.vendor == "postgresql"
    organization = OrganizationFactory(slug="paying")
    with tenant(organization):
        customer = CustomerFactory(organization=organization)
        invoice = ledger.create_invoice(
            customer=customer,
            actor=Actor.system(),
            lines=[LineInput("Work", Money(10000, customer.currency))],
        )
        invoice = ledger.finalize_invoice(invoice=invoice, actor=Actor.system())
    token = new_key(organization)
    body = {
        "customer": ids.public_id(customer),
        "amount_minor": 6000,
        "currency": customer.currency,
        "method": "bank_transfer",
        "reference": "WIRE 1",
        "allocations": [{"invoice": invoice.number, "amount_minor": 6000}],
    }

    def post():
        response = ApiClient(token, host=organization.host).post(
            "/api/v1/payments", body, headers={"Idempotency-Key": "race-pay-1"}
        )
        return response.status_code, response.content

    outcomes = race(*[post for _ in range(8)])
    assert Payment.all_tenants.filter(organization=organization).count() == 1, outcomes
    assert PaymentAllocation.all_tenants.filter(organization=organization).count() == 1
    assert Invoice.all_tenants.get(pk=invoice.pk).balance_minor == 4000
    created = [content for status, content in outcomes if status == 201]
    assert created and all(content == created[0] for content in created), outcomes
    others = [json.loads(content)["error"]["code"] for status, content in outcomes if status != 201]
    assert set(others) <= {"idempotency_in_progress"}, outcomes
    replay = ApiClient(token, host=organization.host).post(
        "/api/v1/payments", body, headers={"Idempotency-Key": "race-pay-1"}
    )
    assert replay.content == created[0] and replay["Idempotent-Replayed"] == "true"
