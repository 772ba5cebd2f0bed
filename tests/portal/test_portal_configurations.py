"""Several portal configurations per organization: one default, one chosen per customer (Stripe's
portal configurations). The customer's configuration is what the server enforces for its people."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.core.tenancy import tenant
from portico.portal import services
from portico.portal.models import (
    CustomerPortalConfiguration,
    PortalConfiguration,
    configuration_for,
    preferences_of,
)
from tests.billing.factories import open_invoice
from tests.conftest import tenant_client
from tests.factories import ContactFactory, CustomerFactory, staff_user
from tests.portal.conftest import client_for

ACTOR = Actor.system("tests")


@pytest.fixture
def restricted(org):
    """A configuration without invoices' PDFs and without online payment."""
    return services.create_portal_configuration(
        organization=org,
        name="Restricted",
        disabled=["invoices.download", "invoices.pay"],
        enabled=[],
        actor=ACTOR,
    )


@pytest.fixture
def outsider_client(outsider_customer):
    return client_for(ContactFactory(customer=outsider_customer, email="bob@bluebird.example"))


def _pdf(client, invoice) -> int:
    return client.get(f"/portal/invoices/{invoice.number}/pdf/").status_code


def test_a_customer_given_a_configuration_is_held_to_it_and_the_others_keep_the_default(
    org, customer, outsider_customer, portal_client, outsider_client, restricted
):
    mine, theirs = open_invoice(customer, 1000), open_invoice(outsider_customer, 2000)
    services.choose_portal_configuration(customer=customer, configuration=restricted, actor=ACTOR)
    assert _pdf(portal_client, mine) == 404
    assert portal_client.get(f"/portal/invoices/{mine.number}/pay/").status_code == 404
    assert portal_client.get(f"/portal/invoices/{mine.number}/").status_code == 200  # the rest stays
    assert _pdf(outsider_client, theirs) == 200  # the default still allows it
    event = AuditEvent.all_tenants.get(action="customer.portal_configuration_chosen")
    assert event.data == {"previous": None, "configuration": "Restricted"}

    services.choose_portal_configuration(customer=customer, configuration=None, actor=ACTOR)
    assert _pdf(portal_client, mine) == 200
    assert not CustomerPortalConfiguration.all_tenants.filter(customer=customer).exists()


def test_the_default_governs_every_customer_without_a_choice_and_making_another_default_moves_them(
    org, customer, portal_client, restricted
):
    invoice = open_invoice(customer, 1000)
    old_default = preferences_of(org)
    services.make_default(configuration=restricted, actor=ACTOR)
    assert _pdf(portal_client, invoice) == 404
    assert PortalConfiguration.all_tenants.get(pk=restricted.pk).is_default
    assert not PortalConfiguration.all_tenants.get(pk=old_default.pk).is_default
    assert PortalConfiguration.all_tenants.filter(organization=org, default_of__isnull=False).count() == 1
    # choosing the default for a customer is "no choice"
    services.choose_portal_configuration(customer=customer, configuration=restricted, actor=ACTOR)
    assert not CustomerPortalConfiguration.all_tenants.filter(customer=customer).exists()


def test_deleting_a_configuration_sends_its_customers_back_to_the_default_and_the_default_stays(
    org, customer, portal_client, restricted
):
    invoice = open_invoice(customer, 1000)
    services.choose_portal_configuration(customer=customer, configuration=restricted, actor=ACTOR)
    assert services.delete_portal_configuration(configuration=restricted, actor=ACTOR) == 1
    assert _pdf(portal_client, invoice) == 200
    with pytest.raises(services.PortalPreferencesRefused, match="default configuration cannot be deleted"):
        services.delete_portal_configuration(configuration=preferences_of(org), actor=ACTOR)
    assert PortalConfiguration.all_tenants.filter(pk=preferences_of(org).pk).exists()
    assert AuditEvent.all_tenants.get(action="portal_configuration.deleted").data["customers"] == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the configuration a name"),
        ("   ", "Give the configuration a name"),
        ("x" * 81, "at most 80"),
    ],
)
def test_a_configuration_without_a_usable_name_is_refused_and_nothing_is_saved(org, name, message):
    with pytest.raises(services.PortalPreferencesRefused, match=message):
        services.create_portal_configuration(
            organization=org, name=name, disabled=[], enabled=[], actor=ACTOR
        )
    assert not PortalConfiguration.all_tenants.filter(organization=org, default_of__isnull=True).exists()


