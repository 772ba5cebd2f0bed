"""The subscriptions resource: create (rows, first invoice), list and filters, retrieve by id or
number, every action's real outcome, refusals that change nothing, idempotent creation.

Amounts by hand, from `tests.subscriptions.factories.world`: starter $10.00/seat, storage
$2.50/unit, starter's setup fee $25.00; the clock at 10 March 2026, a monthly term 10 March – 10
April (31 days)."""

from __future__ import annotations

import datetime as dt

import pytest

from portico.api import ids
from portico.billing.models import CreditNote, Invoice
from portico.core.models import AuditEvent
from portico.subscriptions import history
from portico.subscriptions.models import ScheduledChange, Subscription
from tests.api.conftest import assert_error
from tests.factories import CustomerFactory
from tests.subscriptions.factories import card, snapshot, subscribe, world

D = dt.date
URL = "/api/v1/subscriptions"


@pytest.fixture
def w(org):
    return world(org)


@pytest.fixture
def live(customer, clock, w):
    return subscribe(customer, w.starter, quantity=3, addons=[(w.storage, 2)])  # $30 + $5 a month


def _id(obj) -> str:
    return ids.public_id(obj)


def _act(api, sub, action, body=None):
    return api.post(f"{URL}/{sub.number}/{action}", body or {})


def _fresh(sub) -> Subscription:
    return Subscription.all_tenants.get(pk=sub.pk)


# -- creating ---------------------------------------------------------------------------------------


def test_creating_a_subscription_starts_it_and_invoices_its_first_term(api, customer, clock, w):
    body = {
        "customer": _id(customer),
        "plan": _id(w.starter),
        "quantity": 3,
        "addons": [{"addon": _id(w.storage), "quantity": 2}, {"addon": _id(w.onboarding)}],
        "coupon_code": "LAUNCH20",
    }
    response = api.post(URL, body)
    assert response.status_code == 201, response.content
    created = response.json()
    sub = Subscription.objects.get()
    assert created["id"] == f"sub_{sub.public_id}" and created["number"] == sub.number == "SUB-00001"
    assert (created["status"], created["quantity"], created["plan"]) == ("live", 3, _id(w.starter))
    assert (created["current_term_start"], created["current_term_end"]) == ("2026-03-10", "2026-04-10")
    assert created["addons"] == [{"addon": _id(w.storage), "quantity": 2}]  # the one-time one is invoiced
    assert created["coupon"] == {"coupon": _id(w.launch20), "code": "LAUNCH20", "cycles_left": 1}
    [first] = history.invoices_of(sub)
    # 20 % off $30.00 and $5.00 (the coupon applies to the recurring items), the setup fee and the
    # one-time addon in full
    assert sorted(line.total_minor for line in first.lines.all()) == [400, 2400, 2500, 10000]
    assert first.total_minor == 15300
    assert AuditEvent.objects.filter(action="subscription.created").count() == 1


def test_a_plan_with_trial_days_starts_in_trial_unless_told_otherwise(api, customer, clock, w):
    trial = api.post(URL, {"customer": _id(customer), "plan": _id(w.trial)}).json()
    assert (trial["status"], trial["trial_end"], trial["next_billing_on"]) == (
        "in_trial",
        "2026-03-24",
        "2026-03-24",
    )
    paid = api.post(URL, {"customer": _id(customer), "plan": _id(w.trial), "trial": False}).json()
    assert paid["status"] == "live"
    assert Invoice.objects.count() == 1  # only the one without a trial is invoiced


def test_a_later_start_date_makes_a_future_subscription_and_a_past_one_is_refused(api, customer, clock, w):
    future = api.post(URL, {"customer": _id(customer), "plan": _id(w.starter), "start_date": "2026-04-01"})
    assert (future.json()["status"], future.json()["next_billing_on"]) == ("future", "2026-04-01")
    past = api.post(URL, {"customer": _id(customer), "plan": _id(w.starter), "start_date": "2026-03-01"})
    assert assert_error(past, 422, "subscription_invalid_start")["field"] == "start_date"
    assert Subscription.objects.count() == 1 and not Invoice.objects.exists()


def test_a_backdated_subscription_invoices_its_whole_first_term(api, customer, clock, w):
    body = {"customer": _id(customer), "plan": _id(w.starter), "start_date": "2026-03-01", "backdated": True}
    created = api.post(URL, body).json()
    assert (created["status"], created["current_term_start"], created["current_term_end"]) == (
        "live",
        "2026-03-01",
        "2026-04-01",
    )
    assert Invoice.objects.get().total_minor == 1000 + 2500


