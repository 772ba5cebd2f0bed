"""Cells of the CSV files people download and open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
Excel, LibreOffice and Google Sheets (OWASP "CSV injection"): text that others typed (a description,
a name, a note) is written with a leading apostrophe instead, which the spreadsheet shows as text.
Numbers and dates that we format ourselves need no prefix.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """`text` as a spreadsheet reads it: as text, never as a formula."""
    return "'" + text if text[:1] in FORMULA_STARTS else text
