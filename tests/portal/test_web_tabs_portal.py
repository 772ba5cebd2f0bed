"""Web tabs in the portal: in the menu after the built-in pages, embedded ones on a portal page whose
CSP frames that page's origin alone, labels inert, and only for the customers who may see them."""

from __future__ import annotations

import re

import pytest
from django.utils.html import escape

from portico.core.audit import Actor
from portico.engagement.models import WebTab
from portico.portal import services as portal_services
from tests.engagement.factories import web_tab
from tests.factories import ContactFactory
from tests.portal.conftest import client_for

ACTOR = Actor.system("tests")
XSS_LABELS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


def nav(response) -> str:
    html = response.content.decode()
    return html[html.index('<nav class="sidenav"') : html.index("</nav>")]


def frame_src(response) -> list[str] | None:
    policy = response["Content-Security-Policy"]
    for directive in policy.split(";"):
        name, *sources = directive.split()
        if name == "frame-src":
            return sources
    return None


@pytest.fixture
def tabs(org):
    return {
        "help": web_tab(org, label="Help centre", url="https://help.example.com/faq?q=1"),
        "status": web_tab(
            org, label="Status page", url="https://status.example.com/", opens=WebTab.Opens.NEW_TAB
        ),
    }


def test_the_tabs_follow_the_built_in_pages_in_the_menu(portal_client, tabs):
    menu = nav(portal_client.get("/portal/"))
    labels = re.findall(r"<a [^>]*>([^<]+)", menu)
    assert labels[-2:] == ["Help centre", "Status page"]
    assert labels.index("Security") < labels.index("Help centre")
    assert f'href="/portal/tabs/{tabs["help"].pk}/"' in menu


def test_a_new_tab_link_opens_a_new_tab_and_says_so(portal_client, tabs):
    menu = nav(portal_client.get("/portal/"))
    [link] = re.findall(r'<a href="https://status\.example\.com/"[^>]*>.*?</a>', menu)
    assert 'target="_blank"' in link and 'rel="noopener noreferrer"' in link
    assert '<span class="visually-hidden"> (opens in a new tab)</span>' in link
    assert "/portal/tabs/" not in link


