"""The portal's navigation: one entry per module, shown only where the page exists and is allowed;
then the business's web tabs this customer may see (when the organization shows web tabs)."""

from functools import lru_cache

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _

from portico.engagement.selectors import web_tabs_for

# (label, url name, module: shown where the organization and the contact's role allow its "view")
ENTRIES = [
    (_("Overview"), "portal:dashboard", "overview"),
    (_("Invoices"), "portal:invoices", "invoices"),
    (_("Payments"), "portal:payments", "payments"),
    (_("Credits"), "portal:credits", "credits"),
    (_("Payment methods"), "portal:payment_methods", "payment_methods"),
    (_("Statements"), "portal:statements", "statements"),
    (_("Subscriptions"), "portal:subscriptions", "subscriptions"),
    (_("Projects"), "portal:projects", "projects"),
    (_("Your review"), "portal:reviews", "reviews"),
    (_("Documents"), "portal:documents", "documents"),
    (_("Conversations"), "portal:conversations", "conversations"),
    (_("Profile"), "portal:profile", "profile"),
    (_("Security"), "portal:security", "security"),
]

# allauth's pages that belong to "Security" (second factors, password, sessions, reauthentication).
SECURITY_PAGES = (
    "/portal/account/2fa/",
    "/portal/account/password/change/",
    "/portal/account/reauthenticate/",
)


@lru_cache(maxsize=256)
def _url(name: str, urlconf: str, prefix: str) -> str | None:
    """A nav entry's URL, reversed once per process (and URL configuration, and script prefix)."""
    try:
        return reverse(name, urlconf=urlconf)
    except NoReverseMatch:
        return None


def portal_nav(request) -> list[dict]:
    portal = getattr(request, "portal", None)
    if portal is None:
        return []
    items = []
    for label, name, module in ENTRIES:
        if not portal.may(module):
            continue
        url = _url(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
        if url is None:
            continue
        current = request.path == url if url == "/portal/" else request.path.startswith(url)
        current = current or (name == "portal:security" and request.path.startswith(SECURITY_PAGES))
        items.append({"label": label, "url": url, "current": current})
    if portal.may("web_tabs"):
        items.extend(_web_tab_entries(request, portal))
    return items


def _web_tab_entries(request, portal) -> list[dict]:
    """Embedded tabs link to their portal page; the others to their own address, in a new tab."""
    entries = []
    for tab in web_tabs_for(portal.customer):
        if tab.is_embedded:
            url = reverse("portal:web_tab", kwargs={"tab_id": tab.pk})
            entries.append({"label": tab.label, "url": url, "current": request.path == url})
        else:
            entries.append({"label": tab.label, "url": tab.url, "current": False, "new_tab": True})
    return entries
