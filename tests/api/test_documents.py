"""Shared documents through the API: upload (base64, judged by the bytes), list, retrieve, delete,
audited with the key; another organization's ids are not found."""

from __future__ import annotations

import base64

from portico.core import tenancy
from portico.core.models import AuditEvent
from portico.engagement.models import SharedDocument
from tests.api.conftest import assert_error
from tests.engagement.factories_documents import PDF, shared_document
from tests.factories import CustomerFactory

URL = "/api/v1/documents"


def body(content=PDF, **fields):
    return {"file_name": "contract.pdf", "content_base64": base64.b64encode(content).decode(), **fields}


def test_a_document_is_shared_with_one_customer_and_audited_with_the_key(org, api):
    customer = CustomerFactory(organization=org)
    response = api.post(URL, body(title="Acme contract", customer=f"cus_{customer.public_id}"))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["object"] == "document" and data["id"].startswith("doc_")
    assert (data["title"], data["content_type"], data["size"]) == (
        "Acme contract",
        "application/pdf",
        len(PDF),
    )
    assert data["audience"] == "customer" and data["customer"] == f"cus_{customer.public_id}"
    document = SharedDocument.all_tenants.get()
    assert document.file.storage.open(document.file.name).read() == PDF
    event = AuditEvent.all_tenants.get(action="document.created")
    assert event.actor_kind == "api" and event.actor_label.startswith("API key Tests")
    assert api.get(f"{URL}/{data['id']}").json() == data
    listed = api.get(URL, {"customer": f"cus_{customer.public_id}"}).json()
    assert [d["id"] for d in listed["data"]] == [data["id"]]


def test_an_html_upload_or_bad_base64_is_refused_and_nothing_stored(org, api):
    error = assert_error(
        api.post(URL, body(b"<!doctype html><script>alert(1)</script>")), 422, "document_refused"
    )
    assert error["field"] == "file"
    error = assert_error(api.post(URL, {**body(), "content_base64": "not base64!!"}), 422, "document_refused")
    assert error["field"] == "content_base64"
    assert not SharedDocument.all_tenants.exists()


def test_another_organizations_document_or_customer_is_not_found(org, other_org, api):
    with tenancy.tenant(other_org):
        theirs = shared_document(other_org)
        their_customer = CustomerFactory(organization=other_org)
    assert_error(api.get(f"{URL}/doc_{theirs.public_id}"), 404, "resource_missing")
    assert_error(api.delete(f"{URL}/doc_{theirs.public_id}"), 404, "resource_missing")
    assert_error(api.post(URL, body(customer=f"cus_{their_customer.public_id}")), 404, "resource_missing")
    assert SharedDocument.all_tenants.filter(organization=other_org).count() == 1


def test_deleting_a_document_removes_it_and_is_audited(org, api, django_capture_on_commit_callbacks):
    document = shared_document(org)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"{URL}/doc_{document.public_id}")
    assert response.status_code == 204
    assert not SharedDocument.all_tenants.exists()
    assert not document.file.storage.exists(document.file.name)
    assert AuditEvent.all_tenants.filter(action="document.deleted", actor_kind="api").count() == 1
