"""The web tabs a customer may see, scoped by the customer's organization and the tab's audience."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from portico.engagement.models import WebTab


def web_tabs_for(customer):
    """Active tabs shown to every customer of the organization or chosen for this one, in order."""
    chosen = WebTab.customers.through.objects.filter(webtab_id=OuterRef("pk"), customer_id=customer.pk)
    return (
        WebTab.all_tenants.filter(organization_id=customer.organization_id, is_active=True)
        .filter(Q(audience=WebTab.Audience.ALL) | Q(Exists(chosen)))
        .order_by("position", "id")
    )


def web_tab_for(customer, tab_id) -> WebTab | None:
    """One tab by id if this customer may see it; None otherwise (another customer's, another
    organization's, switched off or no such tab) — the portal answers 404 for all of them alike."""
    try:
        tab_id = int(tab_id)
    except (TypeError, ValueError):
        return None
    return web_tabs_for(customer).filter(pk=tab_id).first()
