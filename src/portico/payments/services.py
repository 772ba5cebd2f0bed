"""Paying invoices online: one gateway charge, one `Payment` allocated across the chosen invoices.

The order of events is what makes a double submission, a retry, a second tab or a crash safe:
1. check everything (the invoices are the customer's own, open, in one currency, amounts fit) —
   a refused request writes nothing and charges nothing;
2. under the customer's and the invoices' row locks (the ledger's lock order), check again what is
   still free to pay — each invoice's balance less what other pending attempts have *reserved* —
   then write a `PaymentAttempt` with its idempotency key (`payment_attempt:<id>`) and one
   `PaymentReservation` per invoice, and commit. Another checkout of the same invoices now sees the
   amounts as taken and is refused; the pay form's one-time token is unique, so the same form
   submitted twice finds this attempt;
3. charge the gateway under that key, outside any transaction (no row lock is held over the network);
4. record the payment through the ledger (`billing.services.record_payment`, same key), in one
   transaction. A reservation holds while its attempt is pending and younger than `STALE_AFTER`:
   booked, declined or expired, it holds nothing.

Why one module: the checkout (reserve, charge, book) and the reconciliation and webhooks that
finish it share the attempt's internals; the order of events stays readable in one place.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portico.billing import errors as billing_errors
from portico.billing.models import Invoice, Payment
from portico.core import clock, outbox, tenancy
from portico.core.audit import Actor, audit
from portico.core.errors import DomainError
from portico.core.money import MAX_TYPED_MINOR, Money
from portico.customers.models import Customer
from portico.payments import methods as payment_methods
from portico.payments.errors import Code
from portico.payments.gateways import CardToken, ChargeStatus, Gateway, gateway_for
from portico.payments.models import PaymentAttempt, PaymentMethod, PaymentReservation

log = logging.getLogger(__name__)


# A pay request finishes in seconds; an attempt still pending after this was left by a crash: the
# reconciliation settles it, and its reservation no longer holds.
STALE_AFTER = dt.timedelta(minutes=15)


class PaymentRefused(billing_errors.BillingError):
    """A pay request we will not send to the gateway; nothing was written."""

    code = Code.PAYMENT_REFUSED
    message = _lazy("This payment cannot be made.")


class PaymentInProgress(PaymentRefused):
    """Another checkout (a second tab, a retrying client) has reserved this invoice's balance."""

    code = Code.PAYMENT_IN_PROGRESS
    field = "invoices"

    def __init__(self, invoice, reserved: Money):
        super().__init__(
            _(
                "A payment of %(amount)s for invoice %(number)s is already being processed; "
                "your card was not charged. Refresh this page in a moment."
            )
            % {"amount": reserved, "number": invoice.number}
        )


@dataclass(frozen=True)
class PayOutcome:
    attempt: PaymentAttempt
    repeated: bool = False  # the same form was submitted before: nothing new happened
    method: PaymentMethod | None = None  # the card saved after this payment (`save_method`)
    save_error: str = ""  # paid, but the card could not be saved: what to tell the customer

    @property
    def succeeded(self) -> bool:
        return self.attempt.status == PaymentAttempt.Status.SUCCEEDED

    @property
    def pending(self) -> bool:
        return self.attempt.status == PaymentAttempt.Status.PENDING


def resolve_invoices(*, organization, customer, numbers: Sequence[str]) -> list[Invoice]:
    """The customer's own issued invoices with these numbers, in the order given.
    A number that is not theirs (another customer's, another organization's, made up) refuses all."""
    wanted = list(dict.fromkeys(n.strip() for n in numbers if n and n.strip()))
    if not wanted:
        raise PaymentRefused(_("Choose at least one invoice to pay."), field="invoices")
    found = {
        invoice.number: invoice
        for invoice in Invoice.objects.filter(
            organization=organization, customer=customer, number__in=wanted
        ).exclude(status=Invoice.Status.DRAFT)
    }
    if len(found) != len(wanted):
        raise billing_errors.InvoiceNotFound()
    return [found[n] for n in wanted]


