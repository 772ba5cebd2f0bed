"""What a customer may see and do in the portal, declared by the app that owns it.

Each app lists its portal capabilities once, in `<app>/capabilities.py`:

    PORTAL_CAPABILITIES = [
        Capability("invoices", "view", _("See invoices")),
        Capability("invoices", "pay", _("Pay invoices online"), roles=(PortalRole.BILLING, PortalRole.ADMIN)),
    ]

The portal collects them (`portal/capabilities.py`): the organization's portal preferences are
validated against them and every portal view's gate names one. The declaration lives here, below
every app, because the apps declare and the portal (above them all) reads; an app never imports
the portal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capability:
    """One module's action. `view` is what shows the module at all; other actions are what customers
    may do there, and need the module's `view` too.

    - `default`: on for an organization that has not chosen (False: off until the business enables it).
    - `roles`: the portal roles that may use it; None for every role.
    - `switchable`: False for what every portal user must keep (their overview, their own security).
    """

    module: str
    action: str
    label: str
    default: bool = True
    roles: tuple[str, ...] | None = None
    switchable: bool = True

    @property
    def key(self) -> str:
        return f"{self.module}.{self.action}"

    def allows_role(self, role: str) -> bool:
        return self.roles is None or role in self.roles
