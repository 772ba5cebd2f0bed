"""Invoice, statement and receipt documents: one HTML template each, three outputs (the portal page
includes its body, the print view and the PDF render the whole document).

An invoice's PDF always says what its page says (balance, payments, credits applied, paid or void),
yet is not rendered on every download. Its stored file is keyed by a *document version*, a fingerprint
of everything the document shows that can change after it is issued (`document_version`); the file
name carries it. A download serves the stored file when its version is the invoice's current one,
otherwise renders once, stores the new file and swaps it in with a conditional update (two downloads
racing never write the same file: each renders to its own name, the first swap wins, the other serves
what it rendered and removes its copy). The file is first rendered when the invoice is finalized
(`billing.signals.invoice_finalized`, after commit) so the first download is instant.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import Prefetch, prefetch_related_objects
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task

from portico.billing.models import CreditApplication, Invoice, PaymentAllocation
from portico.billing.signals import invoice_finalized
from portico.core import tenancy
from portico.core.brand_assets import CONTENT_TYPES, MAX_BYTES, asset_path, image_format
from portico.core.branding import brand_of
from portico.core.money import Money
from portico.customers.addresses import address_lines

log = logging.getLogger(__name__)


# -- how to pay -------------------------------------------------------------------------------------

# Who says how an organization's customers pay by bank transfer: `payments` registers its settings'
# instructions here (billing sits below payments and does not import it).
_payment_instructions: list = []


def register_payment_instructions(provider) -> None:
    """`provider(organization) -> str`: the plain-text bank-transfer instructions, or ""."""
    if provider not in _payment_instructions:
        _payment_instructions.append(provider)


def payment_instructions(organization) -> str:
    """The organization's bank-transfer instructions (plain text; templates escape them)."""
    return "\n\n".join(text for provider in _payment_instructions if (text := provider(organization).strip()))


def instructions_for(invoice: Invoice) -> str:
    """What an invoice says about paying it: the instructions, while something is due."""
    if invoice.status == Invoice.Status.VOID or invoice.balance_minor <= 0:
        return ""
    return payment_instructions(invoice.organization)


# -- the brand -------------------------------------------------------------------------------------------


def logo_image(organization) -> tuple[bytes, str] | None:
    """The organization's logo as (bytes, content type) that documents can draw, else None. Read
    through the storage (the local disk or a bucket); the upload is checked when made
    (`core.brand_assets`), and again here for a row written another way — a document must render
    whatever the file is (else the name is printed instead)."""
    logo = organization.logo
    if not logo:
        return None
    try:
        with logo.open("rb") as file:
            if file.size is None or file.size > MAX_BYTES:
                return None
            found = image_format(file)
            content = file.read() if found is not None else b""
    except (OSError, ValueError):  # a lost file, or a name the storage refuses
        return None
    return (content, CONTENT_TYPES[found]) if found is not None else None


@dataclass(frozen=True)
class DocumentBrand:
    """What a document shows of the seller's brand: the colour of its title, rules and column heads
    (the brand colour as readable on white), and the logo, else the name in that colour."""

    name: str
    colour: str
    logo_src: str | None  # inline data in a PDF (never the network), its own address on a page
    logo_name: str  # the file drawn ("" when none): part of the document version

    @property
    def fingerprint(self) -> list:
        return [self.colour, self.logo_name]


def document_brand(organization, *, pdf: bool = False) -> DocumentBrand:
    image = logo_image(organization)
    src = None
    if image is not None:
        content, content_type = image
        src = (
            f"data:{content_type};base64,{base64.b64encode(content).decode()}"
            if pdf
            else asset_path("logo", organization.logo)
        )
    return DocumentBrand(
        name=organization.name,
        colour=brand_of(organization).colour,
        logo_src=src,
        logo_name=organization.logo.name if image is not None else "",
    )


# -- context --------------------------------------------------------------------------------------------


def _allocations() -> Prefetch:
    return Prefetch(
        "allocations",
        queryset=PaymentAllocation.all_tenants.select_related("payment")
        .only("invoice_id", "amount_minor", "payment__number", "payment__received_on")
        .order_by("allocated_at", "id"),
    )


def _applications() -> Prefetch:
    return Prefetch(
        "credit_applications",
        queryset=CreditApplication.all_tenants.select_related("credit_note")
        .only("invoice_id", "amount_minor", "credit_note__number")
        .order_by("applied_at", "id"),
    )


