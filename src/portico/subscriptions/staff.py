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
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.catalog.models import Addon, Plan
from portico.catalog.pricing import price_for
from portico.core.audit import Actor, audit
from portico.core.money import Money
from portico.customers.models import Customer
from portico.payments import methods as payment_methods
from portico.subscriptions import errors, periods, services
from portico.subscriptions.models import Status, Subscription, SubscriptionItem

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
        subscription = services._lock(subscription)
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
    return periods.add_interval(
        start, plan.interval_unit, plan.interval_count, 1, services._anchor_day(plan, start)
    )


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
    today; no trial): its first term is invoiced now in full."""
    organization = customer.organization
    today = services._today(organization)
    if start_date >= today:
        raise errors.InvalidDate(_("A backdated start is a date before today."), field="start_date")
    if first_term_end(plan, start_date) <= today:
        raise errors.InvalidDate(
            _("Backdate within one term of the plan: the first term must include today."),
            field="start_date",
        )
    services._check_plan(plan, customer)
    plan.check_quantity(quantity)
    for addon, addon_quantity in addons:
        services._check_addon(addon, plan)
        if addon_quantity < 1:
            raise errors.AddonNotAvailable(_("An addon's quantity is at least 1."), field="quantity")
    with transaction.atomic():
        Customer.all_tenants.select_for_update(of=("self",)).get(pk=customer.pk)
        if auto_charge and payment_methods.default_method(customer) is None:
            raise errors.NeedsPaymentMethod()
        subscription = Subscription.all_tenants.create(
            organization_id=organization.pk,
            number=services._next_number(organization),
            customer=customer,
            plan=plan,
            quantity=quantity,
            currency=plan.currency,
            status=Status.LIVE,
            start_date=start_date,
            billing_cycles=plan.billing_cycles,
            auto_charge=auto_charge,
            next_billing_on=start_date,
            anchor_day=services._anchor_day(plan, start_date),
        )
        one_time = []
        for addon, addon_quantity in addons:
            if addon.is_recurring:
                SubscriptionItem.all_tenants.create(
                    organization_id=organization.pk,
                    subscription=subscription,
                    addon=addon,
                    quantity=addon_quantity,
                )
            else:
                one_time.extend(services._line(c) for c in price_for(addon, addon_quantity))
        if coupon_code:
            services._redeem(subscription, coupon_code, today)
        services._start_term(subscription, start_date)
        invoice = services._bill_term(
            subscription,
            start_date,
            subscription.current_term_end,
            actor,
            setup_fee=True,
            extra=one_time,
        )
        subscription.save()
        audit(
            actor,
            "subscription.created",
            subscription,
            number=subscription.number,
            plan=plan.code,
            quantity=quantity,
            status=Status.LIVE,
            backdated_to=start_date.isoformat(),
            invoice=invoice.number if invoice else "",
        )
        services._emit("subscription.created", subscription, status=Status.LIVE)
    return subscription  # an auto-charged first invoice is charged after commit (`services._issue`)
