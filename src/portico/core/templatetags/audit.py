from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

# Wording for events whose code does not read well on its own; the rest are humanized from the code.
LABELS = {
    "login.succeeded": _("Signed in"),
    "login.failed": _("Sign-in failed"),
    "login.locked": _("Sign-in locked after repeated failures"),
    "logout": _("Signed out"),
    "session.ended_others": _("Signed out other sessions"),
    "payment_attempt.declined": _("Card payment declined"),
    "payment_attempt.expired": _("Card payment not completed (nothing was charged)"),
    "payment_attempt.reconciled": _("Card payment booked after an interruption"),
}


@register.filter
def action_label(action: str) -> str:
    """`invoice.finalized` → "Invoice finalized"."""
    if action in LABELS:
        return LABELS[action]
    words = action.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]
