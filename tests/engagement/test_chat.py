"""Chat support: the script address and id each provider takes (https on its own domains, strict ids),
the widget on portal pages only when enabled and switched on — through our static loader with the
contact's name and email as attributes — and the CSP of exactly those responses widened for the
script's origin alone."""

from __future__ import annotations

import re

import pytest

from portico.core.audit import Actor
from portico.core.models import AuditEvent
from portico.engagement import chat
from portico.engagement.errors import ChatWidgetInvalid
from portico.engagement.models_reviews import ChatWidget
from portico.portal import services as portal_services
from tests.conftest import tenant_client
from tests.engagement.review_factories import CRISP_ID, chat_widget
from tests.factories import ContactFactory, staff_user

ACTOR = Actor.system("tests")
BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"
LOADER = re.compile(r'<script id="portico-chat"[^>]*></script>')


def switch_on(org):
    portal_services.set_portal_preferences(organization=org, disabled=[], enabled=["chat.view"], actor=ACTOR)


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for directive in response["Content-Security-Policy"].split(";"):
        name, *sources = directive.split()
        directives[name] = [re.sub(r"'nonce-[^']+'", "'nonce'", source) for source in sources]  # per request
    return directives


def check(provider="crisp", script_url="", site_id=CRISP_ID, **values):
    return chat.check_chat_widget(
        enabled=True, provider=provider, script_url=script_url, site_id=site_id, share_contact=True, **values
    )


# -- what is accepted ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "site_id", "script_url", "stored"),
    [
        ("crisp", CRISP_ID, "", "https://client.crisp.chat/l.js"),
        ("intercom", "abc12def", "", "https://widget.intercom.io/widget/abc12def"),
        ("zoho", "siq0123456789abcdef", "", "https://salesiq.zohopublic.com/widget?wc=siq0123456789abcdef"),
        ("zoho", "siq0123456789abcdef", "https://salesiq.zoho.eu/widget", "https://salesiq.zoho.eu/widget"),
        (
            "tawk",
            "5f1a2b3c4d5e6f7a8b9c0d1e/1abcdefgh",
            "",
            "https://embed.tawk.to/5f1a2b3c4d5e6f7a8b9c0d1e/1abcdefgh",
        ),
        ("generic", "", "https://chat.example.com/widget.js", "https://chat.example.com/widget.js"),
    ],
)
def test_each_providers_script_on_its_own_domain_is_accepted(provider, site_id, script_url, stored):
    assert check(provider, script_url, site_id)["script_url"] == stored


@pytest.mark.parametrize(
    ("provider", "script_url", "reason"),
    [
        ("generic", "javascript:alert(1)", "not javascript:"),
        ("generic", "data:text/javascript,alert(1)", "not data:"),
        ("generic", "http://chat.example.com/widget.js", "over https://"),
        ("generic", "//chat.example.com/widget.js", "not a relative one"),
        ("generic", "https://user:pw@chat.example.com/w.js", "user name and password"),
        ("generic", "https://chat.example.com;script-src:443/w.js", "not a valid host name"),
        ("crisp", "https://evil.example/l.js", "served from client.crisp.chat"),
        ("crisp", "https://client.crisp.chat.evil.example/l.js", "served from client.crisp.chat"),
        ("crisp", "https://client.crisp.chat:8443/l.js", "served from client.crisp.chat"),
        ("crisp", "http://client.crisp.chat/l.js", "over https://"),
        ("intercom", "https://widget.intercom.io@evil.example/", "user name and password"),
    ],
)
def test_a_script_address_off_https_or_the_providers_domains_is_refused(provider, script_url, reason):
    site_id = {"crisp": CRISP_ID, "intercom": "abc12def", "generic": ""}[provider]
    with pytest.raises(ChatWidgetInvalid) as refused:
        check(provider, script_url, site_id)
    assert refused.value.field == "script_url" and reason in str(refused.value.message)


