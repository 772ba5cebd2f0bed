"""The portal capabilities of subscriptions (declared for the pages to come; the navigation and the
role tests already name them)."""

from django.utils.translation import gettext_lazy as _

from portico.core.capabilities import Capability
from portico.customers.models import PortalRole

PORTAL_CAPABILITIES = [
    Capability("subscriptions", "view", _("Subscriptions: see them")),
    Capability(
        "subscriptions",
        "change",
        _("Subscriptions: change plan and add-ons"),
        roles=(PortalRole.BILLING, PortalRole.ADMIN),
    ),
    Capability(
        "subscriptions", "cancel", _("Subscriptions: cancel"), roles=(PortalRole.BILLING, PortalRole.ADMIN)
    ),
]
