"""A web tab shown inside the portal: the portal's shell with the business's page in a frame.

The frame is allowed for that page's origin only: this response's CSP `frame-src` names it (django-csp's
per-response replacement), every other page keeps `default-src 'self'` for frames. The frame is
sandboxed (scripts, forms, pop-ups and its own origin's storage, but not the portal's top window) and
sends no more than the origin as referrer.
"""

from django.http import Http404
from django.shortcuts import render

from portico.engagement.selectors import web_tab_for
from portico.engagement.web_addresses import origin_of
from portico.portal.access import portal_view

SANDBOX = "allow-scripts allow-same-origin allow-forms allow-popups"


@portal_view(module="web_tabs")
def web_tab(request, tab_id: int):
    tab = web_tab_for(request.portal.customer, tab_id)
    if tab is None or not tab.is_embedded:
        raise Http404
    response = render(request, "portal/web_tabs/web_tab.html", {"web_tab": tab, "sandbox": SANDBOX})
    response._csp_replace = {"frame-src": [origin_of(tab.url)]}
    return response
