"""Structural guard: every model related to an organization is scoped like tenant data.

Every relation to `core.Organization` — a foreign key or a one-to-one, on any installed model,
per-organization settings included — must sit on a model whose default manager is the tenant
manager (`TenantModel`, or `TenantSettingsModel` for one row per organization), with the unscoped
`all_tenants` beside it. The one exception is the user model, which has its own scoped manager
(platform superusers have no organization). A second relation to the organization on a tenant
model (a portal configuration's `default_of`) counts as scoped only when a check constraint holds
it equal to the row's own `organization`.
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
    assert ("portal.PortalConfiguration", models.OneToOneField) in seen  # its `default_of`
    assert ("billing.BillingSettings", models.OneToOneField) in seen


def _held_to_its_organization(model, field) -> bool:
    """A check constraint says `field` is null or the row's own organization."""
    for constraint in model._meta.constraints:
        condition = getattr(constraint, "condition", None)
        if isinstance(constraint, models.CheckConstraint) and condition is not None:
            children = [c for child in condition.children for c in getattr(child, "children", [child])]
            if (field.name, models.F("organization")) in children:
                return True
    return False


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
            and (field.name == "organization" or _held_to_its_organization(model, field))
            and isinstance(model._default_manager, TenantManager)
            and not isinstance(getattr(model, "all_tenants", None), TenantManager | None)
        )
        if isinstance(field, models.OneToOneField) and field.name == "organization":
            scoped = scoped and issubclass(model, TenantSettingsModel)
        if not scoped:
            unscoped.append(label)
    assert unscoped == [], f"relations to Organization without tenant scoping: {unscoped}"


def test_a_settings_row_is_found_only_for_the_active_organization(org, other_org):
    from portico.accounts.models import AccessPolicy, access_policy_of
    from portico.billing.models import BillingSettings
    from portico.billing.services import billing_settings
    from portico.core.tenancy import for_tenant
    from portico.portal.models import PortalConfiguration, preferences_of

    theirs = [access_policy_of(other_org), billing_settings(other_org), preferences_of(other_org)]
    with for_tenant(org):
        for row in theirs:
            assert not type(row).objects.filter(pk=row.pk).exists()
        assert {type(row) for row in theirs} == {AccessPolicy, BillingSettings, PortalConfiguration}
        # reached through the organization, another's settings row is still its own
        assert access_policy_of(other_org).pk == theirs[0].pk
