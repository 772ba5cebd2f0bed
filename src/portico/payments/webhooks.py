"""Gateway events applied to our records, each once, in any order.

`apply_event` stores the event's row (`WebhookEvent`, unique per organization, gateway and event id)
in the same transaction as its effect: a redelivery — Stripe retries anything but a 2xx, and may
deliver twice anyway — finds the row and does nothing; two deliveries at once meet at the unique
constraint and one of them applies the event. Every handler is written for the order Stripe does not
promise (https://docs.stripe.com/webhooks#event-ordering) and for our own request having done the
work first: it moves a record only forward (a pending attempt to booked or declined, an open dispute
to won or lost) and books a refund only under a gateway reference not booked yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import IntegrityError, transaction

from portico.billing.models import Payment
from portico.billing.services import refund_payment
from portico.core import clock, outbox, tenancy
from portico.core.audit import Actor, audit
from portico.core.errors import DomainError
from portico.core.money import Money
from portico.customers.models import Customer
from portico.payments.gateways import ChargeResult, ChargeStatus, DeclineCode, GatewayEvent
from portico.payments.models import Dispute, GatewayCharge, PaymentAttempt, PaymentMethod, WebhookEvent
from portico.payments.services import _book, _decline

log = logging.getLogger(__name__)

IGNORED = "ignored"


def apply_event(organization, gateway_name: str, event: GatewayEvent) -> WebhookEvent:
    """Store a verified event and apply its effect, once. A duplicate (even a concurrent one) returns
    the row stored first, untouched; `outcome` on the row says what the event did."""
    with tenancy.tenant(organization):
        earlier = _stored(organization, gateway_name, event.id)
        if earlier is not None:
            return earlier
        try:
            with transaction.atomic():
                row = WebhookEvent.objects.create(
                    organization=organization,
                    gateway=gateway_name,
                    event_id=event.id,
                    type=event.type[:100],
                    object_reference=event.object_reference[:100],
                    created=event.created,
                    received_at=clock.now(),
                )
                handler = HANDLERS.get(event.type)
                outcome = handler(organization, gateway_name, event) if handler else IGNORED
                row.outcome = outcome[:300]
                row.save(update_fields=["outcome"])
        except IntegrityError:
            earlier = _stored(organization, gateway_name, event.id)
            if earlier is None:  # a conflict of the effect itself, not a redelivery: let it be retried
                raise
            return earlier
    log.info("%s event %s (%s) applied: %s", gateway_name, event.id, event.type, row.outcome)
    return row


def _stored(organization, gateway_name: str, event_id: str) -> WebhookEvent | None:
    return WebhookEvent.all_tenants.filter(
        organization=organization, gateway=gateway_name, event_id=event_id
    ).first()


def _actor(gateway_name: str) -> Actor:
    return Actor.system(f"{gateway_name} webhook")


def _ref(value) -> str:
    """An id of a Stripe object, whether the event carries the id or the expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value or "")


# -- payments ----------------------------------------------------------------------------------------


def attempt_for_charge(
    gateway_name: str, reference: str, metadata: dict | None = None
) -> PaymentAttempt | None:
    """Our attempt behind a gateway charge (Stripe's PaymentIntent): the `GatewayCharge` maps the
    gateway's reference to the idempotency key the attempt wrote before charging (the intent's
    metadata carries the key too, `portico_idempotency_key`)."""
    if not reference:
        return None
    keys = list(
        GatewayCharge.objects.filter(
            gateway=gateway_name, kind=GatewayCharge.Kind.CHARGE, reference=reference
        ).values_list("idempotency_key", flat=True)
    )
    if not keys and (metadata or {}).get("portico_idempotency_key"):
        keys = [str(metadata["portico_idempotency_key"])]
    attempt = PaymentAttempt.objects.filter(gateway=gateway_name, idempotency_key__in=keys).first()
    if attempt is None:
        attempt = PaymentAttempt.objects.filter(gateway=gateway_name, gateway_reference=reference).first()
    return attempt


def book_charge_succeeded(*, attempt: PaymentAttempt, reference: str, actor: Actor) -> str:
    """The gateway says the attempt's charge went through: book it unless it already is. The booking
    is the request's own (`services._book`, the ledger's idempotency key), so a request finishing at
    the same moment books one payment between them."""
    if attempt.status == PaymentAttempt.Status.SUCCEEDED:
        return f"already booked as {attempt.payment.number}" if attempt.payment else "already booked"
    was = attempt.status
    payment = _book(attempt, reference, actor)
    audit(actor, "payment_attempt.confirmed", attempt, payment=payment.number, amount=payment.amount, was=was)
    if was != PaymentAttempt.Status.PENDING:
        # The charge went through after we had given up on it: the money is real, so it is booked,
        # and staff are told why an attempt they saw as failed now has a payment.
        return f"booked {payment.number} for an attempt that was {was}; check with the customer"
    return f"booked {payment.number}"


