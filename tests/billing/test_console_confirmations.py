"""Finalize, send and void in the console ask first: a confirmation page on GET, the action on POST."""

import pytest

from portico.billing.models import CreditNote, Invoice
from tests.billing.factories import draft_invoice, line, open_invoice
from tests.conftest import tenant_client
from tests.factories import staff_user


@pytest.fixture
def staff(org):
    client = tenant_client(org)
    client.force_login(staff_user(org), backend="portico.accounts.backends.TenantAuthenticationBackend")
    return client


def test_finalize_asks_for_confirmation_and_changes_nothing_until_confirmed(customer, staff):
    invoice = draft_invoice(customer, 1000)
    page = staff.get(f"/console/billing/invoice/{invoice.pk}/change/").content.decode()
    # the object tool is a link to the confirmation page, not a one-click form
    assert f'<a href="/console/billing/invoice/{invoice.pk}/finalize/"' in page
    confirmation = staff.get(f"/console/billing/invoice/{invoice.pk}/finalize/")
    assert confirmation.status_code == 200
    text = confirmation.content.decode()
    assert "Finalize this invoice?" in text and "Yes, finalize" in text and 'method="post"' in text
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == (Invoice.Status.DRAFT, "")
    assert staff.post(f"/console/billing/invoice/{invoice.pk}/finalize/").status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN and invoice.number


def test_send_asks_for_confirmation_naming_the_recipient_and_sends_only_when_confirmed(
    customer, staff, mailbox, django_capture_on_commit_callbacks
):
    invoice = open_invoice(customer, 4200)
    page = staff.get(f"/console/billing/invoice/{invoice.pk}/change/").content.decode()
    assert f'<a href="/console/billing/invoice/{invoice.pk}/send/"' in page
    with django_capture_on_commit_callbacks(execute=True):
        confirmation = staff.get(f"/console/billing/invoice/{invoice.pk}/send/")
    assert confirmation.status_code == 200
    assert customer.email in confirmation.content.decode() and "Yes, send" in confirmation.content.decode()
    assert mailbox.messages == []
    invoice.refresh_from_db()
    assert invoice.sent_at is None
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(f"/console/billing/invoice/{invoice.pk}/send/").status_code == 302
    assert len(mailbox.to(customer.email)) == 1


def test_a_credit_note_is_finalized_and_voided_only_after_confirmation(customer, staff):
    from portico.billing import services
    from portico.core.audit import Actor

    note = services.create_credit_note(customer=customer, lines=[line(500)], actor=Actor.system("tests"))
    for step, status_before, status_after in (
        ("finalize", CreditNote.Status.DRAFT, CreditNote.Status.OPEN),
        ("void", CreditNote.Status.OPEN, CreditNote.Status.VOID),
    ):
        assert staff.get(f"/console/billing/creditnote/{note.pk}/{step}/").status_code == 200
        note.refresh_from_db()
        assert note.status == status_before
        assert staff.post(f"/console/billing/creditnote/{note.pk}/{step}/").status_code == 302
        note.refresh_from_db()
        assert note.status == status_after


def test_billing_settings_are_named_once_in_the_console(org, staff):
    page = staff.get("/console/").content.decode()
    assert "Billing settings" in page and "Billing settingss" not in page
