"""Long statements' PDFs, drawn directly with ReportLab in the statement template's layout.

WeasyPrint lays a table out at several milliseconds per row (a 2,000-line statement took 15–25 s
here, and even a bare `<pre>` of those lines took 15 s), so a statement longer than
`documents.LONG_STATEMENT_LINES` is drawn here instead, in well under a second. What the customer
sees is the design of `billing/documents/_statement.html` with its print rules (`_style.css`): the
seller's letterhead (logo, else name) and brand colour, the same heading, facts, caption, columns and widths, opening balance row, every line with its
running balance, the closing row with the totals, the note, and "page / pages" at the foot.
The strings are the template's, so they share its translations; money and dates go through the same
functions as the template's filters. A change to that template's content belongs here too
(`tests/billing/test_statement_pdf.py` compares both renderings' text).

Lengths are in points; 1 CSS px = 0.75 pt and 1 rem = 12 pt, so the figures read against the CSS.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext as _
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from portico.billing.documents import document_brand, logo_image
from portico.core import tenancy
from portico.core.formatting import short_date
from portico.core.templatetags.money import current_locale, format_money

INK, MUTED, RULE = HexColor("#1b1f24"), HexColor("#59636e"), HexColor("#d5dae0")
PAGE_WIDTH, PAGE_HEIGHT = A4
TOP, SIDE, BOTTOM = 16 * mm, 14 * mm, 18 * mm  # @page margin: 16mm 14mm 18mm
BODY_MARGIN = 6.0  # the body's own margin (8px), inside the page's
LEFT = SIDE + BODY_MARGIN
CONTENT = PAGE_WIDTH - 2 * LEFT
# .col-date 15%, .col-description 43%, .col-amount 14% ×3
COLUMNS = [0.15 * CONTENT, 0.43 * CONTENT, 0.14 * CONTENT, 0.14 * CONTENT, 0.14 * CONTENT]
PAD_X, PAD_Y = 4.8, 2.4  # padding: .2rem .4rem
BODY, SMALL = 9.0, 8.5  # table font-size 9pt; th 8.5pt
LINE = BODY * 1.3  # line-height 1.3
HAIR, HEAVY = 0.75, 1.5  # 1px rule under rows, 2px rule over the closing row

REGULAR, BOLD = "PorticoSans", "PorticoSans-Bold"


@lru_cache(maxsize=1)
def _register_fonts() -> None:
    """DejaVu Sans, the font the HTML documents ask for, as fontconfig finds it; ReportLab's own
    Bitstream Vera (DejaVu's ancestor, fewer scripts) where it is not installed."""
    regular = _font_file("DejaVu Sans:style=Book", "DejaVuSans.ttf")
    bold = _font_file("DejaVu Sans:style=Bold", "DejaVuSans-Bold.ttf")
    if regular is None or bold is None:
        fonts = Path(pdfmetrics.__file__).resolve().parent.parent / "fonts"
        regular, bold = fonts / "Vera.ttf", fonts / "VeraBd.ttf"
    pdfmetrics.registerFont(TTFont(REGULAR, str(regular)))
    pdfmetrics.registerFont(TTFont(BOLD, str(bold)))


def _font_file(pattern: str, name: str) -> Path | None:
    if shutil.which("fc-match"):
        found = subprocess.run(
            ["fc-match", "--format=%{file}", pattern], capture_output=True, text=True, check=False
        ).stdout.strip()
        if Path(found).name == name and Path(found).is_file():
            return Path(found)
    for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts"):
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    return None


def width(text: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, font, size)


def wrap(text: str, font: str, size: float, room: float) -> list[str]:
    """Lines of at most `room` points, broken at spaces, and inside a word too long for a line
    (`overflow-wrap: anywhere`)."""
    if width(text, font, size) <= room:
        return [text]
    lines, current = [], ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if width(candidate, font, size) <= room:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if current and width(current + char, font, size) > room:
                lines.append(current)
                current = ""
            current += char
    if current:
        lines.append(current)
    return lines or [""]


@dataclass(slots=True)
class Row:
    """One table row: five cells of text, which of them are row headings, its wrapped description."""

    cells: tuple[str, str, str, str, str]
    description: list[str]
    heading: bool = False  # "Opening balance", "Closing balance": a <th scope="row">, 8.5pt bold muted
    total: bool = False  # the closing row: bold, a heavy rule above, none below

    @property
    def height(self) -> float:
        return len(self.description) * LINE + 2 * PAD_Y + (0 if self.total else HAIR)


class StatementDrawing:
    """Lays out the rows into pages first (so "page / pages" is known), then draws them."""

    def __init__(self, statement):
        _register_fonts()
        self.statement = statement
        self.customer = statement.customer
        self.organization = statement.customer.organization
        self.locale = current_locale()
        # The seller's brand, as the template prints it: the colour of the title, column heads and
        # their rules; the logo (checked by `logo_image`), else the name in that colour.
        self.brand = document_brand(self.organization, pdf=True)
        self.colour = HexColor(self.brand.colour)
        self.logo = None
        if (image := logo_image(self.organization)) is not None:
            try:
                self.logo = ImageReader(io.BytesIO(image[0]))
                self.logo.getSize()
            except Exception:  # what Pillow accepted and ReportLab cannot read: the name instead
                self.logo = None

    def money(self, minor: int) -> str:
        return format_money(minor, self.statement.currency, self.locale)

    def row(self, date, description, debit="", credit="", balance="", *, heading=False, total=False) -> Row:
        font, size = (BOLD, SMALL) if heading else ((BOLD, BODY) if total else (REGULAR, BODY))
        lines = wrap(description, font, size, COLUMNS[1] - 2 * PAD_X)
        return Row((date, description, debit, credit, balance), lines, heading=heading, total=total)

    def rows(self) -> list[Row]:
        s = self.statement
        opening = self.money(s.opening_balance.minor)
        rows = [self.row(short_date(s.start), _("Opening balance"), balance=opening, heading=True)]
        for line in s.lines:
            amount = line.amount_minor
            rows.append(
                self.row(
                    short_date(line.date),
                    line.description,
                    self.money(amount) if amount >= 0 else "",
                    self.money(-amount) if amount < 0 else "",
                    self.money(line.balance_minor),
                )
            )
        rows.append(
            self.row(
                short_date(s.end),
                _("Closing balance"),
                self.money(s.total_debits.minor),
                self.money(s.total_credits.minor),
                self.money(s.closing_balance.minor),
                heading=True,
                total=True,
            )
        )
        return rows

    # -- the head of the first page ---------------------------------------------------------------

    def draw_letterhead(self, c: canvas.Canvas, y: float) -> float:
        """`.doc-letterhead`: the logo at most 16mm high and 60mm wide, else the name 14pt bold."""
        if self.logo is not None:
            w, h = self.logo.getSize()
            scale = min(16 * mm / h, 60 * mm / w, 0.75)  # 0.75: one image pixel is one CSS px at most
            y -= h * scale
            c.drawImage(self.logo, LEFT, y, w * scale, h * scale, mask="auto")
        else:
            c.setFillColor(self.colour)
            c.setFont(BOLD, 14)
            for text in wrap(self.brand.name, BOLD, 14, CONTENT):
                y -= 14 * 1.45
                c.drawString(LEFT, _baseline(y, 14 * 1.45, 14), text)
        return y - 9  # margin-bottom: .75rem

    def facts(self) -> list[tuple[str, str]]:
        s = self.statement
        return [
            (_("From"), short_date(s.start)),
            (_("To"), short_date(s.end)),
            (_("Currency"), s.currency),
            (_("Issued by"), self.organization.name),
        ]

    def draw_head(self, c: canvas.Canvas, y: float) -> float:
        """`.doc-head`: the title and customer on the left, the facts on the right; returns the y below."""
        facts = self.facts()
        size, leading = 10.5, 10.5 * 1.45
        fact_width = max(
            width(f"{label}: ", REGULAR, size) + width(value, BOLD, size) for label, value in facts
        )
        fact_width = min(fact_width, CONTENT / 2)
        left_room = CONTENT - fact_width - 24  # gap: 2rem
        top = y
        c.setFillColor(self.colour)
        c.setFont(BOLD, 18)
        for text in wrap(_("Account statement"), BOLD, 18, left_room):
            y -= 18 * 1.45
            c.drawString(LEFT, _baseline(y, 18 * 1.45, 18), text)
        y -= 10.5  # the paragraph's top margin (1em)
        c.setFont(REGULAR, size)
        for text in wrap(self.customer.display_name, REGULAR, size, left_room):
            y -= leading
            c.drawString(LEFT, _baseline(y, leading, size), text)
        left_bottom = y - 10.5
        y = top
        x = PAGE_WIDTH - LEFT - fact_width
        for label, value in facts:
            label = f"{label}: "
            for n, text in enumerate(wrap(value, BOLD, size, fact_width - width(label, REGULAR, size))):
                y -= leading
                if n == 0:
                    c.setFillColor(MUTED)
                    c.setFont(REGULAR, size)
                    c.drawString(x, _baseline(y, leading, size), label)
                c.setFillColor(INK)
                c.setFont(BOLD, size)
                c.drawString(x + width(label, REGULAR, size), _baseline(y, leading, size), text)
        return min(left_bottom, y) - 18  # margin-bottom: 1.5rem

    def draw_caption(self, c: canvas.Canvas, y: float) -> float:
        s = self.statement
        text = _("Transactions from %(start)s to %(end)s") % {
            "start": short_date(s.start),
            "end": short_date(s.end),
        }
        # The table's margin-top (.5rem) collapses into the heading's margin-bottom (1.5rem).
        c.setFillColor(INK)
        c.setFont(BOLD, BODY)
        for part in wrap(text, BOLD, BODY, CONTENT):
            y -= BODY * 1.45 + 6
            c.drawString(LEFT, _baseline(y + 3, BODY * 1.45, BODY), part)
        return y

    # -- the table --------------------------------------------------------------------------------

    def draw_column_heads(self, c: canvas.Canvas, y: float) -> float:
        heads = [_("Date"), _("Description"), _("Charges"), _("Credits"), _("Balance")]
        height = SMALL * 1.3 + 2 * PAD_Y
        c.setFillColor(self.colour)
        c.setFont(BOLD, SMALL)
        self._cells(c, y - PAD_Y - SMALL * 1.3, heads, SMALL * 1.3, SMALL)
        y -= height
        self._rule(c, y - HEAVY / 2, HEAVY, self.colour)
        return y - HEAVY

    def draw_row(self, c: canvas.Canvas, y: float, row: Row) -> float:
        if row.total:
            self._rule(c, y - HEAVY / 2, HEAVY, self.colour)
        bottom = y - PAD_Y - LINE
        date, _text, *amounts = row.cells
        c.setFillColor(INK)
        c.setFont(BOLD if row.total else REGULAR, BODY)
        x = LEFT
        c.drawString(x + PAD_X, _baseline(bottom, LINE, BODY), date)
        x += COLUMNS[0]
        if row.heading:
            c.setFillColor(MUTED)
            c.setFont(BOLD, SMALL)
        for n, part in enumerate(row.description):
            c.drawString(x + PAD_X, _baseline(bottom - n * LINE, LINE, BODY), part)
        c.setFillColor(INK)
        c.setFont(BOLD if row.total else REGULAR, BODY)
        x += COLUMNS[1]
        for n, amount in enumerate(amounts):
            right = x + COLUMNS[2 + n] - PAD_X
            if amount:
                c.drawRightString(right, _baseline(bottom, LINE, BODY), amount)
            x += COLUMNS[2 + n]
        y -= row.height
        if not row.total:
            self._rule(c, y + HAIR / 2, HAIR, RULE)
        return y

    def _cells(self, c: canvas.Canvas, top: float, texts: list[str], line: float, size: float) -> None:
        x, baseline = LEFT, _baseline(top, line, size)
        for n, text in enumerate(texts):
            if n < 2:
                c.drawString(x + PAD_X, baseline, text)
            else:
                c.drawRightString(x + COLUMNS[n] - PAD_X, baseline, text)
            x += COLUMNS[n]

    @staticmethod
    def _rule(c: canvas.Canvas, y: float, thickness: float, color) -> None:
        c.setStrokeColor(color)
        c.setLineWidth(thickness)
        c.line(LEFT, y, LEFT + CONTENT, y)

    def note(self) -> list[str]:
        text = _("A positive balance is owed to us; a negative balance is credit in your favour.")
        return wrap(text, REGULAR, 9, CONTENT)

    def note_height(self) -> float:
        return 12 + len(self.note()) * 9 * 1.45

    def draw_note(self, c: canvas.Canvas, y: float) -> float:
        y -= 12  # the table's margin-bottom (1rem), into which the paragraph's (1em) collapses
        c.setFillColor(MUTED)
        c.setFont(REGULAR, 9)
        for part in self.note():
            y -= 9 * 1.45
            c.drawString(LEFT, _baseline(y, 9 * 1.45, 9), part)
        return y

    def draw_folio(self, c: canvas.Canvas, page: int, pages: int) -> None:
        """@bottom-right: "page / pages", 8pt, muted, in the middle of the bottom margin."""
        c.setFillColor(MUTED)
        c.setFont(REGULAR, 8)
        c.drawRightString(PAGE_WIDTH - SIDE, BOTTOM / 2 - 3, f"{page} / {pages}")

    # -- pages ------------------------------------------------------------------------------------

    def paginate(self, rows: list[Row], first_top: float) -> list[list[Row]]:
        """Rows per page, each page below its column heads; the closing row keeps the last line with it."""
        heads = SMALL * 1.3 + 2 * PAD_Y + HEAVY
        pages, current, y = [], [], first_top - heads
        for row in rows:
            if y - row.height < BOTTOM and current:
                if row.total and len(current) > 1:  # never a closing row alone on a page
                    carried = current.pop()
                    pages.append(current)
                    current = [carried]
                else:
                    pages.append(current)
                    current = []
                y = PAGE_HEIGHT - TOP - heads - sum(r.height for r in current)
            current.append(row)
            y -= row.height
        pages.append(current)
        return pages

    def render(self) -> bytes:
        out = io.BytesIO()
        c = canvas.Canvas(out, pagesize=A4, pageCompression=1, invariant=1)
        c.setTitle(" · ".join([_("Account statement"), self.customer.display_name, self.organization.name]))
        c.setAuthor(self.organization.name)
        rows = self.rows()
        # The head is drawn once aside to know where the table starts, then on the real first page.
        probe = canvas.Canvas(io.BytesIO(), pagesize=A4)
        first_top = self.draw_caption(
            probe, self.draw_head(probe, self.draw_letterhead(probe, PAGE_HEIGHT - TOP - BODY_MARGIN))
        )
        pages = self.paginate(rows, first_top)
        last_top = first_top if len(pages) == 1 else PAGE_HEIGHT - TOP
        end = last_top - (SMALL * 1.3 + 2 * PAD_Y + HEAVY) - sum(r.height for r in pages[-1])
        note_apart = end - self.note_height() < BOTTOM  # the note does not fit under the table
        total = len(pages) + note_apart
        for number, page_rows in enumerate(pages, start=1):
            y = PAGE_HEIGHT - TOP
            if number == 1:
                y = self.draw_caption(c, self.draw_head(c, self.draw_letterhead(c, y - BODY_MARGIN)))
            y = self.draw_column_heads(c, y)
            for row in page_rows:
                y = self.draw_row(c, y, row)
            if number == len(pages) and not note_apart:
                self.draw_note(c, y)
            self.draw_folio(c, number, total)
            c.showPage()
        if note_apart:
            self.draw_note(c, PAGE_HEIGHT - TOP + 12)
            self.draw_folio(c, total, total)
            c.showPage()
        c.save()
        return out.getvalue()


def _baseline(bottom: float, line: float, size: float) -> float:
    """The baseline of text centred in a line box from `bottom` up to `bottom + line` (DejaVu's ascent
    is about 0.93 em and its descent 0.24 em)."""
    return bottom + (line - size * 1.17) / 2 + size * 0.24


def statement_pdf(statement) -> bytes:
    """The statement's PDF, with money and dates in its organization's locale."""
    with tenancy.for_tenant(statement.customer.organization):
        return StatementDrawing(statement).render()
