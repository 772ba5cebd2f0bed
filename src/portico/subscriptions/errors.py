"""Domain errors of subscriptions: each a `DomainError` (see `core/errors.py`) with a message a
customer understands, a stable `code` from `Code`, and the form field it concerns. Raised before
anything is written, so a refused transition changes nothing."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.core.errors import DomainError


class Code(models.TextChoices):
    SUBSCRIPTION_ERROR = "subscription_error"
    PRICE_OVERRIDE_REFUSED = "subscription_price_override_refused"
    TRANSITION_REFUSED = "subscription_transition_refused"
    PLAN_NOT_AVAILABLE = "subscription_plan_not_available"
    PLAN_NOT_IN_FAMILY = "subscription_plan_not_in_family"
    NOTHING_TO_CHANGE = "subscription_nothing_to_change"
    INVALID_START = "subscription_invalid_start"
    TRIAL_EXTENSION_TOO_LONG = "subscription_trial_extension_too_long"
    ADDON_NOT_AVAILABLE = "subscription_addon_not_available"
    ADDON_ALREADY_ADDED = "subscription_addon_already_added"
    ADDON_NOT_ON_SUBSCRIPTION = "subscription_addon_not_on_subscription"
    COUPON_ALREADY_APPLIED = "subscription_coupon_already_applied"
    ALREADY_SCHEDULED = "subscription_already_scheduled"
    INVALID_DATE = "subscription_invalid_date"
    INVALID_REASON = "subscription_invalid_reason"
    NEEDS_PAYMENT_METHOD = "subscription_needs_payment_method"
    CHANGE_NOT_PENDING = "subscription_change_not_pending"
    ALREADY_BILLED = "subscription_period_already_billed"
    RETENTION_OFFER_REFUSED = "subscription_retention_offer_refused"
    TIMING_FIXED = "subscription_downgrade_timing_fixed"
    FORM_EXPIRED = "subscription_form_expired"
    PRORATION_DATE_OUTSIDE_PERIOD = "subscription_proration_date_outside_period"


class SubscriptionError(DomainError):
    code = Code.SUBSCRIPTION_ERROR
    message = _("This change to the subscription is not possible.")


# What each action is called in a refusal ("… so it cannot be paused").
_ACTION_PHRASES = {
    "convert_trial": _("converted from its trial"),
    "extend_trial": _("given a longer trial"),
    "cancel_trial": _("cancelled as a trial"),
    "change_plan": _("moved to another plan"),
    "change_quantity": _("changed in quantity"),
    "add_addon": _("given an addon"),
    "remove_addon": _("changed in its addons"),
    "redeem_coupon": _("given a coupon"),
    "pause": _("paused"),
    "pause_at_term_end": _("paused at the end of its term"),
    "resume": _("resumed"),
    "cancel": _("cancelled"),
    "cancel_at_term_end": _("cancelled at the end of its term"),
    "undo_cancel": _("kept (it has no cancellation scheduled)"),
    "reactivate": _("reactivated"),
    "auto_charge": _("changed in how it is paid"),
}


class TransitionRefused(SubscriptionError):
    """The subscription's status does not allow the action."""

    code = Code.TRANSITION_REFUSED
    message = _("The subscription cannot be changed this way in its current state.")

    def __init__(self, status_label=None, action: str = ""):
        self.action = action
        if status_label is None or action not in _ACTION_PHRASES:
            super().__init__()
            return
        super().__init__(
            gettext("This subscription is %(status)s, so it cannot be %(action)s.")
            % {"status": str(status_label).lower(), "action": _ACTION_PHRASES[action]}
        )


class PlanNotAvailable(SubscriptionError):
    code = Code.PLAN_NOT_AVAILABLE
    field = "plan"
    message = _("This plan is no longer offered.")


class PlanNotInFamily(SubscriptionError):
    code = Code.PLAN_NOT_IN_FAMILY
    field = "plan"
    message = _("You can only switch to another plan of the same product.")


class NothingToChange(SubscriptionError):
    code = Code.NOTHING_TO_CHANGE
    message = _("That is already your subscription: nothing to change.")


class InvalidStart(SubscriptionError):
    code = Code.INVALID_START
    field = "start_date"
    message = _("A subscription starts today or later.")


class TrialExtensionTooLong(SubscriptionError):
    code = Code.TRIAL_EXTENSION_TOO_LONG
    field = "days"
    message = _("The trial cannot be extended that much.")


class AddonNotAvailable(SubscriptionError):
    code = Code.ADDON_NOT_AVAILABLE
    field = "addon"
    message = _("This addon is not available for your plan.")


class AddonAlreadyAdded(SubscriptionError):
    code = Code.ADDON_ALREADY_ADDED
    field = "addon"
    message = _("Your subscription already has this addon.")


class AddonNotOnSubscription(SubscriptionError):
    code = Code.ADDON_NOT_ON_SUBSCRIPTION
    field = "addon"
    message = _("Your subscription does not have this addon.")


class CouponAlreadyApplied(SubscriptionError):
    code = Code.COUPON_ALREADY_APPLIED
    field = "coupon_code"
    message = _("Your subscription already has a coupon; only one coupon can be used at a time.")


class AlreadyScheduled(SubscriptionError):
    code = Code.ALREADY_SCHEDULED
    message = _("A change of this kind is already scheduled; cancel it first.")


class InvalidDate(SubscriptionError):
    code = Code.INVALID_DATE
    field = "date"
    message = _("Choose a date after today.")


class InvalidReason(SubscriptionError):
    code = Code.INVALID_REASON
    field = "reason"
    message = _("Choose one of the reasons offered.")


class NeedsPaymentMethod(SubscriptionError):
    code = Code.NEEDS_PAYMENT_METHOD
    field = "auto_charge"
    message = _("Save a card first: automatic payments charge your default card.")


class ChangeNotPending(SubscriptionError):
    code = Code.CHANGE_NOT_PENDING
    message = _("This scheduled change has already been applied or cancelled.")


class AlreadyBilled(SubscriptionError):
    code = Code.ALREADY_BILLED
    message = _("This period of the subscription has already been billed.")


class RetentionOfferRefused(SubscriptionError):
    """The retention offer cannot be accepted (none, already answered, or its coupon refused: the
    message says why, and the customer may go on cancelling)."""

    code = Code.RETENTION_OFFER_REFUSED
    message = _("This offer is not available for your subscription.")


class TimingFixed(SubscriptionError):
    code = Code.TIMING_FIXED
    field = "when"
    message = _("Your provider decides when a downgrade takes effect; it cannot be chosen here.")


class FormExpired(SubscriptionError):
    code = Code.FORM_EXPIRED
    message = _("This form has expired; please reload the page and try again.")


class ProrationDateOutsidePeriod(SubscriptionError):
    """Stripe's `proration_date`: the day a change takes effect, a date inside the current billed
    period [start, end)."""

    code = Code.PRORATION_DATE_OUTSIDE_PERIOD
    field = "proration_date"
    message = _("Choose a proration date inside the current billing period.")
