"""Shared documents: list (filters: customer, audience), upload, retrieve, delete — through
`engagement.documents`, as the console does: the type is judged by the bytes, the size limited, the
stored name random, every change audited.

A document's id is `doc_…`. The API takes JSON only, so a file is sent as base64 (`content_base64`)
beside its `file_name` (shown only, never a path); the request's size is bounded by the server's
request limit as well as the document limit."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Literal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from ninja import Field, Query, Router, Schema, Status

from portico.api import ids
from portico.api.resources import actor, responses
from portico.api.schemas import ListParams, list_of, paginate
from portico.customers.models import Customer
from portico.engagement import documents as services
from portico.engagement.errors_documents import DocumentRefused
from portico.engagement.models import SharedDocument
from portico.engagement.models_documents import NAME_MAX_LENGTH, TITLE_MAX_LENGTH

router = Router(tags=["documents"])

# base64 of the largest document the default limit allows (20 MB → about 27 MB of text)
BASE64_MAX_LENGTH = 28 * 1024 * 1024


class DocumentIn(Schema):
    title: str = Field("", max_length=TITLE_MAX_LENGTH, description="Default: the file name.")
    customer: str | None = Field(
        None, max_length=40, description="Shared with this customer; null: with all."
    )
    file_name: str = Field(..., min_length=1, max_length=NAME_MAX_LENGTH, description="Shown only.")
    content_base64: str = Field(..., min_length=1, max_length=BASE64_MAX_LENGTH)


class DocumentOut(Schema):
    id: str
    object: Literal["document"] = "document"
    title: str
    file_name: str
    content_type: str
    size: int
    audience: str
    customer: str | None
    created_at: dt.datetime


class DocumentFilters(ListParams):
    customer: str | None = Field(
        None, max_length=40, description="Documents this customer sees (theirs and those for all)."
    )
    audience: Literal["all", "customer"] | None = None


def document_out(document: SharedDocument) -> dict:
    return {
        "id": ids.public_id(document),
        "object": "document",
        "title": document.title,
        "file_name": document.original_name,
        "content_type": document.content_type,
        "size": document.size,
        "audience": document.audience,
        "customer": ids.public_id(document.customer) if document.customer_id else None,
        "created_at": document.created_at,
    }


def _documents():
    return SharedDocument.objects.select_related("customer")


@router.get("", response=responses({200: list_of(DocumentOut)}), summary="List shared documents")
def list_documents(request, filters: Query[DocumentFilters]):
    documents = _documents()
    if filters.customer:
        customer = ids.get(Customer.objects.all(), filters.customer, field="customer")
        documents = documents.filter(Q(audience=SharedDocument.Audience.ALL) | Q(customer=customer))
    if filters.audience:
        documents = documents.filter(audience=filters.audience)
    return paginate(documents, filters, document_out)


@router.post("", response=responses({201: DocumentOut}), summary="Share a document")
def create_document(request, payload: DocumentIn):
    """Refused (422 `document_refused`) when the bytes are of no allowed type (HTML never is), empty or
    over the size limit; 422 `document_invalid` for a title or customer it cannot take."""
    customer = (
        ids.get(Customer.objects.all(), payload.customer, field="customer") if payload.customer else None
    )
    try:
        content = base64.b64decode(payload.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise DocumentRefused("The file's content is not valid base64.", field="content_base64") from None
    document = services.create_document(
        organization=request.organization,
        title=payload.title,
        upload=SimpleUploadedFile(payload.file_name, content),
        customer=customer,
        actor=actor(request),
    )
    return Status(201, document_out(document))


@router.get("/{document_id}", response=responses({200: DocumentOut}), summary="Retrieve a shared document")
def get_document(request, document_id: str):
    return document_out(ids.get(_documents(), document_id))


@router.delete("/{document_id}", response=responses({204: None}), summary="Delete a shared document")
def delete_document(request, document_id: str):
    """The file and every share link to it go too."""
    services.delete_document(document=ids.get(_documents(), document_id), actor=actor(request))
    return Status(204, None)
