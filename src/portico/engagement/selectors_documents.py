"""The documents and share links a customer may see, scoped by organization, customer and audience."""

from __future__ import annotations

from django.db.models import Q

from portico.core import clock
from portico.engagement.models_documents import SharedDocument, ShareLink


def documents_for(customer):
    """Documents shared with every customer of the organization or with this one, newest first."""
    return SharedDocument.all_tenants.filter(organization_id=customer.organization_id).filter(
        Q(audience=SharedDocument.Audience.ALL) | Q(customer_id=customer.pk)
    )


def document_for(customer, public_id) -> SharedDocument | None:
    """One document by public id if this customer may see it; None for anyone else's (404 alike)."""
    if not isinstance(public_id, str) or len(public_id) > 16:
        return None
    return documents_for(customer).filter(public_id=public_id).first()


def active_links_of(customer):
    """The customer's links that still open, newest first, with what they open."""
    return (
        ShareLink.all_tenants.filter(
            organization_id=customer.organization_id,
            customer_id=customer.pk,
            revoked_at__isnull=True,
            expires_at__gt=clock.now(),
        )
        .select_related("document", "invoice")
        .order_by("-created_at", "-id")
    )


def active_link_of(customer, public_id) -> ShareLink | None:
    if not isinstance(public_id, str) or len(public_id) > 16:
        return None
    return active_links_of(customer).filter(public_id=public_id).first()
