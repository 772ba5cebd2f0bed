"""Reviews and chat support in a real browser: the customer leaves a review and sees it; with chat
support on, our loader brings in the provider's script (a stand-in served on its own loopback origin),
which gets the contact's name and email, while the page's CSP allows that origin and blocks another —
axe-clean throughout."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portico.core import tenancy
from portico.core.audit import Actor
from portico.demo.loader import load_demo
from portico.engagement import chat
from portico.engagement.models_reviews import Review
from tests.e2e.conftest import axe_check, screenshot, sign_in

# The provider's script: shows a labelled chat button greeting the contact the loader passed, and tries
# an image from another origin, which the page's CSP must block.
STAND_IN = """
(function () {
  var who = (window.PorticoChat || {}).name || "";
  var button = document.createElement("button");
  button.type = "button";
  button.id = "stand-in-chat";
  button.textContent = "Chat with us" + (who ? ", " + who : "");
  document.body.appendChild(button);
  window.standInBlocked = [];
  document.addEventListener("securitypolicyviolation", function (event) {
    window.standInBlocked.push(event.blockedURI);
  });
  var probe = new Image();
  probe.alt = "";
  probe.src = "OTHER_ORIGIN/pixel.png";
})();
"""


def _serve(body: bytes, content_type: str):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def provider():
    """The chat provider's script on one loopback origin; another origin the page must not reach."""
    other = _serve(b"GIF89a", "image/gif")
    other_origin = f"http://127.0.0.1:{other.server_address[1]}"
    script = _serve(STAND_IN.replace("OTHER_ORIGIN", other_origin).encode(), "text/javascript")
    try:
        yield f"http://127.0.0.1:{script.server_address[1]}", other_origin
    finally:
        for server in (script, other):
            server.shutdown()
            server.server_close()


def test_a_customer_leaves_a_review_and_sees_it(page, tenant_url):
    demo = load_demo()
    sign_in(page, tenant_url(demo.renotech, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Your review").click()
    page.get_by_role("heading", name="Your review").wait_for()
    axe_check(page)
    page.get_by_role("link", name="Write a review").click()
    page.get_by_role("group", name="Your rating").get_by_label("5 stars").check()
    page.get_by_label("Your comment").fill("Clear invoices <b>and</b> a tidy site.")
    axe_check(page)
    page.get_by_role("button", name="Send your review").click()
    page.get_by_text("Thank you: your review is saved.").wait_for()
    assert page.get_by_text("5 out of 5").is_visible()
    assert page.get_by_text("Clear invoices <b>and</b> a tidy site.").is_visible()  # as typed, inert
    axe_check(page)
    screenshot(page, "review-left")
    with tenancy.tenant(demo.renotech):
        review = Review.objects.get(customer=demo.customers["acme"])
    assert (review.rating, review.author.email) == (5, "maria@acme.example")


def test_with_chat_enabled_the_widget_loads_from_its_origin_alone(page, tenant_url, provider):
    origin, other_origin = provider
    demo = load_demo()
    with tenancy.tenant(demo.renotech):
        chat.configure_chat_widget(
            organization=demo.renotech,
            actor=Actor.system("tests"),
            enabled=True,
            provider="generic",
            script_url=f"{origin}/widget.js",
            site_id="renotech",
            share_contact=True,
        )
    sign_in(page, tenant_url(demo.renotech, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    with page.expect_response(lambda r: r.url.endswith("/portal/invoices/")) as answered:
        page.goto(tenant_url(demo.renotech, "/portal/invoices/"))
    policy = answered.value.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["script-src"][0] == "'self'" and directives["script-src"][1].startswith("'nonce-")
    assert directives["script-src"][2:] == [origin] and directives["img-src"] == ["'self'", "data:", origin]
    assert other_origin not in policy and "*" not in policy
    loader = page.locator("script#portico-chat")
    assert loader.get_attribute("data-chat-script") == f"{origin}/widget.js"
    assert loader.get_attribute("data-chat-email") == "maria@acme.example"
    page.get_by_role("button", name="Chat with us, Maria Lopez").wait_for()  # the provider's script ran
    page.wait_for_function("window.standInBlocked && window.standInBlocked.length > 0")
    assert page.evaluate("window.standInBlocked") == [f"{other_origin}/pixel.png"]
    axe_check(page)
    screenshot(page, "chat-widget")

    page.goto(tenant_url(demo.renotech, "/portal/security/"))  # passwords and second factors: no widget
    page.get_by_role("heading", name="Security").first.wait_for()
    assert page.locator("script#portico-chat").count() == 0
    assert page.locator("#stand-in-chat").count() == 0
