"""Branding in a real browser: the owner sets a brand colour, a headline and a logo on the
organization's console page; the customer's portal then shows the logo (loaded, not a broken image),
the headline, and the brand colour on its header rule and the current menu item, at desktop and
phone widths, accessibly (axe)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from portico.core.branding import readable_on_white
from portico.core.models import Organization
from tests.e2e.conftest import axe_check, screenshot, sign_in
from tests.factories import (
    PASSWORD,
    ContactFactory,
    CustomerFactory,
    OrganizationFactory,
    portal_user,
    staff_user,
)

GREEN = "#0b6e4f"  # reaches AA on white: used as chosen
HEADLINE = "Invoices, payments and projects in one place"


def _logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (160, 48), (11, 110, 79)).save(out, "PNG")
    return out.getvalue()


def _rgb(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture
def renotech(live):
    org = OrganizationFactory(name="RenoTech Solutions", slug="renotech")
    customer = CustomerFactory(organization=org, display_name="Acme Interiors")
    contact = ContactFactory(
        customer=customer, email="maria@acme.example", first_name="Maria", is_primary=True
    )
    portal_user(contact)
    staff_user(org, email="owner@renotech.example")
    return org


def _brand_in_the_console(page, org, tenant_url):
    sign_in(
        page, tenant_url(org, "/portal/account/login/?next=/console/"), "owner@renotech.example", PASSWORD
    )
    page.goto(tenant_url(org, f"/console/core/organization/{org.pk}/change/"))
    page.get_by_label("Brand colour").fill(GREEN)
    page.get_by_label("Portal headline").fill(HEADLINE)
    page.get_by_label("Logo").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": _logo()}
    )
    axe_check(page)
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("was changed successfully").wait_for()


def test_the_owner_brands_the_portal_and_the_customer_sees_the_logo_colour_and_headline(
    browser, page, renotech, tenant_url
):
    _brand_in_the_console(page, renotech, tenant_url)
    org = Organization.objects.get(pk=renotech.pk)
    assert org.brand_colour == GREEN and org.logo.name.startswith("logos/")
    assert readable_on_white(GREEN) == GREEN

    customer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US").new_page()
    try:
        customer.goto(tenant_url(org, "/portal/account/login/"))
        customer.get_by_text(HEADLINE).wait_for()  # on the sign-in page too
        sign_in(customer, tenant_url(org, "/portal/account/login/"), "maria@acme.example", PASSWORD)
        customer.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
        for width in (1280, 375):
            customer.set_viewport_size({"width": width, "height": 900})
            customer.reload()
            banner = customer.get_by_role("banner")
            logo = banner.locator("img")
            logo.wait_for()
            assert logo.evaluate("img => img.complete && img.naturalWidth") == 160, width
            assert logo.is_visible()
            assert customer.get_by_text(HEADLINE).is_visible()
            rule = banner.evaluate("header => getComputedStyle(header).borderBottomColor")
            assert rule == _rgb(GREEN), (width, rule)
            current = customer.get_by_role("link", name="Overview")
            if not current.is_visible():  # on a phone the menu starts collapsed
                customer.get_by_text("Menu", exact=True).click()
            assert current.get_attribute("aria-current") == "page"
            background = current.evaluate("a => getComputedStyle(a).backgroundColor")
            assert background == _rgb(GREEN), (width, background)
            axe_check(customer)
        screenshot(customer, "portal-branded")
    finally:
        customer.context.close()
