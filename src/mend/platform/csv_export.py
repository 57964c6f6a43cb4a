"""CSV for spreadsheets, with formula injection neutralised.

A spreadsheet opening a CSV runs any cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(and some treat a leading tab or carriage return the same way), so a client who calls themselves
``=HYPERLINK("http://x","y")`` would become a link in the owner's spreadsheet. Following OWASP's
CSV injection guidance, such a text cell gets a leading ``'``, which the spreadsheet shows as text.

Numbers are written from ``Decimal`` (or ``int``) and never neutralised: a refund of ``-25.00``
stays a number the spreadsheet can add up. Only text is trusted to be text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

Cell = str | Decimal | int | date | None

# OWASP "CSV Injection": the characters a spreadsheet reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """Text as a spreadsheet will show it, never as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def cell(value: Cell) -> str:
    """One cell: numbers as plain numerals (``-25.00``), dates as ISO 8601, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):  # bool is an int: say it in words rather than 1/0
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return text_cell(value)


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """A whole CSV document (RFC 4180 line endings), header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([text_cell(name) for name in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return out.getvalue()
