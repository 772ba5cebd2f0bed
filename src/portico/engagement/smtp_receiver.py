"""A small SMTP receiver for replies to conversation emails (aiosmtpd), for installs whose MX for
`PORTICO_INBOUND_DOMAIN` points at Portico itself rather than at a provider's inbound webhook.

Recipients outside the inbound domain are refused at RCPT (550: it relays nothing); each message is
handed to `engagement.inbound.receive_email` with its envelope recipients, and a refusal is answered
with 550 and its reason, so the sending server bounces it to the writer instead of losing it
silently. The database work runs in a worker thread (`sync_to_async`): the ORM is synchronous.
"""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async
from django.db import close_old_connections

from portico.engagement import reply_addresses
from portico.engagement.errors import InboundEmailRefused
from portico.engagement.inbound import MAX_EMAIL_BYTES, receive_email

log = logging.getLogger(__name__)


def _receive(content: bytes, recipients: list[str]) -> str:
    close_old_connections()
    try:
        received = receive_email(content, recipients=recipients)
    except InboundEmailRefused as error:
        log.info("inbound email refused: %s", error.message)
        return f"550 {' '.join(str(error.message).split())}"
    finally:
        close_old_connections()
    return "250 OK" if received.is_new else "250 OK (already received)"


class ConversationMailHandler:
    def __init__(self):
        self.handled = 0  # messages answered (taken or refused): `receive_conversation_mail --messages`

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        domain = address.rpartition("@")[2].lower()
        if not reply_addresses.inbound_domain() or domain != reply_addresses.inbound_domain():
            return "550 not relaying to that domain"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", errors="replace")
        if len(content) > MAX_EMAIL_BYTES:
            return "552 message too large"
        try:
            return await sync_to_async(_receive, thread_sensitive=False)(content, list(envelope.rcpt_tos))
        finally:
            self.handled += 1


def controller(*, hostname: str, port: int, handler: ConversationMailHandler | None = None):
    from aiosmtpd.controller import Controller

    return Controller(
        handler or ConversationMailHandler(), hostname=hostname, port=port, data_size_limit=MAX_EMAIL_BYTES
    )