def test_two_configurations_cannot_share_a_name_but_two_organizations_can(org, other_org, restricted):
    with pytest.raises(services.PortalPreferencesRefused, match='already called "Restricted"'):
        services.create_portal_configuration(
            organization=org, name=" Restricted ", disabled=[], enabled=[], actor=ACTOR
        )
    with tenant(other_org):
        services.create_portal_configuration(
            organization=other_org, name="Restricted", disabled=[], enabled=[], actor=ACTOR
        )
    with pytest.raises(services.PortalPreferencesRefused, match="not a portal capability"):
        services.update_portal_configuration(
            configuration=restricted, name="Restricted", disabled=["invoicez"], enabled=[], actor=ACTOR
        )
    assert PortalConfiguration.all_tenants.get(pk=restricted.pk).disabled == [
        "invoices.download",
        "invoices.pay",
    ]


def test_the_database_holds_one_default_per_organization_and_only_its_own(org, other_org, restricted):
    with pytest.raises(IntegrityError), transaction.atomic():
        PortalConfiguration.all_tenants.filter(pk=restricted.pk).update(default_of=org)
    with pytest.raises(IntegrityError), transaction.atomic():
        PortalConfiguration.all_tenants.filter(pk=restricted.pk).update(default_of=other_org)


def test_another_organizations_configuration_cannot_be_chosen(org, other_org, customer):
    with tenant(other_org):
        theirs = services.create_portal_configuration(
            organization=other_org, name="Theirs", disabled=["invoices"], enabled=[], actor=ACTOR
        )
    with pytest.raises(services.PortalPreferencesRefused, match="this organization's portal configurations"):
        services.choose_portal_configuration(customer=customer, configuration=theirs, actor=ACTOR)
    assert configuration_for(customer, org).pk == preferences_of(org).pk


def test_a_chosen_configuration_costs_the_portal_no_query(org, customer, portal_client, restricted):
    invoice = open_invoice(customer, 1000)
    portal_client.get(f"/portal/invoices/{invoice.number}/")  # warm what is cached per process
    with CaptureQueriesContext(connection) as default_queries:
        assert portal_client.get(f"/portal/invoices/{invoice.number}/").status_code == 200
    services.choose_portal_configuration(customer=customer, configuration=restricted, actor=ACTOR)
    with CaptureQueriesContext(connection) as chosen_queries:
        assert portal_client.get(f"/portal/invoices/{invoice.number}/").status_code == 200
    assert len(chosen_queries) == len(default_queries)


def test_the_existing_preferences_become_each_organizations_default_in_the_upgrade(migrator):
    from tests.factories import OrganizationFactory

    first, second = OrganizationFactory(slug="first"), OrganizationFactory(slug="second")
    old = migrator(("portal", "0003_preferences_switch_on_and_company_details"))
    Preferences = old.get_model("portal", "PortalPreferences")
    Preferences.objects.create(organization_id=first.pk, disabled=["invoices.pay"])
    Preferences.objects.create(organization_id=second.pk, disabled=[])
    migrator(("portal", "0005_configuration_choices"))
    rows = {row.organization_id: row for row in PortalConfiguration.all_tenants.all()}
    assert rows[first.pk].default_of_id == first.pk and rows[first.pk].disabled == ["invoices.pay"]
    assert rows[second.pk].default_of_id == second.pk and rows[second.pk].name == "Default"


# -- the console -----------------------------------------------------------------------------------


def _staff(org, role="owner"):
    client = tenant_client(org)
    user = staff_user(org, email=f"{role}@business.example", role=role)
    client.force_login(user, backend="portico.accounts.backends.TenantAuthenticationBackend")
    return client


def _customer_form(client, customer) -> dict:
    page = client.get(f"/console/customers/customer/{customer.pk}/change/")
    assert page.status_code == 200
    data = {}
    form = page.context["adminform"].form
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or field.disabled:
            continue
        data[name] = value
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management.initial.get(name, 0)
        for inline_form in formset.formset.forms:
            for name in inline_form.fields:
                value = inline_form.initial.get(name)
                if name == "id":
                    value = inline_form.instance.pk
                elif name == formset.formset.fk.name:
                    value = customer.pk
                if value is not None:
                    data[f"{inline_form.prefix}-{name}"] = value
    return data


