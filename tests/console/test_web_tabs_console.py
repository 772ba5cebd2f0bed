"""Web tabs in the console: owners and administrators add, change, reorder and delete them through the
services; other roles read them; customers are chosen among the organization's own."""

from __future__ import annotations

import pytest

from portico.core.models import AuditEvent
from portico.engagement.models import WebTab
from tests.conftest import tenant_client
from tests.engagement.factories import web_tab
from tests.factories import CustomerFactory, staff_user

BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"
LIST = "/console/engagement/webtab/"


def staff_client(org, role="owner"):
    client = tenant_client(org)
    client.force_login(staff_user(org, email=f"{role}@renotech.example", role=role), backend=BACKEND)
    return client


def form(**fields) -> dict:
    data = {
        "label": "Help centre",
        "url": "https://help.example.com/",
        "opens": "embedded",
        "audience": "all",
        "is_active": "on",
        "_save": "Save",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize("role", ["owner", "administrator"])
def test_owners_and_administrators_add_a_tab_through_the_service(org, customer, role):
    response = staff_client(org, role).post(
        f"{LIST}add/", form(audience="chosen", customers=[str(customer.pk)], opens="new_tab")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    tab = WebTab.objects.get()
    assert (tab.label, tab.url, tab.opens, tab.audience, tab.position) == (
        "Help centre",
        "https://help.example.com/",
        "new_tab",
        "chosen",
        0,
    )
    assert list(tab.customers.all()) == [customer]
    assert AuditEvent.objects.filter(action="web_tab.created").count() == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(1)", "not javascript:"),
        ("data:text/html,hi", "not data:"),
        ("//evil.example", "not a relative one"),
        ("http://user:pw@x.example", "user name and password"),
    ],
)
def test_a_refused_address_is_a_form_error_and_nothing_is_saved(org, url, message):
    response = staff_client(org).post(f"{LIST}add/", form(url=url))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WebTab.objects.exists()


def test_another_organizations_customer_cannot_be_chosen(org, other_org, customer):
    theirs = CustomerFactory(organization=other_org, display_name="Northwind Client")
    response = staff_client(org).post(f"{LIST}add/", form(audience="chosen", customers=[str(theirs.pk)]))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not WebTab.objects.exists()


def test_chosen_customers_are_required_for_a_tab_shown_to_chosen_ones(org):
    response = staff_client(org).post(f"{LIST}add/", form(audience="chosen"))
    assert response.status_code == 200 and "Choose the customers" in response.content.decode()


def test_editing_a_tab_changes_it_through_the_service(org, customer):
    tab = web_tab(org)
    response = staff_client(org).post(
        f"{LIST}{tab.pk}/change/", form(label="Support", url="https://support.example.com/", is_active=None)
    )
    assert response.status_code == 302
    tab.refresh_from_db()
    assert (tab.label, tab.url, tab.is_active) == ("Support", "https://support.example.com/", False)
    event = AuditEvent.objects.get(action="web_tab.changed")
    assert event.data["previous"]["label"] == "Help centre"


def test_the_list_shows_the_tabs_in_order_and_they_move_up_and_down(org):
    a, _b, c = web_tab(org, label="Alpha"), web_tab(org, label="Bravo"), web_tab(org, label="Charlie")
    client = staff_client(org)
    page = client.get(LIST).content.decode()
    assert page.index("Alpha") < page.index("Bravo") < page.index("Charlie")
    client.post(LIST, {"action": "move_up", "_selected_action": [str(c.pk)], "index": "0"})
    assert list(WebTab.objects.order_by("position").values_list("label", flat=True)) == [
        "Alpha",
        "Charlie",
        "Bravo",
    ]
    client.post(LIST, {"action": "move_down", "_selected_action": [str(a.pk)], "index": "0"})
    assert list(WebTab.objects.order_by("position").values_list("label", flat=True)) == [
        "Charlie",
        "Alpha",
        "Bravo",
    ]


def test_deleting_a_tab_goes_through_the_service(org):
    tab, other = web_tab(org), web_tab(org, label="Status")
    response = staff_client(org).post(f"{LIST}{tab.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert list(WebTab.objects.values_list("label", "position")) == [("Status", 0)]
    assert AuditEvent.objects.filter(action="web_tab.deleted").count() == 1
    other.refresh_from_db()


@pytest.mark.parametrize("role", ["finance", "support", "read_only"])
def test_other_roles_read_the_tabs_and_may_not_change_them(org, role):
    tab = web_tab(org)
    client = staff_client(org, role)
    assert client.get(LIST).status_code == 200
    page = client.get(f"{LIST}{tab.pk}/change/")
    assert page.status_code == 200 and 'name="label"' not in page.content.decode()
    assert client.get(f"{LIST}add/").status_code == 403
    assert client.post(f"{LIST}{tab.pk}/change/", form(label="Hacked")).status_code == 403
    assert client.post(f"{LIST}{tab.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(LIST, {"action": "move_down", "_selected_action": [str(tab.pk)]}).status_code == 403
    tab.refresh_from_db()
    assert tab.label == "Help centre" and WebTab.objects.count() == 1


def test_another_organizations_tab_answers_404_and_stays_unchanged(org, other_org):
    from portico.core import tenancy

    with tenancy.tenant(other_org):
        theirs = web_tab(other_org, label="Northwind help")
    client = staff_client(org)
    assert client.get(f"{LIST}{theirs.pk}/change/").status_code == 404
    assert client.post(f"{LIST}{theirs.pk}/change/", form(label="Hacked")).status_code == 404
    assert client.post(f"{LIST}{theirs.pk}/delete/", {"post": "yes"}).status_code == 404
    assert "Northwind help" not in client.get(LIST).content.decode()
    assert WebTab.all_tenants.get(pk=theirs.pk).label == "Northwind help"


def test_the_customer_search_offers_only_the_organizations_active_customers(org, other_org, customer):
    CustomerFactory(organization=org, display_name="Acme Closed Account", is_active=False)
    CustomerFactory(organization=other_org, display_name="Acme Northwind Branch")
    response = staff_client(org).get(
        "/console/autocomplete/",
        {"app_label": "engagement", "model_name": "webtab", "field_name": "customers", "term": "Acme"},
    )
    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == ["Acme Interiors"]


def test_the_portal_settings_offer_web_tabs_as_a_checkbox(org):
    from portico.portal.models import preferences_of

    page = staff_client(org).get(f"/console/portal/portalconfiguration/{preferences_of(org).pk}/change/")
    assert 'value="web_tabs.view"' in page.content.decode()
