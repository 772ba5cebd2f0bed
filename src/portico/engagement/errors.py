"""Domain errors of engagement (see `core/errors.py`): web tabs for now. Raised before anything is
written, so a refused change writes nothing."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core.errors import DomainError


class Code(models.TextChoices):
    WEB_TAB_ERROR = "web_tab_error"
    WEB_TAB_INVALID = "web_tab_invalid"
    WEB_TAB_URL_REFUSED = "web_tab_url_refused"
    REVIEW_INVALID = "review_invalid"
    CHAT_WIDGET_INVALID = "chat_widget_invalid"
    DOCUMENT_ERROR = "document_error"
    DOCUMENT_INVALID = "document_invalid"
    DOCUMENT_REFUSED = "document_refused"
    SHARE_LINK_INVALID = "share_link_invalid"
    # conversations (`engagement.conversations`, `engagement.inbound`)
    CONVERSATION_ERROR = "conversation_error"
    CONVERSATION_INVALID = "conversation_invalid"
    INBOUND_EMAIL_REFUSED = "inbound_email_refused"


class WebTabError(DomainError):
    code = Code.WEB_TAB_ERROR
    message = _("This change to the web tab is not possible.")


class WebTabInvalid(WebTabError):
    """A label, way of opening, audience or customer a web tab cannot take."""

    code = Code.WEB_TAB_INVALID
    message = _("Check the web tab's details.")


class WebTabUrlRefused(WebTabError):
    """An address the portal will not link to or embed (not http/https, relative, with credentials…)."""

    code = Code.WEB_TAB_URL_REFUSED
    field = "url"
    message = _("Enter a complete address starting with https:// (or http://).")


class ReviewInvalid(DomainError):
    """A rating outside 1–5, a comment or reply too long, a review of another organization's customer."""

    code = Code.REVIEW_INVALID
    message = _("Check the review.")


class ChatWidgetInvalid(DomainError):
    """A chat provider the portal does not know, a script address off the provider's domains (or not
    https), or a site id the provider's loader would not take."""

    code = Code.CHAT_WIDGET_INVALID
    message = _("Check the chat widget's settings.")


class ConversationError(DomainError):
    code = Code.CONVERSATION_ERROR
    message = _("This change to the conversation is not possible.")


class ConversationInvalid(ConversationError):
    """A subject, message or topic a conversation cannot take (empty, too long, another customer's)."""

    code = Code.CONVERSATION_INVALID
    message = _("Check the message.")


class InboundEmailRefused(ConversationError):
    """An email that cannot be appended to a thread: no reply address of ours, a forged or altered
    one, a thread that no longer exists, or nothing new in it once the quoted text is removed."""

    code = Code.INBOUND_EMAIL_REFUSED
    message = _("This email is not a reply to a conversation.")
