"""Which organization (tenant) the current request or job acts for, and the scoping that follows.

Every tenant-owned model inherits `TenantModel`. Its default manager filters by the active
organization whenever one is active (a request on a tenant's host, a job run `for_tenant`), so a
query written without thinking about tenants still cannot return another tenant's rows. Code that
must cross tenants (platform admin, the bill run's outer loop) says so with `Model.all_tenants`.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from portico.core.models import Organization

_current: ContextVar[Organization | None] = ContextVar("portico_tenant", default=None)

# Per-organization settings rows (reverse one-to-ones) loaded with the organization in the same
# query when a request resolves its tenant. Apps add their related names in `AppConfig.ready()`.
REQUEST_RELATED: list[str] = []


def load_with_organization(related_name: str) -> None:
    if related_name not in REQUEST_RELATED:
        REQUEST_RELATED.append(related_name)


def related_setting(organization, related_name: str, model):
    """An organization's settings row: from the row loaded with it, else fetched, else created."""
    try:
        return getattr(organization, related_name)
    except model.DoesNotExist:
        row, _created = model.all_tenants.get_or_create(organization=organization)
        setattr(organization, related_name, row)
        return row


def current_organization() -> Organization | None:
    return _current.get()


@contextlib.contextmanager
def for_tenant(organization: Organization | None):
    """Act for one organization inside the block (jobs, commands, tests)."""
    token = _current.set(organization)
    try:
        yield organization
    finally:
        _current.reset(token)


def activate(organization: Organization | None):
    return _current.set(organization)


def deactivate(token) -> None:
    _current.reset(token)


class TenantQuerySet(models.QuerySet):
    def of(self, organization: Organization) -> TenantQuerySet:
        return self.filter(organization=organization)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Scopes to the active organization; unscoped only where no organization is active."""

    def get_queryset(self):
        qs = super().get_queryset()
        organization = _current.get()
        if organization is not None:
            qs = qs.filter(organization_id=organization.pk)
        return qs


class TenantModel(models.Model):
    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()
    all_tenants = models.Manager.from_queryset(TenantQuerySet)()

    class Meta:
        abstract = True
        base_manager_name = "all_tenants"

    def save(self, *args, **kwargs):
        if self.organization_id is None and _current.get() is not None:
            self.organization = _current.get()
        super().save(*args, **kwargs)


class TenantSettingsModel(TenantModel):
    """One settings row per organization, scoped like every tenant row.

    The subclass declares `organization` as a `OneToOneField` with the related name through which
    `related_setting` reaches it. Its default manager is the tenant manager all the same, so a
    query (or the console) on one organization's host never finds another organization's settings.
    """

    class Meta(TenantModel.Meta):
        abstract = True
