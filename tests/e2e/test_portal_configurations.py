"""Portal configurations in a real browser: the owner switches a module off in the console and the
customer, signed in in another browser, sees it vanish from the menu and its address refuse; then the
owner makes a second configuration and chooses it for that customer on the customer's page."""

from __future__ import annotations

import pytest

from portico.core import tenancy
from portico.portal.models import configuration_for
from tests.e2e.conftest import DESKTOP, PHONE, axe_check, screenshot, sign_in
from tests.factories import (
    PASSWORD,
    ContactFactory,
    CustomerFactory,
    OrganizationFactory,
    portal_user,
    staff_user,
)


@pytest.fixture
def world(live):
    org = OrganizationFactory(name="RenoTech Solutions", slug="renotech")
    with tenancy.tenant(org):
        customer = CustomerFactory(organization=org, display_name="Acme Interiors")
        portal_user(
            ContactFactory(customer=customer, email="maria@acme.example", first_name="Maria", is_primary=True)
        )
        staff_user(org, email="owner@renotech.example")
    return {"org": org, "customer": customer, "base": f"http://renotech.localhost:{live}"}


def _menu_links(page) -> list[str]:
    menu = page.get_by_role("navigation", name="Portal")
    return [link.inner_text().strip() for link in menu.get_by_role("link").all()]


def test_a_module_switched_off_in_the_console_leaves_the_customers_portal(browser, world):
    base, org, customer = world["base"], world["org"], world["customer"]
    customer_page = browser.new_context(viewport=PHONE, locale="en-US").new_page()
    staff_page = browser.new_context(viewport=DESKTOP, locale="en-US").new_page()
    for page in (customer_page, staff_page):
        page.set_default_timeout(15_000)

    sign_in(customer_page, f"{base}/portal/account/login/", "maria@acme.example", PASSWORD)
    customer_page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    customer_page.get_by_text("Menu").first.click()  # the phone menu starts collapsed
    assert "Statements" in _menu_links(customer_page)
    assert customer_page.goto(f"{base}/portal/statements/").status == 200

    # the owner unticks statements in the default configuration
    sign_in(staff_page, f"{base}/portal/account/login/?next=/console/", "owner@renotech.example", PASSWORD)
    staff_page.goto(f"{base}/console/portal/portalconfiguration/")
    staff_page.get_by_role("link", name="Default").click()
    box = staff_page.get_by_label("Statements: see and download them")
    assert box.is_checked()
    box.uncheck()
    axe_check(staff_page)
    staff_page.get_by_role("button", name="Save", exact=True).click()
    staff_page.get_by_text("was changed successfully").wait_for()

    customer_page.goto(f"{base}/portal/")
    customer_page.get_by_text("Menu").first.click()
    assert "Statements" not in _menu_links(customer_page)
    assert customer_page.goto(f"{base}/portal/statements/").status == 404
    customer_page.goto(f"{base}/portal/")
    axe_check(customer_page)

    # a second configuration without payments, chosen for Acme on its page
    staff_page.goto(f"{base}/console/portal/portalconfiguration/add/")
    staff_page.get_by_label("Name").fill("No payment history")
    staff_page.get_by_label("Payments: see them and their receipts").uncheck()
    staff_page.get_by_role("button", name="Save", exact=True).click()
    staff_page.get_by_text("was added successfully").wait_for()
    staff_page.goto(f"{base}/console/customers/customer/{customer.pk}/change/")
    staff_page.get_by_label("Portal configuration").select_option(label="No payment history")
    axe_check(staff_page)
    staff_page.get_by_role("button", name="Save", exact=True).click()
    staff_page.get_by_text("was changed successfully").wait_for()
    with tenancy.tenant(org):
        assert configuration_for(customer, org).name == "No payment history"

    customer_page.goto(f"{base}/portal/")
    customer_page.get_by_text("Menu").first.click()
    links = _menu_links(customer_page)
    assert "Payments" not in links and "Statements" in links  # its own configuration, not the default
    assert customer_page.goto(f"{base}/portal/payments/").status == 404
    customer_page.goto(f"{base}/portal/")
    axe_check(customer_page)
    screenshot(customer_page, "portal-configuration-chosen")
