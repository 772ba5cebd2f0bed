"""Which organization (tenant) the current request or job acts for, and the scoping that follows.

Every tenant-owned model inherits `TenantModel`. Its default manager filters by the active
organization (a request on a tenant's host, a job or command running `with tenant(org):`), and
with no organization active it fails closed: a query from `Model.objects` raises `NoActiveTenant`
(naming the model) when it would reach the database, so a query written without thinking about tenants can neither return another
tenant's rows nor every tenant's. Code that must cross tenants (the platform console, the bill
run's and the outbox's claim queries) says so with `Model.all_tenants`.

A related manager (`customer.invoices.all()`) is scoped by the row it starts from, which was itself
reached through a scoped query or an explicit `all_tenants`, so it works with no organization
active (and still filters by the active one when there is one). Forward relations and Django's
internals (deletion, reverse one-to-ones) use the base manager, `all_tenants`.
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


class NoActiveTenant(RuntimeError):
    """A tenant model's default manager was used with no organization active."""

    def __init__(self, model):
        name = model._meta.label
        super().__init__(
            f"{name}.objects was queried with no active organization. Act for one with "
            f"`with tenant(organization):`, or say that the query spans tenants with "
            f"`{model.__name__}.all_tenants`."
        )


def current_organization() -> Organization | None:
    return _current.get()


@contextlib.contextmanager
def tenant(organization: Organization | None):
    """Act for one organization inside the block: tasks, commands, the bill run, tests.

    `tenant(None)` acts for none: tenant queries inside raise, as on the platform host."""
    token = _current.set(organization)
    try:
        yield organization
    finally:
        _current.reset(token)


# The earlier name, kept for callers that still use it.
for_tenant = tenant


def activate(organization: Organization | None):
    return _current.set(organization)


def deactivate(token) -> None:
    _current.reset(token)


class TenantQuerySet(models.QuerySet):
    """A tenant model's queryset. One built by the default manager with no organization active is
    *closed*: it can be built, refined and used to create rows (`create`, `bulk_create`: creating is
    not querying, and the row names its organization), but every query it would send — reading,
    counting, updating, deleting, or serving as a subquery — raises `NoActiveTenant`.

    The check sits at the query rather than at `Model.objects` because Django builds querysets
    ahead of time where no organization can be active (a ModelForm's foreign-key choices are built
    when its module is imported, then replaced by the console per request)."""

    _without_tenant = False

    def of(self, organization: Organization) -> TenantQuerySet:
        return self.filter(organization=organization)

    def _clone(self):
        clone = super()._clone()
        clone._without_tenant = self._without_tenant
        return clone

    def _refuse_without_tenant(self) -> None:
        if self._without_tenant:
            raise NoActiveTenant(self.model)

    def none(self):
        empty = super().none()
        empty._without_tenant = False  # an empty result shows no tenant's rows
        return empty

    def _fetch_all(self):
        self._refuse_without_tenant()
        super()._fetch_all()

    def iterator(self, *args, **kwargs):
        self._refuse_without_tenant()
        return super().iterator(*args, **kwargs)

    def aiterator(self, *args, **kwargs):
        self._refuse_without_tenant()
        return super().aiterator(*args, **kwargs)

    def count(self):
        self._refuse_without_tenant()
        return super().count()

    def aggregate(self, *args, **kwargs):
        self._refuse_without_tenant()
        return super().aggregate(*args, **kwargs)

    def exists(self):
        self._refuse_without_tenant()
        return super().exists()

    def contains(self, obj):
        self._refuse_without_tenant()
        return super().contains(obj)

    def explain(self, **options):
        self._refuse_without_tenant()
        return super().explain(**options)

    def update(self, **kwargs):
        self._refuse_without_tenant()
        return super().update(**kwargs)

    def _update(self, values):
        self._refuse_without_tenant()
        return super()._update(values)

    def delete(self):
        self._refuse_without_tenant()
        return super().delete()

    def _raw_delete(self, using):
        self._refuse_without_tenant()
        return super()._raw_delete(using)

    def resolve_expression(self, *args, **kwargs):  # used as a subquery
        self._refuse_without_tenant()
        return super().resolve_expression(*args, **kwargs)

    def _combinator_query(self, combinator, *other_qs, all=False):
        for qs in (self, *other_qs):
            if isinstance(qs, TenantQuerySet):
                qs._refuse_without_tenant()
        return super()._combinator_query(combinator, *other_qs, all=all)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Scopes to the active organization; with none active, its querysets raise `NoActiveTenant`.

    A related manager (`customer.invoices`) is scoped by the row it starts from, so it is open
    with no organization active; with one active it filters by it as well."""

    def get_queryset(self):
        qs = super().get_queryset()
        organization = _current.get()
        if organization is not None:
            return qs.filter(organization_id=organization.pk)
        if getattr(self, "instance", None) is None:  # not a related manager
            qs._without_tenant = True
        return qs


def organization_key() -> models.ForeignKey:
    """`TenantModel.organization` without an index of its own, for a model whose composite index or
    unique constraint leads with the organization (and serves every lookup by it): a second index
    would only be written on every insert (`tests/core/test_indexes.py`)."""
    return models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+", db_index=False)


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
