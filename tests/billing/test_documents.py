"""Invoice, statement and receipt PDFs: rendered with WeasyPrint from the page's own template,
read back with `pdftotext` (poppler-utils) as a customer's PDF reader would."""

import datetime as dt
import subprocess

import pytest

from portico.billing import documents, services
from portico.billing.models import Invoice
from portico.billing.statements import statement_for
from tests.billing.factories import ACTOR, credit_note, pay, taxed


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def pdf_text(content: bytes) -> str:
    """The PDF's text in reading order, with line wrapping undone."""
    text = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout
    return " ".join(text.decode().split())


def issue(customer, django_capture_on_commit_callbacks):
    draft = services.create_invoice(
        customer=customer,
        lines=[
            taxed(120000, "8.25", description="Kitchen cabinet design"),
            taxed(45000, "8.25", description="Site survey and measurements"),
            taxed(9900, "8.25", description="Material samples courier"),
        ],
        actor=ACTOR,
        purchase_order="PO-7781",
    )
    with django_capture_on_commit_callbacks(execute=True):
        invoice = services.finalize_invoice(invoice=draft, actor=ACTOR)
    return Invoice.objects.get(pk=invoice.pk)


def test_finalizing_stores_a_pdf_with_number_customer_lines_and_totals(
    customer, clock, django_capture_on_commit_callbacks
):
    invoice = issue(customer, django_capture_on_commit_callbacks)
    assert invoice.pdf.name.endswith(".pdf")
    text = pdf_text(invoice.pdf.read())
    for expected in (
        f"Invoice {invoice.number}",
        "Acme Interiors",
        "Kitchen cabinet design",
        "Site survey and measurements",
        "Material samples courier",
        "$1,749.00",  # subtotal
        "$144.30",  # tax 8.25% per line: 99.00 + 37.13 + 8.17 (half-up, per line)
        "$1,893.30",  # total
        "PO-7781",
    ):
        assert expected in text, expected
    assert invoice.tax_minor == 14430 and invoice.total_minor == 189330


def test_the_stored_pdf_never_changes(customer, clock, portal_client, django_capture_on_commit_callbacks):
    invoice = issue(customer, django_capture_on_commit_callbacks)
    original = invoice.pdf.read()
    name = invoice.pdf.name
    pay(customer, 50000, (invoice, 50000))
    documents.store_invoice_pdf(invoice.pk)  # a second render request is a no-op
    invoice.refresh_from_db()
    assert invoice.pdf.name == name
    response = portal_client.get(f"/portal/invoices/{invoice.number}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == original
    assert f'filename="{invoice.number}.pdf"' in response["Content-Disposition"]


def test_an_old_invoice_without_a_pdf_gets_one_on_first_download_then_keeps_it(
    customer, clock, portal_client
):
    draft = services.create_invoice(
        customer=customer, lines=[taxed(5000, "0", description="Old work")], actor=ACTOR
    )
    invoice = services.finalize_invoice(invoice=draft, actor=ACTOR)  # on_commit not run: no PDF yet
    assert not Invoice.objects.get(pk=invoice.pk).pdf
    first = b"".join(portal_client.get(f"/portal/invoices/{invoice.number}/pdf/").streaming_content)
    stored = Invoice.objects.get(pk=invoice.pk).pdf
    assert stored and stored.read() == first
    assert "Old work" in pdf_text(first)
    second = b"".join(portal_client.get(f"/portal/invoices/{invoice.number}/pdf/").streaming_content)
    assert second == first


def test_statement_pdf_has_customer_every_line_and_totals(customer, clock, portal_client):
    clock.set("2026-02-02T15:00:00+00:00")
    first = services.finalize_invoice(
        invoice=services.create_invoice(customer=customer, lines=[taxed(30000, "0")], actor=ACTOR),
        actor=ACTOR,
    )
    clock.set("2026-03-05T15:00:00+00:00")
    payment = pay(customer, 10000, (first, 10000), received_on=dt.date(2026, 3, 5))
    note = credit_note(customer, 2500)
    statement = statement_for(customer, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    text = pdf_text(documents.statement_pdf_bytes(statement))
    for expected in (
        "Account statement",
        "Acme Interiors",
        "Opening balance",
        "$300.00",
        payment.number,
        note.number,
        "$100.00",
        "$25.00",
        "Closing balance",
        "$175.00",
    ):
        assert expected in text, expected
    response = portal_client.get("/portal/statements/pdf/?period=custom&start=2026-03-01&end=2026-03-31")
    assert response.status_code == 200 and "$175.00" in pdf_text(response.content)


def test_receipt_pdf_shows_what_the_payment_paid(customer, clock, portal_client):
    a = services.finalize_invoice(
        invoice=services.create_invoice(customer=customer, lines=[taxed(7000, "0")], actor=ACTOR), actor=ACTOR
    )
    payment = pay(customer, 9000, (a, 7000))
    text = pdf_text(portal_client.get(f"/portal/payments/{payment.number}/receipt/").content)
    assert f"Receipt for payment {payment.number}" in text and a.number in text
    assert "$70.00" in text and "$20.00" in text and "$90.00" in text


def test_documents_never_fetch_from_the_network():
    with pytest.raises(ValueError):
        documents._check_url("http://169.254.169.254/latest/meta-data/")
    with pytest.raises(ValueError):
        documents._check_url("file:///etc/passwd")
    html = '<p>Hello</p><img src="http://127.0.0.1:9/x.png"><img src="file:///etc/hostname">'
    assert "Hello" in pdf_text(documents.html_to_pdf(html))