def invoice_queryset():
    """Everything an invoice document shows, in a fixed number of queries."""
    return Invoice.all_tenants.select_related("organization", "customer").prefetch_related(
        "lines", _allocations(), _applications()
    )


def attach_parts(invoice: Invoice, *, organization=None, customer=None) -> Invoice:
    """Load what an invoice document shows onto an invoice already fetched (the portal's, scoped).

    The caller may hand over the organization and customer it already holds. Payments and credits
    are looked for only when the invoice says some were applied (`paid_minor`, `credited_minor`
    are the sums of its allocations and applications, and those are positive): an unpaid
    invoice costs one query, for its lines.
    """
    if organization is not None:
        invoice.organization = organization
    if customer is not None:
        invoice.customer = customer
    lookups = ["lines"]
    if invoice.paid_minor:
        lookups.append(_allocations())
    if invoice.credited_minor:
        lookups.append(_applications())
    prefetch_related_objects([invoice], *lookups)
    cache = invoice._prefetched_objects_cache
    cache.setdefault("allocations", PaymentAllocation.all_tenants.none())
    cache.setdefault("credit_applications", CreditApplication.all_tenants.none())
    return invoice


def tax_summary(invoice: Invoice) -> list[dict]:
    """Taxes grouped by name, rate and whether they are included in the prices."""
    groups: OrderedDict[tuple, int] = OrderedDict()
    for line in invoice.lines.all():
        if line.tax_minor or line.tax_rate:
            key = (line.tax_name, line.tax_rate, line.tax_inclusive)
            groups[key] = groups.get(key, 0) + line.tax_minor
    return [
        {
            "name": name,
            "rate": rate.normalize(),
            "inclusive": inclusive,
            "amount": Money(amount, invoice.currency),
        }
        for (name, rate, inclusive), amount in groups.items()
    ]


def invoice_context(invoice: Invoice, *, live: bool = True, pdf: bool = False) -> dict:
    """What the page, the print view and the PDF show: the invoice as issued and what happened since
    (payments, credits, balance, void). `live` is kept for callers; every output is live. `pdf`:
    the logo is addressed as a file (the renderer never fetches over the network)."""
    lines = list(invoice.lines.all())
    for line in lines:
        line.invoice = invoice  # the line's Money properties read the invoice's currency without a query
        line.unit_price_amount = Money(line.unit_price_minor, invoice.currency)
        line.discount_amount = Money(line.discount_minor, invoice.currency)
    organization = invoice.organization
    return {
        "invoice": invoice,
        "organization": organization,
        "doc_brand": document_brand(organization, pdf=pdf),
        "lines": lines,
        "taxes": tax_summary(invoice),
        "live": True,
        # Each address names its country only for a reader abroad: the customer's for the seller's.
        "seller_lines": address_lines(
            organization.address,
            home_country=(invoice.bill_to_address or {}).get("country") or organization.address_country,
            locale=organization.locale,
        ),
        "bill_to_lines": address_lines(
            invoice.bill_to_address or {},
            home_country=organization.address_country,
            locale=organization.locale,
        ),
        "is_paid": invoice.status == Invoice.Status.PAID,
        "payment_instructions": instructions_for(invoice),
        "allocations": [
            {"payment": a.payment, "amount": Money(a.amount_minor, invoice.currency)}
            for a in invoice.allocations.all()
        ],
        "credit_applications": [
            {"credit_note": c.credit_note, "amount": Money(c.amount_minor, invoice.currency)}
            for c in invoice.credit_applications.all()
        ],
    }


# Bump when the invoice template changes what it prints: every stored PDF is then re-rendered once.
DOCUMENT_LAYOUT = 4


