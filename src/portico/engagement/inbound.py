"""Email replies into conversations: one service (`receive_email`) for the HTTP inbound-mail webhook
and the SMTP receiver (`manage.py receive_conversation_mail`) alike.

The message (RFC 822/5322 bytes) is parsed with the standard library. It is matched to a thread by
the signed reply-to address it was sent to (`reply_addresses`) — the envelope recipients when the
receiver knows them, else To, Cc, Delivered-To and X-Original-To — and to its writer by the same
address, never by its From header, which anyone may write. The quoted part is cut off (lines
starting with ">", an "On … wrote:" introduction and all after it, "-----Original Message-----"
and what follows, a signature after "-- "), and what is left is appended once: the Message-ID (or,
without one, a digest of the message) is stored with it, and the same email delivered again adds
nothing. An HTML-only email is read as its text.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass
from email.utils import getaddresses

from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from portico.accounts.models import User
from portico.core import tenancy
from portico.core.audit import Actor
from portico.customers.models import ContactPerson
from portico.engagement import reply_addresses
from portico.engagement.conversations import post_message
from portico.engagement.errors import ConversationInvalid, InboundEmailRefused
from portico.engagement.models_conversations import Conversation, ConversationMessage

MAX_EMAIL_BYTES = 10 * 1024 * 1024
ADDRESS_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")
_WROTE = re.compile(r"^\s*On\b.{0,300}?\bwrote:\s*$", re.IGNORECASE | re.DOTALL)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Received:
    message: ConversationMessage | None  # None: this email was appended before
    conversation: Conversation

    @property
    def is_new(self) -> bool:
        return self.message is not None


def strip_quoted(text: str) -> str:
    """What the writer wrote, without what they quoted or signed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if line in ("-- ", "--"):
            break  # the signature separator (RFC 3676 §4.3)
        if _ORIGINAL.match(line):
            break
        # "On Tue, 3 Mar 2026 at 10:00, Riley <riley@…> wrote:", which clients wrap over up to 3 lines
        if re.match(r"^\s*On\b", line, re.IGNORECASE) and any(
            _WROTE.match("\n".join(lines[index : index + span])) for span in (1, 2, 3)
        ):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _text_of(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset, broken transfer encoding
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    if part.get_content_type() == "text/html":
        content = strip_tags(re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", content))
    return str(content)


def _candidates(message, recipients) -> list[str]:
    found = [str(r) for r in recipients or ()]
    for header in ADDRESS_HEADERS:
        values = [str(v) for v in message.get_all(header, [])]
        found.extend(address for _name, address in getaddresses(values))
    return found


def _message_id(message, raw: bytes) -> str:
    found = str(message.get("Message-ID", "") or "").strip()
    if found:
        return found[:300]
    return f"<sha256.{hashlib.sha256(raw).hexdigest()}@inbound>"


def receive_email(raw: bytes, *, recipients=(), actor: Actor | None = None) -> Received:
    """Append the reply in `raw` to the thread its signed address names, once; refuse
    (`InboundEmailRefused`) anything else, writing nothing."""
    if not raw or len(raw) > MAX_EMAIL_BYTES:
        raise InboundEmailRefused(_("The email is empty or too large."))
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        candidates = _candidates(message, recipients)
    except (ValueError, TypeError, IndexError) as error:
        raise InboundEmailRefused(_("The email could not be read.")) from error
    address = next((a for a in map(reply_addresses.parse_reply_address, candidates) if a is not None), None)
    if address is None:
        raise InboundEmailRefused(_("The email is not addressed to a conversation's reply address."))
    conversation = (
        Conversation.all_tenants.select_related("organization", "customer").filter(pk=address.thread).first()
    )
    if conversation is None:
        raise InboundEmailRefused(_("This conversation no longer exists."))
    contact = user = None
    if address.kind == reply_addresses.CUSTOMER:
        contact = ContactPerson.all_tenants.filter(
            pk=address.recipient_id, customer_id=conversation.customer_id
        ).first()
        writer = contact
    else:
        user = User.all_tenants.filter(
            pk=address.recipient_id,
            organization_id=conversation.organization_id,
            is_staff=True,
            is_active=True,
            contact=None,
        ).first()
        writer = user
    if writer is None:
        raise InboundEmailRefused(_("The person this reply address was given to can no longer write here."))
    body = strip_quoted(_text_of(message))
    actor = actor or Actor.system(f"email reply from {writer.email}")
    with tenancy.tenant(conversation.organization):
        try:
            posted = post_message(
                conversation=conversation,
                body=body,
                contact=contact,
                user=user,
                via=ConversationMessage.Via.EMAIL,
                actor=actor,
                email_message_id=_message_id(message, raw),
            )
        except ConversationInvalid as error:
            raise InboundEmailRefused(
                _("The reply has no text of its own: %(why)s") % {"why": error.message}
            ) from error
    return Received(message=posted, conversation=conversation)
