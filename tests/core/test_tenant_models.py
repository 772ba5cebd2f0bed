"""Structural guard: every model that belongs to an organization is scoped like one.

A new model with an `organization` foreign key must inherit `TenantModel` (scoped default manager,
unscoped `all_tenants`) — or be one of the few per-organization singletons reached only through
their organization (one-to-one settings) or have its own scoped manager (users).
"""

from django.apps import apps
from django.db import models

from portico.core.tenancy import TenantManager, TenantModel

ONE_PER_ORGANIZATION = models.OneToOneField


def test_every_model_with_an_organization_is_tenant_scoped():
    unscoped = []
    for model in apps.get_models():
        if not model.__module__.startswith("portico."):
            continue
        try:
            field = model._meta.get_field("organization")
        except Exception:
            continue
        if isinstance(field, ONE_PER_ORGANIZATION):
            continue
        if model._meta.label == "accounts.User":
            from portico.accounts.models import UserManager

            assert isinstance(model._default_manager, UserManager)
            continue
        if not issubclass(model, TenantModel) or not isinstance(model._default_manager, TenantManager):
            unscoped.append(model._meta.label)
    assert unscoped == [], f"models with an organization but no tenant scoping: {unscoped}"
