"""The console's portal-access overview and "Resend portal link" (issue 14, item 7)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.accounts import services
from portico.accounts.models import Invitation
from portico.core import tenancy
from portico.core.audit import Actor
from portico.core.models import AuditEvent
from tests.accounts.conftest import enable_totp, links_in, path_of
from tests.conftest import login, tenant_client
from tests.factories import ContactFactory, CustomerFactory, portal_user, staff_user

OVERVIEW = "/console/customers/contactperson/portal-access/"
ACTOR = Actor.system("tests")


def console(org, role="owner", email="staff@business.example"):
    client = tenant_client(org)
    client.force_login(
        staff_user(org, email=email, role=role),
        backend="portico.accounts.backends.TenantAuthenticationBackend",
    )
    return client


def resend_url(contact) -> str:
    return f"/console/customers/contactperson/{contact.pk}/resend-portal-link/"


def row(page: str, contact) -> str:
    match = re.search(rf'<tr id="contact-{contact.pk}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {contact}"
    return match.group(1)


def cell(row_html: str, name: str) -> str:
    return re.sub(r"\s+", " ", re.search(rf'<td class="{name}">(.*?)</td>', row_html, re.S).group(1)).strip()


def invite(contact, capture):
    with capture(execute=True):
        return services.invite_contact(contact=contact, actor=ACTOR)


@pytest.fixture
def people(org, customer, clock, mailbox, django_capture_on_commit_callbacks):
    """Maria signed in on 10 March and uses TOTP; Tom's invitation is pending, Eve's expired, and
    Bob has a login whose access is off; Zoe has no access and no login (not listed)."""
    maria = ContactFactory(
        customer=customer, first_name="Maria", last_name="Lopez", email="maria@acme.example"
    )
    portal_user(maria)
    clock.set("2026-03-01T09:00:00+00:00")
    eve = ContactFactory(customer=customer, first_name="Eve", last_name="Stone", email="eve@acme.example")
    invite(eve, django_capture_on_commit_callbacks)
    clock.set("2026-03-10T15:00:00+00:00")
    assert login(tenant_client(org), "maria@acme.example").status_code == 302
    enable_totp(maria.user)
    clock.set("2026-03-11T08:30:00+00:00")
    tom = ContactFactory(customer=customer, first_name="Tom", last_name="Becker", email="tom@acme.example")
    invite(tom, django_capture_on_commit_callbacks)
    bob = ContactFactory(customer=customer, first_name="Bob", last_name="Ray", email="bob@acme.example")
    portal_user(bob)
    bob.has_portal_access = False
    bob.save(update_fields=["has_portal_access"])
    zoe = ContactFactory(
        customer=customer,
        first_name="Zoe",
        last_name="Quinn",
        email="zoe@acme.example",
        has_portal_access=False,
    )
    return {"maria": maria, "tom": tom, "eve": eve, "bob": bob, "zoe": zoe}


def test_the_overview_shows_last_sign_in_second_factor_and_invitation_of_each_contact(org, people):
    page = console(org, role="read_only").get(OVERVIEW).content.decode()

    maria = row(page, people["maria"])
    assert cell(maria, "access") == "On"
    assert cell(maria, "last-sign-in") == "2026-03-10 15:00"
    assert cell(maria, "mfa") == "On"
    assert cell(maria, "invitation") == "—"
    tom = row(page, people["tom"])
    assert cell(tom, "last-sign-in") == "Never"
    assert cell(tom, "mfa") == "Off"
    assert cell(tom, "invitation") == "Pending · sent 2026-03-11 08:30 · expires 2026-03-18 08:30"
    eve = row(page, people["eve"])
    assert cell(eve, "invitation") == "Expired · sent 2026-03-01 09:00 · expires 2026-03-08 09:00"
    bob = row(page, people["bob"])
    assert cell(bob, "access") == "Off"
    assert f'id="contact-{people["zoe"].pk}"' not in page


@pytest.mark.parametrize(
    ("status", "listed"),
    [
        ("active", ["maria"]),
        ("invited", ["tom"]),
        ("expired", ["eve"]),
        ("disabled", ["bob"]),
        ("mfa_off", []),
        ("", ["bob", "eve", "maria", "tom"]),
    ],
)
def test_the_overview_filters_by_status(org, people, status, listed):
    page = console(org).get(OVERVIEW, {"status": status}).content.decode()
    shown = sorted(name for name, contact in people.items() if f'id="contact-{contact.pk}"' in page)
    assert shown == listed


def test_the_overview_filters_by_customer_and_searches(org, people, outsider_customer):
    other = ContactFactory(
        customer=outsider_customer, first_name="Ann", last_name="Cole", email="ann@bluebird.example"
    )
    portal_user(other)
    client = console(org)
    by_customer = client.get(OVERVIEW, {"customer": outsider_customer.pk}).content.decode()
    assert f'id="contact-{other.pk}"' in by_customer
    assert f'id="contact-{people["maria"].pk}"' not in by_customer
    searched = client.get(OVERVIEW, {"q": "becker"}).content.decode()
    assert f'id="contact-{people["tom"].pk}"' in searched
    assert f'id="contact-{people["maria"].pk}"' not in searched


def test_resending_to_an_invited_contact_sends_one_fresh_invitation_and_the_old_link_stops_working(
    org, people, mailbox, django_capture_on_commit_callbacks
):
    [first] = mailbox.to("tom@acme.example")
    [old_link] = [url for url in links_in(mailbox.body(first)) if "/invitation/" in url]
    with django_capture_on_commit_callbacks(execute=True):
        response = console(org, role="support").post(resend_url(people["tom"]), {"next": OVERVIEW})

    assert response.status_code == 302 and response["Location"] == OVERVIEW
    _first, second = mailbox.to("tom@acme.example")
    [new_link] = [url for url in links_in(mailbox.body(second)) if "/invitation/" in url]
    assert new_link != old_link
    visitor = tenant_client(org)
    assert "withdrawn or replaced" in visitor.get(path_of(old_link), follow=True).content.decode()
    assert visitor.get(path_of(new_link), follow=True).status_code == 200
    assert (
        Invitation.all_tenants.filter(contact=people["tom"], accepted_at=None, revoked_at=None).count() == 1
    )
    assert AuditEvent.all_tenants.filter(action="portal_link.resent", data__kind="invitation").count() == 1


def test_resending_to_an_expired_invitation_sends_a_fresh_one(
    org, people, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        console(org).post(resend_url(people["eve"]))
    assert len(mailbox.to("eve@acme.example")) == 2
    [pending] = Invitation.all_tenants.filter(contact=people["eve"], accepted_at=None, revoked_at=None)
    assert pending.status == Invitation.Status.PENDING


def test_resending_to_a_contact_with_an_account_sends_a_sign_in_link_on_the_organizations_host(
    org, people, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        console(org).post(resend_url(people["maria"]))

    [message] = mailbox.to("maria@acme.example")
    assert "link to the" in message["Subject"]
    assert f"http://{org.host}/portal/account/login/" in links_in(mailbox.body(message))
    assert not Invitation.all_tenants.filter(contact=people["maria"]).exists()


def test_a_double_submit_sends_one_email(org, people, mailbox, clock, django_capture_on_commit_callbacks):
    client = console(org)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(resend_url(people["maria"]))
        client.post(resend_url(people["maria"]))
        clock.advance(seconds=30)
        client.post(resend_url(people["maria"]))
    assert len(mailbox.to("maria@acme.example")) == 1
    clock.advance(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(resend_url(people["maria"]))
    assert len(mailbox.to("maria@acme.example")) == 2


def test_the_bulk_action_sends_one_email_per_contact(
    org, people, mailbox, django_capture_on_commit_callbacks
):
    before = len(mailbox.messages)
    with django_capture_on_commit_callbacks(execute=True):
        response = console(org).post(
            "/console/customers/contactperson/",
            {
                "action": "resend_portal_link",
                "index": 0,
                "next": OVERVIEW,
                "_selected_action": [people["maria"].pk, people["tom"].pk, people["tom"].pk],
            },
        )
    assert response.status_code == 302 and response["Location"] == OVERVIEW
    assert len(mailbox.messages) - before == 2
    assert len(mailbox.to("maria@acme.example")) == 1


def test_a_contact_without_portal_access_is_refused_with_a_message(
    org, people, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = console(org).post(resend_url(people["bob"]), follow=True)
    assert "has no portal access" in response.content.decode()
    assert mailbox.to("bob@acme.example") == []
    assert not AuditEvent.all_tenants.filter(action="portal_link.resent").exists()


@pytest.mark.parametrize("role", ["read_only", "finance"])
def test_read_only_and_finance_staff_see_the_overview_but_cannot_resend(
    org, people, role, mailbox, django_capture_on_commit_callbacks
):
    client = console(org, role=role)
    page = client.get(OVERVIEW)
    assert page.status_code == 200
    assert "Resend portal link" not in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(resend_url(people["maria"])).status_code == 403
        bulk = client.post(
            "/console/customers/contactperson/",
            {"action": "resend_portal_link", "index": 0, "_selected_action": [people["maria"].pk]},
        )
    assert bulk.status_code == 403
    assert mailbox.to("maria@acme.example") == []


def test_another_organizations_contact_is_not_found_and_gets_nothing(
    org, other_org, mailbox, django_capture_on_commit_callbacks
):
    with tenancy.tenant(other_org):
        theirs = ContactFactory(customer=CustomerFactory(organization=other_org), email="them@nw.example")
        portal_user(theirs)
    client = console(org)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(resend_url(theirs)).status_code == 404
        client.post(
            "/console/customers/contactperson/",
            {"action": "resend_portal_link", "index": 0, "_selected_action": [theirs.pk]},
        )
    assert f'id="contact-{theirs.pk}"' not in client.get(OVERVIEW).content.decode()
    assert mailbox.to("them@nw.example") == []


def test_the_contacts_page_offers_resend_to_those_who_may(org, people):
    url = f"/console/customers/contactperson/{people['maria'].pk}/change/"
    assert resend_url(people["maria"]) in console(org, role="support").get(url).content.decode()
    assert (
        resend_url(people["maria"])
        not in console(org, role="read_only", email="ro@b.example").get(url).content.decode()
    )


def _overview_queries(org, customer, count: int) -> int:
    for n in range(count):
        contact = ContactFactory(customer=customer, email=f"p{n}@acme.example")
        user = portal_user(contact)
        if n % 2:
            enable_totp(user)
        if n % 3 == 0:
            services.invite_contact(
                contact=ContactFactory(customer=customer, email=f"i{n}@acme.example"), actor=ACTOR
            )
    client = console(org)
    client.get(OVERVIEW)  # warm the session and caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(OVERVIEW).status_code == 200
    return len(queries)


def test_the_overview_costs_the_same_queries_for_5_and_50_contacts(org, other_org, customer, clock):
    few = _overview_queries(org, customer, 5)
    with tenancy.tenant(other_org):
        many = _overview_queries(other_org, CustomerFactory(organization=other_org), 50)
    assert few == many