def test_plain_http_to_this_machine_only_where_the_setting_allows_it(settings):
    assert (
        check("generic", "http://127.0.0.1:8123/chat.js", "")["script_url"] == "http://127.0.0.1:8123/chat.js"
    )
    settings.PORTICO_CHAT_ALLOW_LOOPBACK = False
    with pytest.raises(ChatWidgetInvalid):
        check("generic", "http://127.0.0.1:8123/chat.js", "")


@pytest.mark.parametrize(
    ("provider", "site_id"),
    [
        ("crisp", ""),
        ("crisp", "not-a-uuid"),
        ("crisp", CRISP_ID + '"><script>'),
        ("intercom", "ABC 123"),
        ("intercom", "abc12def';alert(1)//"),
        ("zoho", "0123456789abcdef"),
        ("tawk", "5f1a2b3c4d5e6f7a8b9c0d1e"),
        ("generic", "a b"),
        ("generic", "<x>"),
    ],
)
def test_a_site_id_outside_the_providers_pattern_is_refused(provider, site_id):
    with pytest.raises(ChatWidgetInvalid) as refused:
        check(provider, "https://chat.example.com/w.js" if provider == "generic" else "", site_id)
    assert refused.value.field == "site_id"


def test_an_unknown_provider_is_refused(org):
    with pytest.raises(ChatWidgetInvalid) as refused:
        check("drift")
    assert refused.value.field == "provider"


def test_a_change_is_audited_with_what_changed_and_a_refused_one_writes_nothing(org):
    chat_widget(org)
    with pytest.raises(ChatWidgetInvalid):
        chat_widget(org, provider="generic", site_id="", script_url="javascript:alert(1)")
    widget = ChatWidget.all_tenants.get(organization=org)
    assert (widget.provider, widget.script_url) == ("crisp", "https://client.crisp.chat/l.js")
    [event] = AuditEvent.objects.filter(action="chat_widget.changed")
    assert event.data["enabled"] is True and event.data["previous"]["enabled"] is False


# -- in the portal -------------------------------------------------------------------------------


def test_switched_off_the_widget_is_absent_and_the_csp_unchanged(org, portal_client):
    baseline = policy(portal_client.get("/portal/"))
    chat_widget(org)  # enabled by the business, but chat support off in the portal's configuration
    response = portal_client.get("/portal/")
    assert not LOADER.search(response.content.decode()) and policy(response) == baseline
    switch_on(org)
    chat_widget(org, enabled=False)  # on in the portal, the widget itself switched off
    response = portal_client.get("/portal/")
    assert not LOADER.search(response.content.decode()) and policy(response) == baseline
    assert "client.crisp.chat" not in response["Content-Security-Policy"]


def test_enabled_the_loader_carries_the_contacts_data_and_the_csp_allows_exactly_its_origin(
    org, portal_client
):
    baseline = policy(portal_client.get("/portal/"))
    switch_on(org)
    chat_widget(org)
    response = portal_client.get("/portal/invoices/")
    [tag] = LOADER.findall(response.content.decode())
    assert 'src="/static/engagement/chat.js"' in tag
    assert 'data-chat-provider="crisp"' in tag and f'data-chat-site="{CRISP_ID}"' in tag
    assert 'data-chat-script="https://client.crisp.chat/l.js"' in tag
    assert 'data-chat-name="Maria Lopez"' in tag and 'data-chat-email="maria@acme.example"' in tag
    directives = policy(response)
    origin = "https://client.crisp.chat"
    assert directives["script-src"] == [*baseline["script-src"], origin]
    assert directives["connect-src"] == directives["frame-src"] == ["'self'", origin]
    assert directives["img-src"] == [*baseline["img-src"], origin]
    assert directives["style-src"] == [*baseline["style-src"], origin]
    header = response["Content-Security-Policy"]
    assert (
        "*" not in header and header.count("https://") == 5
    )  # that origin, in five directives, and no other
    assert {k: v for k, v in directives.items() if k not in chat.csp_for(ChatWidget(script_url=origin))} == {
        k: v for k, v in baseline.items() if k not in ("script-src", "img-src", "style-src")
    }


