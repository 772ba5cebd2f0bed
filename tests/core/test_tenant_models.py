"""Structural guard: every model related to an organization is scoped like tenant data.

Every relation to `core.Organization` — a foreign key or a one-to-one, on any installed model,
per-organization settings included — must sit on a model whose default manager is the tenant
manager (`TenantModel`, or `TenantSettingsModel` for one row per organization), with the unscoped
`all_tenants` beside it. The one exception is the user model, which has its own scoped manager
(platform superusers have no organization).
"""

from django.apps import apps
from django.db import models

from portico.core.models import Organization
from portico.core.tenancy import TenantManager, TenantModel, TenantSettingsModel


def _relations_to_organization():
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if (
                field.concrete
                and isinstance(field, models.ForeignKey)  # a OneToOneField is a ForeignKey too
                and field.related_model is Organization
            ):
                yield model, field


def test_the_guard_sees_foreign_keys_and_one_to_ones():
    seen = {(model._meta.label, type(field)) for model, field in _relations_to_organization()}
    assert ("customers.Customer", models.ForeignKey) in seen
    assert ("accounts.AccessPolicy", models.OneToOneField) in seen
    assert ("portal.PortalPreferences", models.OneToOneField) in seen
    assert ("billing.BillingSettings", models.OneToOneField) in seen


def test_every_relation_to_an_organization_is_tenant_scoped():
    from portico.accounts.models import UserManager

    unscoped = []
    for model, field in _relations_to_organization():
        label = f"{model._meta.label}.{field.name}"
        if model._meta.label == "accounts.User":
            if not isinstance(model._default_manager, UserManager):
                unscoped.append(label)
            continue
        scoped = (
            issubclass(model, TenantModel)
            and field.name == "organization"
            and isinstance(model._default_manager, TenantManager)
            and not isinstance(getattr(model, "all_tenants", None), TenantManager | None)
        )
        if isinstance(field, models.OneToOneField):
            scoped = scoped and issubclass(model, TenantSettingsModel)
        if not scoped:
            unscoped.append(label)
    assert unscoped == [], f"relations to Organization without tenant scoping: {unscoped}"


def test_a_settings_row_is_found_only_for_the_active_organization(org, other_org):
    from portico.accounts.models import AccessPolicy, access_policy_of
    from portico.billing.models import BillingSettings
    from portico.billing.services import billing_settings
    from portico.core.tenancy import for_tenant
    from portico.portal.models import PortalPreferences, preferences_of

    theirs = [access_policy_of(other_org), billing_settings(other_org), preferences_of(other_org)]
    with for_tenant(org):
        for row in theirs:
            assert not type(row).objects.filter(pk=row.pk).exists()
        assert {type(row) for row in theirs} == {AccessPolicy, BillingSettings, PortalPreferences}
        # reached through the organization, another's settings row is still its own
        assert access_policy_of(other_org).pk == theirs[0].pk
