"""A person whose portal access was turned off is refused on the sign-in page itself, in a real
browser: a clear message, no session, no "signed in" notice next to a "not allowed" page."""

from __future__ import annotations

from portico.customers.models import ContactPerson
from portico.demo.loader import load_demo
from tests.e2e.conftest import axe_check, screenshot, sign_in


def test_a_person_whose_access_was_turned_off_is_refused_at_sign_in(page, tenant_url):
    demo = load_demo()
    org = demo.renotech
    maria = demo.contacts["acme:maria@acme.example"]
    ContactPerson.all_tenants.filter(pk=maria.pk).update(has_portal_access=False)

    sign_in(page, tenant_url(org, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_text("Your access to this portal has been turned off").wait_for()
    assert "/portal/account/login/" in page.url
    assert page.get_by_text("Successfully signed in").count() == 0
    axe_check(page)
    screenshot(page, "accounts-access-off-refused")

    page.goto(tenant_url(org, "/portal/"))
    page.get_by_role("heading", name="Sign in").wait_for()  # not signed in: back to the sign-in page
