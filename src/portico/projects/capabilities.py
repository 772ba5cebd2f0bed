"""The portal capabilities of projects (declared for the pages to come; the navigation names it)."""

from django.utils.translation import gettext_lazy as _

from portico.core.capabilities import Capability

PORTAL_CAPABILITIES = [
    Capability("projects", "view", _("Projects: see them")),
]
