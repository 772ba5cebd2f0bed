"""Shared documents and share links in the console: support (and owners, administrators) upload
documents for one customer or all, judged by their bytes; staff download through an audited POST; links
to documents and invoices are made with their address shown once, and revoked; finance reads only."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portico.core.models import AuditEvent
from portico.engagement.models import SharedDocument, ShareLink
from tests.billing.factories import open_invoice
from tests.conftest import tenant_client
from tests.engagement.factories_documents import PDF, share_link, shared_document
from tests.factories import staff_user

BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"
DOCS = "/console/engagement/shareddocument/"
LINKS = "/console/engagement/sharelink/"


def staff_client(org, role="owner"):
    client = tenant_client(org)
    client.force_login(staff_user(org, email=f"{role}@renotech.example", role=role), backend=BACKEND)
    return client


def upload(content=PDF, name="contract.pdf"):
    return SimpleUploadedFile(name, content, content_type="text/html")


@pytest.mark.parametrize("role", ["owner", "administrator", "support"])
def test_staff_share_a_document_with_one_customer_through_the_service(org, customer, role):
    response = staff_client(org, role).post(
        f"{DOCS}add/",
        {"title": "Acme contract", "upload": upload(), "customer": customer.pk, "_save": "Save"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    document = SharedDocument.all_tenants.get()
    assert (document.title, document.customer, document.content_type) == (
        "Acme contract",
        customer,
        "application/pdf",
    )
    event = AuditEvent.all_tenants.get(action="document.created")
    assert event.actor_label == f"{role}@renotech.example ({role})"


def test_an_html_upload_is_refused_with_a_clear_error_and_nothing_stored(org):
    response = staff_client(org).post(
        f"{DOCS}add/", {"title": "", "upload": upload(b"<html><script>x</script>", "a.pdf"), "_save": "Save"}
    )
    assert response.status_code == 200
    assert "Web pages (HTML, SVG, XML) cannot be shared" in response.content.decode()
    assert not SharedDocument.all_tenants.exists()


def test_finance_and_read_only_staff_read_but_do_not_share(org):
    document = shared_document(org)
    for role in ("finance", "read_only"):
        client = staff_client(org, role)
        assert client.get(DOCS).status_code == 200
        assert (
            client.post(f"{DOCS}add/", {"title": "x", "upload": upload(), "_save": "Save"}).status_code == 403
        )
        assert (
            client.post(f"{LINKS}add/", {"document": document.pk, "days": 7, "_save": "Save"}).status_code
            == 403
        )
    assert SharedDocument.all_tenants.count() == 1 and not ShareLink.all_tenants.exists()


def test_a_staff_download_is_a_post_and_is_audited(org):
    document = shared_document(org, title="Price list")
    client = staff_client(org, "read_only")
    url = f"{DOCS}{document.pk}/download/"
    assert url in client.get(f"{DOCS}{document.pk}/change/").content.decode()
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 200 and response.content == PDF
    assert response["Content-Disposition"] == 'attachment; filename="Price list.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.all_tenants.get(action="document.downloaded")
    assert event.data["via"] == "console" and event.actor_label == "read_only@renotech.example (read_only)"


def test_staff_make_a_link_to_an_invoice_shown_once_and_revoke_it(org, customer):
    invoice = open_invoice(customer, 12000)
    client = staff_client(org, "support")
    response = client.post(f"{LINKS}add/", {"invoice": invoice.pk, "days": 30, "_save": "Save"}, follow=True)
    html = response.content.decode()
    [url] = re.findall(r"shown only this once: <code>([^<]+)</code>", html)
    link = ShareLink.all_tenants.get()
    assert link.customer == customer and link.invoice == invoice
    assert url.rsplit("/", 1)[1] not in ShareLink.all_tenants.values_list("token_hash", flat=True)[0]
    path = "/" + url.split("/", 3)[3]
    opened = tenant_client(org).get(path)
    assert opened.status_code == 200 and opened.content.startswith(b"%PDF")
    response = client.post(LINKS, {"action": "revoke_links", "_selected_action": [link.pk]})
    assert response.status_code == 302
    assert tenant_client(org).get(path).status_code == 410
    assert AuditEvent.all_tenants.filter(action="share_link.revoked").count() == 1


def test_a_link_needs_exactly_one_target(org, customer):
    document = shared_document(org)
    invoice = open_invoice(customer, 1000)
    client = staff_client(org)
    for data in ({}, {"document": document.pk, "invoice": invoice.pk}):
        response = client.post(f"{LINKS}add/", {**data, "days": 7, "_save": "Save"})
        assert response.status_code == 200 and "Choose a document or an invoice" in response.content.decode()
    assert not ShareLink.all_tenants.exists()


def test_deleting_a_document_in_the_console_goes_through_the_service(org):
    document = shared_document(org)
    share_link(org, document=document)
    client = staff_client(org, "support")
    response = client.post(f"{DOCS}{document.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not SharedDocument.all_tenants.exists() and not ShareLink.all_tenants.exists()
    assert AuditEvent.all_tenants.filter(action="document.deleted").count() == 1
