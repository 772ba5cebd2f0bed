"""The customer's account activity page: customer-facing events only, the business named as the
actor, no staff addresses, paged, and the same queries for 5 events as for 500."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.billing import services
from portico.core.audit import Actor, audit
from portico.core.models import AuditEvent
from tests.billing.factories import line, open_invoice, pay
from tests.conftest import login, tenant_client
from tests.factories import ContactFactory, portal_user, staff_user

STAFF_IP = "203.0.113.77"
ACTIVITY = "/portal/security/activity/"


def staff_actor(org, email="riley.finance@renotech.example"):
    user = staff_user(org, email=email)
    return Actor(kind=AuditEvent.ActorKind.STAFF, user=user, label=user.email, ip_address=STAFF_IP)


def page_text(client, url=ACTIVITY) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def rows(html: str) -> list[str]:
    return re.findall(r"<tr><td.*?</tr>", html.split("<tbody>", 1)[1], re.S)


def test_staff_work_on_a_draft_never_shows_and_the_issued_invoice_is_shown_as_the_business(
    org, customer, portal_client
):
    staff = staff_actor(org)
    draft = services.create_invoice(customer=customer, lines=[line(5000)], actor=staff)
    services.add_invoice_line(invoice=draft, line=line(2500, description="Extra visit"), actor=staff)
    services.update_draft_invoice(invoice=draft, memo="internal: check the discount", actor=staff)
    draft_name = str(draft)
    invoice = services.finalize_invoice(invoice=draft, actor=staff)
    services.void_invoice(invoice=invoice, actor=staff, reason="Issued twice")
    assert AuditEvent.objects.filter(action="invoice.created", customer=customer).exists()

    html = page_text(portal_client)
    assert draft_name not in html and "Draft #" not in html
    assert (
        "Invoice created" not in html and "Invoice line added" not in html and "Invoice updated" not in html
    )
    assert "Invoice finalized" in html and "Invoice voided" in html and invoice.number in html
    assert "riley.finance@renotech.example" not in html and STAFF_IP not in html
    assert all("RenoTech Solutions" in row for row in rows(html))


def test_staff_addresses_never_show_for_payments_and_account_changes_they_record(
    org, customer, portal_client
):
    staff = staff_actor(org)
    invoice = open_invoice(customer, 12000)
    services.record_payment(
        customer=customer,
        amount=invoice.total,
        allocations=[(invoice, invoice.total)],
        actor=staff,
        method="bank_transfer",
        received_on=invoice.issue_date,
    )
    audit(staff, "customer.details_changed", customer, changes={"tax_id": ["", "DE123"]})
    audit(staff, "access_policy.changed", org, customer=customer, mfa_required=True)  # internal

    html = page_text(portal_client)
    assert "Payment received" in html and "Customer details changed" in html
    assert "Access policy changed" not in html
    assert "riley.finance@renotech.example" not in html and STAFF_IP not in html
    assert "IP address" not in html


def test_the_customers_own_people_are_named_and_their_sign_ins_show_without_any_ip(
    org, customer, portal_login
):
    colleague = portal_user(
        ContactFactory(customer=customer, email="vera@acme.example", portal_role="viewer")
    )
    login(tenant_client(org, REMOTE_ADDR="198.51.100.23"), colleague.email)
    admin = tenant_client(org)
    login(admin, portal_login.email)

    html = page_text(admin)
    assert "vera@acme.example" in html and "Signed in" in html
    assert "198.51.100.23" not in html


def test_another_customers_events_never_show(org, customer, outsider_customer, portal_client):
    theirs = open_invoice(outsider_customer, 9900)
    pay(outsider_customer, 9900, (theirs, 9900))
    outsider = portal_user(ContactFactory(customer=outsider_customer, email="sam@bluebird.example"))
    login(tenant_client(org), outsider.email)
    ours = open_invoice(customer, 4400)

    html = page_text(portal_client)
    assert ours.number in html
    assert theirs.number not in html and "sam@bluebird.example" not in html


def test_the_activity_is_paged_fifty_a_page_newest_first(org, customer, portal_client, clock):
    invoices = []
    for _n in range(60):
        clock.advance(minutes=1)
        invoices.append(open_invoice(customer, 1000))
    first = page_text(portal_client)
    assert len(rows(first)) == 50
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert invoices[-1].number in first and invoices[9].number not in first

    second = page_text(portal_client, ACTIVITY + "?page=2")
    assert len(rows(second)) == 11 and "Page 2 of 2" in second  # 10 invoices and the sign-in
    assert invoices[9].number in second and invoices[-1].number not in second
    assert invoices[0].number in second and "Signed in" in second

    assert len(rows(page_text(portal_client, ACTIVITY + "?page=nonsense"))) == 50


def queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(ACTIVITY).status_code == 200
    return [
        q["sql"]
        for q in captured.captured_queries
        if "usersessions_usersession" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]


def test_the_activity_page_issues_the_same_queries_for_5_and_for_500_events(org, customer, portal_client):
    staff = staff_actor(org)
    colleague = portal_user(ContactFactory(customer=customer, email="vera@acme.example"))
    people = [staff, Actor(kind=AuditEvent.ActorKind.PORTAL, user=colleague, label=colleague.email)]

    def events(n):
        for i in range(n):
            audit(people[i % 2], "customer.details_changed", customer, changes={"n": i})

    events(5)
    portal_client.get(ACTIVITY)  # warm per-process caches
    few = queries(portal_client)
    events(495)
    many = queries(portal_client)
    assert len(many) == len(few), "\n".join(many)
