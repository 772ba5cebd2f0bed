"""Domain errors of accounts: `DomainError`s (see `core/errors.py`) whose message is fit to show
the customer as is, with a stable `code` from `Code` below for the API."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.core.errors import DomainError


class Code(models.TextChoices):
    """The codes of accounts' errors."""

    ACCESS_REFUSED = "access_refused"
    INVITATION_INVALID = "invitation_invalid"
    NO_EMAIL_ADDRESS = "no_email_address"
    EMAIL_TAKEN = "email_taken"
    LAST_ADMIN = "last_admin"
    OWN_ACCESS = "own_access"
    NO_PORTAL_ACCESS = "no_portal_access"
    SSO_REFUSED = "sso_refused"


class AccessError(DomainError):
    code = Code.ACCESS_REFUSED


class InvitationInvalid(AccessError):
    """The link is unknown, used, revoked or expired; `status` says which."""

    code = Code.INVITATION_INVALID
    message = _("This invitation can no longer be used.")

    def __init__(self, status: str, message):
        self.status = status
        super().__init__(message)


class NoEmailAddress(AccessError):
    code = Code.NO_EMAIL_ADDRESS
    message = _("This contact person has no email address to invite.")


class EmailTaken(AccessError):
    code = Code.EMAIL_TAKEN
    message = _("Another login of this business already uses that email address.")


class LastAdmin(AccessError):
    code = Code.LAST_ADMIN
    message = _("Your company needs at least one portal admin with access; make someone else admin first.")


class OwnAccess(AccessError):
    code = Code.OWN_ACCESS
    message = _("You cannot change your own portal access or role; ask another portal admin.")


class NoPortalAccess(AccessError):
    code = Code.NO_PORTAL_ACCESS
    message = _("This contact has no portal access: turn it on or invite them first.")


class SsoRefused(AccessError):
    """A single sign-on connection or a customer's single sign-on rules cannot be saved as given."""

    code = Code.SSO_REFUSED
    message = _("These single sign-on settings cannot be saved.")