def reserved_amounts(invoice_ids) -> dict[int, int]:
    """Minor units of each invoice that pending attempts are about to charge: taken for everyone else.
    Attempts older than `STALE_AFTER` hold nothing (the reconciliation settles them), unless their
    gateway said the charge is processing: that one may still succeed, so it holds until settled."""
    rows = (
        PaymentReservation.all_tenants.filter(
            Q(attempt__created_at__gte=clock.now() - STALE_AFTER)
            | Q(attempt__processing_since__isnull=False),
            invoice_id__in=list(invoice_ids),
            attempt__status=PaymentAttempt.Status.PENDING,
        )
        .values("invoice_id")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    )
    return {row["invoice_id"]: row["total"] for row in rows}


def available_to_pay(invoice: Invoice, reserved: dict[int, int]) -> Money:
    """What a new checkout (or a credit) may still put on an invoice: its balance less reservations."""
    return Money(max(invoice.balance_minor - reserved.get(invoice.pk, 0), 0), invoice.currency)


def payable_amounts(invoices: Sequence[Invoice]) -> list[tuple[Invoice, Money]]:
    """The open invoices among these with what can still be paid of each (the pay pages show this)."""
    reserved = reserved_amounts(i.pk for i in invoices)
    pairs = [(i, available_to_pay(i, reserved)) for i in invoices if i.is_outstanding]
    return [(i, a) for i, a in pairs if a.minor > 0]


def plan_allocations(
    invoices: Sequence[Invoice], amount: Money | None = None, reserved: dict[int, int] | None = None
) -> list[tuple[Invoice, Money]]:
    """What to charge for each invoice: all that is free of it, or (one invoice) a part of that.
    `reserved` is what other pending attempts hold of each invoice (see `reserved_amounts`)."""
    reserved = reserved or {}
    currencies = {invoice.currency for invoice in invoices}
    if len(currencies) > 1:
        raise PaymentRefused(
            _("These invoices are in different currencies (%(currencies)s); pay each currency separately.")
            % {"currencies": ", ".join(sorted(currencies))},
            field="invoices",
        )
    for invoice in invoices:
        if not invoice.is_outstanding:
            raise billing_errors.InvoiceNotPayable(invoice)
        if available_to_pay(invoice, reserved).minor <= 0:
            raise PaymentInProgress(invoice, Money(reserved[invoice.pk], invoice.currency))
    if amount is None:
        return [(invoice, available_to_pay(invoice, reserved)) for invoice in invoices]
    if len(invoices) != 1:
        raise PaymentRefused(_("An amount can be chosen only when paying one invoice."), field="amount")
    invoice = invoices[0]
    if amount.currency != invoice.currency:
        raise billing_errors.CurrencyMismatch(invoice.currency, amount.currency)
    if amount.minor <= 0:
        raise billing_errors.InvalidAmount(_("Enter an amount greater than zero."))
    available = available_to_pay(invoice, reserved)
    if amount > available:
        if available != invoice.balance:
            raise PaymentRefused(
                _(
                    "Only %(available)s of invoice %(number)s can be paid now: %(reserved)s is already "
                    "being processed."
                )
                % {
                    "available": available,
                    "number": invoice.number,
                    "reserved": Money(reserved[invoice.pk], invoice.currency),
                },
                field="amount",
            )
        raise billing_errors.AmountExceedsBalance(invoice, invoice.balance)
    return [(invoice, amount)]


def _lock_for_checkout(customer: Customer, invoices: Sequence[Invoice]) -> list[Invoice]:
    """The customer row, then the invoices by primary key (billing.services' lock order); the invoices
    are returned fresh, in the order given."""
    Customer.all_tenants.select_for_update(of=("self",)).get(pk=customer.pk)
    locked = {
        invoice.pk: invoice
        for invoice in Invoice.all_tenants.filter(pk__in=[i.pk for i in invoices])
        .order_by("pk")
        .select_for_update(of=("self",))
    }
    return [locked[i.pk] for i in invoices]


def earlier_attempt(*, organization, customer, form_token: str) -> PayOutcome | None:
    """What a pay form's first submission did (a double click, a reload), or None if it is new."""
    if not form_token:
        return None
    earlier = PaymentAttempt.objects.filter(
        organization=organization, customer=customer, form_token=form_token
    ).first()
    return PayOutcome(earlier, repeated=True) if earlier is not None else None


