"""Documents carry the seller's brand: the logo (drawn from its file, never fetched), else the name,
and the brand colour as readable on white for the title, column heads and rules. A stored invoice PDF
is re-rendered once the brand changes; a hostile brand never breaks a document.

PDFs are read back with poppler: `pdfimages -list` for the logo, `pdftotext` for the name."""

import base64
import datetime as dt
import io
import subprocess

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from portico.billing import documents, services
from portico.billing.models import Invoice
from portico.billing.statements import statement_for
from portico.core.brand_assets import MAX_BYTES, asset_path
from portico.core.branding import readable_on_white
from portico.core.models import Organization
from tests.billing.factories import ACTOR, open_invoice, pay, taxed
from tests.perf.bulk import bulk_ledger

PALE_YELLOW = "#ffeb3b"
GREEN = "#0b6e4f"  # AA on white as chosen


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def png(width=120, height=40, colour=(11, 110, 79)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def images(content: bytes) -> list[tuple[int, int]]:
    """The (width, height) of each image the PDF draws, as `pdfimages -list` reports them."""
    out = subprocess.run(["pdfimages", "-list", "-"], input=content, capture_output=True, check=True)
    rows = out.stdout.decode().splitlines()[2:]  # two heading lines
    return [(int(row.split()[3]), int(row.split()[4])) for row in rows if row.split()[2] == "image"]


def pdf_text(content: bytes) -> str:
    text = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout
    return " ".join(text.decode().split())


def brand(org, *, colour=None, logo: bytes | None = None, name="logo.png"):
    org = Organization.objects.get(pk=org.pk)
    if colour is not None:
        org.brand_colour = colour
    if logo is not None:
        org.logo.save(name, ContentFile(logo), save=False)
    org.save()
    return org


def issue(customer, django_capture_on_commit_callbacks) -> Invoice:
    draft = services.create_invoice(customer=customer, lines=[taxed(120000, "0")], actor=ACTOR)
    with django_capture_on_commit_callbacks(execute=True):  # the PDF is stored after commit
        invoice = services.finalize_invoice(invoice=draft, actor=ACTOR)
    return Invoice.objects.get(pk=invoice.pk)


def download(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return b"".join(response.streaming_content) if response.streaming else response.content


def stored_pdfs(media) -> list:
    return sorted(p for p in media.rglob("*.pdf"))


def test_an_invoice_shows_the_logo_and_the_readable_brand_colour_on_its_page_print_view_and_pdf(
    org, customer, portal_client, clock, django_capture_on_commit_callbacks
):
    org = brand(org, colour=PALE_YELLOW, logo=png())
    invoice = issue(customer, django_capture_on_commit_callbacks)
    readable = readable_on_white(PALE_YELLOW)
    assert readable != PALE_YELLOW
    assert images(invoice.pdf.read()) == [(120, 40)]
    printed = portal_client.get(f"/portal/invoices/{invoice.number}/print/").content.decode()
    assert f".document h1, .document .doc-brand-name, .document thead th {{ color: {readable}; }}" in printed
    assert PALE_YELLOW not in printed
    assert f'<img class="doc-logo" src="{asset_path("logo", org.logo)}" alt="{org.name}">' in printed
    page = portal_client.get(f"/portal/invoices/{invoice.number}/").content.decode()
    assert (
        f'<img class="doc-logo" src="{asset_path("logo", org.logo)}"' in page
        and f"--brand: {readable};" in page
    )
    # the PDF's own HTML carries the logo's bytes (read through the storage), never an address
    html = documents.invoice_html(documents.attach_parts(invoice), pdf=True)
    with org.logo.open("rb") as stored:
        inline = base64.b64encode(stored.read()).decode()
    assert f'src="data:image/png;base64,{inline}"' in html and "file://" not in html


def test_without_a_logo_a_document_prints_the_name_in_the_brand_colour(
    org, customer, portal_client, clock, django_capture_on_commit_callbacks
):
    brand(org, colour=GREEN)
    invoice = issue(customer, django_capture_on_commit_callbacks)
    content = invoice.pdf.read()
    assert images(content) == []
    assert pdf_text(content).startswith(f"{org.name} ")
    printed = portal_client.get(f"/portal/invoices/{invoice.number}/print/").content.decode()
    assert f'<p class="doc-brand-name">{org.name}</p>' in printed
    assert f"thead th {{ border-bottom: 2px solid {GREEN}; }}" in printed


def test_a_stored_invoice_pdf_is_rendered_again_after_the_brand_changes(
    org, customer, portal_client, media, clock, django_capture_on_commit_callbacks
):
    invoice = issue(customer, django_capture_on_commit_callbacks)
    [issued] = stored_pdfs(media)
    url = f"/portal/invoices/{invoice.number}/pdf/"
    assert download(portal_client, url) == issued.read_bytes()  # served as stored

    brand(org, colour=GREEN)
    recoloured = download(portal_client, url)
    [stored] = stored_pdfs(media)
    assert stored != issued and not issued.exists() and stored.read_bytes() == recoloured
    invoice = documents.attach_parts(Invoice.objects.get(pk=invoice.pk))
    assert f"color: {GREEN};" in documents.invoice_html(invoice, pdf=True)
    assert images(recoloured) == []

    brand(org, logo=png(200, 50))
    with_logo = download(portal_client, url)
    [restored] = stored_pdfs(media)
    assert restored != stored and not stored.exists()
    assert images(with_logo) == [(200, 50)]
    assert download(portal_client, url) == with_logo  # and kept until the next change

    brand(org, logo=png(90, 30), name="logo.png")  # a new upload of the same name: a new file
    assert images(download(portal_client, url)) == [(90, 30)]


def test_receipts_and_statements_short_and_long_carry_the_logo(org, customer, portal_client, clock):
    org = customer.organization = brand(org, colour=GREEN, logo=png())
    clock.set("2026-02-02T15:00:00+00:00")
    invoice = open_invoice(customer, 30000)
    payment = pay(customer, 10000, (invoice, 10000), received_on=dt.date(2026, 2, 5))
    receipt = download(portal_client, f"/portal/payments/{payment.number}/receipt/")
    assert images(receipt) == [(120, 40)] and f"Receipt for payment {payment.number}" in pdf_text(receipt)

    short = download(portal_client, "/portal/statements/pdf/?period=custom&start=2026-02-01&end=2026-02-28")
    assert images(short) == [(120, 40)] and not pdf_text(short).startswith(org.name)
    page = portal_client.get("/portal/statements/?period=custom&start=2026-02-01&end=2026-02-28")
    assert f'<img class="doc-logo" src="{asset_path("logo", org.logo)}"' in page.content.decode()

    clock.set("2026-03-10T15:00:00+00:00")
    bulk_ledger(customer, 70, end=dt.date(2026, 3, 10), span_days=364, lines_per_invoice=1)
    statement = statement_for(customer, dt.date(2025, 3, 11), dt.date(2026, 3, 10))
    assert len(statement.lines) > documents.LONG_STATEMENT_LINES
    drawn = documents.statement_pdf_bytes(statement)  # ReportLab
    assert images(drawn) == [(120, 40)]
    assert not pdf_text(drawn).startswith(org.name)  # the logo stands for the name

    Organization.objects.filter(pk=org.pk).update(logo="")
    statement.customer.organization.logo = ""
    assert pdf_text(documents.statement_pdf_bytes(statement)).startswith(f"{org.name} ")


def _huge_png() -> bytes:
    """A few kilobytes that decode to 25 million pixels."""
    out = io.BytesIO()
    Image.new("1", (5000, 5000)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    "logo, name",
    [
        (b"<html><script>alert(1)</script></html>", "logo.png"),  # not an image, named like one
        (png()[:60], "logo.png"),  # a truncated image
        (_huge_png(), "huge.png"),  # too many pixels to lay out
        (png() + b"\0" * (MAX_BYTES + 1), "heavy.png"),  # too many bytes
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><image href="http://127.0.0.1:9/x.png"/></svg>',
            "logo.svg",
        ),
    ],
    ids=["not-an-image", "truncated", "huge", "heavy", "svg"],
)
def test_a_logo_that_cannot_be_drawn_leaves_the_name_and_every_document_still_renders(
    org, customer, portal_client, clock, django_capture_on_commit_callbacks, logo, name
):
    org = customer.organization = brand(org, logo=logo, name=name)
    assert org.logo and documents.logo_image(org) is None
    invoice = issue(customer, django_capture_on_commit_callbacks)
    content = download(portal_client, f"/portal/invoices/{invoice.number}/pdf/")
    assert images(content) == [] and pdf_text(content).startswith(f"{org.name} ")
    assert portal_client.get(f"/portal/invoices/{invoice.number}/print/").status_code == 200
    payment = pay(customer, 10000, (invoice, 10000))
    assert images(download(portal_client, f"/portal/payments/{payment.number}/receipt/")) == []
    statement = statement_for(customer, invoice.issue_date, invoice.issue_date)
    drawn = documents.statement_pdf_bytes(statement)
    assert pdf_text(drawn).startswith(f"{org.name} ")
    from portico.billing.statement_pdf import statement_pdf

    assert pdf_text(statement_pdf(statement)).startswith(f"{org.name} ")  # ReportLab too


def test_a_colour_that_is_not_one_in_the_database_falls_back_to_the_default(
    org, customer, portal_client, clock, django_capture_on_commit_callbacks
):
    """The form refuses it; a row written another way must not break the portal or a document."""
    Organization.objects.filter(pk=org.pk).update(brand_colour="red;}a")
    invoice = issue(customer, django_capture_on_commit_callbacks)
    assert pdf_text(download(portal_client, f"/portal/invoices/{invoice.number}/pdf/")).startswith(org.name)
    printed = portal_client.get(f"/portal/invoices/{invoice.number}/print/").content.decode()
    assert "red;}a" not in printed and "color: #1f5fbf;" in printed
    assert "--brand: #1f5fbf;" in portal_client.get("/portal/").content.decode()


def test_a_logo_in_a_storage_without_local_files_is_drawn_too(
    org, customer, portal_client, clock, django_capture_on_commit_callbacks, settings
):
    """A bucket (S3 through django-storages) has no paths on this machine: Django's in-memory
    storage stands for it — the documents read the logo's bytes through the storage."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    org = customer.organization = brand(org, logo=png())
    assert type(org.logo.storage._wrapped).__name__ == "InMemoryStorage", type(org.logo.storage._wrapped)
    invoice = issue(customer, django_capture_on_commit_callbacks)
    assert images(download(portal_client, f"/portal/invoices/{invoice.number}/pdf/")) == [(120, 40)]
    statement = statement_for(customer, invoice.issue_date, invoice.issue_date)
    assert images(documents.statement_pdf_bytes(statement)) == [(120, 40)]
