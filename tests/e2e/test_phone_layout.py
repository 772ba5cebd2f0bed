"""Every portal page on a 390 px phone: nothing scrolls sideways, tables read as labelled rows, the
menu starts collapsed and opens without JavaScript, focus stays visible, light and dark alike.

The pages are taken from the URL configuration (every route under /portal/), so a new page is
checked as soon as it exists: a route that needs an argument must get one in `route_kwargs`, or
this test fails and says which.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlparse

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portico.billing import services
from portico.billing.models import Payment, StatementExport
from portico.core import clock
from portico.core.audit import Actor, audit
from portico.core.models import AuditEvent
from portico.demo.accounts import DEMO_SSO_KEY
from portico.demo.loader import load_demo
from tests.billing.factories import line
from tests.e2e.conftest import PHONE, axe_check, sign_in
from tests.factories import staff_user

pytestmark = pytest.mark.e2e

# Pages that the customer reaches again with other query strings worth their own look.
VARIANTS = [
    "/portal/pay/?all=due",
    "/portal/statements/?period=this_year",
    "/portal/invoices/?status=overdue",
]

# What a page must not do on a phone: scroll the document sideways, or cut a table off inside its
# scrolling wrapper (the Balance and Status columns hidden to the right).
OVERFLOW = """() => {
  const cut = [...document.querySelectorAll('main .table-wrap, main table, main pre')]
    .filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => (el.className || el.tagName) + ' ' + el.scrollWidth + '>' + el.clientWidth);
  return {page: document.documentElement.scrollWidth, viewport: window.innerWidth, cut};
}"""

FOCUS_RING = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return {text: el.textContent.trim(), tag: el.tagName, style: style.outlineStyle,
          width: parseFloat(style.outlineWidth), colour: style.outlineColor};
}"""