def pay_with_card(*, card, gateway: Gateway | None = None, save_method: bool = False, **pay) -> PayOutcome:
    """Hand the typed card to the gateway for a token (the card itself is never stored) and pay with
    it: `pay_amount` when `pay` holds an `amount` and no `invoice_numbers`, else `pay_invoices` (whose
    keyword arguments `pay` holds). A card the gateway refuses to tokenize raises `CardError`, before
    any attempt is written."""
    gateway = gateway or gateway_for(pay["organization"])
    token = gateway.tokenize(card)
    if "invoice_numbers" not in pay:
        return pay_amount(card=token, gateway=gateway, save_method=save_method, **pay)
    return pay_invoices(card=token, gateway=gateway, save_method=save_method, **pay)


@dataclass(frozen=True)
class PaymentSource:
    """What a checkout charges: a one-off card token, or one of the customer's saved methods."""

    gateway: Gateway
    card: CardToken
    method: PaymentMethod | None = None
    customer_reference: str = ""


def payment_source(
    *,
    organization,
    customer,
    card: CardToken | None = None,
    method: PaymentMethod | None = None,
    save_method: bool = False,
    gateway: Gateway | None = None,
) -> PaymentSource:
    """The card to charge, checked before anything is written: a saved method must be the customer's
    own and active (else `MethodNotFound`, as another customer's id answers 404) and not expired."""
    if customer.organization_id != organization.pk:
        raise billing_errors.InvoiceNotFound()
    if (card is None) == (method is None):
        raise PaymentRefused(_("Choose a saved card or enter a new one."), field="method")
    if method is not None:
        method = payment_methods.get_method_for(
            customer, method.public_id
        )  # ownership, tenancy and status, fresh
        if method.is_expired(clock.today(organization.time_zone)):
            raise payment_methods.MethodRefused(
                _("Your card %(card)s has expired. Please choose another card or update it.")
                % {"card": method.label},
                field="method",
            )
        if gateway is None or gateway.name != method.gateway:
            gateway = gateway_for(organization, method.gateway)  # the gateway that saved it charges it
        token = CardToken(
            token=method.token,
            brand=method.brand,
            last4=method.last4,
            exp_month=method.exp_month,
            exp_year=method.exp_year,
            holder_name=method.holder_name,
            country=method.country,
            fingerprint=method.fingerprint,
        )
        return PaymentSource(gateway, token, method, gateway.customer_reference(customer))
    gateway = gateway or gateway_for(organization)
    # A card to be saved is charged for the gateway customer it will belong to (Stripe attaches it).
    reference = gateway.customer_reference(customer) if save_method else ""
    return PaymentSource(gateway, card, None, reference)


def pay_invoices(
    *,
    organization,
    customer,
    invoice_numbers: Sequence[str],
    form_token: str,
    actor: Actor,
    card: CardToken | None = None,
    method: PaymentMethod | None = None,
    save_method: bool = False,
    amount: Money | None = None,
    expected_total: Money | None = None,
    gateway: Gateway | None = None,
) -> PayOutcome:
    """Charge a card once for the chosen invoices and allocate the payment across them.

    The card is a one-off token (`card`, saved as a method after the payment if `save_method`) or a
    saved `method` of the customer. `form_token` is the pay form's one-time token: submitting the same
    form again returns the first attempt and charges nothing. `expected_total` is what the customer
    was shown; if the balances changed since, nothing is charged.
    """
    repeated = _repeated(organization, customer, form_token)
    if repeated is not None:
        return repeated
    source = payment_source(
        organization=organization,
        customer=customer,
        card=card,
        method=method,
        save_method=save_method,
        gateway=gateway,
    )
    invoices = resolve_invoices(organization=organization, customer=customer, numbers=invoice_numbers)
    plan_allocations(invoices, amount, reserved_amounts(i.pk for i in invoices))  # refuse early, unlocked

    def plan(locked: list[Invoice], reserved: dict[int, int]):
        allocations = plan_allocations(locked, amount, reserved)
        total = Money.sum((a for _invoice, a in allocations), locked[0].currency)
        if expected_total is not None and expected_total != total:
            raise PaymentRefused(
                _(
                    "The amount due has changed to %(total)s since this page was shown; "
                    "please review and try again."
                )
                % {"total": total.format(organization.locale)},
                field="invoices",
            )
        return allocations, total

    return _checkout(
        organization=organization,
        customer=customer,
        form_token=form_token,
        actor=actor,
        source=source,
        invoices=invoices,
        plan=plan,
        save_method=save_method,
    )


# An amount typed in "pay any amount" may be at most this many times what is open: beyond it, it is
# a typing slip (an extra zero or three), not an advance; a card charge is costly to refund.
PAY_AMOUNT_MAX_FACTOR = 10


