"""Outgoing webhooks: the endpoints an organization registers and the log of what was sent to them.

A `WebhookEndpoint` receives the events it chose (`notifications.events.CATALOG`), signed with its
secret. A `WebhookDelivery` is one event for one endpoint: its JSON body fixed when the event was
fanned out (a redelivery sends the very same body and id), the attempts, the last answer, and when
the next attempt is due. Sending is `notifications.delivery`'s.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core.models import Organization, OutboxEvent
from portico.core.tenancy import TenantModel

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(24)


def new_endpoint_id() -> str:
    return "we_" + secrets.token_urlsafe(12)


class WebhookEndpoint(TenantModel):
    # No index of its own: a composite index leads with it.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_endpoints", db_index=False
    )
    public_id = models.CharField(max_length=24, unique=True, default=new_endpoint_id, editable=False)
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list, help_text=_("The event types it receives."))
    secret = models.CharField(_("signing secret"), max_length=64, default=new_secret, editable=False)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook endpoint")
        indexes = [models.Index(fields=["organization", "is_enabled"], name="webhook_endpoint_enabled")]

    def __str__(self) -> str:
        return self.description or self.url


class WebhookDelivery(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")  # waiting for its time, or for an earlier delivery
        SENDING = "sending", _("Sending")  # claimed by a worker under a lease
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")  # retried for three days without a 2xx

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    # No index of its own: a unique constraint leads with it.
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    # The outbox event it reports: its id is the delivery order of an endpoint.
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(_("event"), max_length=64)
    webhook_id = models.CharField(_("event id"), max_length=40)
    body = models.TextField()
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # Three days after the first attempt (set when it is first claimed): a failure after it is the last.
    retry_until = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    response_status = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    response_body = models.TextField(_("response"), blank=True)
    last_error = models.TextField(_("error"), blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["-event_id", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event", "event_type"], name="webhook_delivery_once_per_endpoint"
            )
        ]
        indexes = [
            # the sender's questions: what is due, and what an endpoint still has in front
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status="pending"), name="webhook_delivery_due"
            ),
            models.Index(
                fields=["endpoint", "event"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="webhook_delivery_queued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint}"


# -- customer emails: the organization's overrides and the delivery log (`notifications.emails`) ---------

SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 20000


class EmailTemplate(TenantModel):
    """The organization's choice for one kind of email (`core.email_kinds`): on or off, and its own
    subject and text (blank: Portico's default). `{{ variable }}` names only the kind's declared
    variables; `notifications.emails.check_override` refuses anything else before it is saved."""

    # No index of its own: the unique constraint leads with it.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="email_templates", db_index=False
    )
    kind = models.CharField(_("email"), max_length=100)
    is_enabled = models.BooleanField(_("sent"), default=True)
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH, blank=True)
    body = models.TextField(_("text"), blank=True)
    updated_at = models.DateTimeField(_("changed"))

    class Meta:
        ordering = ["kind"]
        verbose_name = _("email template")
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind"], name="email_template_once_per_kind")
        ]

    def __str__(self) -> str:
        return self.kind

    @property
    def is_overridden(self) -> bool:
        return bool(self.subject or self.body)


class SentEmail(TenantModel):
    """One email as it was queued on the outbox: to whom, of which kind, about which customer. Its
    status is its outbox delivery's (`status_of`); a resend queues the same stored message as a new
    event and a new row (`resent_from` says of which)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RETRYING = "retrying", _("Retrying")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sent_emails")
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        db_index=False,  # led by the sent_email_of_customer index
    )
    kind = models.CharField(_("email"), max_length=100, blank=True)
    to = models.JSONField(_("to"), default=list)
    subject = models.CharField(_("subject"), max_length=255)
    event = models.OneToOneField(OutboxEvent, on_delete=models.CASCADE, related_name="+")
    resent_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="resends"
    )
    created_at = models.DateTimeField(_("queued"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("email sent")
        verbose_name_plural = _("emails sent")
        indexes = [models.Index(fields=["customer", "-created_at"], name="sent_email_of_customer")]

    def __str__(self) -> str:
        return self.subject
