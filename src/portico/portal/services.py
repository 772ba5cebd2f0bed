"""Changes to what an organization's customers may do in the portal: its configurations (one the
default, more for chosen customers) and which customer uses which. Each change is audited; a
refusal writes nothing."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from portico.core.audit import Actor, audit
from portico.portal.capabilities import registry
from portico.portal.errors import Code, PortalPreferencesRefused
from portico.portal.models import CustomerPortalConfiguration, PortalConfiguration, preferences_of

NAME_LIMIT = PortalConfiguration._meta.get_field("name").max_length


def _checked_lists(disabled, enabled) -> dict:
    problems = registry().check_choices(disabled=disabled, enabled=enabled)
    if problems:
        raise PortalPreferencesRefused(problems)
    return {"disabled": sorted(set(disabled)), "enabled": sorted(set(enabled))}


def _checked_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise PortalPreferencesRefused(
            [_("Give the configuration a name.")], code=Code.PORTAL_CONFIGURATION_NAME_REQUIRED, field="name"
        )
    if len(name) > NAME_LIMIT:
        raise PortalPreferencesRefused(
            [_("A configuration's name has at most %(limit)d characters.") % {"limit": NAME_LIMIT}],
            code=Code.PORTAL_CONFIGURATION_NAME_TOO_LONG,
            field="name",
        )
    return name


def _name_taken(name: str) -> PortalPreferencesRefused:
    return PortalPreferencesRefused(
        [_('Another configuration is already called "%(name)s".') % {"name": name}],
        code=Code.PORTAL_CONFIGURATION_NAME_TAKEN,
        field="name",
    )


def set_portal_preferences(
    *, organization, disabled: list, enabled: list, actor: Actor
) -> PortalConfiguration:
    """Record what the customers of the organization's default configuration may not (`disabled`)
    and may additionally (`enabled`) use; every entry must be a declared capability."""
    default = preferences_of(organization)  # there is always one row to lock
    saved = update_portal_configuration(
        configuration=default, name=default.name, disabled=disabled, enabled=enabled, actor=actor
    )
    organization.portal_preferences = saved  # what the rest of this request reads
    return saved


def create_portal_configuration(*, organization, name, disabled: list, enabled: list, actor: Actor):
    now = {"name": _checked_name(name), **_checked_lists(disabled, enabled)}
    preferences_of(organization)  # the default exists before any other: the first is the default
    try:
        with transaction.atomic():
            configuration = PortalConfiguration.all_tenants.create(organization=organization, **now)
            audit(actor, "portal_configuration.created", configuration, **now)
    except IntegrityError:
        raise _name_taken(now["name"]) from None
    return configuration


def update_portal_configuration(*, configuration, name, disabled: list, enabled: list, actor: Actor):
    now = {"name": _checked_name(name), **_checked_lists(disabled, enabled)}
    try:
        with transaction.atomic():
            row = PortalConfiguration.all_tenants.select_for_update().get(pk=configuration.pk)
            previous = {"name": row.name, "disabled": row.disabled, "enabled": row.enabled}
            if now == previous:
                return row
            row.name, row.disabled, row.enabled = now["name"], now["disabled"], now["enabled"]
            row.save(update_fields=["name", "disabled", "enabled"])
            action = "portal_preferences.changed" if row.is_default else "portal_configuration.changed"
            audit(actor, action, row, previous=previous, **now)
    except IntegrityError:
        raise _name_taken(now["name"]) from None
    if row.is_default:
        row.organization.portal_preferences = row  # what the rest of this request reads
    return row


def make_default(*, configuration, actor: Actor) -> PortalConfiguration:
    """The configuration becomes the one every customer without a choice uses."""
    organization = configuration.organization
    with transaction.atomic():
        # lock order: the organization's configurations by primary key
        rows = list(
            PortalConfiguration.all_tenants.select_for_update()
            .filter(organization=organization)
            .order_by("pk")
        )
        chosen = next((r for r in rows if r.pk == configuration.pk), None)
        if chosen is None:
            raise PortalPreferencesRefused(
                [_("This configuration no longer exists.")],
                code=Code.PORTAL_CONFIGURATION_NOT_FOUND,
                field="configuration",
            )
        if chosen.is_default:
            return chosen
        previous = next((r for r in rows if r.is_default), None)
        if previous is not None:
            PortalConfiguration.all_tenants.filter(pk=previous.pk).update(default_of=None)
        PortalConfiguration.all_tenants.filter(pk=chosen.pk).update(default_of=organization)
        chosen.default_of = organization
        audit(
            actor, "portal_configuration.made_default", chosen, previous=previous.name if previous else None
        )
    organization.portal_preferences = chosen
    return chosen


def delete_portal_configuration(*, configuration, actor: Actor) -> int:
    """Delete a configuration that is not the default; its customers go back to the default.
    Returns how many customers had chosen it."""
    with transaction.atomic():
        row = PortalConfiguration.all_tenants.select_for_update().filter(pk=configuration.pk).first()
        if row is None:
            return 0
        if row.is_default:
            raise PortalPreferencesRefused(
                [_("The default configuration cannot be deleted; make another one the default first.")],
                code=Code.PORTAL_CONFIGURATION_DEFAULT_KEPT,
                field="configuration",
            )
        customers = row.choices.count()
        audit(actor, "portal_configuration.deleted", row, name=row.name, customers=customers)
        row.delete()
    return customers


def choose_portal_configuration(*, customer, configuration: PortalConfiguration | None, actor: Actor) -> None:
    """Give the customer this configuration (None, or the default: back to the default)."""
    organization = customer.organization
    if configuration is not None:  # as stored now (it may have become the default meanwhile)
        configuration = PortalConfiguration.all_tenants.filter(
            pk=configuration.pk, organization=organization
        ).first()
        if configuration is None:
            raise PortalPreferencesRefused(
                [_("Choose one of this organization's portal configurations.")],
                code=Code.PORTAL_CONFIGURATION_NOT_FOUND,
                field="configuration",
            )
        if configuration.is_default:
            configuration = None
    with transaction.atomic():
        current = (
            CustomerPortalConfiguration.all_tenants.select_for_update().filter(customer=customer).first()
        )
        was = current.configuration if current else None
        if (was.pk if was else None) == (configuration.pk if configuration else None):
            return
        if configuration is None:
            current.delete()
        else:
            CustomerPortalConfiguration.all_tenants.update_or_create(
                customer=customer, defaults={"organization": organization, "configuration": configuration}
            )
        audit(
            actor,
            "customer.portal_configuration_chosen",
            customer,
            previous=was.name if was else None,
            configuration=configuration.name if configuration else None,
        )
    customer._state.fields_cache.pop("portal_configuration_choice", None)  # the next read sees the choice