def document_version(invoice: Invoice) -> str:
    """A fingerprint of what an issued invoice's document shows that may change: its status and
    amounts, each payment and credit applied, the void reason, and the seller's printed details and
    brand (colour and logo file). The invoice must carry its allocations and applications (`attach_parts`)."""
    organization = invoice.organization
    state = [
        DOCUMENT_LAYOUT,
        invoice.status,
        invoice.due_date,
        invoice.total_minor,
        invoice.paid_minor,
        invoice.credited_minor,
        invoice.balance_minor,
        invoice.void_reason,
        invoice.voided_at,
        invoice.memo,
        [(a.payment.number, a.payment.received_on, a.amount_minor) for a in invoice.allocations.all()],
        [(c.credit_note.number, c.amount_minor) for c in invoice.credit_applications.all()],
        [organization.name, organization.locale, organization.tax_id, sorted(organization.address.items())],
        instructions_for(invoice),
        document_brand(organization).fingerprint,
    ]
    return hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()[:16]


# -- rendering ------------------------------------------------------------------------------------------


def _check_url(url: str) -> None:
    """Documents may load only inline data and files we serve ourselves: never the network."""
    if url.startswith("data:"):
        return
    if url.startswith("file://"):
        path = Path(url[len("file://") :].split("?")[0]).resolve()
        allowed = [Path(settings.MEDIA_ROOT).resolve(), Path(settings.STATIC_ROOT).resolve()]
        if any(path.is_relative_to(root) for root in allowed):
            return
    raise ValueError(f"Documents do not load {url[:80]}")


def _url_fetcher():
    try:  # WeasyPrint ≥ 66: a URLFetcher object
        from weasyprint.urls import URLFetcher
    except ImportError:  # older: a function
        from weasyprint import default_url_fetcher

        def fetch(url, *args, **kwargs):
            _check_url(url)
            return default_url_fetcher(url, *args, **kwargs)

        return fetch

    class SafeFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            _check_url(url)
            return super().fetch(url, headers)

    return SafeFetcher(allowed_protocols=["data", "file"])


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.MEDIA_ROOT), url_fetcher=_url_fetcher()).write_pdf()


def render_document(template: str, context: dict, organization, request=None) -> str:
    """Render with the organization active, so money and dates use its locale whatever the caller."""
    with tenancy.for_tenant(organization):
        return render_to_string(template, context, request=request)


def invoice_html(invoice: Invoice, *, live: bool = True, request=None, pdf: bool = False) -> str:
    return render_document(
        "billing/documents/invoice.html",
        invoice_context(invoice, live=live, pdf=pdf),
        invoice.organization,
        request,
    )


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    with translation.override(settings.LANGUAGE_CODE):  # one stored file serves every reader
        return html_to_pdf(invoice_html(invoice, live=True, pdf=True))


def pdf_filename(invoice: Invoice, version: str) -> str:
    return f"{invoice.organization.slug}-{invoice.number}-{version}.pdf"


def stored_version(invoice: Invoice) -> str:
    """The document version the stored file was rendered for ("" when there is none).
    Storage may add a suffix to keep names unique (`…-<version>_Ab12Cd3.pdf`); it is ignored."""
    if not invoice.pdf:
        return ""
    prefix = f"{invoice.organization.slug}-{invoice.number}-"
    stem = Path(invoice.pdf.name).stem
    if not stem.startswith(prefix):
        return ""
    return stem[len(prefix) :].split("_", 1)[0]


@dataclass
class InvoicePdf:
    """A download: the stored file's name, and the bytes when this request rendered them."""

    name: str
    content: bytes | None = None

    def open(self, storage):
        return io.BytesIO(self.content) if self.content is not None else storage.open(self.name, "rb")


def current_invoice_pdf(invoice: Invoice) -> InvoicePdf:
    """The PDF for the invoice as it stands now: the stored file if it is of the current document
    version, else rendered once and stored in its place (the old file is removed).
    The invoice must carry its parts (`attach_parts` or `invoice_queryset`)."""
    if invoice.status == Invoice.Status.DRAFT:
        raise ValueError("A draft has no document yet.")
    storage = invoice.pdf.storage
    version = document_version(invoice)
    if stored_version(invoice) == version and storage.exists(invoice.pdf.name):
        return InvoicePdf(invoice.pdf.name)
    content = invoice_pdf_bytes(invoice)
    name = storage.save(
        invoice.pdf.field.generate_filename(invoice, pdf_filename(invoice, version)), ContentFile(content)
    )
    previous = invoice.pdf.name or ""
    # Swap in our file only if nobody else did meanwhile: two renders racing keep the first file.
    if Invoice.all_tenants.filter(pk=invoice.pk, pdf=previous).update(pdf=name) == 1:
        invoice.pdf.name = name
        if previous and previous != name:
            storage.delete(previous)
        return InvoicePdf(name, content)
    storage.delete(name)
    invoice.refresh_from_db(fields=["pdf"])
    return InvoicePdf(invoice.pdf.name if stored_version(invoice) == version else "", content)


