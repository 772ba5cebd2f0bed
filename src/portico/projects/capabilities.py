"""The portal capabilities of projects (declared for the pages to come; the navigation names it).

`approve` lets a contact approve or dispute billable hours, on projects whose business asks its
customer to approve time before it is invoiced (`Project.requires_customer_approval`); viewers
read only."""

from django.utils.translation import gettext_lazy as _

from portico.core.capabilities import Capability
from portico.customers.models import PortalRole

PORTAL_CAPABILITIES = [
    Capability("projects", "view", _("Projects: see them")),
    Capability(
        "projects",
        "approve",
        _("Projects: approve or dispute billable hours"),
        roles=(PortalRole.BILLING, PortalRole.ADMIN),
    ),
]
