"""Refunds to the card: money of an online card payment sent back through the gateway that took it,
then booked as the ledger's refund (`billing.services.refund_payment`).

Steps, in this order (the shape of `payments.services`' charges):
1. Under the customer's and the payment's row locks, write a pending `CardRefund` for the amount:
   pending refunds count as taken, so two staff members (or two tabs) cannot refund the same money
   twice; the form's one-time token is unique, so the same submission twice finds the same row.
   The gateway's idempotency key (`refund:<payment id>:<row id>`) is stored with it. Commit.
2. Ask the gateway to refund, under that key (a retry refunds once: Stripe's idempotent requests).
3. Declined: mark the row failed, book nothing. Refunded: in one transaction, release what the
   refund needs of the payment's allocations (most recent invoice first; those invoices reopen),
   book the refund with the gateway's `re_…`, mark the row succeeded — once, under its row lock.

An unknown outcome (the gateway call raised, the process died) leaves the row pending: it holds its
amount, and submitting the same form again after `STALE_AFTER` asks the gateway again under the same
key, which answers what it did the first time.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.billing import services as ledger
from portico.billing.models import Payment, Refund
from portico.core import clock
from portico.core.audit import Actor, audit
from portico.core.errors import DomainError
from portico.core.money import Money
from portico.customers.models import Customer
from portico.payments.errors import Code
from portico.payments.gateways import gateway_for
from portico.payments.models import CardRefund
from portico.payments.services import STALE_AFTER


class RefundRefused(DomainError):
    code = Code.REFUND_REFUSED
    field = "amount"
    message = gettext_lazy("This payment cannot be refunded to the card.")


class RefundInProgress(RefundRefused):
    code = Code.REFUND_IN_PROGRESS
    field = None
    message = gettext_lazy(
        "This refund is already being processed. Reload the payment in a moment to see its outcome."
    )


def new_request_id() -> str:
    """The one-time token of a refund form (a double submission finds the same refund)."""
    return secrets.token_urlsafe(18)


def is_card_payment(payment: Payment) -> bool:
    """Paid online through a gateway that can send the money back to the card."""
    return bool(
        payment.channel == Payment.Channel.ONLINE
        and payment.gateway
        and payment.gateway != "offline"
        and payment.gateway_reference
    )


def _pending_minor(payment: Payment, *, excluding: int | None = None) -> int:
    rows = CardRefund.all_tenants.filter(payment_id=payment.pk, status=CardRefund.Status.PENDING)
    if excluding is not None:
        rows = rows.exclude(pk=excluding)
    return rows.aggregate(total=Sum("amount_minor"))["total"] or 0


def refundable(payment: Payment) -> Money:
    """What may still go back to the card: the payment less what was refunded and what is being refunded."""
    return Money(payment.amount_minor - payment.refunded_minor - _pending_minor(payment), payment.currency)


def refund_to_card(
    *, payment: Payment, amount: Money, actor: Actor, reason: str = "", request_id: str = ""
) -> Refund:
    """Refund part or all of an online card payment through its gateway and book it. Releases the
    payment from its invoices first when its unused money does not cover the amount."""
    if not is_card_payment(payment):
        raise RefundRefused(_("Only a card payment made online can be refunded to the card."), field=None)
    if amount.currency != payment.currency:
        raise RefundRefused(
            _("This payment is in %(currency)s.") % {"currency": payment.currency}, field="amount"
        )
    if amount.minor <= 0:
        raise RefundRefused(_("Enter an amount greater than zero."))
    pending = _reserve(payment, amount, actor, reason, request_id or new_request_id())
    if pending.status == CardRefund.Status.SUCCEEDED:
        return pending.refund
    return _ask_gateway(pending, actor)


def resume_refund(*, card_refund: CardRefund, actor: Actor) -> Refund:
    """Ask the gateway again about a refund left pending (its call failed or the process died),
    under the same key: the gateway answers what it did, and the refund is booked once."""
    with transaction.atomic():
        row = CardRefund.all_tenants.select_for_update(of=("self",)).get(pk=card_refund.pk)
        if row.status == CardRefund.Status.SUCCEEDED:
            return row.refund
        if row.status == CardRefund.Status.FAILED:
            raise RefundRefused(
                _("This refund failed: %(reason)s") % {"reason": row.failure_message}, field=None
            )
    return _ask_gateway(row, actor)


def _ask_gateway(pending: CardRefund, actor: Actor) -> Refund:
    """Steps 2 and 3."""
    payment = pending.payment
    gateway = gateway_for(payment.organization, payment.gateway)
    try:
        result = gateway.refund(
            charge_reference=payment.gateway_reference,
            amount=pending.amount,
            idempotency_key=pending.idempotency_key,
            reason=pending.reason,
        )
    except DomainError as error:
        if error.code == Code.GATEWAY_UNAVAILABLE:
            # No answer: the gateway may have refunded. The row stays pending (its amount held) until
            # the same request is asked again under the same key.
            raise RefundRefused(
                _(
                    "The payment gateway did not answer, so we do not know yet whether the card was "
                    "refunded. Nothing was booked; the amount stays reserved. Try the refund again in "
                    "a few minutes: it will not be refunded twice."
                ),
                field=None,
            ) from error
        _fail(pending, str(error.message), actor)  # refused outright: nothing was refunded
        raise RefundRefused(
            _("The refund failed and nothing was booked: %(reason)s") % {"reason": error.message}, field=None
        ) from error
    if not result.succeeded:
        message = result.failure_message or _("The gateway did not refund this payment.")
        _fail(pending, message, actor)
        raise RefundRefused(
            _("The refund failed and nothing was booked: %(reason)s") % {"reason": message}, field=None
        )
    return _book(pending, result.reference, actor)


def _reserve(payment: Payment, amount: Money, actor: Actor, reason: str, request_id: str) -> CardRefund:
    """Step 1: the pending row, under the locks every money movement of the customer takes."""
    with transaction.atomic():
        Customer.all_tenants.select_for_update(of=("self",)).get(pk=payment.customer_id)
        payment = Payment.all_tenants.select_for_update(of=("self",)).get(pk=payment.pk)
        existing = CardRefund.all_tenants.filter(
            organization_id=payment.organization_id, form_token=request_id
        ).first()
        if existing is not None:
            if existing.payment_id != payment.pk:
                raise RefundRefused(_("This refund request was already used."), field=None)
            if existing.status == CardRefund.Status.FAILED:
                raise RefundRefused(
                    _("This refund failed: %(reason)s") % {"reason": existing.failure_message}, field=None
                )
            if (
                existing.status == CardRefund.Status.PENDING
                and clock.now() - existing.created_at < STALE_AFTER
            ):
                raise RefundInProgress()
            return existing  # refunded already (the double click), or stale: ask the gateway again
        available = refundable(payment)
        if amount > available:
            raise RefundRefused(
                _("At most %(available)s of this payment can be refunded.") % {"available": available}
            )
        pending = CardRefund.all_tenants.create(
            organization_id=payment.organization_id,
            payment=payment,
            form_token=request_id,
            currency=payment.currency,
            amount_minor=amount.minor,
            reason=reason[:200],
            gateway=payment.gateway,
            created_by=actor.user if getattr(actor.user, "pk", None) else None,
            created_at=clock.now(),
        )
        pending.idempotency_key = f"refund:{payment.pk}:{pending.pk}"
        pending.save(update_fields=["idempotency_key"])
        audit(actor, "payment.card_refund_requested", payment, amount=amount, reason=reason)
    pending.payment = payment
    return pending


def _fail(pending: CardRefund, message: str, actor: Actor) -> None:
    updated = CardRefund.all_tenants.filter(pk=pending.pk, status=CardRefund.Status.PENDING).update(
        status=CardRefund.Status.FAILED, failure_message=message[:300], completed_at=clock.now()
    )
    if updated:
        audit(actor, "payment.card_refund_failed", pending.payment, amount=pending.amount, reason=message)


def card_refund_for_key(payment: Payment, key: str) -> CardRefund | None:
    """The refund to the card of this payment that asked the gateway under `key`, if any."""
    if not key:
        return None
    return CardRefund.all_tenants.filter(payment=payment, idempotency_key=key).first()


def book_card_refund(pending: CardRefund, reference: str, actor: Actor) -> Refund:
    """Book a refund to the card the gateway made (the request's answer, or its webhook), once."""
    return _book(pending, reference, actor)


def _book(pending: CardRefund, reference: str, actor: Actor) -> Refund:
    """Step 3: release, book and settle the row, once (the row lock makes a concurrent retry — or
    the gateway's webhook about the same refund — wait and then find it settled)."""
    with transaction.atomic():
        Customer.all_tenants.select_for_update(of=("self",)).get(pk=pending.payment.customer_id)
        row = CardRefund.all_tenants.select_for_update(of=("self",)).get(pk=pending.pk)
        if row.status == CardRefund.Status.SUCCEEDED:
            return row.refund
        payment = Payment.all_tenants.select_for_update(of=("self",)).get(pk=row.payment_id)
        booked = payment.refunds.filter(gateway_reference=reference).first()
        if booked is not None:  # booked under this reference already: settle the row with it
            row.status, row.gateway_reference, row.refund = CardRefund.Status.SUCCEEDED, reference, booked
            row.completed_at = clock.now()
            row.save(update_fields=["status", "gateway_reference", "refund", "completed_at"])
            return booked
        shortfall = row.amount_minor - payment.unused_minor
        if shortfall > 0:
            ledger.release_allocations(
                payment=payment,
                amount=Money(shortfall, payment.currency),
                actor=actor,
                reason=_("Refunded to the card"),
            )
        refund = ledger.refund_payment(
            payment=payment,
            amount=row.amount,
            actor=actor,
            method=Payment.Method.CARD,
            reason=row.reason,
            gateway_reference=reference,
        )
        row.status = CardRefund.Status.SUCCEEDED
        row.gateway_reference = reference
        row.refund = refund
        row.completed_at = clock.now()
        row.failure_message = ""
        row.save(update_fields=["status", "gateway_reference", "refund", "completed_at", "failure_message"])
        audit(
            actor,
            "payment.refunded_to_card",
            payment,
            amount=row.amount,
            gateway=row.gateway,
            gateway_reference=reference,
        )
    return refund
