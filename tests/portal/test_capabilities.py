"""Portal capabilities are declared once by the apps; preferences, gates and the console follow."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import HttpResponse
from django.urls import include, path
from django.utils.html import escape

from portico.core.audit import Actor
from portico.core.capabilities import Capability
from portico.core.models import AuditEvent
from portico.portal import services
from portico.portal.access import portal_view
from portico.portal.capabilities import PUBLIC_PAGES, check_portal_gates, gate_problems, portal_urls, registry
from portico.portal.models import PortalConfiguration, preferences_of
from tests.billing.factories import open_invoice
from tests.conftest import tenant_client
from tests.factories import staff_user

ACTOR = Actor.system("tests")


def test_every_portal_page_is_gated_by_a_declared_capability_or_listed_public_with_a_reason():
    pages = list(portal_urls())
    routes = {route for route, _name, _callback in pages}
    # the walk reaches the pages of every include: the portal's, accounts', allauth's
    assert {"portal/", "portal/invoices/<str:number>/pay/", "portal/profile/contacts/"} <= routes
    assert {"portal/account/login/", "portal/account/invitation/<str:token>/"} <= routes
    assert gate_problems() == []
    assert check_portal_gates() == []
    names = {name for _route, name, _callback in pages}
    assert set(PUBLIC_PAGES) <= names, "no stale entries in the public list"
    assert all(reason.strip() for reason in PUBLIC_PAGES.values())


def _open_by_mistake(request):
    return HttpResponse("anyone")


@portal_view(module="invoices")
def _gated(request):
    return HttpResponse("gated")


urlpatterns = [
    path("portal/open-by-mistake/", _open_by_mistake, name="open_by_mistake"),
    path("portal/gated/", _gated, name="gated"),
    path("", include("portico.urls")),
]


@pytest.mark.urls(__name__)
def test_a_portal_page_without_a_gate_fails_the_system_check():
    problems = gate_problems()
    assert len(problems) == 1 and "/portal/open-by-mistake/" in problems[0]
    [error] = check_portal_gates()
    assert error.id == "portal.E001"


def test_a_gate_naming_an_undeclared_capability_is_refused_when_the_view_is_defined():
    with pytest.raises(ImproperlyConfigured, match=r"invoices.*payy"):
        portal_view(module="invoices", action="payy")(_open_by_mistake)
    with pytest.raises(ImproperlyConfigured):
        portal_view(module="invoicez")(_open_by_mistake)


def test_roles_come_from_the_declaration():
    assert registry().get("invoices", "pay").roles == ("billing", "admin")
    assert not registry().get("contacts", "view").allows_role("billing")
    assert registry().get("invoices", "view").allows_role("viewer")


@pytest.mark.parametrize(
    "disabled", [["invoices.payy"], ["invoicez"], ["security"], ["overview.view"], "invoices.pay", [3]]
)
def test_an_unknown_or_fixed_capability_is_refused_by_the_model_and_the_service(org, disabled):
    preferences = preferences_of(org)
    preferences.disabled = disabled
    with pytest.raises(ValidationError) as refused:
        preferences.full_clean()
    assert "disabled" in refused.value.message_dict

    with pytest.raises(services.PortalPreferencesRefused) as refused:
        services.set_portal_preferences(organization=org, disabled=disabled, enabled=[], actor=ACTOR)
    assert refused.value.message
    assert PortalConfiguration.all_tenants.get(organization=org).disabled == []
    assert not AuditEvent.all_tenants.filter(action="portal_preferences.changed").exists()


def test_the_refusal_names_the_unknown_entry(org):
    with pytest.raises(
        services.PortalPreferencesRefused, match=r'"invoices\.payy" is not a portal capability'
    ):
        services.set_portal_preferences(organization=org, disabled=["invoices.payy"], enabled=[], actor=ACTOR)
    with pytest.raises(services.PortalPreferencesRefused, match="on unless switched off"):
        services.set_portal_preferences(organization=org, disabled=[], enabled=["invoices.pay"], actor=ACTOR)


def test_changing_preferences_through_the_service_is_audited_and_enforced(org, portal_client, customer):
    invoice = open_invoice(customer, 1000)
    assert portal_client.get(f"/portal/invoices/{invoice.number}/pdf/").status_code == 200
    services.set_portal_preferences(organization=org, disabled=["invoices.download"], enabled=[], actor=ACTOR)
    assert portal_client.get(f"/portal/invoices/{invoice.number}/pdf/").status_code == 404
    assert portal_client.get(f"/portal/invoices/{invoice.number}/").status_code == 200
    event = AuditEvent.all_tenants.get(action="portal_preferences.changed")
    assert event.data["disabled"] == ["invoices.download"] and event.data["previous"]["disabled"] == []


def test_a_module_view_switched_off_takes_its_actions_with_it(org):
    preferences = preferences_of(org)
    preferences.disabled = ["invoices.view"]
    assert not preferences.allows("invoices", "pay")
    assert not preferences.allows("invoices", "download")
    assert preferences.allows("payments")


def test_a_capability_off_by_default_is_off_until_the_business_enables_it(org):
    reminders = Capability("invoices", "remind", "Invoices: send reminders", default=False)
    with registry().declaring(reminders):
        assert not preferences_of(org).allows("invoices", "remind")
        services.set_portal_preferences(
            organization=org, disabled=[], enabled=["invoices.remind"], actor=ACTOR
        )
        assert PortalConfiguration.all_tenants.get(organization=org).allows("invoices", "remind")
        with pytest.raises(services.PortalPreferencesRefused, match="both on and off"):
            services.set_portal_preferences(
                organization=org, disabled=["invoices.remind"], enabled=["invoices.remind"], actor=ACTOR
            )
    with pytest.raises(services.PortalPreferencesRefused):  # gone with its declaration
        services.set_portal_preferences(
            organization=org, disabled=[], enabled=["invoices.remind"], actor=ACTOR
        )


# -- the console ---------------------------------------------------------------------------------


@pytest.fixture
def staff_client(org):
    client = tenant_client(org)
    client.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    return client


def _change_url(org) -> str:
    return f"/console/portal/portalconfiguration/{preferences_of(org).pk}/change/"


def test_the_console_shows_the_declared_capabilities_as_labelled_checkboxes(org, staff_client):
    page = staff_client.get(_change_url(org)).content.decode()
    for capability in registry().switchable():
        assert f'value="{capability.key}"' in page
        assert escape(str(capability.label)) in page
    assert page.count('type="checkbox"') >= len(registry().switchable())
    assert 'value="security.view"' not in page and 'value="overview.view"' not in page  # always on
    assert "<textarea" not in page


def test_unticking_a_capability_in_the_console_switches_it_off(org, staff_client):
    chosen = [c.key for c in registry().switchable() if c.default and c.key != "invoices.pay"]  # as shown
    response = staff_client.post(_change_url(org), {"name": "Default", "capabilities": chosen})
    assert response.status_code == 302
    preferences = PortalConfiguration.all_tenants.get(organization=org)
    assert (
        preferences.disabled == ["invoices.pay"] and preferences.enabled == []
    )  # the off-by-default stay off
    assert not preferences.allows("invoices", "pay") and preferences.allows("invoices", "download")
    assert AuditEvent.all_tenants.filter(action="portal_preferences.changed").count() == 1


def test_the_console_refuses_an_unknown_capability_with_a_message(org, staff_client):
    response = staff_client.post(
        _change_url(org), {"name": "Default", "capabilities": ["invoices.view", "invoices.payy"]}
    )
    assert response.status_code == 200
    assert "invoices.payy is not one of the available choices" in response.content.decode()
    assert PortalConfiguration.all_tenants.get(organization=org).disabled == []


def test_organizations_that_switched_off_profile_changes_keep_company_changes_off_after_the_upgrade(migrator):
    from tests.factories import OrganizationFactory

    org, untouched = OrganizationFactory(slug="before"), OrganizationFactory(slug="untouched")
    old = migrator(("portal", "0002_settings_scoped_by_tenant"))
    old.get_model("portal", "PortalPreferences").objects.create(
        organization_id=org.pk, disabled=["profile.change"]
    )
    old.get_model("portal", "PortalPreferences").objects.create(organization_id=untouched.pk, disabled=[])
    new = migrator(("portal", "0003_preferences_switch_on_and_company_details"))
    rows = {p.organization_id: p for p in new.get_model("portal", "PortalPreferences").objects.all()}
    assert rows[org.pk].disabled == ["profile.change", "profile.company"]
    assert rows[untouched.pk].disabled == [] and rows[untouched.pk].enabled == []