def portal_routes(resolver=None, prefix: str = "", namespace: str | None = None):
    """(route, URL name) of every pattern of the URL configuration under /portal/."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern).lstrip("^")
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from portal_routes(pattern, route, inner)
        elif isinstance(pattern, URLPattern) and route.startswith("portal/"):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield route, name


def ledger_for_every_page(demo):
    """Demo data plus what the remaining pages need: an open invoice to pay, staff work on a draft
    (which the activity page must keep to itself), a prepared statement in the list."""
    acme = demo.customers["acme"]
    staff = staff_user(demo.renotech, email="riley.finance@renotech.example")
    actor = Actor(kind=AuditEvent.ActorKind.STAFF, user=staff, label=staff.email, ip_address="203.0.113.77")
    draft = services.create_invoice(
        customer=acme,
        lines=[line(1234500, description="Kitchen and bathroom renovation, phase two")],
        actor=actor,
    )
    services.add_invoice_line(invoice=draft, line=line(99000, description="Site supervision"), actor=actor)
    invoice = services.finalize_invoice(invoice=draft, actor=actor)
    audit(actor, "customer.details_changed", acme, changes={"tax_id": ["", "US-99-1234567"]})
    today = clock.today(demo.renotech.time_zone)
    StatementExport.objects.create(
        organization=demo.renotech,
        customer=acme,
        start=today.replace(year=today.year - 3),
        end=today,
        currency=acme.currency,
        line_count=4000,
        created_at=clock.now() - dt.timedelta(minutes=5),
    )
    return acme, invoice


def saved_method_of(acme):
    """Acme's saved card (the demo's, or one saved here): the payment-method pages need one."""
    from portico.payments.methods import active_methods
    from tests.portal.crawl import saved_card

    return active_methods(acme).first() or saved_card(acme)


def subscription_of(acme):
    """Acme's live subscription (the demo's, or one made here): the subscription pages need one."""
    from portico.subscriptions.models import Subscription
    from tests.catalog.factories import plan, product
    from tests.subscriptions.factories import subscribe

    found = Subscription.all_tenants.filter(customer=acme, status="live").order_by("id").first()
    if found is not None:
        return found
    organization = acme.organization
    row = plan(organization, "phone-layout-team", product_row=product(organization, name="Phone layout"))
    return subscribe(acme, row, quantity=1)


def project_of(acme):
    """Acme's project whose hours Acme approves (the demo's, or one made here): the project pages
    need one, with time awaiting approval so that the approval form shows."""
    from portico.projects.models import Project
    from tests.portal.crawl import a_project

    found = Project.all_tenants.filter(customer=acme, requires_customer_approval=True).order_by("id").first()
    return found or a_project(acme)


def web_tab_of(acme):
    """An embedded web tab every customer sees (the demo's "Help centre", or one made here)."""
    from portico.engagement.models import WebTab
    from tests.engagement.factories import web_tab

    found = (
        WebTab.all_tenants.filter(
            organization=acme.organization,
            opens=WebTab.Opens.EMBEDDED,
            audience=WebTab.Audience.ALL,
            is_active=True,
        )
        .order_by("position")
        .first()
    )
    return found or web_tab(acme.organization)


def review_of(acme):
    """Acme's review (made here: the demo leaves it to Maria to write one)."""
    from portico.engagement import reviews
    from tests.engagement.review_factories import review

    return reviews.review_of(acme) or review(acme)


def document_routes_of(acme) -> dict[str, dict]:
    """The demo's document shared with Acme and Acme's open share link to it."""
    from portico.engagement.models import SharedDocument, ShareLink

    document = SharedDocument.all_tenants.filter(customer=acme).first()
    link = ShareLink.all_tenants.filter(customer=acme, revoked_at__isnull=True).first()
    return {
        "portal:document_download": {"document_id": document.public_id},
        "portal:share_link_revoke": {"link_id": link.public_id},
    }


def conversation_routes_of(acme, colleague) -> dict[str, dict]:
    """A thread of Acme's with a file (made here: the demo's question has none)."""
    from tests.portal.crawl import a_conversation

    thread = a_conversation(acme, colleague)
    attachment = thread.messages.get().attachments.get()
    ids = {"thread_id": thread.public_id}
    return {
        "portal:conversation": ids,
        "portal:conversation_reply": ids,
        "portal:conversation_attachment": {**ids, "attachment_id": attachment.public_id},
    }


def route_kwargs(demo, acme, invoice) -> dict[str, dict]:
    """Real ids for the routes that take one, from the data above; bad tokens for token links (their
    'link not valid' page is a page too)."""
    payment = Payment.all_tenants.filter(customer=acme).order_by("-received_on").first()
    method = {"method_id": saved_method_of(acme).public_id}
    colleague = demo.contacts["acme:tom@acme.example"]
    export = StatementExport.all_tenants.filter(customer=acme).first()
    subscription = {"number": subscription_of(acme).number}
    subscription_routes = [
        name for _route, name in portal_routes() if name.startswith("portal:subscription_")
    ]
    project = {"code": project_of(acme).code}
    project_routes = [name for _route, name in portal_routes() if name.startswith("portal:project")]
    return {
        **{name: project for name in project_routes if name != "portal:projects"},
        "portal:subscription": subscription,
        **{name: subscription for name in subscription_routes},
        "portal:invoice": {"number": invoice.number},
        "portal:invoice_print": {"number": invoice.number},
        "portal:invoice_pdf": {"number": invoice.number},
        "portal:pay_invoice": {"number": invoice.number},
        "portal:payment_receipt": {"number": payment.number},
        "portal:payment_method_default": method,
        "portal:payment_method_remove": method,
        "portal:payment_method_replace": method,
        "portal:statement_export": {"public_id": export.public_id},
        "portal:web_tab": {"tab_id": web_tab_of(acme).pk},
        "portal:review_edit": {"review_id": review_of(acme).public_id},
        **document_routes_of(acme),
        **conversation_routes_of(acme, colleague),
        "portal:contact_edit": {"contact_id": colleague.public_id},
        "portal:contact_access": {"contact_id": colleague.public_id},
        "portal:profile_email_confirm": {"token": "not-a-valid-token"},
        "accounts:accept_invitation": {"token": "not-a-valid-token"},
        "account_confirm_email": {"key": "not-a-valid-key"},
        "account_reset_password_from_key": {"uidb36": "0", "key": "not-a-valid-key"},
        "mfa_remove_webauthn": {"pk": 999999},
        "mfa_edit_webauthn": {"pk": 999999},
        # single sign-on: the demo's OpenID Connect connection; RenoTech has no SAML one (404 pages)
        **{
            name: {"provider_id": DEMO_SSO_KEY}
            for name in ("openid_connect_login", "openid_connect_callback")
        },
        **{
            name: {"organization_slug": "no-such-connection"}
            for _route, name in portal_routes()
            if name.startswith("saml_")
        },
    }


def portal_pages(demo, acme, invoice) -> list[str]:
    kwargs = route_kwargs(demo, acme, invoice)
    urls, unknown = [], []
    for route, name in portal_routes():
        assert name, f"portal route {route} has no name: name it so that it can be checked"
        if "<" in route or "(?P" in route:
            if name not in kwargs:
                unknown.append(f"{name} ({route})")
                continue
            urls.append(reverse(name, kwargs=kwargs[name]))
        else:
            urls.append(reverse(name))
    assert not unknown, "give these portal routes real ids in route_kwargs: " + ", ".join(unknown)
    assert len(urls) > 40
    return [url for url in urls if url != reverse("account_logout")] + VARIANTS


HEAD = """async url => {
  const response = await fetch(url, {credentials: 'same-origin'});
  return [response.status, response.headers.get('content-type') || ''];
}"""


def console_error(page, message) -> list[str]:
    """A script or CSP error, or a stylesheet or script that failed to load. Pages that answer 404 or
    405 on purpose (a bad token, a POST-only action, the favicon) log their status too: not errors."""
    if message.type != "error":
        return []
    if message.text.startswith("Failed to load resource") and "/static/" not in message.location.get(
        "url", ""
    ):
        return []
    return [f"{page.url}: {message.text}"]


def phone(browser, **options):
    context = browser.new_context(viewport=PHONE, locale="en-US", accept_downloads=True, **options)
    context.set_default_timeout(15_000)
    return context


def check_fits(page, url: str, scheme: str) -> list[str]:
    found = page.evaluate(OVERFLOW)
    problems = []
    if found["page"] > found["viewport"]:
        problems.append(f"{url} ({scheme}) scrolls sideways: {found['page']}px > {found['viewport']}px")
    if found["cut"]:
        problems.append(f"{url} ({scheme}) cuts off: {found['cut']}")
    return problems


def test_no_portal_page_scrolls_sideways_on_a_phone_in_light_or_dark(browser, tenant_url):
    demo = load_demo()
    acme, invoice = ledger_for_every_page(demo)
    urls = portal_pages(demo, acme, invoice)
    context = phone(browser)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.extend(console_error(page, message)))
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    sign_in(page, tenant_url(demo.renotech, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()

    problems, checked, downloads = [], set(), []
    for url in urls:
        # Asked from the page (the browser resolves *.localhost; Playwright's own requests do not).
        status, kind = page.evaluate(HEAD, url)
        assert status < 500, f"{url} answered {status}"
        if status == 405:
            continue  # an action (POST only), reached from a page checked here
        if "text/html" not in kind:
            downloads.append(url)  # a PDF or CSV: nothing to lay out
            continue
        page.goto(tenant_url(demo.renotech, url))
        landed = urlparse(page.url)._replace(scheme="", netloc="").geturl()
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            problems += check_fits(page, url, scheme)
            if landed not in checked:
                axe_check(page)
        checked.add(landed)
        if page.locator("details.nav-toggle").count():
            assert page.locator("details.nav-toggle").get_attribute("open") is None, url
            assert not page.get_by_role("navigation", name="Portal").get_by_role("link").first.is_visible(), (
                url
            )
    page.emulate_media(color_scheme="light")
    assert not problems, "\n".join(problems)
    assert not errors, "\n".join(errors)
    assert {
        "/portal/invoices/",
        f"/portal/invoices/{invoice.number}/",
        "/portal/security/activity/",
        "/portal/payment-methods/",
        "/portal/pay/amount/",
    } <= checked
    assert any("/pdf/" in url for url in downloads)

    # The activity page, seen by a customer, keeps the business's staff and drafts to itself.
    page.goto(tenant_url(demo.renotech, "/portal/security/activity/"))
    html = page.content()
    assert "riley.finance@renotech.example" not in html and "203.0.113.77" not in html
    assert "Draft #" not in html and "Invoice line added" not in html
    assert page.get_by_text("Invoice finalized").first.is_visible()
    context.close()


def test_tables_read_as_labelled_rows_on_a_phone(browser, tenant_url):
    demo = load_demo()
    _acme, invoice = ledger_for_every_page(demo)
    context = phone(browser)
    page = context.new_page()
    sign_in(page, tenant_url(demo.renotech, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    page.goto(tenant_url(demo.renotech, "/portal/invoices/"))
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=invoice.number, exact=True))
    balance = row.locator('td[data-label="Balance"]')
    status = row.locator('td[data-label="Status"]')
    for cell in (balance, status):
        assert cell.is_visible()
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    label = balance.evaluate("el => getComputedStyle(el, '::before').content")
    assert label == '"Balance"'
    assert "$13,335.00" in balance.inner_text()

    page.goto(tenant_url(demo.renotech, f"/portal/invoices/{invoice.number}/"))
    amount = page.locator('table.lines td[data-label="Amount"]').first
    box = amount.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"]
    context.close()


def test_the_phone_menu_opens_without_javascript_and_focus_stays_visible(browser, tenant_url):
    demo = load_demo()
    context = phone(browser, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, tenant_url(demo.renotech, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    nav = page.get_by_role("navigation", name="Portal")
    invoices = nav.get_by_role("link", name="Invoices")
    assert not invoices.is_visible()

    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.locator("body").focus()
        # Skip link, brand, sign out, then the menu; on the second pass focus goes round the page's
        # links first (focusing <body> does not move the tab order back to the top).
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate(FOCUS_RING)["text"] == "Menu":
                break
        ring = page.evaluate(FOCUS_RING)
        assert ring["tag"] == "SUMMARY" and ring["style"] != "none" and ring["width"] >= 2, ring
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert ring["colour"] != background, (scheme, ring)

    page.keyboard.press("Enter")  # opens the <details>: no script involved
    assert invoices.is_visible()
    page.keyboard.press("Tab")
    ring = page.evaluate(FOCUS_RING)
    assert ring["text"] == "Overview" and ring["style"] != "none" and ring["width"] >= 2, ring
    invoices.click()
    page.get_by_role("heading", name="Invoices", exact=True).wait_for()
    assert not nav.get_by_role("link", name="Invoices").is_visible()  # collapsed again on the next page
    context.close()


def test_on_a_desktop_the_menu_is_always_shown_and_the_toggle_is_not(page, tenant_url):
    demo = load_demo()
    sign_in(page, tenant_url(demo.renotech, "/portal/account/login/"), "maria@acme.example", "portico-demo")
    page.get_by_role("heading", name="Welcome, Acme Interiors").wait_for()
    nav = page.get_by_role("navigation", name="Portal")
    assert nav.get_by_role("link", name="Invoices").is_visible()
    assert not nav.get_by_text("Menu").is_visible()
    axe_check(page)
