from django.shortcuts import render

from portico.portal.access import portal_view


@portal_view()
def dashboard(request):
    return render(request, "portal/dashboard.html", {"summary_cards": dashboard_cards(request.portal)})


def dashboard_cards(portal) -> list[dict]:
    """Summary cards shown on the dashboard; the ledger adds its figures through `DASHBOARD_CARDS`."""
    cards = []
    for provider in DASHBOARD_CARDS:
        cards.extend(provider(portal))
    return cards


DASHBOARD_CARDS: list = []
