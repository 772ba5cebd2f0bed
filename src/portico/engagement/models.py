"""Engagement with customers beyond the ledger: for now, web tabs (the business's own pages in the
portal's navigation). Their rules (the allowed addresses, customers of the same organization, the
order) are the services' (`engagement.services`)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core import tenancy
from portico.core.tenancy import TenantModel

LABEL_MAX_LENGTH = 40


class WebTab(TenantModel):
    """A link in the portal's navigation to one of the business's pages: shown inside the portal (in
    a frame) or opened in a new browser tab, to every customer or to chosen ones."""

    organization = tenancy.organization_key()  # led by the index below

    class Opens(models.TextChoices):
        EMBEDDED = "embedded", _("Inside the portal")
        NEW_TAB = "new_tab", _("In a new browser tab")

    class Audience(models.TextChoices):
        ALL = "all", _("All customers")
        CHOSEN = "chosen", _("Chosen customers")

    label = models.CharField(_("label"), max_length=LABEL_MAX_LENGTH)
    url = models.CharField(_("address"), max_length=500)
    opens = models.CharField(_("opens"), max_length=10, choices=Opens.choices, default=Opens.EMBEDDED)
    position = models.PositiveIntegerField(_("position"), default=0)
    audience = models.CharField(_("shown to"), max_length=10, choices=Audience.choices, default=Audience.ALL)
    customers = models.ManyToManyField(
        "customers.Customer",
        blank=True,
        related_name="web_tabs",
        verbose_name=_("customers"),
        help_text=_("Who sees the tab when it is shown to chosen customers."),
    )
    is_active = models.BooleanField(_("shown"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["organization", "position"], name="webtab_org_position")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens__in=["embedded", "new_tab"]), name="webtab_opens_known"
            ),
            models.CheckConstraint(
                condition=models.Q(audience__in=["all", "chosen"]), name="webtab_audience_known"
            ),
        ]
        verbose_name = _("web tab")
        verbose_name_plural = _("web tabs")

    def __str__(self) -> str:
        return self.label

    @property
    def is_embedded(self) -> bool:
        return self.opens == self.Opens.EMBEDDED


from portico.engagement.models_conversations import (  # noqa: E402, F401
    Conversation,
    ConversationAttachment,
    ConversationMessage,
)
from portico.engagement.models_documents import SharedDocument, ShareLink  # noqa: E402, F401
from portico.engagement.models_reviews import ChatWidget, Review  # noqa: E402, F401  (their own module)
