"""Who may use a portal page: the gate every portal view declares.

`@portal_view(module=..., action=..., role=...)` refuses, on the server:
- anonymous visitors (→ login), users of another organization (never even loaded: see
  accounts.UserManager) and staff without a contact (→ 403);
- contacts whose portal access was revoked (→ 403);
- capabilities the organization switched off (→ 404, as if the page did not exist);
- actions above the contact's portal role (→ 403).
It sets `request.portal`, the one place views take organization and customer from.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from portico.customers.models import ContactPerson, Customer, PortalRole
from portico.portal.models import preferences_of

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

    def allows(self, module: str, action: str = "view") -> bool:
        return preferences_of(self.organization).allows(module, action)


def portal_for(request) -> Portal | None:
    user = request.user
    organization = getattr(request, "organization", None)
    if organization is None or not user.is_authenticated or user.organization_id != organization.pk:
        return None
    if user.contact_id is None:
        return None
    found = list(
        ContactPerson.objects.select_related("customer")
        .filter(pk=user.contact_id, organization=organization, customer__is_active=True)
        .order_by()[:1]  # one row by primary key: no ORDER BY to build or run
    )
    contact = found[0] if found else None
    if contact is None or not contact.has_portal_access:
        return None
    contact.customer.organization = organization  # the same row: no query when a page reads it
    return Portal(organization=organization, customer=contact.customer, contact=contact, user=user)


def portal_view(*, module: str | None = None, action: str = "view", role: str = PortalRole.VIEWER):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if getattr(request, "organization", None) is None:
                raise Http404
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            portal = portal_for(request)
            if portal is None:
                raise PermissionDenied("This sign-in has no access to this portal.")
            if module is not None and not portal.allows(module, action):
                raise Http404
            if not portal.can(role):
                raise PermissionDenied("Your portal role does not allow this.")
            request.portal = portal
            return view(request, *args, **kwargs)

        wrapper.portal_gate = {"module": module, "action": action, "role": role}
        return wrapper

    return decorator
