"""The portal capabilities of accounts: the customer's own security, profile and contact persons."""

from django.utils.translation import gettext_lazy as _

from portico.core.capabilities import Capability
from portico.customers.models import PortalRole

PORTAL_CAPABILITIES = [
    # Every portal user keeps their own sign-in security (password, second factors, sessions).
    Capability("security", "view", _("Security: own sign-in, sessions and activity"), switchable=False),
    Capability("profile", "view", _("Profile: see it")),
    Capability("profile", "change", _("Profile: change own details and email")),
    Capability("profile", "company", _("Profile: change the company's details"), roles=(PortalRole.ADMIN,)),
    Capability(
        "profile",
        "addresses",
        _("Profile: change the company's billing and shipping addresses (on its details page)"),
        roles=(PortalRole.ADMIN,),
    ),
    Capability("contacts", "view", _("Contacts: see contact persons and logins"), roles=(PortalRole.ADMIN,)),
    Capability(
        "contacts", "change", _("Contacts: add people, invite them, set roles"), roles=(PortalRole.ADMIN,)
    ),
]
