"""The portal capabilities of subscriptions: seeing them, and each self-service action on its own,
so a business (or one of its portal configurations) switches off exactly the actions it does not
offer. The pages are gated by the two groups, "change" and "cancel" (both for billing and admin
people); each action is then checked on its own (`portal.subscription_views`)."""

from django.utils.translation import gettext_lazy as _

from portico.core.capabilities import Capability
from portico.customers.models import PortalRole

PAYERS = (PortalRole.BILLING, PortalRole.ADMIN)

ACTION_LABELS = {
    "change_plan": _("Subscriptions: change plan"),
    "change_quantity": _("Subscriptions: change quantity"),
    "add_addon": _("Subscriptions: add add-ons"),
    "remove_addon": _("Subscriptions: remove add-ons"),
    "redeem_coupon": _("Subscriptions: redeem a coupon"),
    "pause": _("Subscriptions: pause"),
    "resume": _("Subscriptions: resume"),
    "undo_cancel": _("Subscriptions: undo a scheduled cancellation"),
    "reactivate": _("Subscriptions: reactivate a cancelled one"),
    "auto_charge": _("Subscriptions: switch automatic charging on or off"),
    "convert_trial": _("Subscriptions: end a trial and start paying"),
    "extend_trial": _("Subscriptions: extend a trial"),
    "cancel_trial": _("Subscriptions: cancel a trial"),
}

PORTAL_CAPABILITIES = [
    Capability("subscriptions", "view", _("Subscriptions: see them")),
    Capability("subscriptions", "change", _("Subscriptions: change them (the actions below)"), roles=PAYERS),
    Capability("subscriptions", "cancel", _("Subscriptions: cancel"), roles=PAYERS),
    *(Capability("subscriptions", action, label, roles=PAYERS) for action, label in ACTION_LABELS.items()),
]
