"""Long statements' PDFs (drawn with ReportLab in the template's layout), read back with `pdftotext`
and `pdfinfo` (poppler-utils) as a customer's PDF reader would: every line, its amount and running
balance, the opening and closing balances, a sensible number of pages, and the same text as the
template's WeasyPrint rendering of the same statement."""

import datetime as dt
import re
import subprocess

import pytest

from portico.billing import documents, exports
from portico.billing.models import Payment, StatementExport
from portico.billing.statement_pdf import statement_pdf
from portico.billing.statements import statement_for
from portico.core.formatting import short_date
from portico.core.templatetags.money import format_money
from portico.portal import statement_views
from tests.billing.factories import credit_note, open_invoice, pay
from tests.perf.bulk import bulk_ledger

START, END = dt.date(2025, 3, 11), dt.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def layout_lines(content: bytes) -> list[str]:
    """The PDF's text a line at a time, as laid out on the page (one table row a line)."""
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True)
    return [" ".join(line.split()) for line in out.stdout.decode().splitlines() if line.strip()]


def page_count(content: bytes) -> int:
    out = subprocess.run(["pdfinfo", "-"], input=content, capture_output=True, check=True).stdout.decode()
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def producer(content: bytes) -> str:
    out = subprocess.run(["pdfinfo", "-"], input=content, capture_output=True, check=True).stdout.decode()
    return re.search(r"^Producer:\s+(.*)$", out, re.M).group(1)


def money(minor: int) -> str:
    return format_money(minor, "USD", "en_US")


def long_statement(customer, clock, invoices=255):
    """About 400 lines over the year to `END`: invoices, payments and voids (see `bulk_ledger`)."""
    clock.set("2026-03-10T15:00:00+00:00")
    bulk_ledger(customer, invoices, end=END, span_days=364, lines_per_invoice=1)
    return statement_for(customer, START, END)


def test_a_long_statement_pdf_shows_every_line_with_its_amount_and_running_balance(customer, clock):
    statement = long_statement(customer, clock)
    assert len(statement.lines) > 380
    content = documents.statement_pdf_bytes(statement)
    assert producer(content).startswith("ReportLab")
    rows = layout_lines(content)
    text = "\n".join(rows)
    assert "Account statement" in text and "Acme Interiors" in text
    assert f"Transactions from {short_date(START)} to {short_date(END)}" in text

    # Each statement line is one row of the PDF, in order: reference, amount and running balance.
    position = 0
    for line in statement.lines:
        amount = money(abs(line.amount_minor))
        expected = f"{line.reference} "
        while not (
            expected in rows[position] and rows[position].endswith(f"{amount} {money(line.balance_minor)}")
        ):
            position += 1  # headings, repeated column heads and folios between the rows
            assert position < len(rows), f"{line.reference} {amount} {money(line.balance_minor)} is missing"
        position += 1

    opening = next(row for row in rows if "Opening balance" in row)
    assert opening.endswith(money(statement.opening_balance.minor))
    [closing] = [row for row in rows if "Closing balance" in row]
    assert closing.endswith(
        f"{money(statement.total_debits.minor)} {money(statement.total_credits.minor)} "
        f"{money(statement.closing_balance.minor)}"
    )
    assert statement.closing_balance.minor == statement.lines[-1].balance_minor

    # About 45 rows a page (the first fewer, under the heading), "page / pages" at the foot of each.
    pages = page_count(content)
    assert len(statement.lines) / 50 < pages <= len(statement.lines) / 35 + 1
    assert f"1 / {pages}" in rows and f"{pages} / {pages}" in rows
    assert text.count("Date Description Charges Credits Balance") == pages


def characters(content: bytes) -> str:
    """The text of a PDF without its spaces, leaving out what depends on where the pages and lines
    break (the repeated column heads, the folios, where a long description wraps)."""
    out = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout
    text = re.sub(r"(?m)^\s*\d+ ?/ ?\d+\s*$", " ", out.decode())
    text = " ".join(text.split()).replace("Date Description Charges Credits Balance", " ")
    return "".join(text.split())


