"""Web tabs: which addresses are accepted, the services' rules, and who sees which tab."""

from __future__ import annotations

import pytest

from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.engagement import services
from portico.engagement.errors import WebTabInvalid, WebTabUrlRefused
from portico.engagement.models import WebTab
from portico.engagement.selectors import web_tab_for, web_tabs_for
from portico.engagement.web_addresses import check_url, origin_of
from tests.engagement.factories import web_tab
from tests.factories import CustomerFactory

ACTOR = Actor.system("tests")

ACCEPTED = [
    ("https://help.example.com/", "https://help.example.com/"),
    ("  https://help.example.com/faq?q=1#top  ", "https://help.example.com/faq?q=1#top"),
    ("HTTPS://Help.Example.com", "HTTPS://Help.Example.com"),
    ("http://127.0.0.1:8000/healthz", "http://127.0.0.1:8000/healthz"),
    ("https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"),
    ("https://[2001:db8::1]:8443/status", "https://[2001:db8::1]:8443/status"),
    ("https://help.example.com/a%20b", "https://help.example.com/a%20b"),
]

REFUSED = [
    ("javascript:alert(1)", "not javascript:"),
    ("JaVaScRiPt:alert(1)", "not javascript:"),
    (" javascript:alert(1)", "not javascript:"),
    ("java\tscript:alert(1)", "plain ASCII characters and no spaces"),
    ("data:text/html,<script>alert(1)</script>", "not data:"),
    ("vbscript:msgbox(1)", "not vbscript:"),
    ("ftp://files.example.com/", "not ftp:"),
    ("//evil.example", "not a relative one"),
    ("/portal/invoices/", "not a relative one"),
    ("help.example.com", "not a relative one"),
    ("https:evil.example", "Enter a complete address"),
    ("https:/evil.example", "Enter a complete address"),
    ("http://user:pw@x.example/", "user name and password"),
    ("https://user@x.example/", "user name and password"),
    ("https://help.example.com@evil.example/", "user name and password"),
    ("https://bücher.example/", "plain ASCII characters"),
    ("https://аpple.com/", "plain ASCII characters"),  # a Cyrillic "а"
    ("https://help.example.com/\u202egpj.exe", "plain ASCII characters"),
    ("https://help.example.com/ path", "no spaces"),
    ("https:\\\\evil.example", "backslash"),
    ("https://evil.example\\@help.example.com/", "backslash"),
    ("https://exa;mple.com/", "not a valid host name"),
    ("https://help.example.com:99999/", "not valid"),
    ("https:///nohost", "Enter a complete address"),
    ("", "Enter the page's address"),
    ("https://example.com/" + "a" * 500, "too long"),
]


@pytest.mark.parametrize(("url", "stored"), ACCEPTED)
def test_http_and_https_addresses_are_accepted(url, stored):
    assert check_url(url) == stored


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_other_addresses_are_refused_with_the_reason(url, reason):
    with pytest.raises(WebTabUrlRefused) as refused:
        check_url(url)
    assert reason in str(refused.value.message)
    assert refused.value.field == "url"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://help.example.com/faq?q=1", "https://help.example.com"),
        ("https://Help.Example.com:443/", "https://help.example.com"),
        ("http://127.0.0.1:8000/healthz", "http://127.0.0.1:8000"),
        ("https://[2001:db8::1]:8443/status", "https://[2001:db8::1]:8443"),
    ],
)
def test_the_origin_of_an_address_is_what_csp_names(url, origin):
    assert origin_of(url) == origin


def test_a_refused_address_is_refused_by_the_service_and_nothing_is_written(org):
    with pytest.raises(WebTabUrlRefused):
        services.create_web_tab(organization=org, label="Help", url="javascript:alert(1)", actor=ACTOR)
    tab = web_tab(org)
    with pytest.raises(WebTabUrlRefused):
        services.update_web_tab(
            web_tab=tab,
            label="Help",
            url="JaVaScRiPt:alert(1)",
            opens=tab.opens,
            audience=tab.audience,
            is_active=True,
            actor=ACTOR,
        )
    assert list(WebTab.objects.values_list("url", flat=True)) == ["https://help.example.com/"]
    assert AuditEvent.objects.filter(action__startswith="web_tab.").count() == 1


@pytest.mark.parametrize(
    ("label", "reason"), [("", "Give the tab a label"), ("   ", "Give the tab a label"), ("x" * 41, "40")]
)
def test_a_tab_needs_a_label_of_at_most_40_characters(org, label, reason):
    with pytest.raises(WebTabInvalid, match=reason):
        web_tab(org, label=label)
    assert web_tab(org, label="x" * 40).label == "x" * 40


def test_an_unknown_way_of_opening_or_audience_is_refused(org):
    with pytest.raises(WebTabInvalid) as refused:
        web_tab(org, opens="popup")
    assert refused.value.field == "opens"
    with pytest.raises(WebTabInvalid) as refused:
        web_tab(org, audience="everyone")
    assert refused.value.field == "audience"


