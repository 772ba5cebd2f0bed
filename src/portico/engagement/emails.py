"""The engagement app's emails (`core.email_kinds`): a new message in a conversation, to the other
side. Each carries a reply-to address of its recipient's own (`engagement.reply_addresses`) when the
install receives mail, so answering the email answers in the thread."""

from django.utils.translation import gettext_lazy as _

from portico.core.email_kinds import COMMON, CUSTOMER_NAME, STAFF, EmailKind, Variable

EMAIL_KINDS = [
    EmailKind(
        "engagement/conversation_reply",
        _("Conversation reply"),
        _("Sent to the customer's contacts in a conversation when your staff write in it."),
        default_subject=_("Re: {{ conversation_subject }}"),
        default_body=_(
            "Hello,\n\n{{ author_name }} of {{ organization_name }} wrote:\n\n{{ message_body }}\n\nRead the conversation and answer in your portal:\n{{ thread_url }}\n\n{{ organization_name }}"
        ),
        variables=[
            *COMMON,
            CUSTOMER_NAME,
            Variable(
                "conversation_subject",
                _("The conversation's subject"),
                "conversation.subject",
                "Invoice INV-0042",
            ),
            Variable("author_name", _("Who wrote the message"), "message.author_name", "Riley Chen"),
            Variable("message_body", _("The message"), "message.body", "Thank you, we corrected it."),
            Variable(
                "thread_url",
                _("The conversation in the portal"),
                "thread_url",
                "https://renotech.example.com/portal/conversations/abc/",
            ),
        ],
    ),
    EmailKind(
        "engagement/conversation_message",
        _("Customer message (to your staff)"),
        _("Tells your staff that a customer wrote in a conversation."),
        audience=STAFF,
        switchable=False,
        why_always=_("Sent to your staff, not to customers."),
    ),
]