def test_an_owner_adds_a_configuration_with_checkboxes_and_chooses_it_for_a_customer(
    org, customer, portal_client
):
    owner = _staff(org)
    from portico.portal.capabilities import registry

    ticked = [c.key for c in registry().switchable() if c.module != "statements"]
    response = owner.post(
        "/console/portal/portalconfiguration/add/", {"name": "No statements", "capabilities": ticked}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = PortalConfiguration.all_tenants.get(organization=org, name="No statements")
    assert "statements" not in " ".join(created.enabled) and not created.allows("statements")
    assert AuditEvent.all_tenants.filter(action="portal_configuration.created").count() == 1

    data = _customer_form(owner, customer)
    data["portal_configuration"] = created.pk
    response = owner.post(f"/console/customers/customer/{customer.pk}/change/", data)
    assert response.status_code == 302, (
        response.context["adminform"].form.errors,
        [f.formset.errors for f in response.context["inline_admin_formsets"]],
        response.context["errors"],
    )
    assert configuration_for(customer, org).pk == created.pk
    assert portal_client.get("/portal/statements/").status_code == 404


def test_finance_staff_see_the_customers_configuration_but_cannot_change_it(org, customer, restricted):
    finance = _staff(org, role="finance")
    data = _customer_form(finance, customer)
    data["portal_configuration"] = restricted.pk  # a disabled field: the posted value is ignored
    finance.post(f"/console/customers/customer/{customer.pk}/change/", data)
    assert not CustomerPortalConfiguration.all_tenants.filter(customer=customer).exists()
    assert finance.get("/console/portal/portalconfiguration/add/").status_code == 403


def test_the_console_offers_no_delete_for_the_default_and_refuses_one_forced(org):
    owner = _staff(org)
    default = preferences_of(org)
    assert owner.get(f"/console/portal/portalconfiguration/{default.pk}/delete/").status_code == 403
    owner.post(
        "/console/portal/portalconfiguration/",
        {"action": "delete_selected", "_selected_action": [default.pk], "post": "yes"},
    )
    assert PortalConfiguration.all_tenants.filter(pk=default.pk).exists()


def test_the_console_makes_a_configuration_the_default_and_refuses_a_taken_name(org, restricted):
    owner = _staff(org)
    response = owner.post(
        "/console/portal/portalconfiguration/",
        {"action": "make_default", "_selected_action": [restricted.pk]},
        follow=True,
    )
    assert "is now the default configuration" in response.content.decode()
    assert (
        preferences_of(PortalConfiguration.all_tenants.get(pk=restricted.pk).organization).pk == restricted.pk
    )
    other = services.create_portal_configuration(
        organization=org, name="Other", disabled=[], enabled=[], actor=ACTOR
    )
    response = owner.post(
        f"/console/portal/portalconfiguration/{other.pk}/change/",
        {"name": "Restricted", "capabilities": []},
        follow=True,
    )
    assert "already called &quot;Restricted&quot;" in response.content.decode()
    assert PortalConfiguration.all_tenants.get(pk=other.pk).name == "Other"


def test_another_organizations_configuration_is_not_found_in_the_console(org, other_org):
    with tenant(other_org):
        theirs = services.create_portal_configuration(
            organization=other_org, name="Theirs", disabled=[], enabled=[], actor=ACTOR
        )
    owner = _staff(org)
    assert owner.get(f"/console/portal/portalconfiguration/{theirs.pk}/change/").status_code in (302, 404)
    customer = CustomerFactory(organization=org)
    data = _customer_form(owner, customer)
    data["portal_configuration"] = theirs.pk
    response = owner.post(f"/console/customers/customer/{customer.pk}/change/", data)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not CustomerPortalConfiguration.all_tenants.filter(customer=customer).exists()


def test_a_contact_of_a_customer_on_a_configuration_without_the_module_is_refused_by_its_page(
    org, customer, restricted
):
    services.update_portal_configuration(
        configuration=restricted, name="Restricted", disabled=["payments"], enabled=[], actor=ACTOR
    )
    services.choose_portal_configuration(customer=customer, configuration=restricted, actor=ACTOR)
    client = client_for(ContactFactory(customer=customer, email="second@acme.example"))
    assert client.get("/portal/payments/").status_code == 404
    page = client.get("/portal/").content.decode()
    assert 'href="/portal/payments/"' not in page


def test_every_portal_subscription_action_is_a_capability_a_configuration_can_switch_off(
    org, customer, restricted
):
    from portico.portal.capabilities import registry
    from portico.subscriptions.models import PORTAL_ACTIONS

    assert all(registry().get("subscriptions", action) for action in PORTAL_ACTIONS)
    restricted = services.update_portal_configuration(
        configuration=restricted, name="Restricted", disabled=["subscriptions.pause"], enabled=[], actor=ACTOR
    )
    assert not restricted.allows("subscriptions", "pause") and restricted.allows("subscriptions", "resume")


def test_the_subscription_actions_an_organization_had_not_allowed_are_off_in_its_default_after_the_upgrade(
    migrator,
):
    from tests.factories import OrganizationFactory

    organization = OrganizationFactory(slug="upgraded")
    old = migrator(
        [("portal", "0005_configuration_choices"), ("subscriptions", "0011_subscription_public_id_required")]
    )
    old.get_model("subscriptions", "SubscriptionSettings").objects.create(
        organization_id=organization.pk, portal_actions=["cancel", "resume", "change_plan"]
    )
    migrator(
        [
            ("portal", "0006_subscription_actions_in_configurations"),
            ("subscriptions", "0012_portal_actions_moved_to_portal_configurations"),
        ]
    )
    default = PortalConfiguration.all_tenants.get(default_of=organization)
    assert "subscriptions.pause" in default.disabled and "subscriptions.change_quantity" in default.disabled
    assert not {"subscriptions.cancel", "subscriptions.resume", "subscriptions.change_plan"} & set(
        default.disabled
    )
    assert not default.allows("subscriptions", "pause") and default.allows("subscriptions", "resume")


def test_the_demo_gives_bluebird_the_pay_in_full_configuration_once(db):
    from portico.demo.loader import load_demo

    demo = load_demo()
    load_demo()
    renotech = demo.renotech
    with tenant(renotech):
        chosen = configuration_for(demo.customers["bluebird"], renotech)
        assert chosen.name == "Pay in full" and not chosen.is_default
        assert not chosen.allows("invoices", "bulk_pay") and chosen.allows("invoices", "pay")
        assert configuration_for(demo.customers["acme"], renotech).is_default
        assert PortalConfiguration.all_tenants.filter(organization=renotech).count() == 2


# -- payments: pay online, bulk pay, any amount -------------------------------------------------------


def _pay_in_full_only(org):
    services.set_portal_preferences(
        organization=org, disabled=["invoices.bulk_pay", "invoices.pay_any_amount"], enabled=[], actor=ACTOR
    )


def test_without_bulk_pay_and_any_amount_their_pages_refuse_and_their_links_go(org, customer, portal_client):
    from tests.portal.test_ledger_pages import CARD, form_token

    invoice, other = open_invoice(customer, 20000), open_invoice(customer, 5000)
    listing = portal_client.get("/portal/invoices/").content.decode()
    assert 'href="/portal/pay/"' in listing and 'href="/portal/pay/amount/"' in listing
    _pay_in_full_only(org)
    listing = portal_client.get("/portal/invoices/").content.decode()
    assert 'href="/portal/pay/"' not in listing and 'href="/portal/pay/amount/"' not in listing
    overview = portal_client.get("/portal/").content.decode()
    assert 'href="/portal/pay/"' not in overview and 'href="/portal/pay/amount/"' not in overview
    assert portal_client.get("/portal/pay/").status_code == 404
    assert portal_client.post("/portal/pay/", {"invoice": [invoice.number, other.number]}).status_code == 404
    assert portal_client.get("/portal/pay/amount/").status_code == 404
    assert portal_client.post("/portal/pay/amount/", {"amount": "10.00", **CARD}).status_code == 404

    # one invoice is still paid online, in full: a typed part amount is not offered nor taken
    html = portal_client.get(f"/portal/invoices/{invoice.number}/pay/").content.decode()
    assert 'name="amount"' not in html
    response = portal_client.post(
        f"/portal/invoices/{invoice.number}/pay/", {"form_token": form_token(html), "amount": "1.00", **CARD}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from portico.billing.models import Invoice, Payment

    assert Payment.objects.get().amount_minor == 20000
    assert Invoice.objects.get(pk=invoice.pk).balance_minor == 0
    assert Invoice.objects.get(pk=other.pk).balance_minor == 5000


def test_bulk_pay_switched_on_without_paying_online_is_still_refused(org, customer, portal_client):
    open_invoice(customer, 20000)
    services.set_portal_preferences(organization=org, disabled=["invoices.pay"], enabled=[], actor=ACTOR)
    assert portal_client.get("/portal/pay/").status_code == 404
    assert portal_client.get("/portal/pay/amount/").status_code == 404


def test_without_addresses_the_company_page_keeps_them_and_ignores_posted_ones(org, customer, portal_client):
    customer.billing_line1, customer.billing_city = "100 Main Street", "Springfield"
    customer.save()
    services.set_portal_preferences(organization=org, disabled=["profile.addresses"], enabled=[], actor=ACTOR)
    page = portal_client.get("/portal/profile/company/").content.decode()
    assert 'name="billing_line1"' not in page and "100 Main Street" in page and 'name="company_name"' in page
    response = portal_client.post(
        "/portal/profile/company/",
        {"company_name": "Acme Two", "email": "ap@acme.example", "billing_line1": "1 Hijack Road"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert customer.company_name == "Acme Two" and customer.billing_line1 == "100 Main Street"
