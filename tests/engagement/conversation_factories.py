"""Conversations as customers and staff write them, through the services."""

from portico.core.audit import Actor
from portico.engagement import conversations
from portico.engagement.models_conversations import Conversation, ConversationMessage

ACTOR = Actor.system("tests")
Via = ConversationMessage.Via


def conversation(
    contact, body="Could you check the hours of March?", subject="A question", about=None, attachments=()
):
    return conversations.start_conversation(
        customer=contact.customer,
        contact=contact,
        subject=subject,
        body=body,
        about=about,
        via=Via.PORTAL,
        actor=ACTOR,
        attachments=attachments,
    )


def staff_reply(thread: Conversation, user, body="Thank you, we corrected it."):
    return conversations.post_message(conversation=thread, body=body, user=user, via=Via.CONSOLE, actor=ACTOR)


def conversation_world(organization, customer) -> list[Conversation]:
    """A general thread of `customer`'s primary contact with a staff answer, and a closed one."""
    from portico.customers.models import ContactPerson
    from tests.factories import ContactFactory, staff_user

    contact = ContactPerson.all_tenants.filter(customer=customer, is_primary=True).first()
    contact = contact or ContactFactory(customer=customer)
    staff = staff_user(organization, email=f"conversations-{organization.pk}@business.example")
    first = conversation(contact)
    staff_reply(first, staff)
    second = conversation(contact, subject="Closed one", body="Thanks, all good.")
    conversations.set_status(conversation=second, status=Conversation.Status.CLOSED, actor=ACTOR)
    return [first, second]
