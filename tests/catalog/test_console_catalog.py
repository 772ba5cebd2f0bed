"""The catalog in the console: owners create, change and delete products, plans with their tiers,
addons and coupons with their codes, typing amounts in the organization's locale; read-only staff
may look but not change; hostile values become form errors, never error pages; another
organization's rows answer 404."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest

from portico.catalog.models import Addon, Coupon, CouponCode, Item, Plan, PlanTier, Product
from portico.core.models import AuditEvent
from portico.core.tenancy import tenant
from tests.catalog.factories import catalog_world, coupon, plan, product
from tests.conftest import tenant_client
from tests.factories import staff_user

BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"


def _client(org, role="owner"):
    client = tenant_client(org)
    client.force_login(staff_user(org, email=f"{role}@renotech.example", role=role), backend=BACKEND)
    return client


@pytest.fixture
def owner(org):
    return _client(org)


def management(prefix, total, initial=0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def plan_form(family, tiers=(), **changes) -> dict:
    data = {
        "product": family.pk,
        "position": "0",
        "code": "pro",
        "name": "Pro",
        "description": "For growing teams",
        "features": "Daily backups\nPriority support",
        "currency": "USD",
        "interval_count": "1",
        "interval_unit": "month",
        "pricing_model": "flat",
        "price": "1,234.50",
        "unit_price": "",
        "setup_fee": "49.00",
        "trial_days": "14",
        "billing_cycles": "",
        "min_quantity": "1",
        "max_quantity": "",
        "_save": "Save",
        **management("tiers", len(tiers)),
    }
    for i, (up_to, unit_price, fee) in enumerate(tiers):
        data.update(
            {f"tiers-{i}-up_to": up_to, f"tiers-{i}-unit_price": unit_price, f"tiers-{i}-flat_fee": fee}
        )
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def addon_form(**changes) -> dict:
    data = {
        "code": "calls",
        "name": "API calls",
        "currency": "USD",
        "charge_type": "recurring",
        "interval_count": "1",
        "interval_unit": "month",
        "pricing_model": "per_unit",
        "price": "",
        "unit_price": "0.0015",
        "_save": "Save",
        **management("tiers", 0),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def coupon_form(codes=(("LAUNCH", ""),), **changes) -> dict:
    data = {
        "name": "Launch",
        "discount_type": "percent",
        "percent": "12.5",
        "amount": "",
        "currency": "",
        "duration": "repeating",
        "duration_cycles": "3",
        "max_redemptions": "100",
        "valid_until": "2026-12-31",
        "_save": "Save",
        **management("codes", len(codes)),
    }
    for i, (code, limit) in enumerate(codes):
        data.update(
            {f"codes-{i}-code": code, f"codes-{i}-max_redemptions": limit, f"codes-{i}-is_active": "on"}
        )
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def page(response) -> str:
    return html.unescape(response.content.decode())


# -- CRUD as the owner ------------------------------------------------------------------------------


def test_the_owner_creates_a_product_and_a_tiered_plan_with_its_tiers(org, owner):
    response = owner.post(
        "/console/catalog/product/add/",
        {"name": "Cloud Backup", "description": "", "_save": "Save", **management("plans", 0)},
    )
    assert response.status_code == 302, page(response)
    family = Product.objects.get(name="Cloud Backup")
    form = plan_form(
        family,
        pricing_model="tiered",
        price="",
        tiers=[("10", "5.00", "2.00"), ("50", "4", ""), ("", "0.0015", "")],
    )
    response = owner.post("/console/catalog/plan/add/", form)
    assert response.status_code == 302, page(response)
    pro = Plan.objects.get(code="pro")
    assert (pro.product, pro.features, pro.setup_fee_minor, pro.trial_days) == (
        family,
        ["Daily backups", "Priority support"],
        4900,
        14,
    )
    assert [(t.up_to, t.unit_price, t.flat_fee_minor) for t in pro.tier_rows()] == [
        (10, Decimal("5.000000"), 200),
        (50, Decimal("4.000000"), 0),
        (None, Decimal("0.001500"), 0),
    ]
    assert AuditEvent.objects.filter(action="plan.created", object_id=str(pro.pk)).exists()
    # shown again as typed: the unit price keeps its sub-cent digits
    change = page(owner.get(f"/console/catalog/plan/{pro.pk}/change/"))
    assert 'value="0.0015"' in change and 'value="49.00"' in change


def test_the_owner_changes_and_deletes_a_plan(org, owner):
    family = product(org)
    pro = plan(org, "pro", product_row=family)
    response = owner.post(
        f"/console/catalog/plan/{pro.pk}/change/",
        plan_form(family, price="", pricing_model="per_unit", unit_price="0.0015", is_archived="on"),
    )
    assert response.status_code == 302, page(response)
    pro.refresh_from_db()
    assert (pro.pricing_model, pro.unit_price, pro.is_archived) == ("per_unit", Decimal("0.0015"), True)
    assert pro not in Plan.objects.sellable()
    response = owner.post(f"/console/catalog/plan/{pro.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Plan.objects.filter(pk=pro.pk).exists()
    assert AuditEvent.objects.filter(action="plan.deleted").exists()


def test_amounts_are_typed_in_the_organizations_locale(org, owner):
    org.locale = "de_DE"
    org.save()
    family = product(org)
    response = owner.post(
        "/console/catalog/plan/add/",
        plan_form(family, currency="EUR", price="1.234,50", setup_fee="9,99", trial_days="0"),
    )
    assert response.status_code == 302, page(response)
    pro = Plan.objects.get(code="pro")
    assert (pro.price_minor, pro.setup_fee_minor, pro.currency) == (123450, 999, "EUR")
    response = owner.post("/console/catalog/addon/add/", addon_form(currency="EUR", unit_price="0,0015"))
    assert response.status_code == 302, page(response)
    assert Addon.objects.get(code="calls").unit_price == Decimal("0.0015")


def test_the_owner_creates_changes_and_deletes_an_addon(org, owner):
    pro = plan(org, "pro")
    response = owner.post("/console/catalog/addon/add/", addon_form(plans=[pro.pk]))
    assert response.status_code == 302, page(response)
    calls = Addon.objects.get(code="calls")
    assert list(calls.plans.all()) == [pro] and calls.applies_to(pro)
    response = owner.post(
        f"/console/catalog/addon/{calls.pk}/change/",
        addon_form(
            charge_type="one_time", interval_count="", interval_unit="", pricing_model="flat", price="25"
        ),
    )
    assert response.status_code == 302, page(response)
    calls.refresh_from_db()
    assert (calls.charge_type, calls.interval_unit, calls.price_minor) == ("one_time", "", 2500)
    assert owner.post(f"/console/catalog/addon/{calls.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Addon.objects.exists()


def test_the_owner_creates_a_coupon_with_several_codes_and_archives_it(org, owner):
    pro = plan(org, "pro")
    response = owner.post(
        "/console/catalog/coupon/add/", coupon_form(codes=[("LAUNCH", "10"), ("friends", "")], plans=[pro.pk])
    )
    assert response.status_code == 302, page(response)
    launch = Coupon.objects.get(name="Launch")
    assert (launch.percent, launch.duration_cycles, launch.amount_minor) == (Decimal("12.5"), 3, None)
    assert sorted((c.code, c.max_redemptions) for c in launch.codes.all()) == [
        ("LAUNCH", 10),
        ("friends", None),
    ]
    assert all(c.organization == org for c in launch.codes.all())
    data = coupon_form(codes=[], is_archived="on", plans=[pro.pk])
    data.update(management("codes", 2, 2))
    for i, code in enumerate(launch.codes.order_by("code")):
        data.update(
            {
                f"codes-{i}-id": code.pk,
                f"codes-{i}-coupon": launch.pk,
                f"codes-{i}-code": code.code,
                f"codes-{i}-is_active": "on",
            }
        )
    response = owner.post(f"/console/catalog/coupon/{launch.pk}/change/", data)
    assert response.status_code == 302, page(response)
    launch.refresh_from_db()
    assert launch.is_archived
    assert owner.post(f"/console/catalog/coupon/{launch.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not CouponCode.objects.exists()


def test_a_fixed_coupon_takes_its_amount_in_its_currency(org, owner):
    response = owner.post(
        "/console/catalog/coupon/add/",
        coupon_form(
            discount_type="fixed",
            percent="",
            amount="15.00",
            currency="eur",
            duration="forever",
            duration_cycles="",
        ),
    )
    assert response.status_code == 302, page(response)
    fixed = Coupon.objects.get()
    assert (fixed.amount_minor, fixed.currency, fixed.percent) == (1500, "EUR", None)


def test_items_take_their_price_through_the_money_parser(org, owner):
    org.locale = "de_DE"
    org.save()
    data = {
        "name": "Design",
        "description": "",
        "currency": "EUR",
        "unit_price": "1.250,50",
        "is_active": "on",
        "_save": "Save",
    }
    assert owner.post("/console/catalog/item/add/", data).status_code == 302
    assert Item.objects.get().unit_price_minor == 125050
    response = owner.post("/console/catalog/item/add/", {**data, "unit_price": "12,505"})
    assert "Too many decimal places for EUR" in page(response)


# -- roles ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["read_only", "finance", "support"])
def test_other_roles_read_the_catalog_but_may_not_change_it(org, role):
    world = catalog_world(org)
    client = _client(org, role)
    family = world["product"]
    assert client.get("/console/catalog/plan/").status_code == 200
    assert client.get(f"/console/catalog/plan/{world['plan'].pk}/change/").status_code == 200
    assert client.post("/console/catalog/plan/add/", plan_form(family, code="new")).status_code == 403
    assert client.post("/console/catalog/addon/add/", addon_form()).status_code == 403
    assert (
        client.post("/console/catalog/coupon/add/", coupon_form(codes=[("NEWCODE", "")])).status_code == 403
    )
    response = client.post(
        f"/console/catalog/plan/{world['plan'].pk}/change/",
        plan_form(family, code="backup-basic", name="Hacked"),
    )
    assert response.status_code == 403
    assert (
        client.post(f"/console/catalog/coupon/{world['coupon'].pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert not Plan.objects.filter(name="Hacked").exists() and not Plan.objects.filter(code="new").exists()
    assert (
        Coupon.objects.filter(pk=world["coupon"].pk).exists()
        and not CouponCode.objects.filter(code="NEWCODE").exists()
    )


def test_an_administrator_manages_the_catalog(org):
    client = _client(org, "administrator")
    assert client.post("/console/catalog/addon/add/", addon_form()).status_code == 302


# -- tenants ----------------------------------------------------------------------------------------


def test_another_organizations_catalog_answers_404_and_cannot_be_chosen(org, other_org, owner):
    with tenant(other_org):
        theirs = catalog_world(other_org)
    for model, row in [
        ("product", theirs["product"]),
        ("plan", theirs["plan"]),
        ("addon", theirs["addon"]),
        ("coupon", theirs["coupon"]),
    ]:
        assert owner.get(f"/console/catalog/{model}/{row.pk}/change/").status_code == 404
        assert owner.post(f"/console/catalog/{model}/{row.pk}/delete/", {"post": "yes"}).status_code == 404
    # their product and plan ids typed into our forms are not choices
    response = owner.post("/console/catalog/plan/add/", plan_form(theirs["product"]))
    assert response.status_code == 200 and "Select a valid choice" in page(response)
    response = owner.post("/console/catalog/addon/add/", addon_form(plans=[theirs["plan"].pk]))
    assert response.status_code == 200 and "Select a valid choice" in page(response)
    assert not Plan.objects.exists() and not Addon.objects.exists()
    # the same codes as theirs are ours to use
    assert (
        owner.post("/console/catalog/coupon/add/", coupon_form(codes=[("launch20", "")])).status_code == 302
    )


# -- hostile values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"price": "-5.00"}, "Enter an amount that is not negative."),
        ({"price": "99999999999999999999"}, "Enter an amount of at most"),
        ({"price": "1e9"}, "Enter an amount like"),
        ({"setup_fee": "12.345"}, "Too many decimal places for USD"),
        ({"currency": "JPY", "price": "12.50"}, "its amounts are whole numbers"),
        ({"currency": "XYZ"}, "XYZ is not an ISO 4217 currency code"),
        ({"pricing_model": "per_unit", "unit_price": "-0.01"}, "Enter a price that is not negative."),
        ({"pricing_model": "per_unit", "unit_price": "0.0000001"}, "at most 6"),
        ({"pricing_model": "per_unit", "unit_price": "99999999999999"}, "Enter a price of at most"),
        ({"interval_count": "0"}, "greater than or equal to 1"),
        ({"interval_count": "99999999999"}, "less than or equal to"),
        ({"trial_days": "-3"}, "greater than or equal to 0"),
        ({"code": "pro plan/../x"}, "Use letters, digits, dashes and underscores"),
        ({"min_quantity": "5", "max_quantity": "2"}, "cannot be below the minimum"),
        ({"features": '["ok", 3]'}, "one feature per line, or a JSON list"),
        ({"billing_cycles": "0"}, "greater than or equal to 1"),
    ],
)
def test_hostile_plan_values_are_form_errors(org, owner, changes, message):
    response = owner.post("/console/catalog/plan/add/", plan_form(product(org), **changes))
    assert response.status_code == 200
    assert message in page(response)
    assert not Plan.objects.exists()


@pytest.mark.parametrize(
    ("pricing_model", "tiers", "message"),
    [
        ("tiered", [], "Add at least one tier"),
        ("tiered", [("50", "1", ""), ("10", "1", ""), ("", "1", "")], "must end above 50"),
        ("volume", [("10", "1", ""), ("", "1", ""), ("20", "1", "")], "must be the last tier"),
        ("volume", [("10", "1", ""), ("20", "1", "")], "Leave the last tier"),
        ("tiered", [("10", "1", ""), ("10", "2", ""), ("", "1", "")], "duplicate"),
        ("tiered", [("10", "-1", ""), ("", "1", "")], "Enter a price that is not negative."),
        ("tiered", [("10", "1", "-2.00"), ("", "1", "")], "Enter an amount that is not negative."),
        ("tiered", [("99999999999999999999999", "1", ""), ("", "1", "")], "less than or equal to"),
        ("per_unit", [("", "1", "")], "Only volume and tiered pricing use tiers"),
    ],
)
def test_tiers_with_gaps_overlaps_or_negative_prices_are_form_errors(
    org, owner, pricing_model, tiers, message
):
    response = owner.post(
        "/console/catalog/plan/add/",
        plan_form(product(org), pricing_model=pricing_model, price="", unit_price="1", tiers=tiers),
    )
    assert response.status_code == 200
    assert message in page(response)
    assert not Plan.objects.exists() and not PlanTier.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"percent": "0"}, "above 0 and at most 100"),
        ({"percent": "150"}, "less than or equal to 100"),
        ({"percent": ""}, "above 0 and at most 100"),
        ({"discount_type": "fixed", "percent": "", "amount": "10.00", "currency": ""}, "needs its currency"),
        ({"discount_type": "fixed", "percent": "", "amount": "", "currency": "USD"}, "Enter the amount off"),
        ({"discount_type": "fixed", "percent": "", "amount": "-10", "currency": "USD"}, "not negative"),
        ({"duration_cycles": ""}, "how many billing cycles"),
        ({"max_redemptions": "-1"}, "greater than or equal to 0"),
        ({"valid_until": "2026-02-30"}, "Enter a valid date"),
    ],
)
def test_hostile_coupon_values_are_form_errors(org, owner, changes, message):
    response = owner.post("/console/catalog/coupon/add/", coupon_form(**changes))
    assert response.status_code == 200
    assert message in page(response)
    assert not Coupon.objects.exists()


def test_a_coupon_code_taken_in_any_case_is_a_form_error(org, owner):
    coupon(org, codes=["SPRING"])
    response = owner.post("/console/catalog/coupon/add/", coupon_form(codes=[("spring", "")]))
    assert response.status_code == 200 and "already used by a coupon of your organization" in page(response)
    response = owner.post("/console/catalog/coupon/add/", coupon_form(codes=[("Fall", ""), ("FALL", "")]))
    assert response.status_code == 200 and "This code is typed twice" in page(response)
    response = owner.post("/console/catalog/coupon/add/", coupon_form(codes=[("two words", "")]))
    assert response.status_code == 200 and "no spaces" in page(response)
    assert Coupon.objects.count() == 1


def test_a_taken_plan_code_or_product_name_is_a_form_error(org, owner):
    family = product(org, name="Backup")
    plan(org, "pro", product_row=family)
    response = owner.post("/console/catalog/plan/add/", plan_form(family))
    assert response.status_code == 200 and "already used in your catalog" in page(response)
    response = owner.post(
        "/console/catalog/product/add/", {"name": "Backup", "_save": "Save", **management("plans", 0)}
    )
    assert response.status_code == 200 and "already used in your catalog" in page(response)


def test_a_recurring_addon_needs_its_interval(org, owner):
    response = owner.post("/console/catalog/addon/add/", addon_form(interval_unit="", interval_count=""))
    assert response.status_code == 200 and "billed every interval" in page(response)
    assert not Addon.objects.exists()
