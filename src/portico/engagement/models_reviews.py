"""Reviews (a customer's rating of the business, with the business's public reply) and the chat widget
(the organization's chat provider, loaded on its portal pages). Their rules are the services'
(`engagement.reviews`, `engagement.chat`); the database keeps the ones a bypassing write must not
break (a rating is 1–5, one review per customer, a known provider)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core import tenancy
from portico.core.fields import PublicIdField
from portico.core.tenancy import TenantModel, TenantSettingsModel

COMMENT_MAX_LENGTH = 2000
REPLY_MAX_LENGTH = 2000
RATINGS = (1, 2, 3, 4, 5)


class Review(TenantModel):
    """One customer's review of the business: one per customer, not per contact, so the average counts
    each customer once however many people it has in the portal. Any of its contacts allowed to write
    reviews may edit it; `author` is who wrote it last."""

    organization = tenancy.organization_key()  # led by the unique constraint below
    public_id = PublicIdField()  # `rev_…` in webhooks
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="reviews", verbose_name=_("customer")
    )
    author = models.ForeignKey(
        "customers.ContactPerson",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), max_length=COMMENT_MAX_LENGTH, blank=True)
    reply = models.TextField(_("public reply"), max_length=REPLY_MAX_LENGTH, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replied by"),
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "customer"], name="review_one_per_customer"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"
            ),
        ]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self) -> str:
        return f"{self.customer} · {self.rating}/5"


class ChatWidget(TenantSettingsModel):
    """The organization's chat provider, as it pasted it: which provider, its script's address and
    the one setting the provider's loader needs (a site, app or property id). Off until enabled."""

    organization = models.OneToOneField(
        "core.Organization", on_delete=models.CASCADE, related_name="chat_widget"
    )

    class Provider(models.TextChoices):
        CRISP = "crisp", "Crisp"
        INTERCOM = "intercom", "Intercom"
        ZOHO = "zoho", "Zoho SalesIQ"
        TAWK = "tawk", "Tawk.to"
        GENERIC = "generic", _("Another provider (script address only)")

    enabled = models.BooleanField(_("shown in the portal"), default=False)
    provider = models.CharField(
        _("provider"), max_length=10, choices=Provider.choices, default=Provider.CRISP
    )
    script_url = models.CharField(_("script address"), max_length=500, blank=True)
    site_id = models.CharField(_("site or app id"), max_length=100, blank=True)
    share_contact = models.BooleanField(
        _("pass the signed-in contact's name and email"),
        default=True,
        help_text=_("Where the provider supports it, so your agents know who is asking."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantSettingsModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=models.Q(provider__in=["crisp", "intercom", "zoho", "tawk", "generic"]),
                name="chatwidget_provider_known",
            ),
        ]
        verbose_name = _("chat widget")
        verbose_name_plural = _("chat widget")

    def __str__(self) -> str:
        return str(self.get_provider_display())


def chat_widget_of(organization) -> ChatWidget:
    return tenancy.related_setting(organization, "chat_widget", ChatWidget)