def test_the_contact_is_not_passed_when_the_business_says_so(org, portal_client):
    switch_on(org)
    chat_widget(org, share_contact=False)
    [tag] = LOADER.findall(portal_client.get("/portal/").content.decode())
    assert "data-chat-name" not in tag and "maria@acme.example" not in tag


def test_a_hostile_contact_name_stays_an_attribute(org, customer):
    switch_on(org)
    chat_widget(org)
    client = tenant_client(org)
    from tests.factories import portal_user

    evil = ContactFactory(
        customer=customer, first_name='"><script>alert(1)</script>', email="evil@acme.example"
    )
    client.force_login(portal_user(evil), backend=BACKEND)
    page = client.get("/portal/").content.decode()
    [tag] = LOADER.findall(page)
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in tag and "<script>alert(1)" not in page


def test_other_responses_keep_the_default_policy(org, portal_client, customer):
    baseline = policy(portal_client.get("/portal/"))
    switch_on(org)
    chat_widget(org)
    security = portal_client.get("/portal/security/")  # passwords and second factors: no third-party script
    assert security.status_code == 200 and not LOADER.search(security.content.decode())
    assert policy(security) == baseline
    csv = portal_client.get("/portal/statements/csv/")
    assert "client.crisp.chat" not in csv.get("Content-Security-Policy", "")
    signed_out = tenant_client(org).get("/portal/account/login/")
    assert not LOADER.search(signed_out.content.decode())
    assert "client.crisp.chat" not in signed_out["Content-Security-Policy"]


def test_a_web_tab_page_keeps_its_frame_and_adds_the_chat_origin(org, portal_client):
    from tests.engagement.factories import web_tab

    switch_on(org)
    chat_widget(org)
    tab = web_tab(org, url="https://help.example.com/")
    directives = policy(portal_client.get(f"/portal/tabs/{tab.pk}/"))
    assert directives["frame-src"] == ["https://help.example.com", "'self'", "https://client.crisp.chat"]


# -- the console ---------------------------------------------------------------------------------


def staff(org, role):
    client = tenant_client(org)
    client.force_login(staff_user(org, email=f"{role}@renotech.example", role=role), backend=BACKEND)
    return client


def form_data(**values):
    return {"provider": "crisp", "site_id": CRISP_ID, "script_url": "", "share_contact": "on", **values}


def test_an_owner_configures_the_widget_and_the_form_shows_refusals(org):
    owner = staff(org, "owner")
    listing = owner.get("/console/engagement/chatwidget/")
    assert listing.status_code == 200
    widget = ChatWidget.all_tenants.get(organization=org)
    url = f"/console/engagement/chatwidget/{widget.pk}/change/"
    refused = owner.post(url, form_data(provider="generic", site_id="", script_url="javascript:alert(1)"))
    assert refused.status_code == 200 and "not javascript:" in refused.content.decode()
    assert ChatWidget.all_tenants.get().enabled is False
    assert owner.post(url, form_data(enabled="on")).status_code == 302
    widget.refresh_from_db()
    assert (widget.enabled, widget.script_url) == (True, "https://client.crisp.chat/l.js")
    assert AuditEvent.objects.filter(action="chat_widget.changed").count() == 1


def test_support_reads_the_widget_but_cannot_change_it(org):
    chat_widget(org, enabled=False)
    widget = ChatWidget.all_tenants.get(organization=org)
    support = staff(org, "support")
    url = f"/console/engagement/chatwidget/{widget.pk}/change/"
    assert support.get(url).status_code == 200
    assert support.post(url, form_data(enabled="on")).status_code == 403
    widget.refresh_from_db()
    assert widget.enabled is False
