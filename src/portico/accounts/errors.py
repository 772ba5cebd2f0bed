"""Domain errors of accounts: their message is fit to show the customer as is."""

from django.utils.translation import gettext_lazy as _


class AccessError(Exception):
    message = _("This change is not possible.")

    def __init__(self, message=None):
        if message is not None:
            self.message = message
        super().__init__(str(self.message))


class InvitationInvalid(AccessError):
    """The link is unknown, used, revoked or expired; `status` says which."""

    def __init__(self, status: str, message):
        self.status = status
        super().__init__(message)


class NoEmailAddress(AccessError):
    message = _("This contact person has no email address to invite.")


class EmailTaken(AccessError):
    message = _("Another login of this business already uses that email address.")


class LastAdmin(AccessError):
    message = _("Your company needs at least one portal admin with access; make someone else admin first.")


class OwnAccess(AccessError):
    message = _("You cannot change your own portal access or role; ask another portal admin.")