def store_invoice_pdf(invoice_id: int) -> Invoice:
    """Make sure the invoice's stored PDF is of its current document version. Idempotent."""
    invoice = invoice_queryset().get(pk=invoice_id)
    if invoice.status != Invoice.Status.DRAFT:
        with tenancy.tenant(invoice.organization):  # a task has no host: act for the invoice's organization
            current_invoice_pdf(invoice)
    return invoice


@task()
def render_invoice_pdf(invoice_id: int) -> str:
    return store_invoice_pdf(invoice_id).pdf.name


@receiver(invoice_finalized, dispatch_uid="billing.documents.render_invoice_pdf")
def _render_pdf_when_finalized(sender, invoice, **kwargs):
    render_invoice_pdf.enqueue(invoice.pk)


# -- statements and receipts ----------------------------------------------------------------------------


def statement_html(statement, *, request=None, pdf: bool = False) -> str:
    return render_document(
        "billing/documents/statement.html",
        {
            "statement": statement,
            "customer": statement.customer,
            "organization": statement.customer.organization,
            "doc_brand": document_brand(statement.customer.organization, pdf=pdf),
        },
        statement.customer.organization,
        request,
    )


# WeasyPrint lays out a statement at several milliseconds a line (a 2,000-line one took 15–25 s);
# longer statements are drawn with ReportLab in the same layout (`billing.statement_pdf`), in well
# under a second. Shorter ones keep the one template of the page and its print view.
LONG_STATEMENT_LINES = 100


def statement_pdf_bytes(statement) -> bytes:
    if len(statement.lines) > LONG_STATEMENT_LINES:
        from portico.billing.statement_pdf import statement_pdf

        return statement_pdf(statement)
    return html_to_pdf(statement_html(statement, pdf=True))


def receipt_html(payment, allocations, *, request=None, pdf: bool = False) -> str:
    return render_document(
        "billing/documents/receipt.html",
        {
            "payment": payment,
            "allocations": allocations,
            "organization": payment.organization,
            "customer": payment.customer,
            "doc_brand": document_brand(payment.organization, pdf=pdf),
        },
        payment.organization,
        request,
    )


def receipt_pdf_bytes(payment, allocations) -> bytes:
    with translation.override(settings.LANGUAGE_CODE):  # one stored file serves every reader
        return html_to_pdf(receipt_html(payment, allocations, pdf=True))


def receipt_version(payment, allocations) -> str:
    """What a receipt shows that can change after the payment: how it was applied, kept or refunded."""
    organization = payment.organization
    state = [
        DOCUMENT_LAYOUT,
        payment.number,
        payment.received_on,
        payment.amount_minor,
        payment.unused_minor,
        payment.refunded_minor,
        payment.method,
        payment.card_brand,
        payment.card_last4,
        payment.customer.display_name,
        [(a.invoice.number, a.amount_minor) for a in allocations],
        [organization.name, organization.locale],
        document_brand(organization).fingerprint,
    ]
    return hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()[:16]


def current_receipt_pdf(payment, allocations) -> InvoicePdf:
    """A payment's receipt as it stands now, rendered once per receipt version. The file's name is
    the version (no row records it): a download finds it, or renders it and stores it; of two
    renders racing, storage keeps the first under that name and the second removes its copy."""
    from django.core.files.storage import default_storage

    version = receipt_version(payment, allocations)
    folder = f"receipts/{payment.organization_id}"
    name = f"{folder}/{payment.pk}-{version}.pdf"
    if default_storage.exists(name):
        return InvoicePdf(name)
    content = receipt_pdf_bytes(payment, allocations)
    saved = default_storage.save(name, ContentFile(content))
    if saved != name:  # another request stored it first
        default_storage.delete(saved)
    _, files = default_storage.listdir(folder)
    for stale in files:  # the same payment's receipts of earlier versions
        if stale.startswith(f"{payment.pk}-") and stale != Path(name).name:
            default_storage.delete(f"{folder}/{stale}")
    return InvoicePdf(name, content)
