"""The customers app's email (`core.email_kinds`): a notice to the business's own staff."""

from django.utils.translation import gettext_lazy as _

from portico.core.email_kinds import STAFF, EmailKind

EMAIL_KINDS = [
    EmailKind(
        "customers/change_notice",
        _("Customer changed details (to your staff)"),
        _("Tells your staff what a customer changed in the portal (company details, a sign-in email)."),
        audience=STAFF,
        switchable=False,
        why_always=_("Sent to your staff, not to customers."),
    ),
]
