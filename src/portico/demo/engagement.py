"""Demo additions of engagement (conversations, documents, reviews and chat in their own modules):
RenoTech's portal shows two web tabs, its help centre inside the
portal and its status page in a new tab
(placeholder addresses that allow framing: a business puts its own). Idempotent: an organization that has web tabs gets no others."""

from __future__ import annotations

from portico.core import tenancy
from portico.core.audit import Actor
from portico.demo import engagement_documents
from portico.engagement import services
from portico.engagement.models import WebTab

ACTOR = Actor.system("demo")
DEMO_TABS = [
    ("Help centre", "https://example.com/", WebTab.Opens.EMBEDDED),
    ("Status page", "https://example.org/", WebTab.Opens.NEW_TAB),
]


def extend(demo) -> None:
    from portico.demo import conversations, reviews

    reviews.extend(demo)  # reviews and chat support (their own module)
    conversations.extend(demo)  # a question about an invoice, answered
    engagement_documents.extend(demo)  # shared documents and a share link
    organization = demo.renotech
    with tenancy.tenant(organization):
        if WebTab.objects.exists():
            return
        for label, url, opens in DEMO_TABS:
            services.create_web_tab(organization=organization, label=label, url=url, opens=opens, actor=ACTOR)
