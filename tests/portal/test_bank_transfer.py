"""Bank-transfer instructions (`PaymentSettings.offline_instructions`): instead of "Pay" in the
portal when the organization takes no payments online, and on every invoice with something due
(page, print view and PDF) whatever the gateway — escaped, line breaks kept."""

from __future__ import annotations

import subprocess

import pytest

from portico.billing import documents
from portico.core.audit import Actor
from portico.payments import configuration
from tests.billing.factories import open_invoice, pay

ACTOR = Actor.system("tests")
INSTRUCTIONS = "Pay to RenoTech <Bank> & Co\nIBAN DE89 3704 0044 0532 0130 00\nReference: your invoice number"


def _configure(org, gateway):
    configuration.update_payment_settings(
        organization=org, actor=ACTOR, gateway=gateway, offline_instructions=INSTRUCTIONS
    )


@pytest.fixture
def due(customer):
    return open_invoice(customer, 12000)


def test_offline_the_portal_shows_the_instructions_where_pay_would_be(org, portal_client, due):
    _configure(org, "offline")
    for url in ("/portal/", "/portal/invoices/", f"/portal/invoices/{due.number}/"):
        page = portal_client.get(url).content.decode()
        assert "Pay to RenoTech &lt;Bank&gt; &amp; Co<br>IBAN DE89 3704 0044 0532 0130 00<br>" in page, url
        assert "<Bank>" not in page
        assert "/portal/pay/" not in page, url


def test_online_the_invoice_shows_the_instructions_beside_pay(org, portal_client, due):
    _configure(org, "test")
    page = portal_client.get(f"/portal/invoices/{due.number}/").content.decode()
    assert "IBAN DE89 3704 0044 0532 0130 00" in page
    assert f"/portal/invoices/{due.number}/pay/" in page
    assert "IBAN DE89" not in portal_client.get("/portal/invoices/").content.decode()  # "Pay" is there


def test_a_paid_invoice_says_nothing_about_paying(org, portal_client, customer, due):
    _configure(org, "offline")
    pay(customer, 12000, (due, 12000))
    assert "IBAN DE89" not in portal_client.get(f"/portal/invoices/{due.number}/").content.decode()


def test_the_invoice_pdf_carries_the_instructions(org, due):
    _configure(org, "offline")
    invoice = documents.attach_parts(documents.invoice_queryset().get(pk=due.pk))
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=documents.invoice_pdf_bytes(invoice), capture_output=True, check=True
    ).stdout.decode()
    assert "HOW TO PAY BY BANK TRANSFER" in text.upper()
    assert "Pay to RenoTech <Bank> & Co" in text and "IBAN DE89 3704 0044 0532 0130 00" in text


def test_changing_the_instructions_changes_the_document_version(org, due):
    _configure(org, "offline")
    before = documents.document_version(documents.attach_parts(documents.invoice_queryset().get(pk=due.pk)))
    configuration.update_payment_settings(
        organization=org, actor=ACTOR, gateway="offline", offline_instructions="New account: 1234"
    )
    from portico.core.models import Organization

    invoice = documents.invoice_queryset().get(pk=due.pk)
    invoice.organization = Organization.objects.get(pk=org.pk)
    assert documents.document_version(documents.attach_parts(invoice)) != before
