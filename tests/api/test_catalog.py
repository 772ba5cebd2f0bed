"""The catalog through the API: the models' rules, tiers, archive and restore, audited."""

from portico.catalog.models import Coupon, CouponCode, Plan, Product, TaxRate
from portico.core.models import AuditEvent
from tests.api.conftest import assert_error


def test_a_product_and_its_tiered_plan_are_created_and_archived(api, org):
    product = api.post("/api/v1/products", {"name": "Cloud backup"})
    assert product.status_code == 201, product.content
    tax = api.post("/api/v1/tax_rates", {"name": "VAT", "percent": "20"}).json()
    plan = api.post(
        "/api/v1/plans",
        {
            "product": product.json()["id"],
            "code": "backup-volume",
            "name": "Backup",
            "pricing_model": "volume",
            "tax_rate": tax["id"],
            "tiers": [{"up_to": 10, "unit_price": "5"}, {"up_to": None, "unit_price": "4.5"}],
        },
    )
    assert plan.status_code == 201, plan.content
    body = plan.json()
    assert body["currency"] == "USD" and body["tax_rate"] == tax["id"]
    assert [t["up_to"] for t in body["tiers"]] == [10, None]
    archived = api.post(f"/api/v1/plans/{body['id']}/archive")
    assert archived.status_code == 200 and archived.json()["is_archived"] is True
    assert Plan.objects.get().is_archived
    restored = api.post(f"/api/v1/plans/{body['id']}/restore").json()
    assert restored["is_archived"] is False
    actions = list(
        AuditEvent.objects.exclude(action="api_key.created").order_by("pk").values_list("action", flat=True)
    )
    assert actions == ["product.created", "taxrate.created", "plan.created", "plan.archived", "plan.restored"]


def test_tiers_that_leave_quantities_unpriced_are_a_422_and_write_nothing(api, org):
    product = Product.objects.create(organization=org, name="P")
    response = api.post(
        "/api/v1/plans",
        {
            "product": f"prod_{product.public_id}",
            "code": "x",
            "name": "X",
            "pricing_model": "tiered",
            "tiers": [{"up_to": 10, "unit_price": "1"}],
        },
    )
    assert_error(response, 422, "invalid_tiers")
    assert not Plan.objects.exists()


def test_the_models_rules_answer_422_with_their_field(api, org):
    assert_error(api.post("/api/v1/tax_rates", {"name": "X", "percent": "101"}), 422)
    Product.objects.create(organization=org, name="Taken")
    assert_error(api.post("/api/v1/products", {"name": "Taken"}), 422)
    error = assert_error(api.post("/api/v1/coupons", {"name": "C", "discount_type": "fixed"}), 422)
    assert error["field"] == "amount_minor"
    assert Coupon.objects.count() == 0 and Product.objects.count() == 1


def test_coupon_codes_are_unique_per_organization_whatever_their_case(api, org):
    coupon = api.post("/api/v1/coupons", {"name": "Launch", "percent": "10"}).json()
    first = api.post(f"/api/v1/coupons/{coupon['id']}/codes", {"code": "SPRING"})
    assert first.status_code == 201, first.content
    assert_error(api.post(f"/api/v1/coupons/{coupon['id']}/codes", {"code": "spring"}), 422)
    assert CouponCode.objects.count() == 1
    archived = api.post(f"/api/v1/coupon_codes/{first.json()['id']}/archive").json()
    assert archived["is_active"] is False


def test_an_item_names_a_tax_rate_of_its_own_organization_only(api, org, other_org):
    from portico.core.tenancy import tenant

    with tenant(other_org):
        theirs = TaxRate.objects.create(organization=other_org, name="Theirs", percent=5)
    error = assert_error(
        api.post(
            "/api/v1/items", {"name": "Hour", "unit_price_minor": 9000, "tax_rate": f"txr_{theirs.public_id}"}
        ),
        404,
    )
    assert error["field"] == "tax_rate"


def test_an_update_may_send_tiers_with_their_defaults_left_out(api, org):
    product = Product.objects.create(organization=org, name="P")
    plan = Plan.objects.create(organization=org, product=product, code="t", name="T", pricing_model="tiered")
    plan.tiers.create(up_to=None, unit_price=2)
    response = api.post(f"/api/v1/plans/plan_{plan.public_id}", {"tiers": [{"up_to": 5}, {}]})
    assert response.status_code == 200, response.content
    assert [(t["up_to"], float(t["unit_price"])) for t in response.json()["tiers"]] == [(5, 0), (None, 0)]
