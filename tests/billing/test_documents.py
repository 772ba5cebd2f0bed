"""Invoice, statement and receipt PDFs: rendered with WeasyPrint from the page's own template,
read back with `pdftotext` (poppler-utils) as a customer's PDF reader would."""

import datetime as dt
import subprocess

import pytest

from portico.billing import documents, services
from portico.billing.models import Invoice
from portico.billing.statements import statement_for
from portico.core.money import Money
from tests.billing.factories import ACTOR, credit_note, pay, taxed


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def pdf_text(content: bytes) -> str:
    """The PDF's text in reading order, with line wrapping undone."""
    text = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout
    return " ".join(text.decode().split())


def pdf_rows(content: bytes) -> list[str]:
    """The PDF's lines as laid out on the page (a table row reads as one line), spaces collapsed."""
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout
    return [" ".join(line.split()) for line in text.decode().splitlines() if line.strip()]


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


def download(client, invoice) -> bytes:
    response = client.get(f"/portal/invoices/{invoice.number}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f'filename="{invoice.number}.pdf"' in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def stored_files(media) -> list:
    return sorted(p for p in media.rglob("*.pdf"))


def test_paying_part_of_an_invoice_shows_the_new_balance_and_the_payment_in_its_pdf(
    customer, clock, portal_client, django_capture_on_commit_callbacks
):
    invoice = issue(customer, django_capture_on_commit_callbacks)
    assert "Balance due $1,893.30" in pdf_rows(invoice.pdf.read())
    payment = pay(customer, 50000, (invoice, 50000), received_on=dt.date(2026, 11, 20))
    rows = pdf_rows(download(portal_client, invoice))
    assert "Balance due $1,393.30" in rows
    assert f"Payment {payment.number} received Nov 20, 2026 −$500.00" in rows
    assert "Total $1,893.30" in rows  # the total stays what was issued
    page = portal_client.get(f"/portal/invoices/{invoice.number}/").content.decode()
    assert "$1,393.30" in page and "$1,893.30" in page  # the page and the PDF agree


def test_a_fully_paid_invoice_pdf_carries_the_paid_mark(
    customer, clock, portal_client, django_capture_on_commit_callbacks
):
    clock.set("2026-11-20T15:00:00+00:00")
    invoice = issue(customer, django_capture_on_commit_callbacks)
    assert "PAID" not in pdf_text(invoice.pdf.read())
    note = credit_note(customer, 10000)
    services.apply_credit(credit_note=note, invoice=invoice, amount=note.total, actor=ACTOR)
    pay(customer, 179330, (invoice, 179330))
    content = download(portal_client, invoice)
    assert "PAID Paid in full on Nov 20, 2026" in pdf_text(content)
    rows = pdf_rows(content)
    assert f"Credit note {note.number} applied −$100.00" in rows
    assert "Balance due $0.00" in rows


def test_a_void_invoice_pdf_and_page_say_void_with_the_reason(
    customer, clock, portal_client, django_capture_on_commit_callbacks
):
    clock.set("2026-11-20T15:00:00+00:00")
    invoice = issue(customer, django_capture_on_commit_callbacks)
    services.void_invoice(invoice=invoice, actor=ACTOR, reason="Issued twice by mistake")
    text = pdf_text(download(portal_client, invoice))
    assert "VOID Voided on Nov 20, 2026. Reason: Issued twice by mistake" in text
    assert "Balance due" not in text
    page = portal_client.get(f"/portal/invoices/{invoice.number}/").content.decode()
    assert "Reason: Issued twice by mistake" in page


def test_downloading_twice_serves_the_stored_file_without_rendering_again(
    customer, clock, portal_client, media, django_capture_on_commit_callbacks
):
    invoice = issue(customer, django_capture_on_commit_callbacks)
    pay(customer, 50000, (invoice, 50000))
    first = download(portal_client, invoice)  # the payment changed the document: rendered once here
    [stored] = stored_files(media)
    name, mtime = Invoice.objects.get(pk=invoice.pk).pdf.name, stored.stat().st_mtime_ns
    second = download(portal_client, invoice)
    assert second == first
    assert stored_files(media) == [stored] and stored.stat().st_mtime_ns == mtime
    assert Invoice.objects.get(pk=invoice.pk).pdf.name == name
    assert stored.read_bytes() == first


def test_a_change_replaces_the_stored_pdf_and_removes_the_old_file(
    customer, clock, portal_client, media, django_capture_on_commit_callbacks
):
    invoice = issue(customer, django_capture_on_commit_callbacks)
    [issued] = stored_files(media)
    pay(customer, 50000, (invoice, 50000))
    documents.store_invoice_pdf(invoice.pk)
    [replaced] = stored_files(media)
    assert replaced != issued and not issued.exists()
    assert Invoice.objects.get(pk=invoice.pk).pdf.path == str(replaced)
    assert "Balance due $1,393.30" in pdf_rows(replaced.read_bytes())


def test_two_downloads_racing_keep_one_whole_stored_file(
    customer, clock, media, django_capture_on_commit_callbacks
):
    invoice = issue(customer, django_capture_on_commit_callbacks)
    pay(customer, 50000, (invoice, 50000))
    # Both requests read the invoice (and its stale file name) before either stores a new file.
    first, second = (documents.invoice_queryset().get(pk=invoice.pk) for _ in range(2))
    won = documents.current_invoice_pdf(first)
    lost = documents.current_invoice_pdf(second)
    [stored] = stored_files(media)
    assert Invoice.objects.get(pk=invoice.pk).pdf.name == won.name == lost.name
    for pdf in (won, lost):
        assert "Balance due $1,393.30" in pdf_rows(pdf.open(invoice.pdf.storage).read())
    assert "Balance due $1,393.30" in pdf_rows(stored.read_bytes())


def test_the_invoice_shows_the_sellers_address_and_tax_id_and_the_customers_address_by_country(
    org, customer, clock, portal_client, django_capture_on_commit_callbacks
):
    org.address_line1, org.address_city, org.address_region = "1200 Commerce Drive", "Springfield", "IL"
    org.address_postal_code, org.address_country, org.tax_id = "62704", "US", "EIN 12-3456789"
    org.save()
    customer.billing_line1, customer.billing_city, customer.billing_region = (
        "100 Main Street",
        "Springfield",
        "IL",
    )
    customer.billing_postal_code, customer.billing_country = "62701", "US"
    customer.save()
    invoice = issue(customer, django_capture_on_commit_callbacks)
    text = pdf_text(invoice.pdf.read())
    assert "RenoTech Solutions 1200 Commerce Drive Springfield, IL 62704 Tax id: EIN 12-3456789" in text
    assert "Acme Interiors 100 Main Street Springfield, IL 62701 Invoice lines" in text
    assert "United States" not in text and " US " not in text  # a domestic invoice names no country
    page = portal_client.get(f"/portal/invoices/{invoice.number}/").content.decode()
    assert "Springfield, IL 62704" in page and "EIN 12-3456789" in page


def test_a_british_organization_dates_its_documents_the_british_way(
    org, customer, clock, portal_client, django_capture_on_commit_callbacks
):
    org.locale, org.address_country = "en_GB", "GB"
    org.save()
    customer.billing_line1, customer.billing_city, customer.billing_region = (
        "100 Main Street",
        "Springfield",
        "IL",
    )
    customer.billing_postal_code, customer.billing_country = "62701", "US"
    customer.save()
    clock.set("2026-12-01T15:00:00+00:00")
    invoice = issue(customer, django_capture_on_commit_callbacks)
    text = pdf_text(invoice.pdf.read())
    assert "Issue date: 1 Dec 2026" in text and "Due date: 31 Dec 2026" in text
    assert "Springfield, IL 62701 United States" in text  # abroad: the customer's country, by name
    assert "United Kingdom" in text  # and the seller's, for the customer abroad
    page = portal_client.get(f"/portal/invoices/{invoice.number}/").content.decode()
    assert "1 Dec 2026" in page and "2026-12-01" not in page.split("<main")[1]


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
    text = pdf_text(
        b"".join(portal_client.get(f"/portal/payments/{payment.number}/receipt/").streaming_content)
    )
    assert f"Receipt for payment {payment.number}" in text and a.number in text
    assert "$70.00" in text and "$20.00" in text and "$90.00" in text


def test_documents_never_fetch_from_the_network():
    with pytest.raises(ValueError):
        documents._check_url("http://169.254.169.254/latest/meta-data/")
    with pytest.raises(ValueError):
        documents._check_url("file:///etc/passwd")
    html = '<p>Hello</p><img src="http://127.0.0.1:9/x.png"><img src="file:///etc/hostname">'
    assert "Hello" in pdf_text(documents.html_to_pdf(html))


def test_a_receipt_is_rendered_once_per_change_and_shows_where_the_money_went_since(
    customer, clock, portal_client, media
):
    a = services.finalize_invoice(
        invoice=services.create_invoice(customer=customer, lines=[taxed(7000, "0")], actor=ACTOR), actor=ACTOR
    )
    b = services.finalize_invoice(
        invoice=services.create_invoice(customer=customer, lines=[taxed(1500, "0")], actor=ACTOR), actor=ACTOR
    )
    payment = pay(customer, 9000, (a, 7000))
    url = f"/portal/payments/{payment.number}/receipt/"
    first = b"".join(portal_client.get(url).streaming_content)
    [stored] = stored_files(media)
    mtime = stored.stat().st_mtime_ns
    assert b"".join(portal_client.get(url).streaming_content) == first
    assert stored_files(media) == [stored] and stored.stat().st_mtime_ns == mtime  # not rendered again
    assert "Kept as credit on your account $20.00" in pdf_rows(first)

    services.allocate_payment(payment=payment, allocations=[(b, Money(1500, "USD"))], actor=ACTOR)
    rows = pdf_rows(b"".join(portal_client.get(url).streaming_content))
    assert f"{b.number} $15.00" in rows and "Kept as credit on your account $5.00" in rows
    [replaced] = stored_files(media)
    assert replaced != stored and not stored.exists()