def open_invoices_oldest_first(*, organization, customer, currency: str) -> list[Invoice]:
    """The customer's invoices with money due in one currency, in the order "pay any amount" pays
    them: the earliest due first (no due date last), then the earliest issued, then the first made."""
    return list(
        Invoice.all_tenants.filter(organization=organization, customer=customer, currency=currency)
        .outstanding()
        .order_by(F("due_date").asc(nulls_last=True), F("issue_date").asc(nulls_last=True), "id")
    )


def plan_amount(
    invoices: Sequence[Invoice], amount: Money, reserved: dict[int, int]
) -> list[tuple[Invoice, Money]]:
    """`amount` spread over `invoices` in their order, each up to what is free of it (its balance less
    other checkouts' reservations); what is left over is not allocated (the payment's advance).

    Refused: nothing free to pay (all paid, or all held by another checkout), or more than
    `PAY_AMOUNT_MAX_FACTOR` times what is free."""
    free = [(invoice, available_to_pay(invoice, reserved)) for invoice in invoices if invoice.is_outstanding]
    outstanding = Money.sum((a for _i, a in free), amount.currency)
    if outstanding.minor <= 0:
        held = next((i for i in invoices if reserved.get(i.pk)), None)
        if held is not None:
            raise PaymentInProgress(held, Money(reserved[held.pk], held.currency))
        raise PaymentRefused(
            _("Nothing is due in %(currency)s on your account right now.") % {"currency": amount.currency},
            field="amount",
        )
    if amount.minor > outstanding.minor * PAY_AMOUNT_MAX_FACTOR:
        raise billing_errors.InvalidAmount(
            _(
                "%(amount)s is more than ten times what is due (%(due)s). Please check the amount; "
                "to pay in advance, contact us."
            )
            % {"amount": amount, "due": outstanding}
        )
    allocations = []
    left = amount.minor
    for invoice, available in free:
        if left <= 0:
            break
        part = min(available.minor, left)
        if part > 0:
            allocations.append((invoice, Money(part, amount.currency)))
            left -= part
    return allocations


def pay_amount(
    *,
    organization,
    customer,
    amount: Money,
    form_token: str,
    actor: Actor,
    card: CardToken | None = None,
    method: PaymentMethod | None = None,
    save_method: bool = False,
    gateway: Gateway | None = None,
) -> PayOutcome:
    """Charge an amount the customer chose and apply it to their open invoices in its currency, the
    oldest first (`open_invoices_oldest_first`); what is left over stays on the account as an advance
    (the payment's unused amount, invoiceninja#2774).

    Refused before anything is written: an amount not greater than zero, in another currency than the
    account's, beyond what a bigint holds (`MAX_TYPED_MINOR`, the most `Money.parse` accepts), or more
    than `PAY_AMOUNT_MAX_FACTOR` times what is due — a slip of the keyboard, not an advance (an advance
    with nothing due is recorded by staff). The reservations, locks and one-time form token are those
    of `pay_invoices`.
    """
    repeated = _repeated(organization, customer, form_token)
    if repeated is not None:
        return repeated
    if customer.organization_id != organization.pk:
        raise billing_errors.InvoiceNotFound()
    if amount.currency != customer.currency:
        raise billing_errors.CurrencyMismatch(customer.currency, amount.currency)
    if amount.minor <= 0:
        raise billing_errors.InvalidAmount(_("Enter an amount greater than zero."))
    if amount.minor > MAX_TYPED_MINOR:
        raise billing_errors.InvalidAmount(
            _("Enter an amount of at most %(maximum)s.")
            % {"maximum": Money(MAX_TYPED_MINOR, amount.currency)}
        )
    source = payment_source(
        organization=organization,
        customer=customer,
        card=card,
        method=method,
        save_method=save_method,
        gateway=gateway,
    )
    invoices = open_invoices_oldest_first(
        organization=organization, customer=customer, currency=amount.currency
    )
    plan_amount(invoices, amount, reserved_amounts(i.pk for i in invoices))  # refuse early, unlocked

    def plan(locked: list[Invoice], reserved: dict[int, int]):
        return plan_amount(locked, amount, reserved), amount

    return _checkout(
        organization=organization,
        customer=customer,
        form_token=form_token,
        actor=actor,
        source=source,
        invoices=invoices,
        plan=plan,
        save_method=save_method,
    )