def test_refused_creations_write_nothing(api, customer, clock, w):
    cases = [
        ({"quantity": 51}, 422, "invalid_pricing"),
        ({"coupon_code": "NOPE"}, 409, "coupon_not_found"),
        ({"auto_charge": True}, 409, "subscription_needs_payment_method"),
    ]
    for extra, status, code in cases:
        response = api.post(URL, {"customer": _id(customer), "plan": _id(w.starter), **extra})
        assert 400 <= response.status_code < 500, (extra, response.content)
        if status is not None:
            assert_error(response, status, code)
    assert not Subscription.objects.exists() and not Invoice.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="subscription.").exists()


def test_a_retried_creation_replays_the_first_answer_and_creates_one(api, customer, clock, w):
    body = {"customer": _id(customer), "plan": _id(w.starter), "quantity": 2}
    headers = {"Idempotency-Key": "start-acme-1"}
    first = api.post(URL, body, headers=headers)
    again = api.post(URL, body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert Subscription.objects.count() == 1 and Invoice.objects.count() == 1
    other = api.post(URL, {**body, "quantity": 3}, headers=headers)
    assert_error(other, 409, "idempotency_key_reused")
    assert Subscription.objects.count() == 1


# -- reading ----------------------------------------------------------------------------------------


def test_a_subscription_is_found_by_its_id_or_its_number(api, live):
    by_number = api.get(f"{URL}/{live.number}").json()
    by_id = api.get(f"{URL}/{_id(live)}").json()
    assert by_number == by_id and by_id["number"] == live.number
    assert by_id["allowed_actions"] == sorted(
        ["add_addon", "auto_charge", "cancel", "cancel_at_term_end", "change_plan", "change_quantity",
         "pause", "pause_at_term_end", "redeem_coupon", "remove_addon"]
    )  # fmt: skip
    assert_error(api.get(f"{URL}/SUB-99999"), 404, "resource_missing")
    assert_error(api.get(f"{URL}/sub_nope"), 404, "resource_missing")


def test_lists_filter_by_status_customer_plan_and_dates(api, org, customer, clock, w):
    other = CustomerFactory(organization=org)
    live = subscribe(customer, w.starter)
    trial = subscribe(customer, w.trial)
    clock.set("2026-03-12T15:00:00+00:00")
    theirs = subscribe(other, w.pro, start_date=D(2026, 4, 1))
    made = dt.datetime(2026, 3, 12, 15, tzinfo=dt.UTC)  # created_at is the database's own time
    Subscription.objects.filter(pk=theirs.pk).update(created_at=made)
    Subscription.objects.exclude(pk=theirs.pk).update(created_at=made - dt.timedelta(days=2))

    def listed(**params):
        return [row["number"] for row in api.get(URL, params).json()["data"]]

    assert listed() == [theirs.number, trial.number, live.number]  # the newest first
    assert listed(status="in_trial") == [trial.number]
    assert listed(customer=_id(other)) == [theirs.number]
    assert listed(plan=_id(w.starter)) == [live.number]
    assert listed(created_gte="2026-03-11T00:00:00Z") == [theirs.number]
    assert listed(created_lt="2026-03-11T00:00:00Z") == [trial.number, live.number]
    assert listed(start_date_gte="2026-03-11") == [theirs.number]
    assert listed(next_billing_on_lte="2026-03-31") == [trial.number]  # trial ends 24 March
    page = api.get(URL, {"limit": 2}).json()
    assert page["has_more"] is True
    rest = api.get(URL, {"limit": 2, "starting_after": page["data"][-1]["id"]}).json()
    assert [row["number"] for row in rest["data"]] == [live.number] and rest["has_more"] is False
    assert_error(api.get(URL, {"customer": "cus_nope"}), 404, "resource_missing")


# -- actions ----------------------------------------------------------------------------------------


def test_pausing_and_resuming(api, live, clock):
    clock.set("2026-03-20T15:00:00+00:00")
    paused = _act(api, live, "pause", {"resume_on": "2026-04-15"}).json()
    assert (paused["status"], paused["paused_on"], paused["resume_on"]) == (
        "paused",
        "2026-03-20",
        "2026-04-15",
    )
    assert [c["kind"] for c in paused["scheduled_changes"]] == ["resume"]
    invoices = Invoice.objects.count()
    resumed = _act(api, live, "resume").json()
    assert (resumed["status"], resumed["current_term_start"], resumed["current_term_end"]) == (
        "live",
        "2026-03-20",
        "2026-04-20",
    )
    assert resumed["scheduled_changes"] == []
    assert Invoice.objects.count() == invoices + 1
    assert Invoice.objects.order_by("-pk").first().total_minor == 3500  # a new term: $30 + $5


def test_pausing_at_term_end_schedules_it(api, live):
    answer = _act(api, live, "pause", {"at_term_end": True}).json()
    assert answer["status"] == "live"
    assert answer["scheduled_changes"] == [
        {"kind": "pause", "effective_on": "2026-04-10", "plan": None, "quantity": None, "resume_on": None,
         "reason": None}
    ]  # fmt: skip


def test_cancelling_at_term_end_then_keeping_it(api, live):
    leaving = _act(api, live, "cancel", {"at_term_end": True, "reason": "Too expensive"}).json()
    assert leaving["status"] == "non_renewing" and leaving["cancel_reason"] == "Too expensive"
    assert [(c["kind"], c["effective_on"], c["reason"]) for c in leaving["scheduled_changes"]] == [
        ("cancel", "2026-04-10", "Too expensive")
    ]
    kept = _act(api, live, "undo_cancel").json()
    assert (kept["status"], kept["scheduled_changes"], kept["cancel_reason"]) == ("live", [], "")
    assert ScheduledChange.objects.get().status == "cancelled"


def test_cancelling_now_credits_the_unused_part_and_reactivating_charges_it_again(api, live, clock):
    clock.set("2026-03-20T15:00:00+00:00")
    cancelled = _act(api, live, "cancel", {"reason": "No longer needed"}).json()
    assert (cancelled["status"], cancelled["cancelled_on"], cancelled["allowed_actions"]) == (
        "cancelled",
        "2026-03-20",
        ["reactivate"],
    )
    # $30.00 × 21/31 → $20.32 and $5.00 × 21/31 → $3.39
    assert CreditNote.objects.get().total_minor == 2371
    invoices = Invoice.objects.count()
    back = _act(api, live, "reactivate").json()
    assert (back["status"], back["current_term_end"]) == ("live", "2026-04-10")
    assert Invoice.objects.count() == invoices + 1
    assert Invoice.objects.order_by("-pk").first().total_minor == 2371  # the same days charged again


def test_an_unknown_cancellation_reason_is_refused(api, live):
    error = assert_error(_act(api, live, "cancel", {"reason": "Aliens"}), 422, "subscription_invalid_reason")
    assert error["field"] == "reason" and _fresh(live).status == "live"


def test_a_trial_is_extended_converted_or_cancelled(api, customer, clock, w):
    sub = subscribe(customer, w.trial, quantity=3)
    extended = _act(api, sub, "extend_trial", {"days": 5}).json()
    assert (extended["trial_end"], extended["next_billing_on"]) == ("2026-03-29", "2026-03-29")
    too_long = _act(api, sub, "extend_trial", {"days": 26})  # 30 days at most in all
    assert assert_error(too_long, 422, "subscription_trial_extension_too_long")["field"] == "days"
    converted = _act(api, sub, "convert_trial").json()
    assert (converted["status"], converted["current_term_start"]) == ("live", "2026-03-10")
    assert Invoice.objects.get().total_minor == 2400 + 1000  # 3 × $8.00 and the setup fee
    other = subscribe(customer, w.trial)
    cancelled = _act(api, other, "cancel_trial", {"reason": "Too expensive"}).json()
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "Too expensive")


