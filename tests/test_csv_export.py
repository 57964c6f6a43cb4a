"""CSV for spreadsheets: text that a spreadsheet would run as a formula is written as text; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from mend.platform.csv_export import cell, write_csv


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x","y")'])
def test_text_that_starts_like_a_formula_gets_a_leading_apostrophe(text):
    assert cell(text) == "'" + text


def test_ordinary_text_numbers_dates_and_empty_cells_are_written_as_they_are():
    assert cell("Carol O'Neil") == "Carol O'Neil"
    assert cell(Decimal("-25.00")) == "-25.00"  # a refund is a number the spreadsheet adds up
    assert cell(Decimal("1E+2")) == "100"
    assert cell(-3) == "-3"
    assert cell(date(2026, 3, 1)) == "2026-03-01"
    assert cell(None) == ""
    assert cell(True) == "yes"


def test_a_client_named_like_a_hyperlink_formula_exports_as_text():
    document = write_csv(["Client", "Owing"], [('=HYPERLINK("http://x","y")', Decimal("-12.50"))])
    rows = list(csv.reader(io.StringIO(document)))
    assert rows == [["Client", "Owing"], ['\'=HYPERLINK("http://x","y")', "-12.50"]]
    assert document.endswith("\r\n")
