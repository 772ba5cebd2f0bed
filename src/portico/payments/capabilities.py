"""The portal capabilities of payments: saved cards (the pages come with payment methods)."""

from django.utils.translation import gettext_lazy as _

from portico.core.capabilities import Capability
from portico.customers.models import PortalRole

PORTAL_CAPABILITIES = [
    Capability("cards", "view", _("Cards: see saved cards")),
    Capability(
        "cards", "change", _("Cards: add and remove cards"), roles=(PortalRole.BILLING, PortalRole.ADMIN)
    ),
]
