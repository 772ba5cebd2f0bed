"""The organization's portal settings: what its customers may see and do in the portal. What there
is to choose is declared by the apps (`portal.capabilities`); a change is validated against that
declaration by the service the console's page uses (`portal.services.set_portal_preferences`)."""

from __future__ import annotations

from typing import Literal

from ninja import Field, Router, Schema

from portico.api.errors import InvalidPortalSettings
from portico.api.resources import actor, responses
from portico.portal import services
from portico.portal.capabilities import registry
from portico.portal.models import PortalConfiguration, preferences_of

router = Router(tags=["portal_settings"])


class CapabilityOut(Schema):
    key: str = Field(..., description='"module.action"')
    module: str
    action: str
    label: str
    default: bool = Field(..., description="On unless switched off (else off unless switched on).")
    switchable: bool
    is_on: bool = Field(..., description="Customers may use it now (its module's view included).")


class PortalSettingsOut(Schema):
    object: Literal["portal_settings"] = "portal_settings"
    disabled: list[str] = Field(..., description='Switched off: "module" or "module.action".')
    enabled: list[str] = Field(..., description='Off by default and switched on: "module.action".')
    capabilities: list[CapabilityOut]


class PortalSettingsUpdate(Schema):
    """Only the lists sent change; each replaces the list as a whole."""

    disabled: list[str] = Field(None, max_length=200)
    enabled: list[str] = Field(None, max_length=200)


def settings_out(preferences: PortalConfiguration) -> dict:
    return {
        "object": "portal_settings",
        "disabled": list(preferences.disabled),
        "enabled": list(preferences.enabled),
        "capabilities": [
            {
                "key": capability.key,
                "module": capability.module,
                "action": capability.action,
                "label": str(capability.label),
                "default": capability.default,
                "switchable": capability.switchable,
                "is_on": preferences.allows(capability.module, capability.action),
            }
            for capability in registry()
        ],
    }


@router.get("", response=responses({200: PortalSettingsOut}), summary="Retrieve the portal settings")
def get_portal_settings(request):
    return settings_out(preferences_of(request.organization))


@router.post("", response=responses({200: PortalSettingsOut}), summary="Update the portal settings")
def update_portal_settings(request, payload: PortalSettingsUpdate):
    current = preferences_of(request.organization)
    sent = payload.model_dump(exclude_unset=True)
    for name, entries in sent.items():
        if entries is None:
            raise InvalidPortalSettings("Send a list (empty to clear it).", field=name)
        for n, entry in enumerate(entries):
            if len(entry) > 100:
                raise InvalidPortalSettings("This is not a portal capability.", field=f"{name}.{n}")
    try:
        preferences = services.set_portal_preferences(
            organization=request.organization,
            disabled=sent.get("disabled", list(current.disabled)),
            enabled=sent.get("enabled", list(current.enabled)),
            actor=actor(request),
        )
    except services.PortalPreferencesRefused as error:
        raise InvalidPortalSettings(error.message, field=error.field) from None
    return settings_out(preferences)
