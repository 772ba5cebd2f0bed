"""Custom domains (`core.domains`): the records checked against a real DNS server (dnslib, started
by `tests/dns_server.py` on a loopback port), what a business may enter, and what a verified domain
serves: the portal, a sign-in with its CSRF check, host-only cookies, the passkey relying party and
the TLS "ask" answer."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from portico.core import domains
from portico.core.audit import Actor
from portico.core.models import AuditEvent, Organization
from tests.conftest import login, tenant_client
from tests.factories import PASSWORD

DOMAIN = "billing.example.test"
TARGET = "edge.portico.test"
ACTOR = Actor.system("tests")


@pytest.fixture
def platform(settings):
    settings.PORTICO_CNAME_TARGET = TARGET
    return settings


@pytest.fixture
def pending(org, platform):
    """RenoTech with billing.example.test entered, not verified yet."""
    return domains.set_custom_domain(organization=org, domain=DOMAIN, actor=ACTOR)


def records(organization, *, cname=TARGET, token=None):
    lines = []
    if cname:
        lines.append(f"{DOMAIN}. 60 IN CNAME {cname}.")
    if token is not False:
        value = token or organization.domain_verification_token
        lines.append(f'_portico-challenge.{DOMAIN}. 60 IN TXT "{value}"')
    return lines


def refused(organization, exception=domains.CustomDomainError) -> str:
    with pytest.raises(exception) as error:
        domains.verify_custom_domain(organization=organization, actor=ACTOR)
    organization.refresh_from_db()
    assert organization.domain_verified_at is None
    assert not AuditEvent.all_tenants.filter(action="custom_domain.verified").exists()
    return str(error.value.message)


# -- verification against a real DNS server ---------------------------------------------------------


def test_the_cname_and_the_txt_token_verify_the_domain(pending, dns_server, clock):
    dns_server.set(*records(pending))
    domains.verify_custom_domain(organization=pending, actor=ACTOR)
    pending.refresh_from_db()
    assert pending.domain_verified_at == clock.now()
    assert pending.host == DOMAIN
    event = AuditEvent.all_tenants.get(action="custom_domain.verified")
    assert event.data == {"domain": DOMAIN, "cname_target": TARGET}
    assert (DOMAIN, "CNAME") in dns_server.queries
    assert (f"_portico-challenge.{DOMAIN}", "TXT") in dns_server.queries


def test_a_missing_txt_record_is_named(pending, dns_server):
    dns_server.set(*records(pending, token=False))
    assert refused(pending) == (
        f"There is no TXT record at _portico-challenge.{DOMAIN}: create it with the verification "
        "token shown below."
    )


def test_a_txt_record_with_another_token_is_shown_and_refused(pending, dns_server):
    dns_server.set(*records(pending, token="someone-elses-token"))
    assert refused(pending) == (
        f"The TXT record at _portico-challenge.{DOMAIN} holds “someone-elses-token”, not the "
        "verification token shown below."
    )


def test_a_cname_to_another_host_is_refused(pending, dns_server):
    dns_server.set(*records(pending, cname="shops.other-platform.example"))
    assert refused(pending) == (
        f"The CNAME record of {DOMAIN} points to shops.other-platform.example, not to {TARGET}."
    )


def test_an_address_record_instead_of_the_cname_is_refused(pending, dns_server):
    dns_server.set(f"{DOMAIN}. 60 IN A 192.0.2.10", *records(pending, cname=None))
    assert refused(pending) == f"There is no CNAME record at {DOMAIN}: create one pointing to {TARGET}."


def test_a_domain_that_does_not_exist_says_nxdomain_and_names_both_records(pending, dns_server):
    dns_server.set("unrelated.example.test. 60 IN A 192.0.2.1")
    message = refused(pending, domains.DnsRecordsWrong)
    assert message.startswith(
        f"The name {DOMAIN} does not exist in DNS yet (NXDOMAIN): create a CNAME record"
    )
    assert f"There is no TXT record at _portico-challenge.{DOMAIN}" in message


def test_dns_servers_that_never_answer_time_out_with_a_message(pending, silent_dns_port):
    message = refused(pending, domains.DnsUnavailable)
    assert message == (
        f"The DNS servers did not answer in time (1 s) when asked for {DOMAIN}. Try again in a few minutes."
    )


def test_a_domain_changed_while_it_was_checked_is_not_verified(pending, dns_server):
    stale = Organization.objects.get(pk=pending.pk)
    dns_server.set(*records(stale))
    domains.set_custom_domain(organization=pending, domain="portal.example.test", actor=ACTOR)
    refused(stale, domains.DomainChanged)
    assert Organization.objects.get(pk=pending.pk).domain_verified_at is None


def test_verifying_without_a_domain_is_refused(org, dns_server):
    assert refused(org, domains.NoCustomDomain) == "Add a custom domain first."


# -- changing and removing ---------------------------------------------------------------------------


def test_changing_the_domain_ends_its_verification_and_issues_a_new_token(pending, dns_server, clock):
    dns_server.set(*records(pending))
    domains.verify_custom_domain(organization=pending, actor=ACTOR)
    first_token = pending.domain_verification_token

    domains.set_custom_domain(organization=pending, domain=DOMAIN.upper() + ".", actor=ACTOR)  # the same
    pending.refresh_from_db()
    assert pending.domain_verified_at is not None and pending.domain_verification_token == first_token

    domains.set_custom_domain(organization=pending, domain="portal.example.test", actor=ACTOR)
    pending.refresh_from_db()
    assert pending.custom_domain == "portal.example.test"
    assert pending.domain_verified_at is None
    assert pending.domain_verification_token != first_token
    assert Client(HTTP_HOST=DOMAIN).get("/portal/account/login/").status_code == 404
    assert [e.data for e in AuditEvent.all_tenants.filter(action="custom_domain.set").order_by("id")] == [
        {"domain": DOMAIN, "previous": None},
        {"domain": "portal.example.test", "previous": DOMAIN},
    ]


def test_removing_the_domain_stops_serving_it(pending, dns_server):
    dns_server.set(*records(pending))
    domains.verify_custom_domain(organization=pending, actor=ACTOR)
    token = pending.domain_verification_token
    assert Client(HTTP_HOST=DOMAIN).get("/portal/account/login/").status_code == 200

    domains.remove_custom_domain(organization=pending, actor=ACTOR)
    pending.refresh_from_db()
    assert (pending.custom_domain, pending.domain_verified_at) == (None, None)
    assert pending.domain_verification_token != token
    assert Client(HTTP_HOST=DOMAIN).get("/portal/account/login/").status_code == 404
    assert Client(HTTP_HOST="localhost").get("/tls/ask", {"domain": DOMAIN}).status_code == 404
    assert AuditEvent.all_tenants.get(action="custom_domain.removed").data == {
        "domain": DOMAIN,
        "was_verified": True,
    }
    with pytest.raises(domains.NoCustomDomain):
        domains.remove_custom_domain(organization=pending, actor=ACTOR)


def test_the_records_to_create_are_the_cname_and_the_txt_token(pending):
    assert domains.dns_records(pending) == [
        domains.DnsRecord("CNAME", DOMAIN, TARGET),
        domains.DnsRecord("TXT", f"_portico-challenge.{DOMAIN}", pending.domain_verification_token),
    ]


def test_the_cname_target_is_the_base_domain_unless_set(settings):
    settings.PORTICO_CNAME_TARGET = ""
    settings.PORTICO_BASE_DOMAIN = "portico.example"
    assert domains.cname_target() == "portico.example"


# -- what a business may enter ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "javascript:alert(1)",
            "Enter the host name only, like billing.example.com: no https://, path or port.",
        ),
        ("https://billing.example.com/portal/", "Enter the host name only"),
        ("billing.example.com:8443", "Enter the host name only"),
        ("exa mple.com", "A host name has no spaces."),
        ("a" * 300, "A host name is at most 253 characters long."),
        (("a" * 62 + ".") * 4 + "com", "A host name is at most 253 characters long."),
        ("a" * 64 + ".example.com", "Each part of a host name between dots is at most 63 characters long."),
        ("-billing.example.com", "-billing.example.com is not a valid host name"),
        ("bill_ing.example.com", "bill_ing.example.com is not a valid host name"),
        ("<script>.example.com", "is not a valid host name"),
        ("billing", "Enter a full host name with a dot, like billing.example.com."),
        ("192.0.2.1", "Enter a host name, not an IP address."),
        ("[2001:db8::1]", "Enter the host name only"),
        ("printer.local", "printer.local is not a public host name."),
        ("", "Enter a host name like billing.example.com."),
        ("renotech.localhost", "renotech.localhost belongs to Portico's own domain (localhost)"),
        ("localhost", "Enter a full host name with a dot"),
        ("admin.localhost.", "admin.localhost belongs to Portico's own domain"),
        ("northwind.localhost", "belongs to Portico's own domain"),
        (TARGET, f"{TARGET} belongs to Portico's own domain"),
        (f"x.{TARGET}", "belongs to Portico's own domain"),
    ],
    ids=lambda value: value[:24] if isinstance(value, str) and len(value) > 24 else value,
)
def test_hostile_or_mistyped_domains_are_refused_with_a_message(org, platform, typed, message):
    with pytest.raises(domains.InvalidDomain) as error:
        domains.set_custom_domain(organization=org, domain=typed, actor=ACTOR)
    assert str(error.value.message).startswith(message) or message in str(error.value.message)
    assert error.value.field == "domain"
    org.refresh_from_db()
    assert org.custom_domain is None
    assert not AuditEvent.all_tenants.filter(action="custom_domain.set").exists()


def test_another_organizations_domain_is_refused_even_before_they_verify_it(org, other_org, platform):
    domains.set_custom_domain(organization=other_org, domain=DOMAIN, actor=ACTOR)
    with pytest.raises(domains.DomainTaken) as error:
        domains.set_custom_domain(organization=org, domain="Billing.Example.Test.", actor=ACTOR)
    assert str(error.value.message) == "This domain is already used by another organization on Portico."
    org.refresh_from_db()
    assert org.custom_domain is None


def test_an_international_domain_is_stored_in_its_ascii_form(org, platform):
    domains.set_custom_domain(organization=org, domain=" Rechnung.Bücher.Example. ", actor=ACTOR)
    org.refresh_from_db()
    assert org.custom_domain == "rechnung.xn--bcher-kva.example"
    assert domains.display_domain(org.custom_domain) == "rechnung.bücher.example"


def test_the_nameservers_setting_takes_addresses_and_ports(monkeypatch):
    from portico.settings import envnameservers

    monkeypatch.setenv("DNS_TEST", "127.0.0.1:5353, 10.0.0.2,[::1]:5300")
    assert envnameservers("DNS_TEST") == [("127.0.0.1", 5353), ("10.0.0.2", 53), ("::1", 5300)]
    monkeypatch.setenv("DNS_TEST", "")
    assert envnameservers("DNS_TEST") == []
    monkeypatch.setenv("DNS_TEST", "ns1.example.com")
    with pytest.raises(ImproperlyConfigured, match="DNS_TEST must list IP addresses"):
        envnameservers("DNS_TEST")


def test_without_the_setting_the_systems_resolver_is_used(settings):
    settings.PORTICO_DNS_NAMESERVERS = []
    try:
        lookup = domains.resolver()
    except domains.DnsUnavailable:  # a machine without /etc/resolv.conf
        return
    assert lookup.nameservers  # read from the system configuration


# -- what a verified domain serves -------------------------------------------------------------------


@pytest.fixture
def verified(pending, dns_server):
    dns_server.set(*records(pending))
    return domains.verify_custom_domain(organization=pending, actor=ACTOR)


def test_an_unverified_domain_answers_404_and_gets_no_certificate(pending):
    assert Client(HTTP_HOST=DOMAIN).get("/portal/account/login/").status_code == 404
    assert Client(HTTP_HOST=DOMAIN).get("/console/").status_code == 404
    assert Client(HTTP_HOST="localhost").get("/tls/ask", {"domain": DOMAIN}).status_code == 404


def test_the_ask_endpoint_approves_the_verified_domain_alone(verified, other_org):
    ask = Client(HTTP_HOST="127.0.0.1")
    assert ask.get("/tls/ask", {"domain": DOMAIN}).status_code == 200
    for name in (f"www.{DOMAIN}", f"x.y.{DOMAIN}", "example.test", f"{DOMAIN}.evil.example", "evil.example"):
        assert ask.get("/tls/ask", {"domain": name}).status_code == 404, name
    assert ask.get("/tls/ask", {"domain": "renotech.localhost"}).status_code == 200  # its subdomain
    assert ask.get("/tls/ask", {"domain": "northwind.localhost"}).status_code == 200


def _csrf_client(host: str) -> Client:
    return Client(HTTP_HOST=host, enforce_csrf_checks=True)


def _signed_in_over_https(client: Client, host: str, email_address: str):
    """What a browser does on https://<host>: load the form, post it back with its token, same Origin."""
    page = client.get("/portal/account/login/", secure=True)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    return client.post(
        "/portal/account/login/",
        {"login": email_address, "password": PASSWORD, "csrfmiddlewaretoken": token},
        secure=True,
        HTTP_ORIGIN=f"https://{host}",
    )