def decline_charge(*, attempt: PaymentAttempt, code: str, actor: Actor) -> str:
    """The gateway says the charge failed: a pending attempt is declined; a booked one stays booked."""
    if attempt.status != PaymentAttempt.Status.PENDING:
        return f"attempt already {attempt.status}"
    result = ChargeResult(status=ChargeStatus.DECLINED, decline_code=code or DeclineCode.GENERIC)
    return "declined" if _decline(attempt, result, actor) else "attempt already settled"


def _payment_intent_succeeded(organization, gateway_name: str, event: GatewayEvent) -> str:
    attempt = attempt_for_charge(gateway_name, event.object_reference, event.data.get("metadata"))
    if attempt is None:
        return "no payment attempt of ours; ignored"
    return book_charge_succeeded(
        attempt=attempt, reference=event.object_reference, actor=_actor(gateway_name)
    )


def _payment_intent_failed(organization, gateway_name: str, event: GatewayEvent) -> str:
    attempt = attempt_for_charge(gateway_name, event.object_reference, event.data.get("metadata"))
    if attempt is None:
        return "no payment attempt of ours; ignored"
    error = event.data.get("last_payment_error") or {}
    code = str(error.get("decline_code") or error.get("code") or "")
    return decline_charge(attempt=attempt, code=code, actor=_actor(gateway_name))


def payment_for(gateway_name: str, *references: str) -> Payment | None:
    """Our payment booked for a gateway charge, by any of its references (PaymentIntent or Charge)."""
    references = [r for r in references if r]
    if not references:
        return None
    return Payment.objects.filter(gateway=gateway_name, gateway_reference__in=references).first()


# -- refunds -----------------------------------------------------------------------------------------

REFUND_BOOKED = {"succeeded", "pending", None}  # a failed or canceled refund returned nothing


def _refund_items(event: GatewayEvent) -> tuple[str, str, list[tuple[str, int]]]:
    """(charge id, PaymentIntent id, [(refund id, amount minor)]) that the event reports."""
    obj = event.data
    if event.type == "charge.refunded":
        refunds = (obj.get("refunds") or {}).get("data") or []
        items = [
            (_ref(r), int(r.get("amount") or 0), _our_key(r))
            for r in refunds
            if r.get("status") in REFUND_BOOKED
        ]
        return obj.get("id") or "", _ref(obj.get("payment_intent")), items
    if obj.get("status") not in REFUND_BOOKED:
        return _ref(obj.get("charge")), _ref(obj.get("payment_intent")), []
    return (
        _ref(obj.get("charge")),
        _ref(obj.get("payment_intent")),
        [(obj.get("id") or "", int(obj.get("amount") or 0), _our_key(obj))],
    )


def _our_key(refund: dict) -> str:
    """The idempotency key our own refund to the card put in the refund's metadata ("" for a
    refund made in the gateway's dashboard)."""
    metadata = refund.get("metadata") or {}
    return str(metadata.get("portico_idempotency_key") or "") if isinstance(metadata, dict) else ""


def _refunded(organization, gateway_name: str, event: GatewayEvent) -> str:
    charge_id, intent_id, items = _refund_items(event)
    payment = payment_for(gateway_name, intent_id, charge_id)
    if payment is None:
        return "no payment of ours for this charge; ignored"
    if event.type == "charge.refunded" and not items:
        # An event without its refund list (newer API versions): book what the charge says was
        # refunded beyond what we booked, under the charge's reference.
        booked = sum(r.amount_minor for r in payment.refunds.exclude(gateway_reference=""))
        gap = int(event.data.get("amount_refunded") or 0) - booked
        items = [(f"{charge_id}:{event.data.get('amount_refunded')}", gap, "")] if gap > 0 else []
    notes = [
        _book_refund(payment, reference, amount, gateway_name, key)
        for reference, amount, key in items
        if reference
    ]
    return "; ".join(notes) or "nothing to book"


