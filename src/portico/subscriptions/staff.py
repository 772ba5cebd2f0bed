"""What only staff may do to a subscription (the console's, never the portal's): override its price
and create one whose start is backdated.

Both follow `subscriptions.services`' rules: validated, one transaction, the customer row locked
before the subscription row, audited, invoices through `billing.services`.

- A price override replaces the plan's price for this subscription from its next invoice (the
  renewal; nothing already billed changes, nothing is prorated). `None` goes back to the plan's price.
- A backdated start: the subscription is live from a date in the past, within the term that
  contains today; that whole first term [start, end) is invoiced now (setup fee included), and it
  renews on the term's end as any other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext_lazy

from portico.catalog.models import Addon, Plan
from portico.core.audit import Actor, audit
from portico.core.money import Money
from portico.customers.models import Customer
from portico.subscriptions import errors, pricing, services
from portico.subscriptions.models import Status, Subscription

# A price override is refused on ended subscriptions (there is nothing left to bill).
OVERRIDABLE = (Status.FUTURE, Status.IN_TRIAL, Status.LIVE, Status.NON_RENEWING, Status.PAUSED, Status.UNPAID)


class PriceOverrideRefused(errors.SubscriptionError):
    code = errors.Code.PRICE_OVERRIDE_REFUSED
    field = "price"
    message = gettext_lazy(
        "The price override must be an amount of zero or more in the subscription's currency."
    )


def set_price_override(*, subscription: Subscription, price: Money | None, actor: Actor) -> Subscription:
    """Bill `price` per term for the plan (flat, whatever the quantity) from the next invoice;
    `None` removes the override."""
    with transaction.atomic():
        subscription = services.lock_subscription(subscription)
        if subscription.status not in OVERRIDABLE:
            raise errors.TransitionRefused(subscription.get_status_display(), "")
        if price is not None and (price.currency != subscription.currency or price.minor < 0):
            raise PriceOverrideRefused()
        before = subscription.price_override_minor
        after = price.minor if price is not None else None
        if before == after and subscription.unit_price_override is None:
            return subscription
        subscription.price_override_minor = after
        subscription.unit_price_override = None
        subscription.save()
        audit(
            actor,
            "subscription.price_overridden",
            subscription,
            number=subscription.number,
            before=before,
            after=after,
            currency=subscription.currency,
        )
    return subscription


def first_term_end(plan: Plan, start: dt.date) -> dt.date:
    return pricing.term_end(plan, start, pricing.anchor_day(plan, start))


def create_backdated_subscription(
    *,
    customer: Customer,
    plan: Plan,
    start_date: dt.date,
    actor: Actor,
    quantity: int = 1,
    addons: Sequence[tuple[Addon, int]] = (),
    coupon_code: str = "",
    auto_charge: bool = False,
) -> Subscription:
    """A live subscription that started on `start_date` (before today, in the term containing
    today; no trial): its first term is invoiced now in full (`services.create_subscription`,
    backdated)."""
    return services.create_subscription(
        customer=customer,
        plan=plan,
        actor=actor,
        quantity=quantity,
        addons=addons,
        coupon_code=coupon_code,
        start_date=start_date,
        auto_charge=auto_charge,
        backdated=True,
    )
