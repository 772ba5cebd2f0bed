"""Coupon codes a customer types: found whatever their case, refused with the reason why (expired,
used up, not for this plan, no longer offered), unique per organization but not across them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from portico.catalog import errors
from portico.catalog.models import Coupon, CouponCode, redeemable_code
from portico.core.tenancy import tenant
from tests.catalog.factories import addon, coupon, plan

TODAY = dt.date(2026, 3, 10)


def test_a_valid_code_is_found_whatever_its_case_and_spaces(org):
    pro = plan(org, "pro")
    deal = coupon(org, codes=["SPRING26"], valid_until=TODAY)
    found = redeemable_code("  spring26 ", today=TODAY, plan=pro)
    assert found.coupon == deal and found.code == "SPRING26"


@pytest.mark.parametrize(
    ("setup", "refusal", "message"),
    [
        ("unknown", errors.CouponNotFound, "does not exist"),
        ("expired", errors.CouponExpired, "has expired"),
        ("coupon_used_up", errors.CouponUsedUp, "already been used as many times"),
        ("code_used_up", errors.CouponUsedUp, "already been used as many times"),
        ("other_plan", errors.CouponNotApplicable, "cannot be used for this plan"),
        ("other_currency", errors.CouponNotApplicable, "cannot be used for this plan"),
        ("archived", errors.CouponArchived, "no longer offered"),
        ("code_inactive", errors.CouponArchived, "no longer offered"),
    ],
)
def test_a_code_that_cannot_be_redeemed_says_why(org, setup, refusal, message):
    pro, basic = plan(org, "pro"), plan(org, "basic")
    deal = coupon(org, codes=["SAVE"], plans=[pro])
    code = deal.codes.get()
    typed = "SAVE"
    if setup == "unknown":
        typed = "SAVE-NOT"
    elif setup == "expired":
        deal.valid_until = TODAY - dt.timedelta(days=1)
    elif setup == "coupon_used_up":
        deal.max_redemptions, deal.times_redeemed = 5, 5
    elif setup == "code_used_up":
        code.max_redemptions, code.times_redeemed = 1, 1
    elif setup == "other_plan":
        pro = basic
    elif setup == "other_currency":
        deal.plans.clear()
        deal.discount_type, deal.percent, deal.amount_minor, deal.currency = "fixed", None, 500, "EUR"
    elif setup == "archived":
        deal.is_archived = True
    elif setup == "code_inactive":
        code.is_active = False
    deal.save()
    code.save()
    with pytest.raises(refusal, match=message) as refused:
        redeemable_code(typed, today=TODAY, plan=pro)
    assert refused.value.field == "coupon_code"


def test_a_coupon_is_redeemable_on_its_last_day_and_for_every_plan_when_it_names_none(org):
    deal = coupon(org, codes=["ALL"], valid_until=TODAY, max_redemptions=2, times_redeemed=1)
    assert redeemable_code("all", today=TODAY, plan=plan(org, "any")).coupon == deal


def test_a_coupon_for_an_addon_only_is_not_for_plans(org):
    extra = addon(org)
    coupon(org, codes=["ADDON"], addons=[extra])
    assert redeemable_code("ADDON", today=TODAY, addon=extra)
    with pytest.raises(errors.CouponNotApplicable):
        redeemable_code("ADDON", today=TODAY, plan=plan(org, "pro"))


def test_codes_are_unique_per_organization_whatever_their_case(org, other_org):
    coupon(org, codes=["SPRING"])
    with pytest.raises(IntegrityError), transaction.atomic():
        coupon(org, name="Another", codes=["spring"])
    with tenant(other_org):
        theirs = coupon(other_org, codes=["spring"])
    assert CouponCode.all_tenants.filter(code__iexact="spring").count() == 2
    assert redeemable_code("SPRING", today=TODAY).coupon.organization == org
    with tenant(other_org):
        assert redeemable_code("SPRING", today=TODAY).coupon == theirs


def test_another_organizations_code_is_not_found(org, other_org):
    with tenant(other_org):
        coupon(other_org, codes=["NORTH"])
    with pytest.raises(errors.CouponNotFound):
        redeemable_code("NORTH", today=TODAY)


@pytest.mark.parametrize(
    "fields",
    [
        {"percent": Decimal("0")},
        {"percent": Decimal("100.5")},
        {"percent": None},
        {"discount_type": "fixed", "percent": None, "amount_minor": 500, "currency": ""},
        {"discount_type": "fixed", "percent": None, "amount_minor": 0, "currency": "USD"},
        {"duration": "repeating"},
        {"duration": "once", "duration_cycles": 3},
    ],
)
def test_the_database_refuses_a_coupon_of_no_clear_shape(org, fields):
    values = {"percent": Decimal("10"), **fields}
    with pytest.raises(IntegrityError), transaction.atomic():
        Coupon.objects.create(name="Odd", **values)