def _book_refund(
    payment: Payment, reference: str, amount_minor: int, gateway_name: str, key: str = ""
) -> str:
    """A refund the gateway made, booked once under its reference.

    Our own refund to the card (its metadata carries the `CardRefund`'s key) is booked by the refund
    flow itself (`refunds.book_card_refund`), which releases allocations when it must: the event may
    arrive before the console's request has booked it, and must not book it a second way. A refund
    made in the gateway's dashboard is booked here; the ledger refunds only unused money, so what
    exceeds it is not booked, and the note says so for staff."""
    from portico.payments import refunds

    with transaction.atomic():
        # The ledger's lock order: the customer, then the payment.
        Customer.all_tenants.select_for_update(of=("self",)).get(pk=payment.customer_id)
        payment = Payment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
        if payment.refunds.filter(gateway_reference=reference).exists():
            return f"refund {reference} already booked"
        ours = refunds.card_refund_for_key(payment, key)
        if ours is not None:
            refunds.book_card_refund(ours, reference, _actor(gateway_name))
            return f"refund {reference} booked as the refund to the card requested in the console"
        bookable = min(amount_minor, payment.unused_minor)
        if bookable <= 0:
            return (
                f"refund {reference} of {Money(amount_minor, payment.currency)} not booked: payment "
                f"{payment.number} has no unused money (record a credit note for it)"
            )
        try:
            refund_payment(
                payment=payment,
                amount=Money(bookable, payment.currency),
                actor=_actor(gateway_name),
                reason=f"Refunded at {gateway_name}",
                gateway_reference=reference,
            )
        except DomainError as error:
            return f"refund {reference} not booked: {error.message}"
    if bookable < amount_minor:
        return (
            f"refund {reference}: booked {Money(bookable, payment.currency)} of "
            f"{Money(amount_minor, payment.currency)}; the rest exceeds payment {payment.number}'s unused money"
        )
    return f"refund {reference} booked"


# -- saved methods -----------------------------------------------------------------------------------


def _method(gateway_name: str, token: str) -> PaymentMethod | None:
    if not token:
        return None
    return (
        PaymentMethod.objects.select_for_update(of=("self",))
        .filter(gateway=gateway_name, token=token)
        .first()
    )


def _method_detached(organization, gateway_name: str, event: GatewayEvent) -> str:
    """The card was detached at the gateway (the customer's bank, the dashboard, our own removal):
    it can no longer be charged, so it is removed here too; a default passes to the newest other."""
    method = _method(gateway_name, event.object_reference)
    if method is None:
        return "no saved method of ours; ignored"
    if method.status == PaymentMethod.Status.REMOVED:
        return "already removed"
    was_default = method.is_default
    method.status, method.is_default, method.removed_at = PaymentMethod.Status.REMOVED, False, clock.now()
    method.save(update_fields=["status", "is_default", "removed_at"])
    actor = _actor(gateway_name)
    audit(actor, "payment_method.removed", method, label=method.label, reason="detached at the gateway")
    note = "removed"
    if was_default:
        successor = (
            PaymentMethod.objects.filter(customer_id=method.customer_id, status=PaymentMethod.Status.ACTIVE)
            .order_by("-created_at", "-id")
            .first()
        )
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default"])
            audit(actor, "payment_method.made_default", successor, label=successor.label)
            note = f"removed; {successor.label} is the default now"
    return note


def _method_updated(organization, gateway_name: str, event: GatewayEvent) -> str:
    """The card's details changed at the gateway (a new expiry from the card network's updater)."""
    method = _method(gateway_name, event.object_reference)
    if method is None:
        return "no saved method of ours; ignored"
    card = event.data.get("card") or {}
    changes = {}
    for name, value in (
        ("exp_month", card.get("exp_month")),
        ("exp_year", card.get("exp_year")),
        ("last4", card.get("last4")),
        ("brand", card.get("brand")),
    ):
        if value in (None, ""):
            continue
        value = int(value) if name.startswith("exp_") else str(value)
        if name == "exp_month" and not 1 <= value <= 12:
            continue
        if getattr(method, name) != value:
            changes[name] = value
    if not changes:
        return "unchanged"
    before = {name: getattr(method, name) for name in changes}
    for name, value in changes.items():
        setattr(method, name, value)
    method.save(update_fields=list(changes))
    audit(_actor(gateway_name), "payment_method.updated", method, before=before, after=changes)
    return "updated " + ", ".join(sorted(changes))


# -- disputes ----------------------------------------------------------------------------------------

