"""The reply-to address of a conversation email: `reply+<thread>-<recipient>-<signature>@<domain>`.

The thread is the conversation's primary key (digits survive any case folding; the address goes only
to the thread's own people, and names nothing without its signature), the recipient `c<contact pk>` or `s<staff user pk>`, the
signature an HMAC of both under the install's secret (`django.utils.crypto.salted_hmac`, the
primitive `django.core.signing` is built on), so an address cannot be made up for another thread or
another person, nor altered. It is written in lowercase hex, not signing's base64: mail servers may
fold the case of a local part, and 24 hex digits (96 bits) keep the whole local part under the
64 characters RFC 5321 §4.5.3.1.1 allows.

`PORTICO_INBOUND_DOMAIN` unset: no reply address; the emails say to answer in the portal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "portico.engagement.reply-address"
SIGNATURE_LENGTH = 24
CUSTOMER, STAFF = "c", "s"
_LOCAL = re.compile(r"^reply\+(?P<thread>[0-9]{1,12})-(?P<kind>[cs])(?P<id>[0-9]{1,12})-(?P<sig>[0-9a-f]+)$")


@dataclass(frozen=True)
class ReplyAddress:
    thread: int  # the conversation's primary key
    kind: str  # CUSTOMER (a contact) or STAFF (a staff user)
    recipient_id: int


def inbound_domain() -> str:
    return (getattr(settings, "PORTICO_INBOUND_DOMAIN", "") or "").strip().lower()


def _signature(thread: int, kind: str, recipient_id: int) -> str:
    return salted_hmac(SALT, f"{thread}-{kind}{recipient_id}", algorithm="sha256").hexdigest()[
        :SIGNATURE_LENGTH
    ]


def reply_address(conversation, *, kind: str, recipient_id: int) -> str | None:
    """The address whose mail lands in `conversation` as written by this recipient; None without an
    inbound domain."""
    domain = inbound_domain()
    if not domain:
        return None
    thread = conversation.pk
    return f"reply+{thread}-{kind}{recipient_id}-{_signature(thread, kind, recipient_id)}@{domain}"


def parse_reply_address(address: str) -> ReplyAddress | None:
    """The thread and recipient an address of ours names, when its signature is right; None for any
    other address (someone else's, our domain with a forged or altered signature)."""
    local, _at, domain = (address or "").strip().strip("<>").rpartition("@")
    if not local or domain.lower() != inbound_domain() or not inbound_domain():
        return None
    match = _LOCAL.match(local.lower())
    if match is None:
        return None
    thread, kind, recipient_id = int(match["thread"]), match["kind"], int(match["id"])
    if not constant_time_compare(match["sig"], _signature(thread, kind, recipient_id)):
        return None
    return ReplyAddress(thread=thread, kind=kind, recipient_id=recipient_id)
