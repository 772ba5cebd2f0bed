"""The portal capabilities of engagement: web tabs (the business's own pages, linked from the portal's
navigation or shown inside it). Switching `web_tabs` off hides every tab and refuses their pages.
Reviews and chat support are off until the business switches them on (`default=False`): a review page
or a third-party chat script is the business's choice to offer, not something a portal starts with."""

from django.utils.translation import gettext_lazy as _

from portico.core.capabilities import Capability
from portico.customers.models import PortalRole

PORTAL_CAPABILITIES = [
    Capability("web_tabs", "view", _("Web tabs: see the business's links and embedded pages")),
    Capability("reviews", "view", _("Reviews: see their review and the business's reply"), default=False),
    Capability("reviews", "post", _("Reviews: write and edit their review"), default=False),
    Capability("chat", "view", _("Chat support: the business's chat widget on portal pages"), default=False),
    Capability("documents", "view", _("Documents: list and download the files the business shares")),
    Capability(
        "documents",
        "share",
        _("Documents: make expiring share links to documents and invoices"),
        roles=(PortalRole.BILLING, PortalRole.ADMIN),
    ),
    # Off until the business chooses to talk with its customers in the portal (someone must answer).
    Capability(
        "conversations", "view", _("Conversations: read the threads with the business"), default=False
    ),
    Capability("conversations", "post", _("Conversations: start a thread and write in it")),
]