# What the pay forms' tokens look like (`models.new_form_token`, or a key of the automatic charge):
# anything else — empty, too long for the column, made up — is a form we did not make.
FORM_TOKEN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def _repeated(organization, customer, form_token: str) -> PayOutcome | None:
    if not isinstance(form_token, str) or not FORM_TOKEN.fullmatch(form_token):
        raise PaymentRefused(_("This form has expired; please reload the page and try again."))
    return earlier_attempt(organization=organization, customer=customer, form_token=form_token)


def _checkout(
    *,
    organization,
    customer,
    form_token,
    actor,
    source: PaymentSource,
    invoices,
    plan,
    save_method,
    off_session: bool = False,
):
    """Steps 2–4 of the module docstring, for any plan: `plan(locked invoices, reserved)` answers
    (allocations, amount to charge) under the locks, or refuses. `off_session`: nobody is at the
    keyboard (`autocharge.charge_automatically`)."""
    try:
        with transaction.atomic():
            invoices = _lock_for_checkout(customer, invoices)
            existing = PaymentAttempt.objects.filter(
                organization=organization, customer=customer, form_token=form_token
            ).first()
            if existing is not None:  # the same form, whose first submission held the lock before us
                return PayOutcome(existing, repeated=True)
            # Under the locks, what other attempts hold is final until we commit our reservation.
            allocations, total = plan(invoices, reserved_amounts(i.pk for i in invoices))
            attempt = _start_attempt(
                organization=organization,
                customer=customer,
                form_token=form_token,
                allocations=allocations,
                total=total,
                card=source.card,
                gateway=source.gateway,
                actor=actor,
                method=source.method,
                off_session=off_session,
                save_method=save_method and source.method is None,
            )
    except IntegrityError:
        # The same form, submitted twice at once: the other request owns the charge.
        existing = PaymentAttempt.objects.get(
            organization=organization, customer=customer, form_token=form_token
        )
        return PayOutcome(existing, repeated=True)

    return complete_attempt(
        attempt,
        source=source.card.token,
        actor=actor,
        gateway=source.gateway,
        customer_reference=source.customer_reference,
        off_session=off_session,
    )


def _start_attempt(
    *,
    organization,
    customer,
    form_token,
    allocations,
    total,
    gateway,
    actor,
    card: CardToken | None = None,
    method: PaymentMethod | None = None,
    off_session: bool = False,
    save_method: bool = False,
):
    """The attempt, its key and its reservations; the caller holds the invoices' locks. The card's
    brand, last 4 and expiry come from `card`, else from the saved `method` charged."""
    card = card or method
    attempt = PaymentAttempt.objects.create(
        organization=organization,
        customer=customer,
        form_token=form_token,
        currency=total.currency,
        amount_minor=total.minor,
        allocations=[[invoice.pk, part.minor] for invoice, part in allocations],
        gateway=gateway.name,
        card_brand=card.brand,
        card_last4=card.last4,
        card_exp_month=card.exp_month,
        card_exp_year=card.exp_year,
        payment_method=method,
        off_session=off_session,
        save_method=save_method,
        created_by=actor.user if getattr(actor.user, "pk", None) else None,
        created_at=clock.now(),
    )
    attempt.idempotency_key = f"payment_attempt:{attempt.pk}"
    attempt.save(update_fields=["idempotency_key"])
    # add(), not set(): a new attempt has no invoices to compare with, and set() reads them through
    # a join that PostgreSQL, with statistics older than a bill run, planned as a walk of all the
    # organization's invoices (0.4 s a charge at 50,000).
    attempt.invoices.add(*(invoice for invoice, _part in allocations))
    PaymentReservation.objects.bulk_create(
        PaymentReservation(
            organization=organization, attempt=attempt, invoice=invoice, amount_minor=part.minor
        )
        for invoice, part in allocations
    )
    audit(
        actor,
        "payment_attempt.started",
        attempt,
        amount=total,
        invoices=[invoice.number for invoice, _part in allocations],
        method=method.pk if method is not None else None,
        off_session=off_session,
    )
    return attempt


