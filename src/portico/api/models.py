"""API keys, the idempotency records of POSTs, and the rate limit's counters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core import tenancy
from portico.core.fields import PublicIdField
from portico.core.tenancy import TenantModel


class Scope(models.TextChoices):
    READ = "read", _("Read — GET requests only")
    WRITE = "write", _("Write — read, create, change and act")


class ApiKey(TenantModel):
    """An organization's key for the business API. The secret is shown once, when the key is created;
    only its SHA-256 is stored (the secret is 256 random bits, so a plain hash is enough: nothing to
    brute-force, unlike a password). `prefix` is the public part, shown in lists to tell keys apart."""

    public_id = PublicIdField()
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=24, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.READ)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.scope == Scope.WRITE


class IdempotencyRecord(TenantModel):
    """The first response to a POST with an `Idempotency-Key`, replayed for a retry of the same
    request. Inserted (and committed) before the request runs, so a concurrent duplicate collides on
    the unique constraint instead of running twice; `status_code` is null while the first one runs."""

    organization = tenancy.organization_key()  # led by the unique constraint below

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of method, path and body
    created_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "api_key", "key"], name="idempotency_key_unique_per_api_key"
            )
        ]


class RateWindow(models.Model):
    """Requests of one key in one fixed window, counted in the database so that every app process
    shares the count (an upsert per request: `api.ratelimit`). Not tenant data: a counter of a key."""

    api_key = models.ForeignKey(
        ApiKey, on_delete=models.CASCADE, related_name="+", db_index=False
    )  # led below
    window_start = models.BigIntegerField()  # Unix seconds, a multiple of the window's length
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "window_start"], name="rate_window_unique_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id}@{self.window_start}: {self.count}"
