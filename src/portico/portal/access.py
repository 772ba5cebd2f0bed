"""Who may use a portal page: the gate every portal view declares.

`@portal_view(module=..., action=...)` names a capability declared by the app that owns it
(`portal/capabilities.py`) and refuses, on the server:
- anonymous visitors (→ login), users of another organization (never even loaded: see
  accounts.UserManager) and staff without a contact (→ 403);
- contacts whose portal access was revoked (→ 403);
- capabilities switched off in the customer's portal configuration — its chosen one, else the
  organization's default — (→ 404, as if the page did not exist);
- contacts whose portal role the capability's declaration does not list (→ 403).
It sets `request.portal`, the one place views take organization and customer from.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, wraps

from django.apps import apps
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404

from portico.customers.models import ContactPerson, Customer, PortalRole
from portico.portal import chat
from portico.portal.capabilities import registry
from portico.portal.models import configuration_for

ROLE_RANK = {PortalRole.VIEWER: 0, PortalRole.BILLING: 1, PortalRole.ADMIN: 2}


@dataclass(frozen=True)
class Portal:
    organization: object
    customer: Customer
    contact: ContactPerson
    user: object

    @property
    def role(self) -> str:
        return self.contact.portal_role

    def can(self, role: str) -> bool:
        return ROLE_RANK[PortalRole(self.role)] >= ROLE_RANK[PortalRole(role)]

    @cached_property
    def configuration(self):
        """The customer's chosen portal configuration, else the organization's default."""
        return configuration_for(self.customer, self.organization)

    def allows(self, module: str, action: str = "view") -> bool:
        return self.configuration.allows(module, action)

    def may(self, module: str, action: str = "view") -> bool:
        """Switched on for the organization, and open to this contact's role by its declaration."""
        return self.allows(module, action) and declared(module, action).allows_role(self.role)


def portal_for(request) -> Portal | None:
    user = request.user
    organization = getattr(request, "organization", None)
    if organization is None or not user.is_authenticated or user.organization_id != organization.pk:
        return None
    if user.contact_id is None:
        return None
    found = list(
        ContactPerson.objects.select_related("customer__portal_configuration_choice__configuration")
        .filter(pk=user.contact_id, organization=organization, customer__is_active=True)
        .order_by()[:1]  # one row by primary key: no ORDER BY to build or run
    )
    contact = found[0] if found else None
    if contact is None or not contact.has_portal_access:
        return None
    contact.customer.organization = organization  # the same row: no query when a page reads it
    return Portal(organization=organization, customer=contact.customer, contact=contact, user=user)


def declared(module: str, action: str):
    capability = registry().get(module, action)
    if capability is None:
        raise ImproperlyConfigured(
            f"@portal_view(module={module!r}, action={action!r}): no app declares this portal capability"
        )
    return capability


def portal_view(*, module: str, action: str = "view"):
    def decorator(view):
        if apps.models_ready:
            declared(module, action)  # a misspelt gate fails at import (and in the system check)

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if getattr(request, "organization", None) is None:
                raise Http404
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            portal = portal_for(request)
            if portal is None:
                raise PermissionDenied("This sign-in has no access to this portal.")
            if not portal.allows(module, action):
                raise Http404
            if not declared(module, action).allows_role(portal.role):
                raise PermissionDenied("Your portal role does not allow this.")
            request.portal = portal
            request.portal_chat = chat.widget_for(portal, module)  # the chat widget, where shown
            return chat.allow_widget(request, view(request, *args, **kwargs))

        wrapper.portal_gate = {"module": module, "action": action}
        return wrapper

    return decorator
