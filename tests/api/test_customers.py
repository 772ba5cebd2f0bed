"""Customers and contacts through the API: the same services as the console, audited."""

from portico.core.models import AuditEvent
from portico.customers.models import ContactPerson, Customer
from tests.api.conftest import assert_error
from tests.factories import ContactFactory, CustomerFactory


def test_a_customer_is_created_retrieved_and_listed_with_its_public_id(api, org):
    created = api.post(
        "/api/v1/customers",
        {
            "display_name": "Acme Interiors",
            "email": "billing@acme.example",
            "billing_address": {"line1": "1 Main St", "city": "Austin", "region": "TX", "country": "us"},
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert "no-store" in created["Cache-Control"]
    customer = Customer.objects.get()
    assert body["id"] == f"cus_{customer.public_id}" and body["object"] == "customer"
    assert body["currency"] == "USD" and body["billing_address"]["country"] == "US"
    assert str(customer.pk) not in body["id"].removeprefix("cus_") or len(body["id"]) > 10
    assert api.get(f"/api/v1/customers/{body['id']}").json() == body
    listed = api.get("/api/v1/customers").json()
    assert listed == {"object": "list", "data": [body], "has_more": False}
    event = AuditEvent.objects.get(action="customer.created")
    assert event.actor_kind == AuditEvent.ActorKind.API and "Tests" in event.actor_label


def test_updating_a_customer_changes_only_the_fields_sent(api, org):
    customer = CustomerFactory(organization=org, display_name="Old", phone="+1 555 0100")
    response = api.post(f"/api/v1/customers/cus_{customer.public_id}", {"display_name": "New"})
    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert (customer.display_name, customer.phone) == ("New", "+1 555 0100")
    assert AuditEvent.objects.filter(action="customer.details_changed").count() == 1


def test_a_too_long_or_missing_field_is_a_422_naming_it(api):
    error = assert_error(api.post("/api/v1/customers", {"display_name": "x" * 201}), 422, "validation_failed")
    assert error["field"] == "display_name"
    error = assert_error(api.post("/api/v1/customers", {}), 422)
    assert error["field"] == "display_name"
    error = assert_error(
        api.post("/api/v1/customers", {"display_name": "A", "billing_address": {"country": "USA"}}), 422
    )
    assert error["field"] == "billing_address.country"
    error = assert_error(api.post("/api/v1/customers", {"display_name": "A", "email": "not-an-email"}), 422)
    assert error["field"] == "email"
    assert Customer.objects.count() == 0


def test_pagination_walks_every_customer_once_newest_first(api, org):
    made = [CustomerFactory(organization=org) for _ in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"starting_after": cursor} if cursor else {})}
        page = api.get("/api/v1/customers", params).json()
        seen += [row["id"] for row in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["data"][-1]["id"]
    assert seen == [f"cus_{c.public_id}" for c in reversed(made)]
    assert_error(api.get("/api/v1/customers", {"limit": 0}), 422)
    assert_error(api.get("/api/v1/customers", {"limit": 101}), 422)
    assert_error(api.get("/api/v1/customers", {"starting_after": "cus_nope"}), 404)


def test_customers_are_filtered_by_email_currency_and_activity(api, org):
    CustomerFactory(organization=org, email="a@x.example", currency="USD")
    eur = CustomerFactory(organization=org, email="b@x.example", currency="EUR", is_active=False)
    assert [r["id"] for r in api.get("/api/v1/customers", {"currency": "eur"}).json()["data"]] == [
        f"cus_{eur.public_id}"
    ]
    assert len(api.get("/api/v1/customers", {"email": "A@X.example"}).json()["data"]) == 1
    assert len(api.get("/api/v1/customers", {"is_active": "false"}).json()["data"]) == 1


def test_a_contact_is_added_updated_invited_revoked_and_removed(api, org, customer, mailbox_settings=None):
    base = f"/api/v1/customers/cus_{customer.public_id}/contacts"
    created = api.post(base, {"first_name": "Maria", "email": "Maria@Acme.example", "is_primary": True})
    assert created.status_code == 201, created.content
    contact_id = created.json()["id"]
    assert created.json()["email"] == "maria@acme.example" and contact_id.startswith("ctc_")
    assert api.get(base).json()["data"][0]["id"] == contact_id
    updated = api.post(f"/api/v1/contacts/{contact_id}", {"last_name": "Lopez", "portal_role": "admin"})
    assert updated.status_code == 200, updated.content
    assert (updated.json()["last_name"], updated.json()["portal_role"]) == ("Lopez", "admin")
    invited = api.post(f"/api/v1/contacts/{contact_id}/invite")
    assert invited.status_code == 200 and invited.json()["has_portal_access"] is True
    revoked = api.post(f"/api/v1/contacts/{contact_id}/revoke_access")
    assert revoked.status_code == 200 and revoked.json()["has_portal_access"] is False
    assert api.delete(f"/api/v1/contacts/{contact_id}").status_code == 204
    assert not ContactPerson.objects.exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "contact.added",
        "contact.changed",
        "invitation.sent",
        "access.revoked",
        "contact.removed",
    } <= actions


def test_a_duplicate_contact_email_is_a_422(api, org, customer):
    ContactFactory(customer=customer, email="maria@acme.example")
    error = assert_error(
        api.post(
            f"/api/v1/customers/cus_{customer.public_id}/contacts",
            {"first_name": "M", "email": "MARIA@acme.example"},
        ),
        422,
    )
    assert ContactPerson.objects.count() == 1 and error["message"]


def test_the_last_portal_admin_cannot_lose_access_through_the_api(api, org, customer):
    admin = ContactFactory(customer=customer, is_primary=True)
    ContactFactory(customer=customer, portal_role="viewer")
    assert_error(api.post(f"/api/v1/contacts/ctc_{admin.public_id}/revoke_access"), 409)
    admin.refresh_from_db()
    assert admin.has_portal_access


def test_a_customers_currency_is_locked_once_it_has_documents(api, org, customer):
    from tests.billing.factories import open_invoice

    open_invoice(customer, 1000)
    error = assert_error(api.post(f"/api/v1/customers/cus_{customer.public_id}", {"currency": "EUR"}), 409)
    assert (error["code"], error["field"]) == ("currency_locked", "currency")
    customer.refresh_from_db()
    assert customer.currency == "USD"