def test_a_tab_for_chosen_customers_names_at_least_one_of_the_organizations_own(org, other_org, customer):
    theirs = CustomerFactory(organization=other_org, display_name="Northwind Client")
    with pytest.raises(WebTabInvalid, match="Only your own customers"):
        web_tab(org, audience=WebTab.Audience.CHOSEN, customers=[customer, theirs])
    with pytest.raises(WebTabInvalid, match="Choose the customers"):
        web_tab(org, audience=WebTab.Audience.CHOSEN, customers=[])
    assert not WebTab.objects.exists()
    tab = web_tab(org, audience=WebTab.Audience.CHOSEN, customers=[customer])
    assert list(tab.customers.all()) == [customer]


def test_a_tab_for_every_customer_keeps_no_chosen_ones(org, customer):
    tab = web_tab(org, audience=WebTab.Audience.CHOSEN, customers=[customer])
    services.update_web_tab(
        web_tab=tab,
        label=tab.label,
        url=tab.url,
        opens=tab.opens,
        audience=WebTab.Audience.ALL,
        customers=[customer],
        is_active=True,
        actor=ACTOR,
    )
    assert tab.customers.count() == 0


def test_creating_changing_and_deleting_are_audited_with_what_changed(org):
    tab = web_tab(org)
    services.update_web_tab(
        web_tab=tab,
        label="Help",
        url="https://help.example.com/",
        opens=WebTab.Opens.NEW_TAB,
        audience=WebTab.Audience.ALL,
        is_active=True,
        actor=ACTOR,
    )
    services.update_web_tab(  # the same values again: nothing to record
        web_tab=tab,
        label="Help",
        url="https://help.example.com/",
        opens=WebTab.Opens.NEW_TAB,
        audience=WebTab.Audience.ALL,
        is_active=True,
        actor=ACTOR,
    )
    services.delete_web_tab(web_tab=tab, actor=ACTOR)
    events = list(AuditEvent.objects.filter(action__startswith="web_tab.").order_by("pk"))
    assert [e.action for e in events] == ["web_tab.created", "web_tab.changed", "web_tab.deleted"]
    assert events[1].data["label"] == "Help" and events[1].data["opens"] == "new_tab"
    assert events[1].data["previous"] == {"label": "Help centre", "opens": "embedded"}
    assert not WebTab.objects.exists()


def _order(org) -> list[tuple[str, int]]:
    return list(WebTab.objects.order_by("position").values_list("label", "position"))


def test_new_tabs_go_last_and_moving_one_closes_up_the_others(org):
    a, b, c = web_tab(org, label="A"), web_tab(org, label="B"), web_tab(org, label="C")
    assert _order(org) == [("A", 0), ("B", 1), ("C", 2)]
    services.move_web_tab(web_tab=c, position=0, actor=ACTOR)
    assert _order(org) == [("C", 0), ("A", 1), ("B", 2)]
    services.move_web_tab(web_tab=c, position=99, actor=ACTOR)
    assert _order(org) == [("A", 0), ("B", 1), ("C", 2)]
    services.delete_web_tab(web_tab=a, actor=ACTOR)
    assert _order(org) == [("B", 0), ("C", 1)]
    assert AuditEvent.objects.filter(action="web_tab.moved").count() == 2
    with pytest.raises(WebTabInvalid):
        services.move_web_tab(web_tab=b, position=-1, actor=ACTOR)


def test_a_customer_sees_tabs_for_everyone_and_those_chosen_for_them_only(org, customer, outsider_customer):
    everyone = web_tab(org, label="Help centre")
    chosen = web_tab(org, label="Acme only", audience=WebTab.Audience.CHOSEN, customers=[customer])
    hidden = web_tab(org, label="Hidden", is_active=False)
    assert [t.label for t in web_tabs_for(customer)] == ["Help centre", "Acme only"]
    assert [t.label for t in web_tabs_for(outsider_customer)] == ["Help centre"]
    assert web_tab_for(customer, chosen.pk) == chosen
    assert web_tab_for(outsider_customer, chosen.pk) is None
    assert web_tab_for(customer, hidden.pk) is None
    assert web_tab_for(customer, "not-a-number") is None
    assert web_tab_for(outsider_customer, everyone.pk) == everyone


def test_another_organizations_tab_is_not_found_for_a_customer(org, other_org, customer):
    from portico.core import tenancy

    with tenancy.tenant(other_org):
        theirs = web_tab(other_org, label="Northwind help")
    assert web_tab_for(customer, theirs.pk) is None
    assert list(web_tabs_for(customer)) == []


def test_the_demo_gives_renotech_an_embedded_and_a_new_tab_web_tab_once(db):
    from portico.demo.loader import load_demo

    demo = load_demo()
    load_demo()
    tabs = list(
        WebTab.all_tenants.filter(organization=demo.renotech).values_list("label", "opens", "position")
    )
    assert tabs == [("Help centre", "embedded", 0), ("Status page", "new_tab", 1)]
    assert not WebTab.all_tenants.filter(organization=demo.northwind).exists()
