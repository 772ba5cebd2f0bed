from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

# Wording for events whose code does not read well on its own; the rest are humanized from the code.
LABELS = {
    "login.succeeded": _("Signed in"),
    "sso.contact.created": _("Joined the portal through single sign-on"),
    "login.failed": _("Sign-in failed"),
    "login.locked": _("Sign-in locked after repeated failures"),
    "logout": _("Signed out"),
    "session.ended_others": _("Signed out other sessions"),
    "payment_attempt.declined": _("Card payment declined"),
    "payment_attempt.expired": _("Card payment not completed (nothing was charged)"),
    "payment_attempt.reconciled": _("Card payment booked after an interruption"),
    "credit.applied": _("Credit applied to an invoice"),
    "payment.recorded": _("Payment received"),
    "payment.allocated": _("Payment applied to an invoice"),
    "statement_export.ready": _("Statement PDF prepared"),
    "session.ended": _("Signed out a session"),
    "mfa.totp.enabled": _("Authenticator app turned on"),
    "mfa.totp.disabled": _("Authenticator app turned off"),
    "mfa.passkey.enabled": _("Passkey added"),
    "mfa.passkey.disabled": _("Passkey removed"),
    "mfa.recovery_codes.enabled": _("Recovery codes created"),
    "mfa.recovery_codes.disabled": _("Recovery codes removed"),
    "mfa.recovery_codes.regenerated": _("New recovery codes made"),
    "mfa.code_failed": _("Wrong two-factor code entered"),
}


@register.filter
def action_label(action: str) -> str:
    """`invoice.finalized` → "Invoice finalized"."""
    if action in LABELS:
        return LABELS[action]
    words = action.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]
