"""Reviews and chat widgets as customers and businesses make them, through the services."""

from portico.core.audit import Actor
from portico.engagement import chat, reviews
from portico.engagement.models_reviews import Review

ACTOR = Actor.system("tests")
CRISP_ID = "0a1b2c3d-1111-2222-3333-444455556666"


def review(customer, rating=4, comment="Good work on the kitchen.", contact=None) -> Review:
    contact = contact or customer.contacts.order_by("pk").first()
    return reviews.submit_review(
        customer=customer, contact=contact, rating=rating, comment=comment, actor=ACTOR
    )


def chat_widget(organization, *, enabled=True, provider="crisp", site_id=CRISP_ID, script_url="", **fields):
    values = {"share_contact": True, **fields}
    return chat.configure_chat_widget(
        organization=organization,
        actor=ACTOR,
        enabled=enabled,
        provider=provider,
        site_id=site_id,
        script_url=script_url,
        **values,
    )


def review_world(organization, customer):
    """The customer's review, answered, and the organization's chat widget (Crisp, switched on)."""
    written = review(customer)
    reviews.reply_to_review(review=written, reply="Thank you!", actor=ACTOR)
    return written, chat_widget(organization)