def complete_attempt(
    attempt: PaymentAttempt,
    *,
    source: str,
    actor: Actor,
    gateway: Gateway,
    customer_reference: str = "",
    off_session: bool = False,
) -> PayOutcome:
    """Charge `source` (a card token, a saved method's token) under the attempt's key, then book the
    payment; then, if the customer asked, save the new card (a failure to save it leaves the payment
    as it is: it is logged and told in `PayOutcome.save_error`). Safe to run again for a pending attempt."""
    result = gateway.charge(
        source=source,
        amount=attempt.amount,
        idempotency_key=attempt.idempotency_key,
        customer_reference=customer_reference,
        off_session=off_session or attempt.off_session,
        description=f"{attempt.customer} · {attempt.idempotency_key}",
    )
    if result.status == ChargeStatus.PROCESSING:
        # The gateway has not decided (a 3-D Secure check, a bank debit): the attempt stays pending
        # and keeps its reservation; the gateway's webhook or the reconciliation settles it.
        log.info("payment attempt %s: processing at the gateway", attempt.pk)
        _mark_processing(attempt)
        return PayOutcome(attempt)
    if not result.succeeded:
        _decline(attempt, result, actor)
        attempt.refresh_from_db()
        log.info("payment attempt %s declined: %s", attempt.pk, result.decline_code)
        return PayOutcome(attempt)

    payment = _book(attempt, result.reference, actor)
    attempt.refresh_from_db()
    log.info("payment attempt %s succeeded: payment %s", attempt.pk, payment.number)
    if attempt.save_method and attempt.payment_method_id is None:
        return _save_after_payment(attempt, source, actor, gateway)
    return PayOutcome(attempt)


def _save_after_payment(attempt: PaymentAttempt, token: str, actor: Actor, gateway: Gateway) -> PayOutcome:
    """Save the card just charged as a method. The payment is booked already and stays so."""
    try:
        method = payment_methods.save_method(
            organization=attempt.organization,
            customer=attempt.customer,
            actor=actor,
            token=token,
            gateway=gateway,
        )
    except DomainError as error:
        log.warning("attempt %s: paid, but the card was not saved (%s)", attempt.pk, error.code)
        message = _("Your payment went through, but your card could not be saved: %(reason)s") % {
            "reason": error.message
        }
        return PayOutcome(attempt, save_error=message)
    except Exception:
        log.exception("attempt %s: paid, but saving the card failed", attempt.pk)
        return PayOutcome(
            attempt,
            save_error=_("Your payment went through, but your card could not be saved. Please add it again."),
        )
    return PayOutcome(attempt, method=method)


def _mark_processing(attempt: PaymentAttempt) -> None:
    """The gateway has the charge and has not decided: its reservation holds until it is settled."""
    PaymentAttempt.all_tenants.filter(
        pk=attempt.pk, status=PaymentAttempt.Status.PENDING, processing_since__isnull=True
    ).update(processing_since=clock.now())
    attempt.refresh_from_db(fields=["processing_since"])


def _settle_pending(
    attempt: PaymentAttempt, actor: Actor, status: str, action: str, details: dict, **fields
) -> bool:
    """Move an attempt that is still pending to `status` and audit it. A conditional update: when the
    request and a reconciliation race, one of them settles the attempt and the other changes nothing."""
    with transaction.atomic():
        moved = PaymentAttempt.objects.filter(pk=attempt.pk, status=PaymentAttempt.Status.PENDING).update(
            status=status, completed_at=clock.now(), **fields
        )
        if moved:
            audit(actor, action, attempt, **details)
    return bool(moved)


def _decline(attempt: PaymentAttempt, result, actor: Actor) -> bool:
    with transaction.atomic():
        declined = _settle_pending(
            attempt,
            actor,
            PaymentAttempt.Status.DECLINED,
            "payment_attempt.declined",
            {"code": result.decline_code},
            decline_code=result.decline_code,
            decline_reason=result.decline_message[:300],
        )
        if declined:
            outbox.emit_for("payment.failed", attempt, amount=attempt.amount, code=result.decline_code)
    return declined


