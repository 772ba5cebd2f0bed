"""Invoice, statement and receipt documents: one HTML template each, three outputs (the portal page
includes its body, the print view and the PDF render the whole document).

An invoice's PDF is rendered once, when the invoice is finalized (`billing.signals.invoice_finalized`,
sent after commit), stored in `Invoice.pdf` and never changed: what the customer downloads next year is
what was issued. An old invoice without a file gets one rendered on first download, then stored.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
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
from portico.core.money import Money

log = logging.getLogger(__name__)


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


def invoice_context(invoice: Invoice, *, live: bool) -> dict:
    """`live` adds what happened since it was issued (payments, credits, balance); the PDF is as issued."""
    lines = list(invoice.lines.all())
    for line in lines:
        line.invoice = invoice  # the line's Money properties read the invoice's currency without a query
        line.unit_price_amount = Money(line.unit_price_minor, invoice.currency)
        line.discount_amount = Money(line.discount_minor, invoice.currency)
    context = {
        "invoice": invoice,
        "organization": invoice.organization,
        "lines": lines,
        "taxes": tax_summary(invoice),
        "live": live,
        "bill_to_lines": _address_lines(invoice.bill_to_address),
    }
    if live:
        context["allocations"] = [
            {"payment": a.payment, "amount": Money(a.amount_minor, invoice.currency)}
            for a in invoice.allocations.all()
        ]
        context["credit_applications"] = [
            {"credit_note": c.credit_note, "amount": Money(c.amount_minor, invoice.currency)}
            for c in invoice.credit_applications.all()
        ]
    return context


def _address_lines(address: dict) -> list[str]:
    if not address:
        return []
    locality = " ".join(p for p in (address.get("postal_code", ""), address.get("city", "")) if p)
    parts = (
        address.get("line1"),
        address.get("line2"),
        locality,
        address.get("region"),
        address.get("country"),
    )
    return [p for p in parts if p]


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


def invoice_html(invoice: Invoice, *, live: bool, request=None) -> str:
    return render_document(
        "billing/documents/invoice.html", invoice_context(invoice, live=live), invoice.organization, request
    )


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    return html_to_pdf(invoice_html(invoice, live=False))


def pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.organization.slug}-{invoice.number}.pdf"


def store_invoice_pdf(invoice_id: int) -> Invoice:
    """Render and store an invoice's PDF unless it has one. Idempotent; a stored file is never replaced."""
    invoice = invoice_queryset().get(pk=invoice_id)
    if invoice.pdf or invoice.status == Invoice.Status.DRAFT:
        return invoice
    with translation.override(settings.LANGUAGE_CODE):
        content = invoice_pdf_bytes(invoice)
    name = invoice.pdf.storage.save(
        invoice.pdf.field.generate_filename(invoice, pdf_filename(invoice)), ContentFile(content)
    )
    # Claim the field only if it is still empty: two renders racing keep the first file.
    if Invoice.all_tenants.filter(pk=invoice.pk, pdf="").update(pdf=name) == 0:
        invoice.pdf.storage.delete(name)
        invoice.refresh_from_db(fields=["pdf"])
    else:
        invoice.pdf.name = name
    return invoice


@task()
def render_invoice_pdf(invoice_id: int) -> str:
    return store_invoice_pdf(invoice_id).pdf.name


@receiver(invoice_finalized, dispatch_uid="billing.documents.render_invoice_pdf")
def _render_pdf_when_finalized(sender, invoice, **kwargs):
    render_invoice_pdf.enqueue(invoice.pk)


# -- statements and receipts ----------------------------------------------------------------------------


def statement_html(statement, *, request=None) -> str:
    return render_document(
        "billing/documents/statement.html",
        {
            "statement": statement,
            "customer": statement.customer,
            "organization": statement.customer.organization,
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
    return html_to_pdf(statement_html(statement))


def receipt_html(payment, allocations, *, request=None) -> str:
    return render_document(
        "billing/documents/receipt.html",
        {
            "payment": payment,
            "allocations": allocations,
            "organization": payment.organization,
            "customer": payment.customer,
        },
        payment.organization,
        request,
    )


def receipt_pdf_bytes(payment, allocations) -> bytes:
    return html_to_pdf(receipt_html(payment, allocations))