def test_a_long_statement_pdf_reads_as_the_template_would_print_it(customer, clock):
    """The same statement, drawn and rendered from the template: the same words in the same order,
    hostile and accented text included."""
    customer.display_name = 'Zoë & <Søren> "Ünal" Ελληνικά'
    customer.save()
    clock.set("2026-02-02T15:00:00+00:00")
    invoice = open_invoice(customer, 30000)
    pay(customer, 12000, (invoice, 12000), received_on=dt.date(2026, 2, 20), method=Payment.Method.CARD)
    credit_note(customer, 5000, reason="<script>alert(1)</script> & a reason long enough to wrap " * 3)
    statement = long_statement(customer, clock, invoices=70)
    assert len(statement.lines) > documents.LONG_STATEMENT_LINES

    drawn = documents.statement_pdf_bytes(statement)
    printed = documents.html_to_pdf(documents.statement_html(statement))
    assert producer(drawn).startswith("ReportLab") and producer(printed).startswith("WeasyPrint")
    assert characters(drawn) == characters(printed)
    assert "<script>alert(1)</script>" in characters(drawn)
    assert 'Zoë&<Søren>"Ünal"Ελληνικά' in characters(drawn)
    assert abs(page_count(drawn) - page_count(printed)) <= 1


def test_short_statements_keep_the_template_rendering(customer, clock):
    clock.set("2026-02-02T15:00:00+00:00")
    open_invoice(customer, 30000)
    statement = statement_for(customer, dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    content = documents.statement_pdf_bytes(statement)
    assert producer(content).startswith("WeasyPrint")
    assert "Closing balance" in " ".join(layout_lines(content))


def test_an_empty_statement_draws_its_balances_on_one_page(customer, clock):
    clock.set("2026-02-02T15:00:00+00:00")
    open_invoice(customer, 30000)
    statement = statement_for(customer, dt.date(2026, 3, 1), dt.date(2026, 3, 10))
    content = statement_pdf(statement)
    rows = layout_lines(content)
    assert page_count(content) == 1
    assert any(row.endswith("Opening balance $300.00") for row in rows)
    assert any(row.endswith("Closing balance $0.00 $0.00 $300.00") for row in rows)


def test_a_long_statement_downloads_at_once_from_the_portal(portal_client, customer, clock):
    statement = long_statement(customer, clock)
    assert len(statement.lines) > 300  # once too long to render in the request
    response = portal_client.get(f"/portal/statements/pdf/?period=custom&start={START}&end={END}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    rows = layout_lines(response.content)
    assert any(
        row.endswith(
            f"Closing balance {money(statement.total_debits.minor)} "
            f"{money(statement.total_credits.minor)} {money(statement.closing_balance.minor)}"
        )
        for row in rows
    )
    assert not StatementExport.objects.exists()


def test_a_statement_longer_than_the_request_allows_is_drawn_by_the_worker(
    portal_client, customer, clock, mailbox, monkeypatch, django_capture_on_commit_callbacks
):
    statement = long_statement(customer, clock)
    monkeypatch.setattr(statement_views, "STATEMENT_PDF_INLINE_LINES", 300)
    with django_capture_on_commit_callbacks(execute=True):
        response = portal_client.get(f"/portal/statements/pdf/?period=custom&start={START}&end={END}")
    assert response.status_code == 302
    export = StatementExport.objects.get()
    assert export.status == StatementExport.Status.READY
    assert export.line_count == len(statement.lines)
    content = export.file.read()
    assert producer(content).startswith("ReportLab")
    text = "\n".join(layout_lines(content))
    for line in statement.lines:
        assert line.reference in text, line.reference
    assert money(statement.closing_balance.minor) in text
    assert exports.prepare_statement_export.call(export.pk) == "ready"  # a re-run changes nothing
