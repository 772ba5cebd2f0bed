"""Web tabs in a real browser: the business's help pages, served by their own server on another
origin (a stand-in on a free loopback port), load inside the portal's frame — which only the tab's
page's CSP allows — and a new-tab link opens the status page in a new tab."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portico.core import tenancy
from portico.core.audit import Actor
from portico.demo.loader import load_demo
from portico.engagement import services
from portico.engagement.models import WebTab
from tests.e2e.conftest import axe_check, screenshot, sign_in

HELP_PAGE = b"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Knowledge base</title></head>
<body><main><h1>Knowledge base articles</h1><p>How to read your invoice.</p></main></body></html>"""


class _HelpCentre(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(HELP_PAGE)))
        self.end_headers()
        self.wfile.write(HELP_PAGE)

    def log_message(self, *args):
        return None


@pytest.fixture
def help_centre():
    """The business's help site: another origin than the portal (127.0.0.1, its own port)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HelpCentre)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_customer_opens_an_embedded_web_tab_and_sees_a_new_tab_link(page, tenant_url, help_centre):
    demo = load_demo()
    actor = Actor.system("tests")
    with tenancy.tenant(demo.renotech):
        services.create_web_tab(
            organization=demo.renotech, label="Knowledge base", url=f"{help_centre}/articles/", actor=actor
        )
        services.create_web_tab(
            organization=demo.renotech,
            label="Service status",
            url=f"{help_centre}/status/",
            opens=WebTab.Opens.NEW_TAB,
            actor=actor,
        )
    sign_in(page, tenant_url(demo.renotech, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    menu = page.get_by_role("navigation", name="Portal")

    status = menu.get_by_role("link", name="Service status (opens in a new tab)")
    assert status.get_attribute("target") == "_blank"
    assert status.get_attribute("rel") == "noopener noreferrer"
    assert status.get_attribute("href") == f"{help_centre}/status/"

    menu.get_by_role("link", name="Knowledge base", exact=True).click()
    page.get_by_role("heading", name="Knowledge base", exact=True).wait_for()
    frame = page.frame_locator('iframe[title="Knowledge base"]')
    frame.get_by_role("heading", name="Knowledge base articles").wait_for()
    assert menu.get_by_role("link", name="Knowledge base", exact=True).get_attribute("aria-current") == "page"
    axe_check(page)
    screenshot(page, "web-tab-embedded")

    with page.context.expect_page() as opened:
        status.click()
    new_tab = opened.value
    new_tab.wait_for_load_state()
    assert new_tab.url == f"{help_centre}/status/"
    assert new_tab.evaluate("window.opener") is None