def test_a_customer_signs_in_on_the_verified_domain_with_host_only_cookies(verified, portal_login, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    client = _csrf_client(DOMAIN)
    response = _signed_in_over_https(client, DOMAIN, portal_login.email)
    assert response.status_code == 302 and response["Location"] == "/portal/"
    for name in ("portico_session", "csrftoken"):
        assert client.cookies[name]["domain"] == "", name  # no Domain attribute: this host only
        assert client.cookies[name]["secure"], name
    page = client.get("/portal/", secure=True)
    assert page.status_code == 200 and page.wsgi_request.user == portal_login
    event = AuditEvent.all_tenants.filter(action="login.succeeded", actor_user=portal_login).get()
    assert event.organization_id == verified.pk


def test_a_sign_in_posted_from_another_origin_is_refused_on_the_custom_domain(verified, portal_login):
    client = _csrf_client(DOMAIN)
    page = client.get("/portal/account/login/", secure=True)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = client.post(
        "/portal/account/login/",
        {"login": portal_login.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
        secure=True,
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    assert "portico_session" not in client.cookies


def test_a_custom_domain_session_is_nobody_on_another_tenants_host(verified, other_org, portal_login):
    client = tenant_client(verified)  # the verified organization's host is now its custom domain
    assert client.defaults["HTTP_HOST"] == DOMAIN
    assert login(client, portal_login.email)["Location"] == "/portal/"
    stolen = tenant_client(other_org)
    stolen.cookies["portico_session"] = client.cookies["portico_session"].value
    assert stolen.get("/portal/").status_code == 302
    assert "/account/login/" in stolen.get("/portal/")["Location"]


def test_the_passkey_relying_party_is_the_host_the_portal_is_opened_on(verified):
    from allauth.core import context
    from django.test import RequestFactory

    from portico.accounts.adapters import PortalMFAAdapter

    for host, expected in ((f"{DOMAIN}:8443", DOMAIN), ("renotech.localhost:8000", "renotech.localhost")):
        request = RequestFactory().get("/portal/account/login/", HTTP_HOST=host)
        request.organization = verified
        with context.request_context(request):
            entity = PortalMFAAdapter().get_public_key_credential_rp_entity()
        assert entity == {"id": expected, "name": "RenoTech Solutions"}
