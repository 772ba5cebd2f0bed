"""Demo additions of reviews and chat support (called from `demo/engagement.py`): RenoTech's portal
offers reviews and chat support (both off until a business switches them on), and Bluebird Cafe has
reviewed RenoTech, with RenoTech's public reply. The chat widget stays switched off: it needs the
business's own account with a provider (the console's "Chat widget" page). Idempotent."""

from __future__ import annotations

from portico.core import tenancy
from portico.core.audit import Actor
from portico.engagement import reviews
from portico.engagement.models_reviews import Review

ACTOR = Actor.system("demo")
SWITCHED_ON = ["reviews.view", "reviews.post", "chat.view"]


def _portal_offers_reviews_and_chat(organization) -> None:
    from portico.portal import services as portal
    from portico.portal.models import preferences_of

    preferences = preferences_of(organization)
    missing = [key for key in SWITCHED_ON if key not in preferences.enabled]
    if missing:
        portal.set_portal_preferences(
            organization=organization,
            disabled=list(preferences.disabled),
            enabled=[*preferences.enabled, *missing],
            actor=ACTOR,
        )


def extend(demo) -> None:
    organization = demo.renotech
    _portal_offers_reviews_and_chat(organization)
    with tenancy.tenant(organization):
        if Review.objects.exists():
            return
        bluebird = demo.customers["bluebird"]
        review = reviews.submit_review(
            customer=bluebird,
            contact=bluebird.contacts.order_by("pk").first(),
            rating=5,
            comment="The kitchen was finished on time and the invoices were always clear.",
            actor=ACTOR,
        )
        reviews.reply_to_review(
            review=review, reply="Thank you, Bluebird team: enjoy the new kitchen!", actor=ACTOR
        )
