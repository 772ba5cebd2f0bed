"""Sending many invoices at once from the console's list: the request queues one email per invoice
on the outbox and returns; the outbox delivers them after commit, each once."""

import pytest

from portico.core import outbox
from portico.core.mail import EMAIL_TOPIC
from portico.core.models import OutboxEvent
from tests.billing.factories import draft_invoice, open_invoice
from tests.conftest import tenant_client
from tests.factories import CustomerFactory, staff_user


@pytest.fixture
def staff(org):
    client = tenant_client(org)
    client.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    return client


def send_selected(staff, invoices):
    return staff.post(
        "/console/billing/invoice/",
        {"action": "send_selected", "_selected_action": [i.pk for i in invoices]},
    )


def test_sending_50_invoices_queues_50_emails_and_the_outbox_delivers_each_once_after_commit(
    org, staff, mailbox, clock, django_capture_on_commit_callbacks
):
    customers = [CustomerFactory(organization=org, email=f"billing{n}@customer.example") for n in range(5)]
    invoices = [open_invoice(customers[n % 5], 1000 + n) for n in range(50)]

    with django_capture_on_commit_callbacks(execute=True):
        response = send_selected(staff, invoices)
        assert response.status_code == 302
        # the request has returned: every email is queued, none sent yet
        assert OutboxEvent.all_tenants.filter(topic=EMAIL_TOPIC).count() == 50
        assert mailbox.messages == []

    subjects = sorted(m["Subject"] for m in mailbox.messages)
    assert len(subjects) == 50
    assert all(sum(i.number in s for s in subjects) == 1 for i in invoices)
    for invoice in invoices:
        invoice.refresh_from_db()
        [message] = [m for m in mailbox.messages if invoice.number in m["Subject"]]
        assert message["To"] == invoice.customer.email and invoice.sent_at == clock.now()
    # Nothing is left over (their customers have automatic payments off, so the issued invoices'
    # events got no automatic-charge delivery); no email is sent twice.
    assert outbox.deliver_all_due().claimed == 0
    assert len(mailbox.messages) == 50


def test_bulk_send_skips_drafts_and_says_so_and_sends_the_rest(
    org, customer, staff, mailbox, django_capture_on_commit_callbacks
):
    issued = open_invoice(customer, 1000)
    draft = draft_invoice(customer, 2000)

    with django_capture_on_commit_callbacks(execute=True):
        response = send_selected(staff, [issued, draft])
    page = staff.get(response["Location"]).content.decode()
    assert "1 sent." in page and "Only an issued invoice that is not void can be sent." in page
    [message] = mailbox.messages
    assert issued.number in message["Subject"]
