"""Subscriptions: list (filters: status, customer, plan, creation, start and next billing dates),
retrieve, create; a change and its preview (`…/preview` and `…/change` take the same body, the
preview answers exactly what the change then issues: `subscriptions.changes`); and every action as
`POST /subscriptions/<id>/<action>` — pause, resume, cancel, undo_cancel, reactivate,
convert_trial, extend_trial, cancel_trial, auto_charge, apply_coupon, cancel_scheduled_change —
through `subscriptions.services`, whose state machine refuses what the status does not allow
(409 `subscription_transition_refused`).

A subscription's id is `sub_…`; every path takes its number (`SUB-00012`) too."""

from __future__ import annotations

from django.db.models import Prefetch
from ninja import Query, Router, Status

from portico.api import ids
from portico.api.resources import actor, responses
from portico.api.resources.ledger import get_document, line_out
from portico.api.resources.subscriptions_schemas import (
    AutoChargeIn,
    CancelIn,
    CancelTrialIn,
    ChangeIn,
    ChangeOut,
    CouponIn,
    ExtendTrialIn,
    PauseIn,
    ScheduledKindIn,
    SubscriptionFilters,
    SubscriptionIn,
    SubscriptionOut,
)
from portico.api.schemas import list_of, paginate
from portico.catalog.models import Addon, Plan
from portico.customers.models import Customer
from portico.subscriptions import changes, errors, services, staff
from portico.subscriptions.models import CouponRedemption, ScheduledChange, Subscription, SubscriptionItem

router = Router(tags=["subscriptions"])

SUBSCRIPTION_FIELDS = (
    "number", "quantity", "currency", "status", "start_date", "trial_start", "trial_end",
    "current_term_start", "current_term_end", "next_billing_on", "billing_cycles", "cycles_billed",
    "auto_charge", "paused_on", "resume_on", "cancelled_at", "cancelled_on", "cancel_reason", "created_at",
)  # fmt: skip
DEFERRED_FIELDS = (
    "kind", "description", "quantity", "unit_price_minor", "tax_name", "tax_percent", "tax_inclusive",
    "period_start", "period_end",
)  # fmt: skip

# -- serializing and finding ----------------------------------------------------------------------


def _queryset():
    return Subscription.objects.select_related("customer", "plan").prefetch_related(
        Prefetch("items", queryset=SubscriptionItem.objects.select_related("addon").order_by("id")),
        Prefetch(
            "redemptions",
            queryset=CouponRedemption.objects.filter(status=CouponRedemption.RedemptionStatus.ACTIVE)
            .select_related("coupon", "code")
            .order_by("id"),
            to_attr="active_redemptions",
        ),
        Prefetch(
            "scheduled_changes",
            queryset=ScheduledChange.objects.filter(status=ScheduledChange.ChangeStatus.PENDING).order_by(
                "effective_on", "id"
            ),
            to_attr="pending_changes",
        ),
    )


def _plans_named(changes_: list[ScheduledChange]) -> dict[int, str]:
    """The API ids of the plans that scheduled changes name (one query for a whole page)."""
    pks = {change.payload.get("plan_id") for change in changes_ if change.kind == ScheduledChange.Kind.CHANGE}
    pks.discard(None)
    if not pks:
        return {}
    return {plan.pk: ids.public_id(plan) for plan in Plan.objects.filter(pk__in=pks).only("pk", "public_id")}


def scheduled_out(change: ScheduledChange, plans: dict[int, str]) -> dict:
    payload = change.payload or {}
    is_change = change.kind == ScheduledChange.Kind.CHANGE
    resume_on = payload.get("resume_on") if change.kind == ScheduledChange.Kind.PAUSE else None
    return {
        "kind": change.kind,
        "effective_on": change.effective_on,
        "plan": plans.get(payload.get("plan_id")) if is_change else None,
        "quantity": payload.get("quantity") if is_change else None,
        "resume_on": resume_on,
        "reason": payload.get("reason") if change.kind == ScheduledChange.Kind.CANCEL else None,
    }


