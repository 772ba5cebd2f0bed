"""Changes to what an organization's customers may do in the portal."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from portico.core.audit import Actor, audit
from portico.portal.capabilities import registry
from portico.portal.models import PortalPreferences, preferences_of


class PortalPreferencesRefused(Exception):
    """The preferences name a capability no app declares (or one that cannot be switched off)."""

    code = "unknown_capability"
    field = "disabled"

    def __init__(self, problems: list):
        self.problems = problems
        self.message = " ".join(str(p) for p in problems) or str(_("These portal preferences are not valid."))
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def set_portal_preferences(*, organization, disabled: list, enabled: list, actor: Actor) -> PortalPreferences:
    """Record what the organization's customers may not (`disabled`) and may additionally (`enabled`)
    use; every entry must be a declared capability. A refusal writes nothing."""
    problems = registry().check_choices(disabled=disabled, enabled=enabled)
    if problems:
        raise PortalPreferencesRefused(problems)
    preferences_of(organization)  # there is always one row to lock
    with transaction.atomic():
        preferences = PortalPreferences.all_tenants.select_for_update().get(organization=organization)
        previous = {"disabled": preferences.disabled, "enabled": preferences.enabled}
        now = {"disabled": sorted(set(disabled)), "enabled": sorted(set(enabled))}
        if now == previous:
            return preferences
        preferences.disabled, preferences.enabled = now["disabled"], now["enabled"]
        preferences.save(update_fields=["disabled", "enabled"])
        audit(actor, "portal_preferences.changed", preferences, previous=previous, **now)
    organization.portal_preferences = preferences  # what the rest of this request reads
    return preferences