def test_automatic_payments_need_a_saved_card(api, live, customer):
    error = assert_error(_act(api, live, "auto_charge", {"enabled": True}), 409)
    assert error["code"] == "subscription_needs_payment_method" and not _fresh(live).auto_charge
    card(customer)
    assert _act(api, live, "auto_charge", {"enabled": True}).json()["auto_charge"] is True
    assert _act(api, live, "auto_charge", {"enabled": False}).json()["auto_charge"] is False
    assert AuditEvent.objects.filter(action="subscription.auto_charge_changed").count() == 2


def test_a_coupon_code_applies_once(api, live, w):
    applied = _act(api, live, "apply_coupon", {"code": "launch20"}).json()
    assert applied["coupon"] == {"coupon": _id(w.launch20), "code": "LAUNCH20", "cycles_left": 2}
    again = _act(api, live, "apply_coupon", {"code": "ONCE5"})
    assert_error(again, 409, "subscription_coupon_already_applied")
    unknown = _act(api, live, "apply_coupon", {"code": "NOPE"})
    assert 400 <= unknown.status_code < 500
    assert api.get(f"{URL}/{live.number}").json()["coupon"]["code"] == "LAUNCH20"


def test_a_scheduled_downgrade_is_cancelled_by_its_kind(api, live, w):
    scheduled = api.post(f"{URL}/{live.number}/change", {"quantity": 1, "timing": "term_end"}).json()
    assert scheduled["scheduled_changes"] == [
        {"kind": "change", "effective_on": "2026-04-10", "plan": _id(w.starter), "quantity": 1,
         "resume_on": None, "reason": None}
    ]  # fmt: skip
    assert scheduled["subscription"]["quantity"] == 3 and scheduled["invoices"] == []
    kept = _act(api, live, "cancel_scheduled_change", {"kind": "change"}).json()
    assert kept["scheduled_changes"] == [] and kept["quantity"] == 3
    assert ScheduledChange.objects.get().status == "cancelled"
    error = assert_error(_act(api, live, "cancel_scheduled_change", {"kind": "change"}), 409)
    assert (error["code"], error["field"]) == ("subscription_change_not_pending", "kind")


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("resume", None),
        ("reactivate", None),
        ("undo_cancel", None),
        ("convert_trial", None),
        ("extend_trial", {"days": 3}),
        ("cancel_trial", {}),
    ],
)
def test_a_transition_the_status_refuses_changes_nothing(api, live, action, body):
    before = snapshot(live)
    error = assert_error(_act(api, live, action, body), 409, "subscription_transition_refused")
    assert "live" in error["message"]
    assert snapshot(live) == before


