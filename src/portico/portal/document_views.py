"""Shared documents in the portal (list, download) and expiring share links (make, list, revoke), and
the public page a share link opens (`/s/<token>`, outside the portal, without signing in).

Every file leaves as an attachment, under a name rebuilt from its title and its sniffed type, with
`X-Content-Type-Options: nosniff` and a CSP that allows nothing (`serve_document`): a browser never
renders an uploaded file as a page of ours, whatever its bytes or its name said.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.billing import documents as billing_documents
from portico.billing.models import Invoice
from portico.core import clock
from portico.core.audit import Actor
from portico.core.errors import DomainError
from portico.core.models import AuditEvent
from portico.engagement import documents as services
from portico.engagement.documents import LinkState
from portico.engagement.selectors_documents import (
    active_link_of,
    active_links_of,
    document_for,
    documents_for,
)
from portico.portal import ledger_queries as q
from portico.portal.access import portal_view
from portico.portal.models import configuration_for, preferences_of

DAY_CHOICES = (1, 7, 30, 90)
INVOICE_CHOICES = 50  # the latest issued invoices offered for a link


def serve_bytes(content, *, name: str, content_type: str) -> HttpResponse:
    """An attachment that no browser renders or sniffs: an unknown type as a bare octet stream."""
    if content_type not in services.ALLOWED_TYPES and content_type != "application/pdf":
        content_type = "application/octet-stream"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = services.content_disposition(name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def serve_document(document) -> HttpResponse:
    """The document's file; 404 if the storage lost it (never a 500 page for a missing file)."""
    try:
        with document.file.storage.open(document.file.name, "rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        raise Http404 from None
    return serve_bytes(
        content,
        name=services.download_name(document.title, document.content_type),
        content_type=document.content_type,
    )


def serve_invoice_pdf(invoice) -> HttpResponse:
    invoice = billing_documents.attach_parts(
        invoice, organization=invoice.organization, customer=invoice.customer
    )
    pdf = billing_documents.current_invoice_pdf(invoice)
    try:
        handle = pdf.open(invoice.pdf.storage)
    except FileNotFoundError:  # replaced by a newer render between the check and the open
        handle = billing_documents.current_invoice_pdf(invoice).open(invoice.pdf.storage)
    with handle:
        content = handle.read()
    return serve_bytes(content, name=f"{invoice.number}.pdf", content_type="application/pdf")


# -- the portal's pages -----------------------------------------------------------------------------------


def _shareable_invoices(portal):
    if not portal.may("invoices", "download"):
        return []
    return list(
        q.invoices_of(portal).only("number", "issue_date", "currency", "total_minor")[:INVOICE_CHOICES]
    )


def _page(request, *, status: int = 200, error: str = "", new_link=None):
    portal = request.portal
    may_share = portal.may("documents", "share")
    context = {
        "documents": list(documents_for(portal.customer)),
        "may_share": may_share,
        "links": list(active_links_of(portal.customer)) if may_share else [],
        "invoices": _shareable_invoices(portal) if may_share else [],
        "day_choices": DAY_CHOICES,
        "share_error": error,
        "new_link": new_link,
    }
    for document in context["documents"]:
        document.kind = services.kind_of(document.content_type)
    return render(request, "portal/documents/documents.html", context, status=status)


@portal_view(module="documents")
def document_list(request):
    return _page(request)


@portal_view(module="documents")
def document_download(request, document_id: str):
    portal = request.portal
    document = document_for(portal.customer, document_id)
    if document is None:
        raise Http404
    services.record_download(document=document, actor=Actor.from_request(request), contact=portal.contact)
    return serve_document(document)


def _target_of(portal, value: str):
    """("document", row) or ("invoice", row) from the form's `target` ("doc:<id>" / "inv:<number>")."""
    kind, _sep, key = str(value or "").partition(":")
    if kind == "doc":
        document = document_for(portal.customer, key)
        if document is not None:
            return {"document": document}
    elif kind == "inv" and portal.may("invoices", "download"):
        invoice = q.invoices_of(portal).filter(number=key).first() if key else None
        if invoice is not None:
            return {"invoice": invoice}
    return None


@portal_view(module="documents", action="share")
@require_POST
def share_link_create(request):
    portal = request.portal
    target = _target_of(portal, request.POST.get("target", ""))
    if target is None:
        return _page(request, status=400, error=_("Choose one of your documents or invoices to share."))
    try:
        days = int(request.POST.get("days", ""))
    except ValueError:
        days = 0
    if days not in DAY_CHOICES:
        return _page(request, status=400, error=_("Choose how long the link stays open."))
    try:
        made = services.create_share_link(
            organization=portal.organization,
            customer=portal.customer,
            expires_at=clock.now() + dt.timedelta(days=days),
            actor=Actor.from_request(request),
            **target,
        )
    except DomainError as error:
        return _page(request, status=400, error=str(error.message))
    url = portal.organization.public_url(reverse("share_link", kwargs={"token": made.token}))
    return _page(request, new_link={"url": url, "link": made.link})


@portal_view(module="documents", action="share")
@require_POST
def share_link_revoke(request, link_id: str):
    link = active_link_of(request.portal.customer, link_id)
    if link is None:
        raise Http404
    services.revoke_share_link(link=link, actor=Actor.from_request(request))
    messages.success(request, _("The link is revoked: it no longer opens."))
    return redirect("portal:documents")


# -- the public page of a share link ----------------------------------------------------------------------


def _switched_on(link) -> bool:
    """Documents still switched on where the link was made: for its customer, else the organization."""
    configuration = (
        configuration_for(link.customer, link.organization)
        if link.customer_id
        else preferences_of(link.organization)
    )
    if link.invoice_id and not configuration.allows("invoices", "download"):
        return False
    made_by_contact = link.created_by is not None and link.created_by.contact_id is not None
    return configuration.allows("documents", "share" if made_by_contact else "view")


def share_link(request, token: str):
    """The document or invoice PDF while the link is open; 410 once it expired or was revoked; 404
    for a token unknown on this organization's host (another organization's tokens included)."""
    organization = getattr(request, "organization", None)
    state, link = services.find_share_link(organization, token)
    if link is None or not _switched_on(link):
        raise Http404
    actor = Actor(
        kind=AuditEvent.ActorKind.SYSTEM,
        user=None,
        label=_("share link"),
        ip_address=request.META.get("REMOTE_ADDR") or None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:400],
    )
    if state == LinkState.CLOSED:
        services.record_opening(link=link, actor=actor, refused=True)
        return render(request, "portal/documents/link_closed.html", {"link": link}, status=410)
    if link.invoice_id and link.invoice.status == Invoice.Status.DRAFT:
        raise Http404
    services.record_opening(link=link, actor=actor)
    if link.document_id:
        return serve_document(link.document)
    return serve_invoice_pdf(link.invoice)
