"""Statements by email (issue 14, item 6): staff send a customer its statement, or a monthly
schedule set on the customer does; the email carries the balances, the statement PDF, each open
invoice's PDF and a pay link on the organization's host, and goes out once per period. Delivered to
a real SMTP server (the `mailbox` fixture)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from portico.accounts.models import StaffRole
from portico.billing.statement_mail import send_scheduled_statements, send_statement
from portico.core import tenancy
from portico.core.models import AuditEvent, OutboxEvent
from portico.customers.models import Customer
from portico.notifications.statements import statement_email
from tests.billing.factories import ACTOR, open_invoice, pay
from tests.conftest import tenant_client
from tests.factories import ContactFactory, CustomerFactory, staff_user

BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"
BILLING = "accounts@acme.example"
FEB_1, FEB_28 = dt.date(2026, 2, 1), dt.date(2026, 2, 28)


@pytest.fixture
def ledger(customer, contact, clock):
    """January: INV of $30.00 (open). February: $125.00 and $80.00 invoiced, $50.00 paid on the
    first. So February opens at $30.00, charges $205.00, credits $50.00, closes at $185.00."""
    customer.email = BILLING
    customer.save(update_fields=["email"])
    clock.set("2026-01-15T12:00:00+00:00")
    january = open_invoice(customer, 3000)
    clock.set("2026-02-05T12:00:00+00:00")
    first = open_invoice(customer, 12500)
    clock.set("2026-02-10T12:00:00+00:00")
    second = open_invoice(customer, 8000)
    pay(customer, 5000, (first, 5000), received_on=dt.date(2026, 2, 20))
    clock.set("2026-03-10T15:00:00+00:00")
    return [january, first, second]


def attachments(message) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def send(customer, django_capture_on_commit_callbacks, start=FEB_1, end=FEB_28):
    with django_capture_on_commit_callbacks(execute=True):
        return send_statement(customer=customer, start=start, end=end, actor=ACTOR)


def test_the_statement_email_carries_the_balances_the_pdfs_and_the_pay_link(
    org, customer, ledger, mailbox, django_capture_on_commit_callbacks
):
    send(customer, django_capture_on_commit_callbacks)
    assert sorted(m["To"] for m in mailbox.messages) == sorted([BILLING, "maria@acme.example"])
    [message] = mailbox.to(BILLING)
    body = mailbox.body(message)
    assert "Opening balance: $30.00" in body
    assert "Charges: $205.00" in body
    assert "Payments and credits: $50.00" in body
    assert "Closing balance: $185.00" in body
    january, first, second = ledger
    assert f"Invoice {first.number}: $75.00" in body and f"Invoice {second.number}: $80.00" in body
    pay_url = org.public_url("/portal/pay/")
    assert pay_url in body and pay_url.split("/")[2].split(":")[0] == org.host
    files = attachments(message)
    assert list(files) == [
        "statement-2026-02-01-2026-02-28.pdf",
        f"invoice-{january.number}.pdf",
        f"invoice-{first.number}.pdf",
        f"invoice-{second.number}.pdf",
    ]
    assert all(content.startswith(b"%PDF") for content in files.values())
    assert AuditEvent.objects.filter(action="statement.sent").count() == 1


def test_a_paid_invoice_is_not_attached(customer, ledger, mailbox, django_capture_on_commit_callbacks):
    january, first, _second = ledger
    pay(customer, 3000, (january, 3000), received_on=dt.date(2026, 3, 2))
    send(customer, django_capture_on_commit_callbacks)
    [message] = mailbox.to(BILLING)
    assert f"invoice-{january.number}.pdf" not in attachments(message)
    assert f"invoice-{first.number}.pdf" in attachments(message)


def test_a_second_delivery_or_a_second_send_of_the_period_sends_nothing_more(
    customer, ledger, mailbox, django_capture_on_commit_callbacks
):
    event, new = send(customer, django_capture_on_commit_callbacks)
    assert new and len(mailbox.messages) == 2
    with django_capture_on_commit_callbacks(execute=True), tenancy.tenant(None):
        statement_email(event)  # the worker killed after sending, delivering the event again
    again, new_again = send(customer, django_capture_on_commit_callbacks)
    assert again.pk == event.pk and not new_again
    assert len(mailbox.messages) == 2
    assert AuditEvent.objects.filter(action="statement.sent").count() == 1


def test_the_monthly_schedule_sends_last_months_statement_once_on_the_day(
    org, customer, ledger, mailbox, clock, django_capture_on_commit_callbacks
):
    customer.statement_day = 12
    customer.save(update_fields=["statement_day"])
    CustomerFactory(organization=org, display_name="No schedule", email="off@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        clock.set("2026-03-11T23:00:00+00:00")
        assert send_scheduled_statements() == 0  # the day before
        clock.set("2026-03-12T06:00:00+00:00")
        assert send_scheduled_statements() == 1
        clock.set("2026-03-20T06:00:00+00:00")
        assert send_scheduled_statements() == 0  # later the same month: sent already
    assert len(mailbox.to(BILLING)) == 1 and mailbox.to("off@example.test") == []
    [message] = mailbox.to(BILLING)
    assert "statement-2026-02-01-2026-02-28.pdf" in attachments(message)
    with django_capture_on_commit_callbacks(execute=True):
        clock.set("2026-04-12T06:00:00+00:00")
        assert send_scheduled_statements() == 1  # next month: March's statement
    assert "statement-2026-03-01-2026-03-31.pdf" in attachments(mailbox.to(BILLING)[-1])


def test_the_schedule_follows_the_organizations_time_zone(org, customer, ledger, clock):
    org.time_zone = "Pacific/Auckland"  # UTC+13 in March
    org.save(update_fields=["time_zone"])
    customer.statement_day = 12
    customer.save(update_fields=["statement_day"])
    clock.set("2026-03-11T10:00:00+00:00")  # 23:00 on the 11th in Auckland
    assert send_scheduled_statements() == 0
    clock.set("2026-03-11T12:00:00+00:00")  # 01:00 on the 12th there, still the 11th in UTC
    assert send_scheduled_statements() == 1
    assert OutboxEvent.objects.filter(topic="statement.sent").count() == 1


# -- the console ----------------------------------------------------------------------------------


def _client(org, role):
    client = tenant_client(org)
    client.force_login(staff_user(org, email=f"{role}@{org.slug}.example", role=role), backend=BACKEND)
    return client


def _url(customer):
    return f"/console/customers/customer/{customer.pk}/send-statement/"


@pytest.mark.parametrize(
    "role", [StaffRole.OWNER, StaffRole.ADMINISTRATOR, StaffRole.FINANCE, StaffRole.SUPPORT]
)
def test_staff_send_last_months_statement_from_the_customer_page(
    org, customer, ledger, role, mailbox, django_capture_on_commit_callbacks
):
    client = _client(org, role)
    change_page = client.get(f"/console/customers/customer/{customer.pk}/change/").content.decode()
    assert f'href="{_url(customer)}"' in change_page
    page = client.get(_url(customer)).content.decode()
    assert 'value="last_month" selected' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(customer), {"period": "last_month"}, follow=True)
    assert "The statement for 2026-02-01 – 2026-02-28 is being emailed to Acme Interiors." in (
        response.content.decode()
    )
    assert len(mailbox.to(BILLING)) == 1
    again = client.post(_url(customer), {"period": "last_month"}, follow=True)
    assert "was already sent to Acme Interiors: nothing was sent again." in again.content.decode()


def test_a_custom_period_ending_before_it_starts_is_refused(org, customer, ledger):
    client = _client(org, StaffRole.FINANCE)
    response = client.post(_url(customer), {"period": "custom", "start": "2026-02-10", "end": "2026-02-01"})
    assert response.status_code == 200
    assert "The end date must be on or after the start date." in response.content.decode()
    assert not OutboxEvent.objects.filter(topic="statement.sent").exists()


def test_read_only_staff_may_not_send_a_statement(org, customer, ledger):
    client = _client(org, StaffRole.READ_ONLY)
    change_page = client.get(f"/console/customers/customer/{customer.pk}/change/").content.decode()
    assert _url(customer) not in change_page
    assert client.get(_url(customer)).status_code == 403
    assert client.post(_url(customer), {"period": "last_month"}).status_code == 403
    assert not OutboxEvent.objects.filter(topic="statement.sent").exists()


def test_another_organizations_customer_is_not_found(org, other_org, ledger):
    with tenancy.tenant(other_org):
        theirs = CustomerFactory(organization=other_org, email="them@example.test")
        ContactFactory(customer=theirs, email="boss@example.test", is_primary=True)
    client = _client(org, StaffRole.OWNER)
    assert client.get(_url(theirs)).status_code == 404
    assert client.post(_url(theirs), {"period": "last_month"}).status_code == 404
    with tenancy.tenant(other_org):
        assert not OutboxEvent.objects.filter(topic="statement.sent").exists()


def test_the_statement_day_is_set_on_the_customer_page_and_checked(org, customer):
    client = _client(org, StaffRole.SUPPORT)
    page = client.get(f"/console/customers/customer/{customer.pk}/change/").content.decode()
    assert 'name="statement_day"' in page
    field = Customer._meta.get_field("statement_day")
    with pytest.raises(ValidationError):
        field.clean(29, customer)
    assert field.clean(28, customer) == 28
