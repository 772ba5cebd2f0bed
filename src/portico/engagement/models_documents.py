"""Documents the business shares with its customers, and expiring share links to them or to an invoice.

A document's file lives in Django's default storage (local files, or S3-compatible storage through
django-storages) under a random name: the name the uploader gave is kept only as text to show, never
used as a path or trusted for the type. The type is what the bytes say (`engagement.documents.sniff`).

A share link is a random token shown once to whoever made it; only its SHA-256 is stored, so the
database alone cannot open a link. It opens its document or invoice, without signing in, on the
organization's own host until it expires or is revoked. The rules are the services'
(`engagement.documents`).
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portico.core import tenancy
from portico.core.fields import PublicIdField
from portico.core.tenancy import TenantModel

TITLE_MAX_LENGTH = 200
NAME_MAX_LENGTH = 255


def document_path(instance, filename: str) -> str:
    """A random path, whatever the uploaded name was (`filename` is ignored on purpose: a name like
    `../../settings.py` or `a\r\nb.pdf` never reaches the storage)."""
    return f"documents/{instance.organization_id}/{secrets.token_urlsafe(24)}"


class SharedDocument(TenantModel):
    """A file staff share with one customer or with all of the organization's customers."""

    organization = tenancy.organization_key()  # led by the index below

    class Audience(models.TextChoices):
        ALL = "all", _("All customers")
        CUSTOMER = "customer", _("One customer")

    public_id = PublicIdField()
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH)
    file = models.FileField(_("file"), upload_to=document_path, max_length=200)
    original_name = models.CharField(
        _("original file name"), max_length=NAME_MAX_LENGTH, blank=True, help_text=_("Shown only.")
    )
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    audience = models.CharField(_("shared with"), max_length=10, choices=Audience.choices)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="shared_documents",
        verbose_name=_("customer"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="shareddoc_org_created")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(audience="all") & Q(customer__isnull=True))
                | (Q(audience="customer") & Q(customer__isnull=False)),
                name="shareddoc_audience_matches_customer",
            ),
            models.CheckConstraint(condition=Q(size__gte=0), name="shareddoc_size_not_negative"),
        ]
        verbose_name = _("shared document")
        verbose_name_plural = _("shared documents")

    def __str__(self) -> str:
        return self.title


class ShareLink(TenantModel):
    """A link that opens one document or one invoice without signing in, until `expires_at`."""

    organization = tenancy.organization_key()  # led by the index below

    public_id = PublicIdField()
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    document = models.ForeignKey(
        SharedDocument,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="share_links",
        verbose_name=_("document"),
    )
    invoice = models.ForeignKey(
        "billing.Invoice",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="share_links",
        verbose_name=_("invoice"),
    )
    # Whose link it is: the invoice's or the document's customer, or the contact's who made it (a
    # document for all customers shared by staff has none); the portal lists a customer's own.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="share_links",
        verbose_name=_("customer"),
    )
    created_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_by_label = models.CharField(_("created by"), max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_opened_at = models.DateTimeField(_("last opened"), null=True, blank=True)
    open_count = models.PositiveIntegerField(_("times opened"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "customer", "expires_at"], name="sharelink_org_cust")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(document__isnull=False) & Q(invoice__isnull=True))
                | (Q(document__isnull=True) & Q(invoice__isnull=False)),
                name="sharelink_one_target",
            ),
        ]
        verbose_name = _("share link")
        verbose_name_plural = _("share links")

    def __str__(self) -> str:
        target = self.target
        return str(_("Link to %(target)s") % {"target": target}) if target is not None else "—"

    @property
    def target(self):
        return self.document if self.document_id else self.invoice

    def is_open_at(self, moment) -> bool:
        return self.revoked_at is None and moment < self.expires_at