def subscription_out(subscription: Subscription, plans: dict[int, str]) -> dict:
    redemption = next(iter(subscription.active_redemptions), None)
    return {
        "id": ids.public_id(subscription),
        "object": "subscription",
        "customer": ids.public_id(subscription.customer),
        "plan": ids.public_id(subscription.plan),
        **{name: getattr(subscription, name) for name in SUBSCRIPTION_FIELDS},
        "addons": [
            {"addon": ids.public_id(item.addon), "quantity": item.quantity}
            for item in subscription.items.all()
        ],
        "coupon": {
            "coupon": ids.public_id(redemption.coupon),
            "code": redemption.code.code if redemption.code_id else None,
            "cycles_left": redemption.cycles_left,
        }
        if redemption is not None
        else None,
        "scheduled_changes": [scheduled_out(change, plans) for change in subscription.pending_changes],
        "allowed_actions": sorted(services.allowed_actions(subscription)),
    }


def _subscription(subscription_id: str) -> Subscription:
    return get_document(_queryset(), subscription_id)


def _answer(subscription: Subscription) -> dict:
    """The subscription as it is now in the database (read again after a service changed it)."""
    fresh = _queryset().get(pk=subscription.pk)
    return subscription_out(fresh, _plans_named(fresh.pending_changes))


def _document_out(document, *, applied: bool, is_invoice: bool) -> dict:
    return {
        "id": ids.public_id(document) if applied else None,
        "number": (document.number or None) if applied else None,
        "currency": document.currency,
        "lines": [line_out(line) for line in document.lines.all()],
        "subtotal_minor": document.subtotal_minor,
        "tax_minor": document.tax_minor,
        "total_minor": document.total_minor,
        "credited_minor": document.credited_minor if is_invoice else None,
        "balance_minor": document.balance_minor if is_invoice else None,
    }


def _deferred_out(row: dict) -> dict:
    return {name: row[name] for name in DEFERRED_FIELDS}


def change_out(outcome: changes.Outcome) -> dict:
    """What a change issued (or, in a preview, would issue), read while its rows exist."""
    scheduled = outcome.scheduled
    return {
        "object": "subscription_change",
        "applied": outcome.applied,
        "subscription": _answer(outcome.subscription),
        "invoices": [_document_out(i, applied=outcome.applied, is_invoice=True) for i in outcome.invoices],
        "credit_notes": [
            _document_out(n, applied=outcome.applied, is_invoice=False) for n in outcome.credit_notes
        ],
        "deferred_lines": [_deferred_out(row) for row in outcome.deferred_lines],
        "scheduled_changes": [scheduled_out(change, _plans_named(scheduled)) for change in scheduled],
    }


def _addon(value: str, field: str) -> Addon:
    return ids.get(Addon.objects.all(), value, field=field)


def _change(payload: ChangeIn) -> changes.Change:
    """The body as a `Change`, its references found in the key's organization (else 404)."""
    return changes.Change(
        plan=ids.get(Plan.objects.all(), payload.plan, field="plan") if payload.plan is not None else None,
        quantity=payload.quantity,
        add_addons=[
            (_addon(item.addon, f"add_addons.{n}.addon"), item.quantity)
            for n, item in enumerate(payload.add_addons)
        ],
        remove_addons=[_addon(value, f"remove_addons.{n}") for n, value in enumerate(payload.remove_addons)],
        proration_date=payload.proration_date,
        at_term_end=None if payload.timing is None else payload.timing == "term_end",
    )


# -- reading --------------------------------------------------------------------------------------


@router.get("", response=responses({200: list_of(SubscriptionOut)}), summary="List subscriptions")
def list_subscriptions(request, filters: Query[SubscriptionFilters]):
    subscriptions = _queryset()
    if filters.status is not None:
        subscriptions = subscriptions.filter(status=filters.status)
    if filters.customer is not None:
        subscriptions = subscriptions.filter(
            customer=ids.get(Customer.objects.all(), filters.customer, field="customer")
        )
    if filters.plan is not None:
        subscriptions = subscriptions.filter(plan=ids.get(Plan.objects.all(), filters.plan, field="plan"))
    if filters.created_gte is not None:
        subscriptions = subscriptions.filter(created_at__gte=filters.created_gte)
    if filters.created_lt is not None:
        subscriptions = subscriptions.filter(created_at__lt=filters.created_lt)
    for field in ("start_date", "next_billing_on"):
        for bound in ("gte", "lte"):  # inclusive dates
            value = getattr(filters, f"{field}_{bound}")
            if value is not None:
                subscriptions = subscriptions.filter(**{f"{field}__{bound}": value})
    page = paginate(subscriptions, filters, lambda subscription: subscription)
    plans = _plans_named([change for row in page["data"] for change in row.pending_changes])
    page["data"] = [subscription_out(row, plans) for row in page["data"]]
    return page


