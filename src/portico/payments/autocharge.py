"""Charging automatically (issue 10, item 4): an invoice charged to the customer's default saved
method, off-session, with nobody at the keyboard.

`charge_automatically` is a checkout like the portal's (`services._checkout`): the same row locks,
the same reservation committed before the gateway is called, the same attempt whose id makes the
idempotency key, the same booking. So two calls at once for one invoice charge once: the second
finds the balance reserved by the first and returns None, quietly. A charge that succeeds books the
payment and its allocation; the receipt leaves as for any card payment (`notifications.receipts`,
on `billing.signals.payment_recorded`). A decline is recorded on the attempt and the customer's
billing contacts are emailed the reason, with links to update their card and to pay the invoice.

Issued invoices to be charged automatically — of customers who turned AutoCharge on, or issued so
(a subscription that auto-charges: `billing.services.IssueDraft.auto_charge`) — are charged by the
worker: the outbox consumer below receives the `invoice.finalized` events that say `auto_charge`
(the others get no delivery). Each outcome is handed to the registered handlers (subscriptions'
dunning).
Dunning's retries call `charge_automatically` themselves, keyed per attempt.
"""

from __future__ import annotations

import logging

from portico.billing.models import Invoice
from portico.core import clock, outbox, tenancy
from portico.core.audit import Actor, audit
from portico.core.errors import DomainError
from portico.core.money import Money
from portico.payments import services
from portico.payments.errors import Code
from portico.payments.gateways import gateway_for
from portico.payments.methods import auto_charge_enabled, default_method
from portico.payments.models import AutoCharge, PaymentAttempt, new_form_token
from portico.payments.notices import send_payment_failed

log = logging.getLogger(__name__)

ACTOR = Actor.system("automatic charge")


class NothingToCharge(services.PaymentRefused):
    """Under the locks, nothing of the invoice is free to charge (paid, or reserved by another attempt)."""

    code = Code.NOTHING_TO_CHARGE


def charge_automatically(invoice: Invoice, *, actor: Actor | None = None, key: str | None = None):
    """Charge what is due on `invoice` to its customer's default method, off-session.

    Returns the `PayOutcome` (succeeded, declined, or pending when the gateway is still processing),
    or None when nothing was charged: the invoice is not open or has nothing free to pay (paid, or
    reserved by a charge in progress), or the customer has no usable default method. `key` makes the
    call idempotent (an outbox event's id): the same key again returns the first outcome, repeated."""
    actor = actor or ACTOR
    organization = invoice.organization
    with tenancy.tenant(organization):
        invoice = Invoice.objects.select_related("customer").get(pk=invoice.pk)
        customer = invoice.customer
        form_token = f"auto:{key}" if key else f"auto:{new_form_token()}"
        if key:
            earlier = services.earlier_attempt(
                organization=organization, customer=customer, form_token=form_token
            )
            if earlier is not None:
                return earlier
        if not invoice.is_outstanding:
            return None
        method = default_method(customer)
        if method is None or method.is_expired(clock.today(organization.time_zone)):
            reason = "no default method" if method is None else "default method expired"
            audit(actor, "invoice.auto_charge_skipped", invoice, number=invoice.number, reason=reason)
            log.info("invoice %s not charged automatically: %s", invoice.number, reason)
            return None
        if not gateway_for(organization, method.gateway).online:
            return None
        try:
            source = services.payment_source(organization=organization, customer=customer, method=method)
            outcome = services._checkout(
                organization=organization,
                customer=customer,
                form_token=form_token,
                actor=actor,
                source=source,
                invoices=[invoice],
                plan=_all_that_is_free,
                save_method=False,
                off_session=True,
            )
        except DomainError as refusal:  # paid meanwhile, reserved by a concurrent charge, method gone
            log.info("invoice %s not charged automatically: %s", invoice.number, refusal.code)
            _settled(invoice, None)  # the handlers may watch a charge still in flight
            return None
        if outcome.repeated:
            return outcome
        if outcome.attempt.status == PaymentAttempt.Status.DECLINED:
            send_payment_failed(outcome.attempt, invoice)
        _settled(invoice, outcome)
        return outcome


def _all_that_is_free(locked: list[Invoice], reserved: dict[int, int]):
    """The plan of an automatic charge: the whole of what is free of the one invoice, or refuse."""
    [invoice] = locked
    available = services.available_to_pay(invoice, reserved)
    if not invoice.is_outstanding or available.minor <= 0:
        raise NothingToCharge()
    return [(invoice, available)], Money(available.minor, invoice.currency)


@outbox.consumer(
    "invoice.finalized", name="payments.auto_charge", wants=lambda payload: bool(payload.get("auto_charge"))
)
def charge_issued_invoice(event) -> None:
    """An invoice to be charged automatically was issued (its customer has AutoCharge on, or its
    issuer asked: a subscription that auto-charges). The event's id is the charge's key, the one
    the issuer's own immediate charge uses too: a redelivered event, or both, charge once."""
    invoice = Invoice.objects.filter(pk=event.payload["id"]).select_related("customer").first()
    if invoice is None:
        return
    # An event written before events said so (every invoice then got a delivery): charge only what
    # was charged then, the invoices of customers who turned AutoCharge on.
    if "auto_charge" not in event.payload and not auto_charge_enabled(invoice.customer):
        return
    charge_automatically(invoice, key=f"invoice.finalized:{event.pk}")


def auto_charging(organization, customer_ids) -> set[int]:
    """The customers of `customer_ids` who turned AutoCharge on (`billing`'s lookup, registered in
    `apps.ready`)."""
    return set(
        AutoCharge.all_tenants.filter(
            organization=organization, customer_id__any=customer_ids, enabled=True
        ).values_list("customer_id", flat=True)
    )


# Who hears how an automatic charge came back (subscriptions: a decline starts dunning, a charge
# still processing is watched); registered in their `apps.ready` (they sit above payments).
_outcome_handlers: list = []


def register_outcome_handler(handler) -> None:
    """`handler(invoice, outcome)`: called after each automatic charge of `invoice` that was
    attempted (succeeded, declined or still processing; not a repeat of an earlier one), and with
    `outcome` None when nothing was free to charge (paid meanwhile, or held by a charge in flight)."""
    if handler not in _outcome_handlers:
        _outcome_handlers.append(handler)


def _settled(invoice: Invoice, outcome) -> None:
    for handler in _outcome_handlers:
        try:
            handler(invoice, outcome)
        except Exception:  # one handler's failure neither hides the outcome nor stops the others
            log.exception("charge outcome handler %s failed for invoice %s", handler, invoice.number)
