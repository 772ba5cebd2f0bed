"""Demo additions of conversations (called from `demo/engagement.py`): RenoTech's portal offers
conversations (off until a business switches them on), and Maria has asked about one of Acme's open
invoices, answered by RenoTech's owner — unread on her side, so the portal shows it as new.
Idempotent: a customer that has a conversation gets no other."""

from __future__ import annotations

from portico.accounts.models import User
from portico.billing.models import Invoice
from portico.core import tenancy
from portico.core.audit import Actor
from portico.engagement import conversations
from portico.engagement.models import Conversation, ConversationMessage

ACTOR = Actor.system("demo")
QUESTION = "Could you split the labour on this invoice by room? Our accountant asks for it."
ANSWER = "Of course: kitchen 60 %, hallway 40 %. We will add the split to the next invoice too."


def _portal_offers_conversations(organization) -> None:
    from portico.portal import services as portal
    from portico.portal.models import preferences_of

    preferences = preferences_of(organization)
    if "conversations.view" not in preferences.enabled:
        portal.set_portal_preferences(
            organization=organization,
            disabled=list(preferences.disabled),
            enabled=[*preferences.enabled, "conversations.view"],
            actor=ACTOR,
        )


def extend(demo) -> None:
    from portico.demo.loader import PORTAL_EMAIL, STAFF_EMAIL

    organization = demo.renotech
    _portal_offers_conversations(organization)
    acme, maria = demo.customers["acme"], demo.contacts[f"acme:{PORTAL_EMAIL}"]
    with tenancy.tenant(organization):
        if Conversation.objects.filter(customer=acme).exists():
            return
        invoice = (
            Invoice.objects.filter(customer=acme, status=Invoice.Status.OPEN).order_by("issue_date").first()
        )
        thread = conversations.start_conversation(
            customer=acme,
            body=QUESTION,
            about=invoice,
            contact=maria,
            via=ConversationMessage.Via.PORTAL,
            actor=ACTOR,
        )
        owner = User.all_tenants.get(organization=organization, email=STAFF_EMAIL)
        conversations.post_message(
            conversation=thread, body=ANSWER, user=owner, via=ConversationMessage.Via.CONSOLE, actor=ACTOR
        )
