"""The portal capabilities of engagement: web tabs (the business's own pages, linked from the portal's
navigation or shown inside it). Switching `web_tabs` off hides every tab and refuses their pages."""

from django.utils.translation import gettext_lazy as _

from portico.core.capabilities import Capability

PORTAL_CAPABILITIES = [
    Capability("web_tabs", "view", _("Web tabs: see the business's links and embedded pages")),
    # Off until the business chooses to talk with its customers in the portal (someone must answer).
    Capability(
        "conversations", "view", _("Conversations: read the threads with the business"), default=False
    ),
    Capability("conversations", "post", _("Conversations: start a thread and write in it")),
]
