"""The subscriptions resource's schemas (`resources.subscriptions` declares the operations): the
subscription as the API shows it, what creating one and changing one take, what a change (or its
preview) produced, and the actions' bodies. Dates are the organization's local dates; a term is
`[current_term_start, current_term_end)` (the end is the first day of the next term)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Field, Schema

from portico.api.resources.ledger import LineOut
from portico.api.schemas import ListParams, UtcDateTime
from portico.subscriptions.models import ScheduledChange, Status

Reference = Annotated[str, Field(min_length=1, max_length=40)]
Quantity = Annotated[int, Field(ge=1, le=1_000_000)]
Timing = Literal["now", "term_end"]
Reason = Annotated[str, Field(max_length=200)]
Comment = Annotated[str, Field(max_length=2000)]
ScheduledKind = Literal[tuple(ScheduledChange.Kind.values)]
SubscriptionStatus = Literal[tuple(Status.values)]


class AddonQuantity(Schema):
    addon: Reference = Field(..., description="An addon (`addon_…`).")
    quantity: Quantity = 1


class SubscriptionIn(Schema):
    customer: Reference = Field(..., description="The customer (`cus_…`).")
    plan: Reference = Field(..., description="The plan (`plan_…`), in the customer's currency.")
    quantity: Quantity = 1
    addons: list[AddonQuantity] = Field(
        [],
        max_length=50,
        description="Recurring addons (billed with the plan) and one-time ones (invoiced now).",
    )
    coupon_code: str = Field("", max_length=64, description="A coupon code to redeem (such as `WELCOME20`).")
    start_date: dt.date | None = Field(
        None, description="Default today; a later date makes it `future` until then."
    )
    trial: bool = Field(True, description="Start with the plan's trial days, when it has any.")
    backdated: bool = Field(
        False,
        description="Live since `start_date`, a date before today within the first term, that term invoiced now.",
    )
    auto_charge: bool = Field(False, description="Charge the customer's default card automatically.")


class ChangeIn(Schema):
    """The same body for `…/preview` (nothing changes) and `…/change` (applied)."""

    plan: Reference | None = Field(None, description="Another plan of the same product (`plan_…`).")
    quantity: Quantity | None = None
    add_addons: list[AddonQuantity] = Field([], max_length=50)
    remove_addons: list[Reference] = Field([], max_length=50, description="Addons (`addon_…`) to remove.")
    proration_date: dt.date | None = Field(
        None,
        description="The day the change takes effect, from whose start it is prorated: a date inside "
        "the current period (default today), as Stripe's `proration_date`.",
    )
    timing: Timing | None = Field(
        None,
        description="When a downgrade applies: `now` or `term_end` (default: the organization's "
        "setting). Upgrades always apply now.",
    )


class PauseIn(Schema):
    at_term_end: bool = False
    resume_on: dt.date | None = Field(None, description="A scheduled resume (default: paused until resumed).")


class CancelIn(Schema):
    at_term_end: bool = Field(False, description="Cancel at the end of the term (`non_renewing` until then).")
    reason: Reason = Field("", description="One of the organization's cancellation reasons, or empty.")
    comment: Comment = ""
    credit: bool | None = Field(
        None, description="Credit the unused part of the term now (default: the organization's setting)."
    )


class CancelTrialIn(Schema):
    reason: Reason = ""
    comment: Comment = ""


class ExtendTrialIn(Schema):
    days: int = Field(..., ge=1, le=3650)


class AutoChargeIn(Schema):
    enabled: bool


class CouponIn(Schema):
    code: str = Field(..., min_length=1, max_length=64)


class ScheduledKindIn(Schema):
    kind: ScheduledKind


class AddonLine(Schema):
    addon: str
    quantity: int


class CouponApplied(Schema):
    coupon: str
    code: str | None
    cycles_left: int | None = Field(..., description="null: forever.")


class ScheduledChangeOut(Schema):
    kind: str = Field(..., description="`change`, `pause`, `resume` or `cancel`.")
    effective_on: dt.date
    plan: str | None = Field(..., description="A change's plan.")
    quantity: int | None = Field(..., description="A change's quantity.")
    resume_on: dt.date | None = Field(..., description="A pause's scheduled resume.")
    reason: str | None = Field(..., description="A cancellation's reason.")


class SubscriptionOut(Schema):
    id: str
    object: Literal["subscription"] = "subscription"
    number: str
    customer: str
    plan: str
    quantity: int
    currency: str
    status: str
    start_date: dt.date
    trial_start: dt.date | None
    trial_end: dt.date | None = Field(..., description="The first day after the trial.")
    current_term_start: dt.date | None
    current_term_end: dt.date | None = Field(..., description="Exclusive: the next term's first day.")
    next_billing_on: dt.date | None
    billing_cycles: int | None
    cycles_billed: int
    auto_charge: bool
    paused_on: dt.date | None
    resume_on: dt.date | None
    cancelled_at: dt.datetime | None
    cancelled_on: dt.date | None
    cancel_reason: str
    addons: list[AddonLine]
    coupon: CouponApplied | None
    scheduled_changes: list[ScheduledChangeOut] = Field(..., description="Pending, the soonest first.")
    allowed_actions: list[str]
    created_at: dt.datetime


class SubscriptionFilters(ListParams):
    status: SubscriptionStatus | None = None
    customer: Reference | None = None
    plan: Reference | None = None
    created_gte: UtcDateTime | None = Field(None, description="Created at or after (ISO 8601).")
    created_lt: UtcDateTime | None = Field(None, description="Created before (ISO 8601).")
    start_date_gte: dt.date | None = None
    start_date_lte: dt.date | None = None
    next_billing_on_gte: dt.date | None = None
    next_billing_on_lte: dt.date | None = None


class DocumentOut(Schema):
    """An invoice or credit note the change issues: in a preview, as it would be (no id or number)."""

    id: str | None
    number: str | None
    currency: str
    lines: list[LineOut]
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    credited_minor: int | None = Field(..., description="An invoice's: the change's credit applied to it.")
    balance_minor: int | None = Field(..., description="An invoice's: what is left to pay.")


class DeferredLineOut(Schema):
    kind: Literal["charge", "credit"]
    description: str
    quantity: str
    unit_price_minor: int
    tax_name: str
    tax_percent: str
    tax_inclusive: bool
    period_start: dt.date | None
    period_end: dt.date | None


class ChangeOut(Schema):
    object: Literal["subscription_change"] = "subscription_change"
    applied: bool = Field(..., description="false: a preview, nothing was changed.")
    subscription: SubscriptionOut = Field(..., description="The subscription after the change.")
    invoices: list[DocumentOut]
    credit_notes: list[DocumentOut]
    deferred_lines: list[DeferredLineOut] = Field(
        ..., description="Proration waiting for the next renewal invoice (proration mode `next_renewal`)."
    )
    scheduled_changes: list[ScheduledChangeOut] = Field(
        ..., description="What waits for the term end (a downgrade at term end)."
    )
