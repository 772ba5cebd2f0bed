from portico.demo.loader import load_demo
from tests.e2e.conftest import axe_check, screenshot, sign_in


def test_a_customer_signs_in_and_sees_their_dashboard(page, tenant_url):
    demo = load_demo()
    page.goto(tenant_url(demo.renotech, "/portal/"))
    assert "/portal/account/login/" in page.url
    axe_check(page)
    screenshot(page, "login")

    sign_in(page, page.url, "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    assert page.get_by_role("navigation", name="Portal").is_visible()
    axe_check(page)
    screenshot(page, "dashboard")


def test_a_wrong_password_is_explained_in_the_browser(page, tenant_url):
    demo = load_demo()
    sign_in(page, tenant_url(demo.northwind, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_text("email address and/or password you specified are not correct").wait_for()
    axe_check(page)


def test_the_phone_layout_keeps_the_menu_reachable(page, tenant_url):
    demo = load_demo()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, tenant_url(demo.renotech, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    overview = page.get_by_role("navigation", name="Portal").get_by_role("link", name="Overview")
    assert not overview.is_visible()  # the menu starts collapsed on a phone
    page.get_by_text("Menu", exact=True).click()
    overview.focus()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Overview"
    axe_check(page)
