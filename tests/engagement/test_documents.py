"""Shared documents' rules: the type is what the bytes say, never the name; sizes and types limited;
names only shown, made safe for a download's header; the audience within the organization; every
change and download audited."""

from __future__ import annotations

import pytest

from portico.core.models import AuditEvent
from portico.engagement import documents
from portico.engagement.errors_documents import DocumentInvalid, DocumentRefused, ShareLinkInvalid
from portico.engagement.models import SharedDocument, ShareLink
from tests.billing.factories import draft_invoice, open_invoice
from tests.engagement.factories_documents import (
    ACTOR,
    PDF,
    PNG,
    office_file,
    share_link,
    shared_document,
    upload,
)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
        (b"GIF89a" + b"\x00" * 20, "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (office_file("word/"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (office_file("xl/"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (b"name,amount\nAcme,10\nBluebird,20\n", "text/csv"),
        ("Meeting notes: déjà vu\nSecond line".encode(), "text/plain"),
        (b"<!DOCTYPE html><html><script>alert(1)</script>", "text/html"),
        (b"  <svg onload=alert(1)>", "text/html"),
        (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 20, "application/octet-stream"),
        (b"PK\x03\x04 not really a zip", "application/zip"),
    ],
)
def test_the_type_is_what_the_bytes_say(content, expected):
    assert documents.sniff(content) == expected


def test_a_pdf_named_like_a_page_is_stored_as_a_pdf_under_a_random_path(org):
    document = shared_document(org, content=PDF, name="../../etc/passwd.html")
    assert document.content_type == "application/pdf"
    assert document.original_name == "passwd.html"
    assert document.file.name.startswith(f"documents/{org.pk}/")
    assert "passwd" not in document.file.name and ".." not in document.file.name
    assert document.file.storage.open(document.file.name).read() == PDF
    assert document.size == len(PDF)
    event = AuditEvent.all_tenants.get(action="document.created")
    assert event.data["content_type"] == "application/pdf" and event.object_id == str(document.pk)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html><body>hi</body></html>", "Web pages"),
        (b"\x7fELF\x02\x01\x01\x00", "cannot be shared"),
        (b"PK\x03\x04 plain zip", "cannot be shared"),
        (b"", "empty"),
    ],
)
def test_a_refused_file_stores_nothing_and_says_why(org, content, message):
    with pytest.raises(DocumentRefused, match=message):
        shared_document(org, content=content, name="report.pdf")
    assert not SharedDocument.all_tenants.exists()
    assert not AuditEvent.all_tenants.filter(action="document.created").exists()


def test_a_file_over_the_limit_is_refused(org, settings):
    settings.PORTICO_DOCUMENT_MAX_BYTES = 100
    with pytest.raises(DocumentRefused, match="larger than"):
        shared_document(org, content=PDF + b"x" * 100)
    shared_document(org, content=PDF)  # under the limit: stored


def test_another_organizations_customer_cannot_be_chosen(org, other_org):
    from portico.core import tenancy
    from tests.factories import CustomerFactory

    with tenancy.tenant(other_org):
        theirs = CustomerFactory(organization=other_org)
    with pytest.raises(DocumentInvalid):
        shared_document(org, customer=theirs)


def test_the_title_defaults_to_the_file_name_and_loses_control_characters(org):
    document = documents.create_document(
        organization=org, title=" \r\n ", upload=upload(PDF, "Contract\r\nX-Evil: 1.pdf"), actor=ACTOR
    )
    assert document.title == "ContractX-Evil: 1.pdf"
    assert "\r" not in document.original_name and "\n" not in document.original_name


@pytest.mark.parametrize(
    "title",
    [
        "../../secret",
        'quote" ; filename=evil.exe',
        "line\r\nSet-Cookie: a=b",
        "Angebot für Müller — 2026 ✓",
        "x" * 500,
        "page.html",
        "",
    ],
)
def test_a_download_header_is_safe_for_any_title(title):
    name = documents.download_name(title, "text/plain")
    header = documents.content_disposition(name)
    assert header.startswith('attachment; filename="')
    assert "\r" not in header and "\n" not in header
    ascii_part = header.split('filename="', 1)[1].split('"', 1)[0]
    assert ascii_part.isascii() and "/" not in ascii_part and ".." not in ascii_part.strip(".")[:2]
    assert name.endswith(".txt") and len(name) <= 130
    header.encode("latin-1")  # a header Django can send