@router.get(
    "/{subscription_id}", response=responses({200: SubscriptionOut}), summary="Retrieve a subscription"
)
def get_subscription(request, subscription_id: str):
    """By its id (`sub_…`) or its number (`SUB-00012`)."""
    return _answer(_subscription(subscription_id))


# -- creating and changing ------------------------------------------------------------------------


@router.post("", response=responses({201: SubscriptionOut}), summary="Create a subscription")
def create_subscription(request, payload: SubscriptionIn):
    """`future` when it starts later; `in_trial` when the plan has trial days (and `trial`); else
    `live`, its first term invoiced now (plan, addons, setup fee, coupon)."""
    customer = ids.get(Customer.objects.all(), payload.customer, field="customer")
    plan = ids.get(Plan.objects.all(), payload.plan, field="plan")
    addons = [
        (_addon(item.addon, f"addons.{n}.addon"), item.quantity) for n, item in enumerate(payload.addons)
    ]
    options = {
        "customer": customer, "plan": plan, "actor": actor(request), "quantity": payload.quantity,
        "addons": addons, "coupon_code": payload.coupon_code.strip(), "auto_charge": payload.auto_charge,
    }  # fmt: skip
    if payload.backdated:
        if payload.start_date is None:
            raise errors.InvalidDate(errors.InvalidDate.message, field="start_date")
        subscription = staff.create_backdated_subscription(start_date=payload.start_date, **options)
    else:
        subscription = services.create_subscription(
            start_date=payload.start_date, trial=payload.trial, **options
        )
    return Status(201, _answer(subscription))


@router.post("/{subscription_id}/preview", response=responses({200: ChangeOut}), summary="Preview a change")
def preview_change(request, subscription_id: str, payload: ChangeIn):
    """Exactly what `…/change` with the same body would issue now — its invoices' and credit notes'
    lines, amounts and taxes, the proration deferred to the renewal, the change scheduled for the
    term end — without changing anything."""
    subscription = _subscription(subscription_id)
    return changes.preview_change(
        subscription=subscription, change=_change(payload), actor=actor(request), describe=change_out
    )


@router.post(
    "/{subscription_id}/change", response=responses({200: ChangeOut}), summary="Change a subscription"
)
def change_subscription(request, subscription_id: str, payload: ChangeIn):
    """Another plan of the same product and/or quantity, addons added and removed, prorated by days
    from `proration_date` (default today); a downgrade now or at the term end (`timing`)."""
    subscription = _subscription(subscription_id)
    outcome = changes.change_subscription(
        subscription=subscription, change=_change(payload), actor=actor(request)
    )
    return change_out(outcome)


# -- actions --------------------------------------------------------------------------------------


@router.post("/{subscription_id}/pause", response=responses({200: SubscriptionOut}), summary="Pause")
def pause(request, subscription_id: str, payload: PauseIn):
    """Now (nothing is billed while paused) or at the term end; until `resume_on` or resumed."""
    subscription = services.pause(
        subscription=_subscription(subscription_id), actor=actor(request),
        at_term_end=payload.at_term_end, resume_on=payload.resume_on,
    )  # fmt: skip
    return _answer(subscription)


@router.post("/{subscription_id}/resume", response=responses({200: SubscriptionOut}), summary="Resume")
def resume(request, subscription_id: str):
    """A new term starts today and is invoiced."""
    return _answer(services.resume(subscription=_subscription(subscription_id), actor=actor(request)))