def test_an_embedded_tab_shows_its_page_in_a_sandboxed_frame_named_by_its_label(portal_client, tabs):
    response = portal_client.get(f"/portal/tabs/{tabs['help'].pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    [frame] = re.findall(r"<iframe [^>]*>", html)
    assert 'src="https://help.example.com/faq?q=1"' in frame
    assert 'title="Help centre"' in frame
    assert 'sandbox="allow-scripts allow-same-origin allow-forms allow-popups"' in frame
    assert 'referrerpolicy="strict-origin-when-cross-origin"' in frame
    assert f'href="/portal/tabs/{tabs["help"].pk}/" aria-current="page"' in nav(response)


def test_the_embedded_page_frames_exactly_its_tabs_origin_and_other_pages_frame_nothing(portal_client, tabs):
    embedded = portal_client.get(f"/portal/tabs/{tabs['help'].pk}/")
    assert frame_src(embedded) == ["https://help.example.com"]
    assert "default-src 'self'" in embedded["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in embedded["Content-Security-Policy"]
    for url in ("/portal/", "/portal/invoices/", "/portal/profile/"):
        response = portal_client.get(url)
        assert response.status_code == 200
        assert frame_src(response) is None, url
        assert "help.example.com" not in response["Content-Security-Policy"]


def test_each_embedded_tab_widens_the_policy_for_its_own_origin_only(org, portal_client, tabs):
    other = web_tab(org, label="Docs", url="http://127.0.0.1:9000/docs")
    assert frame_src(portal_client.get(f"/portal/tabs/{other.pk}/")) == ["http://127.0.0.1:9000"]
    assert frame_src(portal_client.get(f"/portal/tabs/{tabs['help'].pk}/")) == ["https://help.example.com"]


def test_a_new_tab_tab_has_no_portal_page(portal_client, tabs):
    assert portal_client.get(f"/portal/tabs/{tabs['status'].pk}/").status_code == 404


@pytest.mark.parametrize("label", XSS_LABELS)
def test_a_script_in_a_label_is_shown_as_text_in_the_menu_and_the_tab_page(org, portal_client, label):
    embedded = web_tab(org, label=label)
    web_tab(org, label=label, url="https://status.example.com/", opens=WebTab.Opens.NEW_TAB)
    for url in ("/portal/", f"/portal/tabs/{embedded.pk}/"):
        html = portal_client.get(url).content.decode()
        assert label not in html
        assert "<img src=x" not in html and "<script>alert" not in html
        assert html.count(escape(label)) >= 2  # both links of the menu (and the page's heading)
    page = portal_client.get(f"/portal/tabs/{embedded.pk}/").content.decode()
    [frame] = re.findall(r"<iframe [^>]*>", page)
    assert f'title="{escape(label)}"' in frame
    assert f"<h1>{escape(label)}</h1>" in page


def test_a_tab_chosen_for_another_customer_is_neither_shown_nor_reachable(
    org, portal_client, customer, outsider_customer
):
    theirs = web_tab(
        org, label="Bluebird only", audience=WebTab.Audience.CHOSEN, customers=[outsider_customer]
    )
    mine = web_tab(org, label="Acme only", audience=WebTab.Audience.CHOSEN, customers=[customer])
    menu = nav(portal_client.get("/portal/"))
    assert "Acme only" in menu and "Bluebird only" not in menu
    assert portal_client.get(f"/portal/tabs/{theirs.pk}/").status_code == 404
    assert portal_client.get(f"/portal/tabs/{mine.pk}/").status_code == 200

    bluebird = client_for(ContactFactory(customer=outsider_customer, email="bo@bluebird.example"))
    assert "Bluebird only" in nav(bluebird.get("/portal/"))
    assert bluebird.get(f"/portal/tabs/{mine.pk}/").status_code == 404


def test_an_inactive_tab_is_neither_shown_nor_reachable(org, portal_client):
    tab = web_tab(org, label="Old help", is_active=False)
    assert "Old help" not in nav(portal_client.get("/portal/"))
    assert portal_client.get(f"/portal/tabs/{tab.pk}/").status_code == 404


def test_another_organizations_tab_id_is_not_found(org, other_org, portal_client):
    from portico.core import tenancy

    with tenancy.tenant(other_org):
        theirs = web_tab(other_org, label="Northwind help")
    assert portal_client.get(f"/portal/tabs/{theirs.pk}/").status_code == 404
    assert portal_client.get("/portal/tabs/999999/").status_code == 404


def test_switching_web_tabs_off_removes_the_links_and_refuses_the_page(org, portal_client, tabs):
    portal_services.set_portal_preferences(organization=org, disabled=["web_tabs"], enabled=[], actor=ACTOR)
    response = portal_client.get("/portal/")
    menu = nav(response)
    assert "Help centre" not in menu and "Status page" not in menu and "status.example.com" not in menu
    assert portal_client.get(f"/portal/tabs/{tabs['help'].pk}/").status_code == 404
    assert "Invoices" in menu  # the rest of the portal is untouched


def test_web_tabs_is_a_declared_capability_the_business_can_switch_off(org):
    from portico.portal.capabilities import registry
    from portico.portal.models import preferences_of

    capability = registry().get("web_tabs", "view")
    assert capability is not None and capability.switchable and capability.default
    assert capability in registry().switchable()  # so the console's settings offer it
    assert preferences_of(org).allows("web_tabs")


def test_a_signed_out_visitor_is_sent_to_sign_in(org, tabs):
    from tests.conftest import tenant_client

    response = tenant_client(org).get(f"/portal/tabs/{tabs['help'].pk}/")
    assert response.status_code == 302 and "/portal/account/login/" in response["Location"]