def test_a_unicode_name_is_kept_in_its_rfc_5987_form():
    header = documents.content_disposition(documents.download_name("Angebot für Müller", "application/pdf"))
    assert header == (
        "attachment; filename=\"Angebot fur Muller.pdf\"; filename*=UTF-8''Angebot%20f%C3%BCr%20M%C3%BCller.pdf"
    )


def test_deleting_a_document_removes_its_file_its_links_and_is_audited(
    org, django_capture_on_commit_callbacks
):
    document = shared_document(org)
    share_link(org, document=document)
    storage, name = document.file.storage, document.file.name
    with django_capture_on_commit_callbacks(execute=True):
        documents.delete_document(document=document, actor=ACTOR)
    assert not storage.exists(name)
    assert not SharedDocument.all_tenants.exists() and not ShareLink.all_tenants.exists()
    assert AuditEvent.all_tenants.filter(action="document.deleted", object_id=str(document.pk)).exists()


def test_a_share_link_stores_only_the_hash_of_its_token(org):
    made = share_link(org, document=shared_document(org))
    assert made.token not in made.link.token_hash
    assert made.link.token_hash == documents.token_hash(made.token)
    assert documents.find_share_link(org, made.token) == (documents.LinkState.OPEN, made.link)
    assert documents.find_share_link(org, made.token + "x")[0] == documents.LinkState.UNKNOWN
    assert AuditEvent.all_tenants.filter(action="share_link.created").count() == 1


def test_a_share_link_expires_and_is_revoked(org, clock):
    made = share_link(org, document=shared_document(org), days=1)
    clock.advance(days=1, seconds=1)
    assert documents.find_share_link(org, made.token)[0] == documents.LinkState.CLOSED
    other = share_link(org, document=shared_document(org))
    documents.revoke_share_link(link=other.link, actor=ACTOR)
    documents.revoke_share_link(link=other.link, actor=ACTOR)
    assert documents.find_share_link(org, other.token)[0] == documents.LinkState.CLOSED
    assert AuditEvent.all_tenants.filter(action="share_link.revoked").count() == 1


def test_a_share_link_is_not_found_on_another_organization(org, other_org):
    made = share_link(org, document=shared_document(org))
    assert documents.find_share_link(other_org, made.token) == (documents.LinkState.UNKNOWN, None)


@pytest.mark.parametrize("days", [0, -1, 91])
def test_a_share_link_expires_within_ninety_days_in_the_future(org, days):
    with pytest.raises(ShareLinkInvalid):
        share_link(org, document=shared_document(org), days=days)


def test_a_contact_shares_only_what_their_customer_sees(org, customer, outsider_customer):
    theirs = shared_document(org, customer=outsider_customer)
    with pytest.raises(ShareLinkInvalid):
        share_link(org, document=theirs, customer=customer)
    with pytest.raises(ShareLinkInvalid):
        share_link(org, invoice=open_invoice(outsider_customer, 1000), customer=customer)
    with pytest.raises(ShareLinkInvalid, match="draft"):
        share_link(org, invoice=draft_invoice(customer, 1000), customer=customer)
    for_all = share_link(org, document=shared_document(org), customer=customer)
    assert for_all.link.customer == customer
    mine = share_link(org, invoice=open_invoice(customer, 1000), customer=customer)
    assert mine.link.customer == customer
    assert not AuditEvent.all_tenants.filter(action="share_link.created", customer=outsider_customer).exists()


def test_text_with_markup_after_its_first_line_stays_text_and_binary_control_bytes_are_not_text():
    assert documents.sniff(b"Notes\n<html><script>alert(1)</script>") == "text/plain"
    assert documents.sniff(b"abc\x00def") == "application/octet-stream"
    assert documents.sniff("caf\u00e9 \u0085".encode()) == "application/octet-stream"
