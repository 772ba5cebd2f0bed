"""One change to a subscription as a business asks for it in one request — another plan and/or
quantity, addons added and removed, the day it takes effect (Stripe's `proration_date`), the
downgrade timing — applied through the services (`remove_addon`, `change_plan`, `add_addon`), and
its preview.

The preview is the same function, run inside a savepoint that is then rolled back (a private
exception leaves it): what it reports are the invoices, credit notes, deferred lines and scheduled
change the services really wrote, read before the rollback — so a preview is what applying the
change then does, by construction, and leaves nothing behind (no invoice, number, audit row or
outbox event; the after-commit charges of an automatically paid invoice are discarded with the
savepoint).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from portico.billing.models import CreditNote, Invoice
from portico.catalog.models import Addon, Plan
from portico.core.audit import Actor
from portico.subscriptions import errors, history, services
from portico.subscriptions.models import ScheduledChange, Subscription


@dataclass(frozen=True)
class Change:
    """What to change. `at_term_end`: None follows the organization's downgrade timing; True or
    False decides it (for downgrades only: an upgrade always applies now)."""

    plan: Plan | None = None
    quantity: int | None = None
    add_addons: Sequence[tuple[Addon, int]] = ()
    remove_addons: Sequence[Addon] = ()
    proration_date: dt.date | None = None
    at_term_end: bool | None = None

    @property
    def is_empty(self) -> bool:
        return self.plan is None and self.quantity is None and not self.add_addons and not self.remove_addons


@dataclass
class Outcome:
    """What a change wrote: the subscription after it, the invoices and credit notes it issued (with
    their lines loaded), the proration lines deferred to the next renewal, and the change scheduled
    for the term end (a downgrade that waits)."""

    subscription: Subscription
    invoices: list[Invoice] = field(default_factory=list)
    credit_notes: list[CreditNote] = field(default_factory=list)
    deferred_lines: list[dict] = field(default_factory=list)
    scheduled: list[ScheduledChange] = field(default_factory=list)
    applied: bool = True


def _documents(subscription: Subscription) -> tuple[set[int], set[int]]:
    return (
        set(history.invoices_of(subscription).values_list("pk", flat=True)),
        set(history.credit_notes_of(subscription).values_list("pk", flat=True)),
    )


def _pending(subscription: Subscription) -> set[int]:
    return set(
        ScheduledChange.all_tenants.filter(
            subscription=subscription, status=ScheduledChange.ChangeStatus.PENDING
        ).values_list("pk", flat=True)
    )


def change_subscription(*, subscription: Subscription, change: Change, actor: Actor) -> Outcome:
    """Apply `change` in one transaction: addons removed first (so that a plan they cannot follow
    to is allowed), then the plan and quantity, then the addons added (checked against the new
    plan). Every refusal is the services' and leaves nothing changed."""
    if change.is_empty:
        raise errors.NothingToChange()
    with transaction.atomic():
        services.lock_subscription(subscription)
        invoices_before, notes_before = _documents(subscription)
        pending_before = _pending(subscription)
        deferred_before = len(
            Subscription.all_tenants.values_list("deferred_lines", flat=True).get(pk=subscription.pk) or []
        )
        options = {"actor": actor, "proration_date": change.proration_date}
        for addon in change.remove_addons:
            services.remove_addon(subscription=subscription, addon=addon, **options)
        if change.plan is not None or change.quantity is not None:
            services.change_plan(
                subscription=subscription, plan=change.plan, quantity=change.quantity,
                at_term_end=change.at_term_end, **options,
            )  # fmt: skip
        for addon, quantity in change.add_addons:
            services.add_addon(subscription=subscription, addon=addon, quantity=quantity, **options)
        after = Subscription.all_tenants.select_related("plan", "customer", "organization").get(
            pk=subscription.pk
        )
        invoices_after, notes_after = _documents(after)
        return Outcome(
            subscription=after,
            invoices=list(
                Invoice.all_tenants.filter(pk__in=invoices_after - invoices_before)
                .prefetch_related("lines")
                .order_by("pk")
            ),
            credit_notes=list(
                CreditNote.all_tenants.filter(pk__in=notes_after - notes_before)
                .prefetch_related("lines")
                .order_by("pk")
            ),
            deferred_lines=list((after.deferred_lines or [])[deferred_before:]),
            scheduled=list(
                ScheduledChange.all_tenants.filter(
                    subscription=after, status=ScheduledChange.ChangeStatus.PENDING
                )
                .exclude(pk__in=pending_before)
                .order_by("pk")
            ),
        )


class _RolledBack(Exception):
    """Leaves the preview's savepoint, carrying what was described inside it."""

    def __init__(self, described):
        super().__init__("preview rolled back")
        self.described = described


def preview_change(
    *, subscription: Subscription, change: Change, actor: Actor,
    describe: Callable[[Outcome], Any] = lambda outcome: outcome,
) -> Any:  # fmt: skip
    """What `change_subscription` would do now, without doing it: the change applied in a savepoint,
    `describe(outcome)` called inside it (read what you need there: the rows are gone after), then
    rolled back. Refusals are the change's own."""
    try:
        with transaction.atomic():
            outcome = change_subscription(subscription=subscription, change=change, actor=actor)
            outcome.applied = False
            for invoice in outcome.invoices:  # loaded now: the rows are rolled back below
                list(invoice.lines.all())
            for note in outcome.credit_notes:
                list(note.lines.all())
            raise _RolledBack(describe(outcome))
    except _RolledBack as rolled_back:
        return rolled_back.described
