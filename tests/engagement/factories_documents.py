"""Shared documents and share links as a business would make them, through the services."""

import datetime as dt
import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from portico.core import clock
from portico.core.audit import Actor
from portico.engagement import documents

ACTOR = Actor.system("tests")
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def upload(content: bytes = PDF, name: str = "price-list.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def office_file(prefix: str = "word/") -> bytes:
    buffer = io.BytesIO()
    # a fixed timestamp: the same bytes in every process (pytest-xdist's workers must collect the same
    # test ids, which show these bytes)
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in (("[Content_Types].xml", "<Types/>"), (f"{prefix}document.xml", "<document/>")):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


def shared_document(organization, title="Price list 2026", content=PDF, name="price-list.pdf", customer=None):
    return documents.create_document(
        organization=organization, title=title, upload=upload(content, name), customer=customer, actor=ACTOR
    )


def share_link(organization, *, days=7, **target) -> documents.NewShareLink:
    return documents.create_share_link(
        organization=organization, expires_at=clock.now() + dt.timedelta(days=days), actor=ACTOR, **target
    )


def document_world(organization, customer) -> list:
    """A document for all customers, one for `customer`, and an open share link to each."""
    for_all = shared_document(organization, title="Price list 2026")
    theirs = shared_document(organization, title="Contract", customer=customer)
    return [
        for_all,
        theirs,
        share_link(organization, document=for_all).link,
        share_link(organization, document=theirs).link,
    ]