DISPUTE_STATUSES = {
    "needs_response": Dispute.Status.OPEN,
    "warning_needs_response": Dispute.Status.OPEN,
    "under_review": Dispute.Status.UNDER_REVIEW,
    "warning_under_review": Dispute.Status.UNDER_REVIEW,
    "won": Dispute.Status.WON,
    "warning_closed": Dispute.Status.WON,  # an inquiry that never became a chargeback
    "lost": Dispute.Status.LOST,
    "charge_refunded": Dispute.Status.LOST,  # closed by refunding the charge: the money went back
}
FINAL = {Dispute.Status.WON, Dispute.Status.LOST}


def _dispute(organization, gateway_name: str, event: GatewayEvent) -> str:
    """Upsert the dispute; its status only moves forward (a late "created" does not reopen a closed
    one). A new dispute is audited, emitted as `payment.disputed` and emailed to the owners and
    administrators."""
    obj = event.data
    reference = event.object_reference
    if not reference:
        return "no dispute id; ignored"
    status = DISPUTE_STATUSES.get(obj.get("status"))
    charge_id, intent_id = _ref(obj.get("charge")), _ref(obj.get("payment_intent"))
    now = clock.now()
    dispute = (
        Dispute.objects.select_for_update(of=("self",))
        .filter(gateway=gateway_name, reference=reference)
        .first()
    )
    actor = _actor(gateway_name)
    if dispute is None:
        payment = payment_for(gateway_name, intent_id, charge_id)
        dispute = Dispute.objects.create(
            organization=organization,
            payment=payment,
            gateway=gateway_name,
            reference=reference,
            charge_reference=charge_id,
            currency=str(obj.get("currency") or (payment.currency if payment else "")).upper()[:3],
            amount_minor=int(obj.get("amount") or 0),
            reason=str(obj.get("reason") or "")[:100],
            status=status or Dispute.Status.OPEN,
            opened_at=event.created if event.type == "charge.dispute.created" else _created(obj, event),
            updated_at=now,
        )
        audit(
            actor,
            "dispute.opened",
            dispute,
            amount=dispute.amount,
            reason=dispute.reason,
            payment=payment.number if payment else None,
            status=dispute.status,
        )
        outbox.emit_for(
            "payment.disputed",
            dispute,
            reference=reference,
            payment=payment.number if payment else None,
            amount=dispute.amount,
            reason=dispute.reason,
            status=dispute.status,
        )
        _email_staff(organization, dispute)
        return f"dispute {reference} recorded ({dispute.status})"
    if status is None or status == dispute.status or (dispute.status in FINAL and status not in FINAL):
        return f"dispute {reference} unchanged ({dispute.status})"
    before = dispute.status
    dispute.status, dispute.updated_at = status, now
    fields = ["status", "updated_at"]
    if obj.get("reason") and obj["reason"] != dispute.reason:
        dispute.reason = str(obj["reason"])[:100]
        fields.append("reason")
    dispute.save(update_fields=fields)
    audit(actor, "dispute.updated", dispute, before=before, after=status)
    return f"dispute {reference}: {before} → {status}"


def _created(obj: dict, event: GatewayEvent):
    import datetime as dt

    try:
        return dt.datetime.fromtimestamp(int(obj["created"]), tz=dt.UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return event.created


def _email_staff(organization, dispute: Dispute) -> None:
    from portico.accounts.models import StaffRole, User

    recipients = list(
        User.objects.filter(
            organization=organization,
            is_staff=True,
            is_active=True,
            contact__isnull=True,
            staff_role__in=[StaffRole.OWNER, StaffRole.ADMINISTRATOR],
        )
        .order_by("email")
        .values_list("email", flat=True)
    )
    if not recipients:
        return
    from portico.core.mail import send_templated_email

    send_templated_email(
        organization=organization,
        to=recipients,
        template="payments/dispute_opened",
        context={
            "dispute": dispute,
            "payment": dispute.payment,
            "customer": dispute.payment.customer if dispute.payment else None,
            "console_url": organization.public_url(f"/console/payments/dispute/{dispute.pk}/change/"),
        },
    )


HANDLERS: dict[str, Callable[[object, str, GatewayEvent], str]] = {
    "payment_intent.succeeded": _payment_intent_succeeded,
    "payment_intent.payment_failed": _payment_intent_failed,
    "charge.refunded": _refunded,
    "refund.created": _refunded,
    "refund.updated": _refunded,
    "charge.refund.updated": _refunded,
    "payment_method.detached": _method_detached,
    "payment_method.updated": _method_updated,
    "payment_method.automatically_updated": _method_updated,
    "charge.dispute.created": _dispute,
    "charge.dispute.updated": _dispute,
    "charge.dispute.closed": _dispute,
}
