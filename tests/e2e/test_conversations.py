"""Conversations in a real browser (issue 15): the customer asks about an invoice from its page,
staff answer in the console, and the customer reads the answer, marked new, in the thread; every page
axe-clean."""

from __future__ import annotations

from portico.accounts.models import User
from portico.core import tenancy
from portico.core.audit import Actor
from portico.demo.loader import STAFF_EMAIL, load_demo
from portico.engagement.models_conversations import Conversation
from portico.portal.services import set_portal_preferences
from tests.e2e.conftest import axe_check, screenshot, sign_in


def test_a_customer_asks_about_an_invoice_and_reads_the_staff_answer(page, tenant_url):
    demo = load_demo()
    with tenancy.tenant(demo.renotech):
        set_portal_preferences(
            organization=demo.renotech,
            disabled=[],
            enabled=["conversations.view"],
            actor=Actor.system("tests"),
        )
    sign_in(page, tenant_url(demo.renotech, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Invoices").click()
    page.locator("table a[href^='/portal/invoices/']").first.click()
    page.get_by_role("link", name="Ask about this invoice").click()
    page.get_by_role("heading", name="Ask about Invoice").wait_for()
    axe_check(page)
    page.get_by_label("Message").fill("Why is there a travel fee on this invoice?")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Your message was sent.").wait_for()
    axe_check(page)

    with tenancy.tenant(demo.renotech):
        thread = Conversation.objects.order_by("-pk").first()  # this one (the demo has its own)
        staff = User.objects.get(email=STAFF_EMAIL)
    # staff answer in the console, in the same browser's other context
    console = page.context.browser.new_context(locale="en-US")
    try:
        desk = console.new_page()
        desk.set_default_timeout(15_000)
        sign_in(
            desk,
            tenant_url(demo.renotech, "/portal/account/login/?next=/console/"),
            STAFF_EMAIL,
            "portico-demo",
        )
        desk.wait_for_url("**/console/")
        desk.goto(tenant_url(demo.renotech, f"/console/engagement/conversation/{thread.pk}/change/"))
        desk.get_by_text("Why is there a travel fee on this invoice?").wait_for()
        desk.get_by_label("Reply").fill("It covers the trip to your site; see the quote of March.")
        desk.get_by_role("button", name="Save", exact=True).click()
        desk.get_by_role("link", name=thread.subject).first.wait_for()  # back on the list
    finally:
        console.close()
    with tenancy.tenant(demo.renotech):
        assert thread.messages.filter(author_user=staff).exists()

    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Conversations").click()
    # this thread's row says "1 new" (the demo's own answered question is new too)
    page.get_by_role("row").filter(has_text=thread.subject).get_by_text("1 new").wait_for()
    axe_check(page)
    page.get_by_role("link", name=thread.subject).click()
    page.get_by_text("It covers the trip to your site; see the quote of March.").wait_for()
    page.get_by_text("New", exact=True).wait_for()
    axe_check(page)
    screenshot(page, "conversation-thread")
