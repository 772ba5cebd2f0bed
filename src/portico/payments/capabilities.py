"""The portal capabilities of payments: the customer's saved payment methods."""

from django.utils.translation import gettext_lazy as _

from portico.core.capabilities import Capability
from portico.customers.models import PortalRole

PORTAL_CAPABILITIES = [
    Capability("payment_methods", "view", _("Payment methods: see saved cards")),
    Capability(
        "payment_methods",
        "manage",
        _("Payment methods: add, replace and remove cards, choose the default"),
        roles=(PortalRole.BILLING, PortalRole.ADMIN),
    ),
]
