"""Domain errors of notifications (webhook endpoints): `DomainError`s (see `core/errors.py`) with a
message fit for staff, a stable `code` for the API and the form `field` they concern."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core.errors import DomainError


class Code(models.TextChoices):
    """The codes of notifications' errors."""

    WEBHOOK_ERROR = "webhook_error"
    WEBHOOK_URL_REFUSED = "webhook_url_refused"
    WEBHOOK_EVENTS_INVALID = "webhook_events_invalid"
    EMAIL_TEMPLATE_INVALID = "email_template_invalid"
    EMAIL_RESEND_REFUSED = "email_resend_refused"


class WebhookError(DomainError):
    code = Code.WEBHOOK_ERROR
    message = _("This webhook change is not possible.")


class UrlRefused(WebhookError):
    """An endpoint address Portico will not send to (scheme, credentials, a private network)."""

    code = Code.WEBHOOK_URL_REFUSED
    field = "url"
    message = _("Enter an https:// address on the public internet.")


class EventsInvalid(WebhookError):
    """No event chosen, or one that is not in the catalog."""

    code = Code.WEBHOOK_EVENTS_INVALID
    field = "events"
    message = _("Choose at least one event from the list.")


class EmailTemplateInvalid(DomainError):
    """An override that names what the email does not offer (an unknown variable, a template tag),
    or a kind that cannot be switched off or customised. Nothing is saved."""

    code = Code.EMAIL_TEMPLATE_INVALID
    message = _("This email template cannot be saved.")


class EmailResendRefused(DomainError):
    code = Code.EMAIL_RESEND_REFUSED
    message = _("This email cannot be sent again.")