def _book(attempt: PaymentAttempt, reference: str, actor: Actor) -> Payment:
    """Record the charged money in the ledger. If an invoice was paid by someone else between our
    check and the charge, the money is not lost: it stays on the account as an advance."""
    from portico.billing.services import record_payment

    invoices = {i.pk: i for i in Invoice.objects.filter(pk__in=[pk for pk, _minor in attempt.allocations])}
    allocations = [(invoices[pk], Money(minor, attempt.currency)) for pk, minor in attempt.allocations]
    common = {
        "customer": attempt.customer,
        "amount": attempt.amount,
        "method": Payment.Method.CARD,
        "received_on": clock.today(attempt.organization.time_zone),
        "actor": actor,
        "channel": Payment.Channel.ONLINE,
        "gateway": attempt.gateway,
        "gateway_reference": reference,
        "card_brand": attempt.card_brand,
        "card_last4": attempt.card_last4,
        "idempotency_key": attempt.idempotency_key,
    }
    try:
        with transaction.atomic():
            payment = record_payment(allocations=allocations, **common)
            _mark_succeeded(attempt, payment, reference)
    except DomainError as error:
        log.warning(
            "attempt %s: invoices changed before booking (%s); keeping the money as credit", attempt.pk, error
        )
        with transaction.atomic():
            payment = record_payment(allocations=[], **common)
            _mark_succeeded(attempt, payment, reference, note=str(error))
    return payment


def _mark_succeeded(attempt: PaymentAttempt, payment: Payment, reference: str, note: str = "") -> None:
    PaymentAttempt.objects.filter(pk=attempt.pk).update(
        status=PaymentAttempt.Status.SUCCEEDED,
        payment=payment,
        gateway_reference=reference,
        decline_reason=note[:300],
        completed_at=clock.now(),
    )
    outbox.emit_for(
        "payment.succeeded",
        payment,
        number=payment.number,
        amount=payment.amount,
        method=payment.method,
        channel=payment.channel,
    )


# -- reconciliation -----------------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    booked: int = 0
    declined: int = 0
    expired: int = 0
    failed: int = 0
    # The gateway has the charge and has not decided yet (ChargeStatus.PROCESSING): left pending.
    waiting: int = 0

    def __str__(self) -> str:
        return (
            f"{self.booked} booked, {self.declined} declined, {self.expired} not charged, "
            f"{self.waiting} waiting, {self.failed} could not be checked"
        )


def reconcile_attempt(attempt: PaymentAttempt, *, gateway: Gateway | None = None) -> PaymentAttempt:
    """Settle one pending attempt from what its gateway says happened under its key.

    Charged → booked as the request would have booked it (the ledger's idempotency key makes a race
    with the original request book once); declined → declined; never received → expired, as
    nothing was charged; still processing at the gateway → left pending, to be asked again later.
    An attempt no longer pending is left as it is.
    """
    actor = Actor.system("payment reconciliation")
    gateway = gateway or gateway_for(attempt.organization, attempt.gateway)
    with tenancy.for_tenant(attempt.organization):
        result = gateway.find_charge(idempotency_key=attempt.idempotency_key)
        if result is None:
            _settle_pending(
                attempt,
                actor,
                PaymentAttempt.Status.EXPIRED,
                "payment_attempt.expired",
                {"amount": attempt.amount},
            )
        elif result.status == ChargeStatus.PROCESSING:
            log.info("payment attempt %s: still processing at %s", attempt.pk, gateway.name)
            _mark_processing(attempt)
        elif result.succeeded:
            payment = _book(attempt, result.reference, actor)
            audit(actor, "payment_attempt.reconciled", attempt, payment=payment.number, amount=payment.amount)
        else:
            _decline(attempt, result, actor)
    attempt.refresh_from_db()
    return attempt


def reconcile_pending_attempts(*, older_than: dt.timedelta = STALE_AFTER) -> ReconcileReport:
    """Every organization's attempts left pending longer than `older_than`, oldest first."""
    report = ReconcileReport()
    cutoff = clock.now() - older_than
    stale = (
        PaymentAttempt.all_tenants.filter(status=PaymentAttempt.Status.PENDING, created_at__lt=cutoff)
        .select_related("organization", "customer")
        .order_by("created_at", "pk")
    )
    for attempt in stale:
        try:
            attempt = reconcile_attempt(attempt)
        except Exception:  # one gateway's outage must not stop the others' reconciliation
            log.exception("could not reconcile payment attempt %s", attempt.pk)
            report.failed += 1
            continue
        status = attempt.status
        if status == PaymentAttempt.Status.SUCCEEDED:
            report.booked += 1
        elif status == PaymentAttempt.Status.DECLINED:
            report.declined += 1
        elif status == PaymentAttempt.Status.EXPIRED:
            report.expired += 1
        else:
            report.waiting += 1
    return report
