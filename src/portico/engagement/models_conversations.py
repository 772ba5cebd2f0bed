"""Conversations between a customer and the business: a thread about one invoice, subscription,
project or time entry, or a general one, and its messages (from a contact of the customer or from
staff, written in the portal, the console or by replying to the notification email).

Each side keeps its own read marker (the moment it last read the thread), so the portal and the
console each show what is new to them. A message's text is stored as written and escaped wherever it
is shown (the templates' autoescape; emails are plain text). The rules (who may write, the closed
state, the inbound address) are the services' (`engagement.conversations`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core import tenancy
from portico.core.fields import PublicIdField
from portico.core.tenancy import TenantModel

SUBJECT_MAX_LENGTH = 120
BODY_MAX_LENGTH = 10_000


class Conversation(TenantModel):
    """A thread of one customer's, about one thing of theirs (or about nothing in particular)."""

    organization = tenancy.organization_key()  # led by the index below

    class Topic(models.TextChoices):
        GENERAL = "general", _("General")
        INVOICE = "invoice", _("Invoice")
        SUBSCRIPTION = "subscription", _("Subscription")
        PROJECT = "project", _("Project")
        TIME_ENTRY = "time_entry", _("Time entry")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    public_id = PublicIdField()  # the portal's and the API's `conv_…`
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="conversations")
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    topic = models.CharField(_("about"), max_length=20, choices=Topic.choices, default=Topic.GENERAL)
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="conversations"
    )
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="conversations",
    )
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="conversations"
    )
    time_entry = models.ForeignKey(
        "projects.TimeEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="conversations"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    started_by = models.ForeignKey(
        "customers.ContactPerson", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("started"))
    last_message_at = models.DateTimeField(_("last message"))
    # Each side's read marker: messages of the other side after it are unread on this side.
    customer_read_at = models.DateTimeField(null=True, blank=True)
    staff_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(
                fields=["organization", "customer", "-last_message_at"], name="conversation_org_customer"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "closed"]), name="conversation_status_known"
            ),
            # The topic names exactly the one thing the thread is about (none for a general one).
            models.CheckConstraint(
                condition=(
                    models.Q(
                        topic="general",
                        invoice__isnull=True,
                        subscription__isnull=True,
                        project__isnull=True,
                        time_entry__isnull=True,
                    )
                    | models.Q(
                        topic="invoice",
                        invoice__isnull=False,
                        subscription__isnull=True,
                        project__isnull=True,
                        time_entry__isnull=True,
                    )
                    | models.Q(
                        topic="subscription",
                        invoice__isnull=True,
                        subscription__isnull=False,
                        project__isnull=True,
                        time_entry__isnull=True,
                    )
                    | models.Q(
                        topic="project",
                        invoice__isnull=True,
                        subscription__isnull=True,
                        project__isnull=False,
                        time_entry__isnull=True,
                    )
                    | models.Q(
                        topic="time_entry",
                        invoice__isnull=True,
                        subscription__isnull=True,
                        project__isnull=True,
                        time_entry__isnull=False,
                    )
                ),
                name="conversation_topic_matches",
            ),
        ]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")

    def __str__(self) -> str:
        return self.subject

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def about(self):
        """The invoice, subscription, project or time entry the thread is about (None: general)."""
        return {
            self.Topic.INVOICE: self.invoice,
            self.Topic.SUBSCRIPTION: self.subscription,
            self.Topic.PROJECT: self.project,
            self.Topic.TIME_ENTRY: self.time_entry,
        }.get(self.topic)


class ConversationMessage(TenantModel):
    """One message of a thread: who wrote it (a contact of the customer, or staff), when and how."""

    class Author(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        STAFF = "staff", _("Staff")

    class Via(models.TextChoices):
        PORTAL = "portal", _("Portal")
        CONSOLE = "console", _("Console")
        EMAIL = "email", _("Email reply")
        API = "api", _("API")

    public_id = PublicIdField()  # the API's and the webhooks' `msg_…`
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(_("from"), max_length=10, choices=Author.choices)
    author_contact = models.ForeignKey(
        "customers.ContactPerson", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(_("written by"), max_length=200)  # as it was when written
    body = models.TextField(_("message"), max_length=BODY_MAX_LENGTH)
    via = models.CharField(_("via"), max_length=10, choices=Via.choices)
    # The Message-ID of the email it came in as: the same email delivered twice is appended once.
    email_message_id = models.CharField(max_length=300, null=True, blank=True)
    created_at = models.DateTimeField(_("written"))

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(author_kind__in=["customer", "staff"]),
                name="conversation_message_author_known",
            ),
            models.UniqueConstraint(
                fields=["organization", "email_message_id"],
                condition=models.Q(email_message_id__isnull=False),
                name="conversation_message_email_once",
            ),
        ]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.author_name}: {self.body[:40]}"

    @property
    def customer_id(self) -> int:
        """The thread's customer (for the outbox's events, which name the customer they concern)."""
        return self.conversation.customer_id


ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024


class ConversationAttachment(TenantModel):
    """A file sent with a message. Its type is what its bytes are (`engagement.attachments.sniff`),
    never what its name or the browser says; it is always served as a download, never inline."""

    public_id = PublicIdField()
    message = models.ForeignKey(ConversationMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="conversations/%Y/%m/", max_length=300)
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename
