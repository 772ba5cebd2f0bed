"""Web tabs as a business would set them up, through the services."""

from portico.core.audit import Actor
from portico.engagement import services
from portico.engagement.models import WebTab

ACTOR = Actor.system("tests")


def web_tab(organization, label="Help centre", url="https://help.example.com/", **fields) -> WebTab:
    return services.create_web_tab(organization=organization, label=label, url=url, actor=ACTOR, **fields)


def web_tab_world(organization, customer) -> list[WebTab]:
    """An embedded tab for every customer and a new-tab one chosen for `customer`."""
    return [
        web_tab(organization),
        web_tab(
            organization,
            label="Status page",
            url="https://status.example.com/",
            opens=WebTab.Opens.NEW_TAB,
            audience=WebTab.Audience.CHOSEN,
            customers=[customer],
        ),
    ]
