"""The chat widget on portal pages: which pages show it, and their CSP.

Every gated portal page (`portal_view`) asks `engagement.chat` for the organization's widget before
the view runs (`request.portal_chat`, which `portal/base.html` renders as our static loader's script
tag) and, on the way out, widens the CSP for the widget's origin alone — only on a response that did
render the loader, so other pages (PDFs, CSVs, the print view) keep the default policy. Sign-in pages
have no portal and no widget; the Security pages (passwords, second factors, passkeys) never load a
third-party script either.
"""

from __future__ import annotations

from dataclasses import dataclass

from portico.engagement import chat

NO_CHAT_MODULES = frozenset({"security"})
MARKER = b'id="portico-chat"'


@dataclass(frozen=True)
class ShownChat:
    widget: object
    data: dict  # the loader's data- attributes


def widget_for(portal, module: str) -> ShownChat | None:
    if module in NO_CHAT_MODULES:
        return None
    widget = chat.widget_for_portal(portal)
    if widget is None:
        return None
    return ShownChat(widget=widget, data=chat.loader_data(widget, portal.contact))


def allow_widget(request, response):
    shown = getattr(request, "portal_chat", None)
    if shown is None or getattr(response, "streaming", False):
        return response
    if getattr(response, "is_rendered", True) is False:  # a TemplateResponse: once it is rendered
        response.add_post_render_callback(lambda rendered: allow_widget(request, rendered))
        return response
    if not response.get("Content-Type", "").startswith("text/html") or MARKER not in response.content:
        return response
    update = dict(getattr(response, "_csp_update", None) or {})
    for directive, sources in chat.csp_for(shown.widget).items():
        present = list(update.get(directive, []))
        update[directive] = present + [source for source in sources if source not in present]
    response._csp_update = update
    return response
