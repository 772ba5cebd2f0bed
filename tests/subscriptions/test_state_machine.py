"""The subscription state machine (issue 11, item 2): every (state, action) pair. An allowed action
moves the subscription to the state written here; a refused one raises a DomainError whose message a
customer understands, and changes nothing (the row, invoices, credit notes, audit trail, scheduled
changes, items, coupon redemptions)."""

from __future__ import annotations

import datetime as dt

import pytest

from portico.core.errors import DomainError
from portico.subscriptions import services
from portico.subscriptions.models import Subscription
from tests.subscriptions.factories import ACTOR, card, in_state, snapshot, world

STATES = ["future", "in_trial", "live", "non_renewing", "paused", "unpaid", "cancelled", "expired"]


ACTIONS = {
    "convert_trial": lambda sub, w: services.convert_trial_now(subscription=sub, actor=ACTOR),
    "extend_trial": lambda sub, w: services.extend_trial(subscription=sub, days=7, actor=ACTOR),
    "cancel_trial": lambda sub, w: services.cancel_trial(subscription=sub, actor=ACTOR),
    "change_plan": lambda sub, w: services.change_plan(subscription=sub, plan=w.pro, actor=ACTOR),
    "change_quantity": lambda sub, w: services.change_quantity(subscription=sub, quantity=4, actor=ACTOR),
    "add_addon": lambda sub, w: services.add_addon(subscription=sub, addon=w.support, actor=ACTOR),
    "remove_addon": lambda sub, w: services.remove_addon(subscription=sub, addon=w.storage, actor=ACTOR),
    "redeem_coupon": lambda sub, w: services.redeem_coupon(subscription=sub, code="launch20", actor=ACTOR),
    "pause": lambda sub, w: services.pause(subscription=sub, actor=ACTOR),
    "pause_at_term_end": lambda sub, w: services.pause(subscription=sub, actor=ACTOR, at_term_end=True),
    "resume": lambda sub, w: services.resume(subscription=sub, actor=ACTOR),
    "cancel": lambda sub, w: services.cancel(subscription=sub, actor=ACTOR, reason="Too expensive"),
    "cancel_at_term_end": lambda sub, w: services.cancel(subscription=sub, actor=ACTOR, at_term_end=True),
    "undo_cancel": lambda sub, w: services.undo_cancel(subscription=sub, actor=ACTOR),
    "reactivate": lambda sub, w: services.reactivate(subscription=sub, actor=ACTOR),
    "auto_charge_on": lambda sub, w: services.set_auto_charge(subscription=sub, enabled=True, actor=ACTOR),
}

# The specification, written out: for each action, the states that allow it and where it leaves the
# subscription. Every other state refuses it.
EXPECTED = {
    "convert_trial": {"in_trial": "live"},
    "extend_trial": {"in_trial": "in_trial"},
    "cancel_trial": {"in_trial": "cancelled"},
    "change_plan": {
        "future": "future",
        "in_trial": "in_trial",
        "live": "live",
        "non_renewing": "non_renewing",
    },
    "change_quantity": {
        "future": "future",
        "in_trial": "in_trial",
        "live": "live",
        "non_renewing": "non_renewing",
    },
    "add_addon": {"future": "future", "in_trial": "in_trial", "live": "live", "non_renewing": "non_renewing"},
    "remove_addon": {
        "future": "future",
        "in_trial": "in_trial",
        "live": "live",
        "non_renewing": "non_renewing",
    },
    "redeem_coupon": {
        "future": "future",
        "in_trial": "in_trial",
        "live": "live",
        "non_renewing": "non_renewing",
    },
    "pause": {"live": "paused"},
    "pause_at_term_end": {"live": "live"},
    "resume": {"paused": "live"},
    "cancel": {
        "future": "cancelled",
        "in_trial": "cancelled",
        "live": "cancelled",
        "non_renewing": "cancelled",
        "paused": "cancelled",
        "unpaid": "cancelled",
    },
    "cancel_at_term_end": {"live": "non_renewing"},
    "undo_cancel": {"non_renewing": "live"},
    "reactivate": {"cancelled": "live"},
    "auto_charge_on": {s: s for s in ("future", "in_trial", "live", "non_renewing", "paused", "unpaid")},
}


@pytest.fixture
def w(org):
    return world(org)


CASES = [(action, state) for action in ACTIONS for state in STATES]


@pytest.mark.parametrize(("action", "state"), CASES, ids=[f"{a}-{s}" for a, s in CASES])
def test_every_transition_is_allowed_or_refused_as_specified(org, customer, clock, w, action, state):
    card(customer)
    sub = in_state(state, customer, w)
    assert sub.status == state
    before = snapshot(sub)
    allowed = EXPECTED[action]
    if state in allowed:
        ACTIONS[action](sub, w)
        assert Subscription.all_tenants.get(pk=sub.pk).status == allowed[state]
        assert snapshot(sub)["audit"] > before["audit"]
        return
    with pytest.raises(DomainError) as refused:
        ACTIONS[action](sub, w)
    assert refused.value.code == "subscription_transition_refused"
    assert str(refused.value).startswith("This subscription is ")
    assert snapshot(sub) == before


def test_the_specification_matches_the_services_table():
    """The portal asks `allowed_actions`; it must say what the specification above says."""
    names = {"auto_charge_on": "auto_charge"}
    for action, allowed in EXPECTED.items():
        assert set(services.ALLOWED[names.get(action, action)]) == set(allowed), action


def test_a_refusal_names_the_state_and_the_action(org, customer, clock, w):
    sub = in_state("cancelled", customer, w)
    with pytest.raises(DomainError, match=r"^This subscription is cancelled, so it cannot be paused\.$"):
        services.pause(subscription=sub, actor=ACTOR)


def test_a_trial_is_extended_up_to_the_organizations_maximum(org, customer, clock, w):
    sub = in_state("in_trial", customer, w)
    services.extend_trial(subscription=sub, days=20, actor=ACTOR)
    before = snapshot(sub)
    with pytest.raises(DomainError, match="10 more days at most"):
        services.extend_trial(subscription=sub, days=11, actor=ACTOR)
    assert snapshot(sub) == before
    sub = services.extend_trial(subscription=sub, days=10, actor=ACTOR)
    assert sub.trial_end == dt.date(2026, 3, 24) + dt.timedelta(days=30)
