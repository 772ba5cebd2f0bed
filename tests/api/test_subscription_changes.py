"""`POST /subscriptions/<number>/preview` and `…/change` take the same body: the preview answers the
exact documents the change then issues (lines, amounts, tax) and leaves no row behind; a preview
priced for a chosen `proration_date` is what applying it with that date books.

Amounts by hand: starter $10.00/seat, pro $20.00/seat, storage $2.50/unit, support $15.00 flat; a
live subscription of 3 starter seats and 2 storage units ($30 + $5 a month), term 10 March – 10
April 2026 (31 days); changes on 20 March (21 days left) unless a proration date says otherwise."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portico.api import ids
from portico.billing.models import CreditNote, Invoice, Payment
from portico.catalog.models import TaxRate
from portico.core.models import AuditEvent, OutboxEvent
from portico.subscriptions import changes, history
from portico.subscriptions.models import ScheduledChange, Subscription, SubscriptionItem, SubscriptionSettings
from tests.api.conftest import assert_error
from tests.subscriptions.factories import ACTOR, card, subscribe, world

URL = "/api/v1/subscriptions"


@pytest.fixture
def w(org):
    return world(org)


@pytest.fixture
def live(customer, clock, w):
    sub = subscribe(customer, w.starter, quantity=3, addons=[(w.storage, 2)])
    clock.set("2026-03-20T15:00:00+00:00")
    return sub


def _id(obj) -> str:
    return ids.public_id(obj)


def rows() -> dict[str, object]:
    """Every row a change may write."""
    return {
        "invoices": Invoice.all_tenants.count(),
        "credit_notes": CreditNote.all_tenants.count(),
        "payments": Payment.all_tenants.count(),
        "audit": AuditEvent.all_tenants.filter(action__startswith="subscription.").count(),
        "outbox": OutboxEvent.all_tenants.count(),
        "scheduled": list(ScheduledChange.all_tenants.values_list("kind", "status").order_by("id")),
        "items": list(SubscriptionItem.all_tenants.values_list("addon_id", "quantity").order_by("id")),
        "subscription": list(
            Subscription.all_tenants.values_list("plan_id", "quantity", "deferred_lines", "current_term_end")
        ),
    }


def _documents(answer: dict) -> dict:
    """What a change issued, without what only an applied change has (ids and numbers)."""

    def shown(document):
        return {key: value for key, value in document.items() if key not in ("id", "number")}

    return {
        "invoices": [shown(d) for d in answer["invoices"]],
        "credit_notes": [shown(d) for d in answer["credit_notes"]],
        "deferred_lines": answer["deferred_lines"],
        "scheduled_changes": answer["scheduled_changes"],
    }


def preview_then_change(api, sub, body) -> tuple[dict, dict]:
    before = rows()
    preview = api.post(f"{URL}/{sub.number}/preview", body)
    assert preview.status_code == 200, preview.content
    assert rows() == before, "a preview leaves nothing behind"
    applied = api.post(f"{URL}/{sub.number}/change", body)
    assert applied.status_code == 200, applied.content
    return preview.json(), applied.json()


CASES = {
    "upgrade": lambda w: {"plan": _id(w.pro)},
    "more seats": lambda w: {"quantity": 5},
    "add an addon": lambda w: {"add_addons": [{"addon": _id(w.support)}]},
    "remove an addon": lambda w: {"remove_addons": [_id(w.storage)]},
    "downgrade now": lambda w: {"quantity": 1, "timing": "now"},
    "downgrade at term end": lambda w: {"quantity": 1, "timing": "term_end"},
    "all at once": lambda w: {
        "plan": _id(w.pro),
        "quantity": 4,
        "add_addons": [{"addon": _id(w.support)}],
        "remove_addons": [_id(w.storage)],
        "proration_date": "2026-03-25",
    },
}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_preview_is_what_the_change_then_issues(api, live, w, case):
    preview, applied = preview_then_change(api, live, CASES[case](w))
    assert (preview["applied"], applied["applied"]) == (False, True)
    assert _documents(preview) == _documents(applied)
    assert preview["subscription"] == applied["subscription"]
    issued = {invoice.number for invoice in _new_invoices(live)}
    assert {i["number"] for i in applied["invoices"]} == issued
    for shown in applied["invoices"]:
        stored = Invoice.objects.get(number=shown["number"])
        assert [line["total_minor"] for line in shown["lines"]] == [
            line.total_minor for line in stored.lines.all()
        ]
        assert (shown["total_minor"], shown["balance_minor"]) == (stored.total_minor, stored.balance_minor)


def _new_invoices(sub):
    return list(history.invoices_of(sub).exclude(pk=_first_invoice(sub).pk))


def _first_invoice(sub):
    return Invoice.objects.filter(customer=sub.customer).order_by("pk").first()


def test_an_upgrade_is_charged_for_the_days_left_and_the_unused_days_credited(api, live, w):
    preview, applied = preview_then_change(api, live, {"plan": _id(w.pro)})
    [invoice] = applied["invoices"]
    [credit] = applied["credit_notes"]
    # pro 3 × $20 × 21/31 = 40.645… → $40.65; starter $30 × 21/31 = 20.322… → $20.32, applied to it
    assert [line["total_minor"] for line in invoice["lines"]] == [4065]
    assert invoice["lines"][0]["period_start"] == "2026-03-20"
    assert (invoice["total_minor"], invoice["credited_minor"], invoice["balance_minor"]) == (4065, 2032, 2033)
    assert credit["total_minor"] == 2032
    assert applied["subscription"]["plan"] == _id(w.pro)
    assert applied["subscription"]["current_term_end"] == "2026-04-10"
    assert preview["invoices"][0]["id"] is None and preview["invoices"][0]["number"] is None


def test_a_preview_for_a_chosen_day_is_applied_as_shown(api, live, w):
    body = {"plan": _id(w.pro), "proration_date": "2026-03-25"}
    preview, applied = preview_then_change(api, live, body)
    # 16 days of 31 left on 25 March: pro $60 × 16/31 = 30.967… → $30.97; starter $30 × 16/31 = 15.483… → $15.48
    assert [line["total_minor"] for line in preview["invoices"][0]["lines"]] == [3097]
    assert preview["credit_notes"][0]["total_minor"] == 1548
    assert _documents(preview) == _documents(applied)
    stored = Invoice.objects.get(number=applied["invoices"][0]["number"])
    assert (stored.total_minor, stored.credited_minor) == (3097, 1548)
    assert stored.lines.get().period_start == dt.date(2026, 3, 25)


def test_a_proration_date_outside_the_current_period_is_refused(api, live, w):
    before = rows()
    for day in ("2026-03-09", "2026-04-10", "2027-01-01"):
        for action in ("preview", "change"):
            response = api.post(f"{URL}/{live.number}/{action}", {"plan": _id(w.pro), "proration_date": day})
            error = assert_error(response, 422, "subscription_proration_date_outside_period")
            assert error["field"] == "proration_date"
    assert "2026-03-10 to 2026-04-09" in error["message"]
    assert rows() == before


def test_a_proration_date_on_a_subscription_not_billed_yet_is_refused(api, customer, clock, w):
    trial = subscribe(customer, w.trial)
    response = api.post(f"{URL}/{trial.number}/change", {"quantity": 2, "proration_date": "2026-03-12"})
    assert (
        assert_error(response, 422, "subscription_proration_date_outside_period")["field"] == "proration_date"
    )
    assert (
        api.post(f"{URL}/{trial.number}/change", {"quantity": 2}).json()["invoices"] == []
    )  # a trial is free


def test_with_next_renewal_proration_the_lines_wait_and_the_preview_says_so(api, org, live, w):
    SubscriptionSettings.objects.filter(organization=org).update(proration_mode="next_renewal")
    preview, applied = preview_then_change(api, live, {"plan": _id(w.pro)})
    assert applied["invoices"] == [] and applied["credit_notes"] == []
    assert [(line["kind"], line["unit_price_minor"]) for line in preview["deferred_lines"]] == [
        ("credit", 2032),
        ("charge", 4065),
    ]
    assert _documents(preview) == _documents(applied)
    assert len(Subscription.objects.get().deferred_lines) == 2


def test_a_taxed_plan_previews_its_tax(api, org, customer, clock, w):
    rate = TaxRate.objects.create(organization=org, name="Sales tax", percent=Decimal("8.25"))
    w.pro.tax_rate = rate
    w.pro.save()
    sub = subscribe(customer, w.starter, quantity=3)
    clock.set("2026-03-20T15:00:00+00:00")
    preview, applied = preview_then_change(api, sub, {"plan": _id(w.pro)})
    [line] = preview["invoices"][0]["lines"]
    # $40.65 net, 8.25 % tax = 3.353… → $3.35
    assert (line["net_minor"], line["tax_minor"], line["total_minor"], line["tax_name"]) == (
        4065,
        335,
        4400,
        "Sales tax",
    )
    assert preview["invoices"][0]["tax_minor"] == 335
    assert _documents(preview) == _documents(applied)


def test_a_refused_change_is_refused_alike_by_its_preview(api, live, w):
    before = rows()
    for action in ("preview", "change"):
        assert_error(api.post(f"{URL}/{live.number}/{action}", {}), 409, "subscription_nothing_to_change")
        error = assert_error(
            api.post(f"{URL}/{live.number}/{action}", {"add_addons": [{"addon": _id(w.storage)}]}), 409
        )
        assert error["code"] == "subscription_addon_already_added"
        error = assert_error(
            api.post(f"{URL}/{live.number}/{action}", {"quantity": 51}), 422, "invalid_pricing"
        )
        assert error["field"] == "quantity"
    assert rows() == before


def test_a_change_refused_half_way_changes_nothing(api, live, w):
    """The storage addon is removed first, then the plan refused: the removal is rolled back too."""
    before = rows()
    body = {"remove_addons": [_id(w.storage)], "quantity": 51}
    assert_error(api.post(f"{URL}/{live.number}/change", body), 422, "invalid_pricing")
    assert rows() == before


def test_an_automatically_paid_change_is_charged_only_when_applied(
    api, live, w, customer, django_capture_on_commit_callbacks
):
    card(customer)
    api.post(f"{URL}/{live.number}/auto_charge", {"enabled": True})
    with django_capture_on_commit_callbacks(execute=True) as previewed:
        api.post(f"{URL}/{live.number}/preview", {"plan": _id(w.pro)})
    assert Payment.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True) as changed:
        answer = api.post(f"{URL}/{live.number}/change", {"plan": _id(w.pro)}).json()
    assert len(changed) > len(previewed)
    [payment] = Payment.objects.all()
    assert payment.amount_minor == answer["invoices"][0]["balance_minor"] == 2033


def test_the_preview_function_rolls_back_audit_and_outbox_rows_too(live, w):
    before = rows()
    outcome = changes.preview_change(subscription=live, change=changes.Change(plan=w.pro), actor=ACTOR)
    assert rows() == before
    assert outcome.applied is False and outcome.subscription.plan_id == w.pro.pk
    assert [line.total_minor for line in outcome.invoices[0].lines.all()] == [4065]
    applied = changes.change_subscription(subscription=live, change=changes.Change(plan=w.pro), actor=ACTOR)
    assert [line.total_minor for line in applied.invoices[0].lines.all()] == [4065]
    assert AuditEvent.objects.filter(action="subscription.plan_changed").count() == 1
    assert OutboxEvent.objects.filter(topic="subscription.changed").count() == 1


def test_another_organizations_plan_or_addon_in_a_change_is_not_found(api, live, other_org):
    from portico.core.tenancy import tenant

    with tenant(other_org):
        theirs = world(other_org)
    before = rows()
    for body, field in [
        ({"plan": _id(theirs.pro)}, "plan"),
        ({"add_addons": [{"addon": _id(theirs.support)}]}, "add_addons.0.addon"),
        ({"remove_addons": [_id(theirs.storage)]}, "remove_addons.0"),
    ]:
        for action in ("preview", "change"):
            error = assert_error(api.post(f"{URL}/{live.number}/{action}", body), 404, "resource_missing")
            assert error["field"] == field
    assert rows() == before
