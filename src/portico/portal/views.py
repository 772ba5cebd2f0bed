from django.shortcuts import render

from portico.portal.access import portal_view


@portal_view(module="overview")
def dashboard(request):
    return render(
        request,
        "portal/dashboard.html",
        {
            "summary_cards": dashboard_cards(request.portal),
            "dashboard_panels": dashboard_panels(request.portal),
        },
    )


def dashboard_cards(portal) -> list[dict]:
    """Summary cards shown on the dashboard; the ledger adds its figures through `DASHBOARD_CARDS`."""
    cards = []
    for provider in DASHBOARD_CARDS:
        cards.extend(provider(portal))
    return cards


def dashboard_panels(portal) -> list[dict]:
    """Sections below the cards: each provider returns dicts with a `template` and its context."""
    panels = []
    for provider in DASHBOARD_PANELS:
        panels.extend(provider(portal))
    return panels


DASHBOARD_CARDS: list = []
DASHBOARD_PANELS: list = []