@router.post("/{subscription_id}/cancel", response=responses({200: SubscriptionOut}), summary="Cancel")
def cancel(request, subscription_id: str, payload: CancelIn):
    """Now (the unused part of the term credited, as the organization or `credit` says) or at the
    term end (`non_renewing` until then)."""
    subscription = services.cancel(
        subscription=_subscription(subscription_id), actor=actor(request), at_term_end=payload.at_term_end,
        reason=payload.reason.strip(), comment=payload.comment.strip(), credit=payload.credit,
    )  # fmt: skip
    return _answer(subscription)


@router.post(
    "/{subscription_id}/undo_cancel", response=responses({200: SubscriptionOut}), summary="Keep it renewing"
)
def undo_cancel(request, subscription_id: str):
    """Remove the cancellation scheduled for the term end."""
    return _answer(services.undo_cancel(subscription=_subscription(subscription_id), actor=actor(request)))


@router.post(
    "/{subscription_id}/reactivate", response=responses({200: SubscriptionOut}), summary="Reactivate"
)
def reactivate(request, subscription_id: str):
    """Within the paid term the term is kept; after it, a new term starts today and is invoiced."""
    return _answer(services.reactivate(subscription=_subscription(subscription_id), actor=actor(request)))


@router.post(
    "/{subscription_id}/convert_trial",
    response=responses({200: SubscriptionOut}),
    summary="End the trial now",
)
def convert_trial(request, subscription_id: str):
    """The first paid term starts today and is invoiced (with the setup fee)."""
    subscription = services.convert_trial_now(
        subscription=_subscription(subscription_id), actor=actor(request)
    )
    return _answer(subscription)


@router.post(
    "/{subscription_id}/extend_trial", response=responses({200: SubscriptionOut}), summary="Extend the trial"
)
def extend_trial(request, subscription_id: str, payload: ExtendTrialIn):
    """By `days`, within the organization's maximum extension."""
    subscription = services.extend_trial(
        subscription=_subscription(subscription_id), days=payload.days, actor=actor(request)
    )
    return _answer(subscription)


@router.post(
    "/{subscription_id}/cancel_trial", response=responses({200: SubscriptionOut}), summary="Cancel the trial"
)
def cancel_trial(request, subscription_id: str, payload: CancelTrialIn):
    subscription = services.cancel_trial(
        subscription=_subscription(subscription_id), actor=actor(request),
        reason=payload.reason.strip(), comment=payload.comment.strip(),
    )  # fmt: skip
    return _answer(subscription)


@router.post(
    "/{subscription_id}/auto_charge", response=responses({200: SubscriptionOut}), summary="Automatic payments"
)
def auto_charge(request, subscription_id: str, payload: AutoChargeIn):
    """On (the customer's default saved card is charged for each invoice) or off."""
    subscription = services.set_auto_charge(
        subscription=_subscription(subscription_id), enabled=payload.enabled, actor=actor(request)
    )
    return _answer(subscription)


@router.post(
    "/{subscription_id}/apply_coupon",
    response=responses({200: SubscriptionOut}),
    summary="Apply a coupon code",
)
def apply_coupon(request, subscription_id: str, payload: CouponIn):
    """From the next invoice; one coupon at a time."""
    subscription = _subscription(subscription_id)
    services.redeem_coupon(subscription=subscription, code=payload.code, actor=actor(request))
    return _answer(subscription)


@router.post(
    "/{subscription_id}/cancel_scheduled_change",
    response=responses({200: SubscriptionOut}),
    summary="Cancel a scheduled change",
)
def cancel_scheduled_change(request, subscription_id: str, payload: ScheduledKindIn):
    """The pending change of this `kind` (at most one of each): a downgrade waiting for the term
    end, a pause or a resume, or the cancellation at term end."""
    subscription = _subscription(subscription_id)
    pending = next((c for c in subscription.pending_changes if c.kind == payload.kind), None)
    if pending is None:
        raise errors.ChangeNotPending(
            "This subscription has no pending scheduled change of this kind.", field="kind"
        )
    services.cancel_scheduled_change(change=pending, actor=actor(request))
    return _answer(subscription)