def test_a_paused_subscription_cannot_be_changed_or_paused_again(api, live):
    _act(api, live, "pause")
    before = snapshot(live)
    assert_error(_act(api, live, "pause"), 409, "subscription_transition_refused")
    assert_error(
        api.post(f"{URL}/{live.number}/change", {"quantity": 5}), 409, "subscription_transition_refused"
    )
    assert_error(
        api.post(f"{URL}/{live.number}/preview", {"quantity": 5}), 409, "subscription_transition_refused"
    )
    assert snapshot(live) == before


def test_another_organizations_subscription_is_not_found_by_its_number(api, other_org, live):
    from portico.core.tenancy import tenant

    with tenant(other_org):
        theirs = world(other_org)
        stranger = CustomerFactory(organization=other_org)
        their_sub = subscribe(stranger, theirs.starter)
    assert their_sub.number == live.number  # numbers are per organization: the same text
    assert api.get(f"{URL}/{their_sub.number}").json()["id"] == _id(live)
    assert_error(api.get(f"{URL}/{_id(their_sub)}"), 404, "resource_missing")
    assert_error(api.post(f"{URL}/{_id(their_sub)}/pause", {}), 404, "resource_missing")
    assert Subscription.all_tenants.get(pk=their_sub.pk).status == "live"


def test_the_access_walk_covers_every_subscription_operation():
    """`tests/api/test_access.py` walks every operation (another organization's ids → 404, a read
    key on a write → 403): these are among them."""
    from tests.api.operations import operations

    walked = {str(o) for o in operations()}
    actions = ["preview", "change", "pause", "resume", "cancel", "undo_cancel", "reactivate", "convert_trial",
               "extend_trial", "cancel_trial", "auto_charge", "apply_coupon", "cancel_scheduled_change"]  # fmt: skip
    expected = {"GET /api/v1/subscriptions", "POST /api/v1/subscriptions",
                "GET /api/v1/subscriptions/{subscription_id}"}  # fmt: skip
    expected |= {f"POST /api/v1/subscriptions/{{subscription_id}}/{action}" for action in actions}
    assert expected <= walked
    assert {o for o in walked if "/subscriptions" in o} == expected


@pytest.mark.parametrize("path", ["/api/v1/customers", URL])
def test_a_time_with_any_offset_filters_as_its_utc_instant(api, live, path):
    """ISO 8601 allows offsets PostgreSQL refuses (past ±15:59): the query compares in UTC. Found
    by schemathesis on PostgreSQL."""
    Subscription.objects.update(created_at=dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC))
    type(live.customer).objects.update(created_at=dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC))
    # 10 March 2026 12:00 UTC is 11 March 05:29 at +17:29
    at = api.get(path, {"created_gte": "2026-03-11T05:29:00+17:29"}).json()["data"]
    after = api.get(path, {"created_gte": "2026-03-11T05:29:01+17:29"}).json()["data"]
    assert (len(at), after) == (1, [])
    assert api.get(path, {"created_lt": "1436-02-12T15:47:40+17:29"}).json()["data"] == []
    error = assert_error(api.get(path, {"created_gte": "0001-01-01T00:00:00+17:00"}), 422)
    assert error["field"] == "created_gte"
