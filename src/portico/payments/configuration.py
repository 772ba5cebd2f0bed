"""An organization's payment settings: which gateway, its Stripe keys, its bank-transfer instructions.

The keys are secrets: staff may replace them but never read them back (`mask` shows enough to
recognize one), the audit trail says which changed and never their values.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.core.audit import Actor, audit
from portico.core.errors import DomainError
from portico.payments.errors import Code
from portico.payments.gateways import payment_settings
from portico.payments.models import PaymentSettings

# field → the prefix Stripe's keys of that kind start with (test and live alike)
KEY_PREFIXES = {
    "stripe_publishable_key": "pk_",
    "stripe_secret_key": "sk_",
    "stripe_webhook_secret": "whsec_",
}
SECRET_FIELDS = tuple(KEY_PREFIXES)


class PaymentSettingsRefused(DomainError):
    code = Code.PAYMENT_SETTINGS_INVALID
    message = gettext_lazy("These payment settings cannot be saved.")


def mask(value: str) -> str:
    """`sk_test_51Hx…abcd` → `sk_test_…abcd`: the kind of key and its last four characters."""
    if not value:
        return ""
    parts = value.split("_")
    prefix = "_".join(parts[:2]) + "_" if len(parts) > 2 and parts[1] in ("test", "live") else parts[0] + "_"
    return f"{prefix}…{value[-4:]}"


def webhook_url(organization, gateway: str = "stripe") -> str:
    """The address the business gives its gateway for webhooks: on the platform host (the bare base
    domain), which keeps working whatever custom domain the organization's portal moves to."""
    scheme = "https" if settings.PORTICO_HTTPS else "http"
    port = settings.PORTICO_PUBLIC_PORT
    default_port = 443 if settings.PORTICO_HTTPS else 80
    suffix = f":{port}" if port and int(port) != default_port else ""
    return (
        f"{scheme}://{settings.PORTICO_BASE_DOMAIN}{suffix}/payments/webhooks/{gateway}/{organization.slug}/"
    )


def check_payment_settings(*, gateway: str, values: dict[str, str]) -> None:
    """Refuse keys of the wrong kind, and Stripe without the keys it needs. `values` are the keys as
    they will be stored (new ones typed, else the stored ones)."""
    if gateway not in ("", *PaymentSettings.Gateway.values):
        raise PaymentSettingsRefused(_("Choose a payment gateway."), field="gateway")
    for field, prefix in KEY_PREFIXES.items():
        value = values.get(field, "")
        if value and (not value.startswith(prefix) or any(c.isspace() for c in value)):
            label = PaymentSettings._meta.get_field(field).verbose_name
            raise PaymentSettingsRefused(
                _("The %(label)s starts with “%(prefix)s” (copy it from Stripe's dashboard, API keys).")
                % {"label": label, "prefix": prefix},
                field=field,
            )
    effective = gateway or settings.PAYMENT_GATEWAY
    if effective == "stripe":
        if not values.get("stripe_secret_key") and not settings.STRIPE_SECRET_KEY:
            raise PaymentSettingsRefused(
                _(
                    "To take payments through Stripe, enter your Stripe secret key (sk_…) and "
                    "publishable key (pk_…) from Stripe's dashboard."
                ),
                field="stripe_secret_key",
            )
        if values.get("stripe_secret_key") and not values.get("stripe_publishable_key"):
            raise PaymentSettingsRefused(
                _("Enter the Stripe publishable key (pk_…) too: the portal's card form needs it."),
                field="stripe_publishable_key",
            )


def update_payment_settings(
    *,
    organization,
    actor: Actor,
    gateway: str,
    offline_instructions: str,
    new_keys: dict[str, str] | None = None,
) -> PaymentSettings:
    """Save the organization's payment settings. `new_keys` holds only the keys typed anew (a key
    left blank keeps its stored value)."""
    new_keys = {field: value.strip() for field, value in (new_keys or {}).items() if value and value.strip()}
    unknown = set(new_keys) - set(SECRET_FIELDS)
    if unknown:
        raise ValueError(f"Not a key: {sorted(unknown)}")
    payment_settings(organization)  # there is always one row to lock
    with transaction.atomic():
        row = PaymentSettings.all_tenants.select_for_update().get(organization=organization)
        values = {field: new_keys.get(field, getattr(row, field)) for field in SECRET_FIELDS}
        check_payment_settings(gateway=gateway, values=values)
        changes: dict[str, object] = {}
        if row.gateway != gateway:
            changes["gateway"] = {"from": row.gateway or "default", "to": gateway or "default"}
        if row.offline_instructions != offline_instructions:
            changes["offline_instructions"] = "changed"
        for field in SECRET_FIELDS:
            if values[field] != getattr(row, field):
                changes[field] = "changed"  # never the value
        row.gateway = gateway
        row.offline_instructions = offline_instructions
        for field in SECRET_FIELDS:
            setattr(row, field, values[field])
        row.save()
        if changes:
            audit(actor, "payment_settings.changed", row, organization=organization, **changes)
    organization.payment_settings = row
    return row
