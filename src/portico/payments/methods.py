"""A customer's saved payment methods: save, make default, remove, replace; and auto-charge.

What we keep of a card is what the gateway hands back (`PaymentMethod`: token, brand, last 4,
expiry, holder name, country, fingerprint), never the number or the security code.

Rules:
- a customer has at most one default among their active methods (the constraint
  `payment_method_one_default`); every change of the default locks the customer row first, so two
  tabs changing it at once are serialized, and the old default is cleared before the new one is set;
- the first method saved becomes the default; a card saved again (same fingerprint) updates the
  method already saved instead of adding a second one;
- a method may not be removed while something depends on it (`register_method_dependency`): here,
  the customer's automatic payments when it is their only method. Removing the default promotes
  `new_default` or the most recent other method;
- a card is detached at the gateway only after our rows are committed (`transaction.on_commit`):
  a rolled-back removal leaves the card usable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portico.core import clock
from portico.core.audit import Actor, audit
from portico.core.errors import DomainError
from portico.customers.models import Customer
from portico.payments.errors import Code
from portico.payments.gateways import CardDetails, Gateway, SetupSession, gateway_for, online_gateway
from portico.payments.models import AutoCharge, PaymentMethod

log = logging.getLogger(__name__)


class MethodNotFound(DomainError):
    """Not an active method of this customer (another customer's, removed, made up): views answer 404."""

    code = Code.METHOD_NOT_FOUND
    field = "method"
    message = _lazy("This payment method was not found.")


class MethodInUse(DomainError):
    """The method may not be removed: `message` says why and what to do."""

    code = Code.METHOD_IN_USE
    field = "method"
    message = _lazy("This payment method is in use and cannot be removed.")


class MethodRefused(DomainError):
    """A card we will not save (expired, no card entered, no online gateway); nothing was saved."""

    code = Code.METHOD_REFUSED
    field = "number"
    message = _lazy("This card cannot be saved.")


# -- what depends on a method ------------------------------------------------------------------------

_dependencies: list[Callable[[PaymentMethod], str | None]] = []


def register_method_dependency(fn: Callable[[PaymentMethod], str | None]):
    """Register `fn(method) -> reason | None`: a reason the method may not be removed (shown to the
    customer), unless another method takes over (`remove_method(new_default=…)`). Called with the
    customer row locked. Usable as a decorator."""
    if fn not in _dependencies:
        _dependencies.append(fn)
    return fn


def _reasons_to_keep(method: PaymentMethod) -> list[str]:
    return [str(reason) for reason in (fn(method) for fn in _dependencies) if reason]


@register_method_dependency
def _needed_for_auto_charge(method: PaymentMethod) -> str | None:
    if not auto_charge_enabled(method.customer):
        return None
    if active_methods(method.customer).exclude(pk=method.pk).exists():
        return None
    return _(
        "Automatic payments are on for your account; add another card or turn automatic payments off "
        "before removing this one."
    )


# -- reading ------------------------------------------------------------------------------------------


def active_methods(customer: Customer):
    """The customer's saved methods, the default first, then the most recent."""
    return PaymentMethod.all_tenants.filter(
        organization_id=customer.organization_id, customer=customer, status=PaymentMethod.Status.ACTIVE
    ).order_by("-is_default", "-created_at", "-id")


def default_method(customer: Customer) -> PaymentMethod | None:
    return active_methods(customer).filter(is_default=True).first()


def get_method_for(customer: Customer, method_id) -> PaymentMethod:
    """One of the customer's active methods by id, from a URL or a form; anything else is not found."""
    try:
        pk = int(str(method_id).strip())
    except (TypeError, ValueError):
        raise MethodNotFound() from None
    if not 0 < pk < 2**63:
        raise MethodNotFound()
    method = active_methods(customer).filter(pk=pk).first()
    if method is None:
        raise MethodNotFound()
    return method


# -- saving -------------------------------------------------------------------------------------------


def _gateway(organization, gateway: Gateway | None) -> Gateway:
    gateway = gateway or online_gateway(organization)
    if gateway is None or not gateway.online:
        raise MethodRefused(_("Cards cannot be saved for this account: payments are made by bank transfer."))
    return gateway


def start_setup(
    *, organization, customer: Customer, actor: Actor, gateway: Gateway | None = None
) -> SetupSession:
    """Begin collecting a card to save: what the add-card page needs (Stripe's SetupIntent)."""
    _require_own(organization, customer)
    gateway = _gateway(organization, gateway)
    session = gateway.start_setup(customer_reference=gateway.customer_reference(customer))
    audit(actor, "payment_method.setup_started", customer, gateway=gateway.name)
    return session


def save_method(
    *,
    organization,
    customer: Customer,
    actor: Actor,
    token: str = "",
    setup_reference: str = "",
    card: CardDetails | None = None,
    make_default: bool | None = None,
    replaces: PaymentMethod | None = None,
    gateway: Gateway | None = None,
) -> PaymentMethod:
    """Save a card for the customer: a typed card (gateways that tokenize on our server), a token, or
    a setup the browser completed. The gateway attaches it (and may decline it); then, under the
    customer's lock, it becomes a method — the default if it is the first, if `make_default`, or if
    it replaces the default. The same card saved again updates the method already saved."""
    _require_own(organization, customer)
    gateway = _gateway(organization, gateway)
    if replaces is not None:
        replaces = get_method_for(customer, replaces.pk)
    if card is not None:
        if not gateway.tokenizes_on_server:
            raise MethodRefused(_("Enter your card in the secure card field."))
        token = gateway.tokenize(card).token  # refuses what cannot be a card (CardError)
    if not token and not setup_reference:
        raise MethodRefused(_("Enter a card to save."))
    details = gateway.attach(
        customer_reference=gateway.customer_reference(customer), token=token, setup_reference=setup_reference
    )  # a declined card raises (CardDeclined) and nothing is saved
    today = clock.today(organization.time_zone)
    if (details.exp_year, details.exp_month) < (today.year, today.month):
        _detach_quietly(gateway, details.token)
        raise MethodRefused(_("This card has expired. Please use another card."), field="exp_year")

    try:
        with transaction.atomic():
            method = _save_locked(customer, details, gateway, actor, make_default, replaces)
    except IntegrityError:
        # The same token saved by a concurrent request: it holds the method.
        method = PaymentMethod.all_tenants.filter(
            organization_id=customer.organization_id, gateway=gateway.name, token=details.token
        ).first()
        if method is None or method.customer_id != customer.pk:
            raise
    return method


def _save_locked(customer, details, gateway, actor, make_default, replaces) -> PaymentMethod:
    _lock_customer(customer)
    now = clock.now()
    if replaces is not None:
        replaces = _locked_active(customer, replaces.pk)
    active = active_methods(customer)
    same = active.filter(gateway=gateway.name, token=details.token).first()
    if same is None and details.fingerprint:
        same = active.filter(gateway=gateway.name, fingerprint=details.fingerprint).first()
    current_default = active.filter(is_default=True).first()
    becomes_default = (
        make_default is True
        or current_default is None
        or (replaces is not None and replaces.is_default)
        or (same is not None and same.is_default)
    )

    if same is not None:  # the same card again (a new expiry, a second tab): update, don't duplicate
        old_token = same.token
        fields = {
            "token": details.token,
            "brand": details.brand,
            "last4": details.last4,
            "exp_month": details.exp_month,
            "exp_year": details.exp_year,
            "holder_name": details.holder_name or same.holder_name,
            "country": details.country or same.country,
            "expiry_notice_for": same.expiry_notice_for
            if (same.exp_month, same.exp_year) == (details.exp_month, details.exp_year)
            else "",
        }
        for name, value in fields.items():
            setattr(same, name, value)
        same.save(update_fields=list(fields))
        method = same
        if old_token != details.token:
            _detach_on_commit(gateway, old_token)
        audit(actor, "payment_method.saved", method, label=method.label, again=True)
    else:
        method = PaymentMethod.all_tenants.create(
            organization_id=customer.organization_id,
            customer=customer,
            gateway=gateway.name,
            token=details.token,
            brand=details.brand,
            last4=details.last4,
            exp_month=details.exp_month,
            exp_year=details.exp_year,
            holder_name=details.holder_name,
            country=details.country,
            fingerprint=details.fingerprint,
            is_default=False,
            replaces=replaces,
            created_by=actor.user if getattr(actor.user, "pk", None) else None,
            created_at=now,
        )
        audit(actor, "payment_method.saved", method, label=method.label, default=becomes_default)

    if replaces is not None and replaces.pk != method.pk:
        _mark_removed(replaces, now)
        _detach_on_commit(gateway_for(customer.organization, replaces.gateway), replaces.token)
        audit(actor, "payment_method.replaced", replaces, label=replaces.label, replaced_by=method.label)
    if becomes_default and not method.is_default:
        _set_default(customer, method)
        if current_default is not None and current_default.pk != method.pk and current_default != replaces:
            audit(
                actor,
                "payment_method.made_default",
                method,
                label=method.label,
                previous=current_default.label,
            )
    method.refresh_from_db()
    return method


# -- the default, and removing ---------------------------------------------------------------------


def make_default(*, method: PaymentMethod, actor: Actor) -> PaymentMethod:
    """Make one of the customer's active methods their default (the others stop being it)."""
    customer = method.customer
    with transaction.atomic():
        _lock_customer(customer)
        method = _locked_active(customer, method.pk)
        if method.is_default:
            return method
        previous = default_method(customer)
        _set_default(customer, method)
        audit(
            actor,
            "payment_method.made_default",
            method,
            label=method.label,
            previous=previous.label if previous is not None else "",
        )
    method.refresh_from_db()
    return method


def remove_method(*, method: PaymentMethod, actor: Actor, new_default: PaymentMethod | None = None) -> None:
    """Remove a saved method and detach it at the gateway. Refused (MethodInUse) while something
    depends on it, unless `new_default` (another of the customer's methods) takes over; `new_default`
    becomes the default, and otherwise removing the default promotes the most recent method left."""
    customer = method.customer
    gateway_name = method.gateway
    with transaction.atomic():
        _lock_customer(customer)
        locked = PaymentMethod.all_tenants.select_for_update().filter(pk=method.pk, customer=customer).first()
        if locked is None:
            raise MethodNotFound()
        if locked.status != PaymentMethod.Status.ACTIVE:
            return  # removed already (a double click): nothing more to do
        method = locked
        if new_default is not None:
            if new_default.pk == method.pk:
                raise MethodNotFound(field="new_default")
            new_default = _locked_active(customer, new_default.pk, field="new_default")
        reasons = _reasons_to_keep(method)
        if reasons and new_default is None:
            raise MethodInUse(reasons[0])
        was_default = method.is_default
        _mark_removed(method, clock.now())
        audit(actor, "payment_method.removed", method, label=method.label)
        successor = new_default
        if successor is None and was_default:
            successor = active_methods(customer).first()
        if successor is not None and not successor.is_default:
            _set_default(customer, successor)
            audit(
                actor,
                "payment_method.made_default",
                successor,
                label=successor.label,
                previous=method.label,
                because="removed",
            )
        _detach_on_commit(gateway_for(customer.organization, gateway_name), method.token)


# -- automatic payments --------------------------------------------------------------------------------


def auto_charge_enabled(customer: Customer) -> bool:
    return AutoCharge.all_tenants.filter(customer=customer, enabled=True).exists()


def set_auto_charge(*, customer: Customer, enabled: bool, actor: Actor) -> AutoCharge:
    """Turn automatic payments on (needs a saved default method) or off."""
    with transaction.atomic():
        _lock_customer(customer)
        if enabled and default_method(customer) is None:
            raise MethodRefused(
                _("Save a card first: automatic payments are charged to your default card."),
                field="auto_charge",
            )
        choice, _created = AutoCharge.all_tenants.select_for_update().get_or_create(
            customer=customer,
            defaults={
                "organization_id": customer.organization_id,
                "enabled": False,
                "updated_at": clock.now(),
            },
        )
        if choice.enabled != enabled:
            choice.enabled = enabled
            choice.updated_at = clock.now()
            choice.save(update_fields=["enabled", "updated_at"])
            audit(actor, "auto_charge.enabled" if enabled else "auto_charge.disabled", customer)
    return choice


# -- internals ----------------------------------------------------------------------------------------


def _require_own(organization, customer: Customer) -> None:
    if organization is None or customer.organization_id != organization.pk:
        raise MethodNotFound(field=None)


def _lock_customer(customer: Customer) -> Customer:
    """The customer row: every change of a customer's methods holds it (the ledger's lock order starts
    with it too), so two changes of the default are one after the other."""
    return Customer.all_tenants.select_for_update(of=("self",)).get(pk=customer.pk)


def _locked_active(customer: Customer, pk, field: str | None = "method") -> PaymentMethod:
    method = (
        PaymentMethod.all_tenants.select_for_update()
        .filter(pk=pk, customer=customer, status=PaymentMethod.Status.ACTIVE)
        .first()
    )
    if method is None:
        raise MethodNotFound(field=field)
    return method


def _set_default(customer: Customer, method: PaymentMethod) -> None:
    # The old default first: the one-default constraint is checked per statement.
    PaymentMethod.all_tenants.filter(
        customer=customer, status=PaymentMethod.Status.ACTIVE, is_default=True
    ).exclude(pk=method.pk).update(is_default=False)
    PaymentMethod.all_tenants.filter(pk=method.pk).update(is_default=True)
    method.is_default = True


def _mark_removed(method: PaymentMethod, now) -> None:
    PaymentMethod.all_tenants.filter(pk=method.pk).update(
        status=PaymentMethod.Status.REMOVED, is_default=False, removed_at=now
    )
    method.status, method.is_default, method.removed_at = PaymentMethod.Status.REMOVED, False, now


def _detach_on_commit(gateway: Gateway, token: str) -> None:
    transaction.on_commit(lambda: _detach_quietly(gateway, token))


def _detach_quietly(gateway: Gateway, token: str) -> None:
    """Forget the card at the gateway; a failure leaves an orphan card there, never an error here."""
    try:
        gateway.detach(token=token)
    except Exception:
        log.exception("could not detach a %s payment method at the gateway", gateway.name)
