"""Every change to web tabs: created, changed, moved and deleted here, audited, under a lock.

Rules: the address passes `web_addresses.check_url` (http/https only); the label is 1–40 characters;
a tab shown to chosen customers names at least one, and only customers of its own organization;
positions are 0, 1, 2… in the order the portal shows them. The organization's row and then its tabs
(in primary-key order) are locked before any change to their order (creating, moving, deleting), so
two staff members reordering at once cannot leave two tabs in one place.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from portico.core.audit import Actor, audit
from portico.core.models import Organization
from portico.customers.models import Customer
from portico.engagement import web_addresses
from portico.engagement.errors import WebTabInvalid
from portico.engagement.models import LABEL_MAX_LENGTH, WebTab


def _clean_label(label: str) -> str:
    label = " ".join((label or "").split())
    if not label:
        raise WebTabInvalid(_("Give the tab a label, as customers will see it in the menu."), field="label")
    if len(label) > LABEL_MAX_LENGTH:
        raise WebTabInvalid(
            _("Keep the label to %(max)d characters or fewer.") % {"max": LABEL_MAX_LENGTH}, field="label"
        )
    return label


def _clean_choice(value: str, choices, field: str) -> str:
    if value not in choices.values:
        raise WebTabInvalid(_("Choose one of the offered options."), field=field)
    return value


def _clean_customers(organization, audience: str, customers) -> list[Customer]:
    if audience == WebTab.Audience.ALL:
        return []
    customers = list(customers or ())
    if not customers:
        raise WebTabInvalid(_("Choose the customers who see this tab."), field="customers")
    if any(customer.organization_id != organization.pk for customer in customers):
        raise WebTabInvalid(_("Only your own customers can be chosen."), field="customers")
    return customers


def _lock_tabs(organization) -> list[WebTab]:
    """The organization's row, then its tabs: the first tab's creators queue on the former (with no
    tab yet there is no tab row to lock)."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    return list(
        WebTab.all_tenants.filter(organization_id=organization.pk)
        .order_by("pk")
        .select_for_update(of=("self",))
    )


def _renumber(tabs: list[WebTab]) -> None:
    for position, tab in enumerate(tabs):
        if tab.position != position:
            tab.position = position
            tab.save(update_fields=["position", "updated_at"])


def _in_order(tabs: list[WebTab]) -> list[WebTab]:
    return sorted(tabs, key=lambda tab: (tab.position, tab.pk))


def check_web_tab(*, organization, label: str, url: str, opens: str, audience: str, customers=()) -> dict:
    """The tab's values as they would be stored, or the `WebTabError` a save would raise (for forms
    that show every refusal before saving; the services check again)."""
    audience = _clean_choice(audience, WebTab.Audience, "audience")
    return {
        "label": _clean_label(label),
        "url": web_addresses.check_url(url),
        "opens": _clean_choice(opens, WebTab.Opens, "opens"),
        "audience": audience,
        "customers": _clean_customers(organization, audience, customers),
    }


def create_web_tab(
    *,
    organization,
    label: str,
    url: str,
    opens: str = WebTab.Opens.EMBEDDED,
    audience: str = WebTab.Audience.ALL,
    customers=(),
    is_active: bool = True,
    actor: Actor,
) -> WebTab:
    """Add a tab after the organization's others."""
    values = check_web_tab(
        organization=organization, label=label, url=url, opens=opens, audience=audience, customers=customers
    )
    label, url, opens, audience, chosen = (
        values[key] for key in ("label", "url", "opens", "audience", "customers")
    )
    with transaction.atomic():
        tabs = _lock_tabs(organization)
        tab = WebTab.all_tenants.create(
            organization=organization,
            label=label,
            url=url,
            opens=opens,
            audience=audience,
            is_active=is_active,
            position=len(tabs),
        )
        _renumber([*_in_order(tabs), tab])
        tab.customers.set(chosen)
        audit(
            actor,
            "web_tab.created",
            tab,
            label=label,
            url=url,
            opens=opens,
            audience=audience,
            customers=[c.pk for c in chosen],
            is_active=is_active,
        )
    return tab


def update_web_tab(
    *,
    web_tab: WebTab,
    label: str,
    url: str,
    opens: str,
    audience: str,
    customers=(),
    is_active: bool,
    actor: Actor,
) -> WebTab:
    """Change what a tab shows, how it opens and to whom (its place changes through `move_web_tab`)."""
    values = check_web_tab(
        organization=web_tab.organization,
        label=label,
        url=url,
        opens=opens,
        audience=audience,
        customers=customers,
    )
    label, url, opens, audience, chosen = (
        values[key] for key in ("label", "url", "opens", "audience", "customers")
    )
    with transaction.atomic():
        tab = WebTab.all_tenants.select_for_update(of=("self",)).get(pk=web_tab.pk)
        before = {
            "label": tab.label,
            "url": tab.url,
            "opens": tab.opens,
            "audience": tab.audience,
            "customers": sorted(tab.customers.values_list("pk", flat=True)),
            "is_active": tab.is_active,
        }
        after = {
            "label": label,
            "url": url,
            "opens": opens,
            "audience": audience,
            "customers": sorted(c.pk for c in chosen),
            "is_active": is_active,
        }
        if before == after:
            return tab
        tab.label, tab.url, tab.opens, tab.audience, tab.is_active = label, url, opens, audience, is_active
        tab.save()
        tab.customers.set(chosen)
        changed = {key: value for key, value in after.items() if before[key] != value}
        audit(actor, "web_tab.changed", tab, previous={k: before[k] for k in changed}, **changed)
    return tab


def move_web_tab(*, web_tab: WebTab, position: int, actor: Actor) -> WebTab:
    """Put the tab at `position` (0 is first; past the end is last); the others close up around it."""
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise WebTabInvalid(_("A position is a whole number, 0 or more."), field="position")
    with transaction.atomic():
        tabs = _in_order(_lock_tabs(web_tab.organization))
        tab = next((t for t in tabs if t.pk == web_tab.pk), None)
        if tab is None:
            raise WebTabInvalid(_("This web tab no longer exists."))
        previous = tabs.index(tab)
        tabs.remove(tab)
        position = min(position, len(tabs))
        tabs.insert(position, tab)
        if previous == position:
            return tab
        _renumber(tabs)
        audit(actor, "web_tab.moved", tab, previous=previous, position=position)
    return tab


def delete_web_tab(*, web_tab: WebTab, actor: Actor) -> None:
    """Remove the tab from the portal; the others close up."""
    with transaction.atomic():
        tabs = _in_order(_lock_tabs(web_tab.organization))
        tab = next((t for t in tabs if t.pk == web_tab.pk), None)
        if tab is None:
            return
        others = [t for t in tabs if t.pk != tab.pk]
        audit(actor, "web_tab.deleted", tab, label=tab.label, url=tab.url)
        tab.delete()
        _renumber(others)
