"""Cells for spreadsheet programs, which run a cell that starts like a formula.

A results file echoes what an upload held: a cell ``=HYPERLINK("http://…","Click")`` in an
uploaded list must come back as text, not as a live formula (CSV injection).
"""

from __future__ import annotations

import re

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?")


def formula_like(value) -> bool:
    """Whether a spreadsheet would read this text as a formula; a plain number is never one."""
    return (isinstance(value, str) and value.startswith(_FORMULA_START)
            and not _NUMBER.fullmatch(value))


def csv_cell(value):
    """The value for a CSV cell: formula-like text behind an apostrophe, which spreadsheets
    take as "this is text"."""
    return "'" + value if formula_like(value) else value


def xlsx_cell(sheet, value):
    """The value for a row of an openpyxl sheet: formula-like text as a text cell, shown as
    it was typed (openpyxl writes any text starting with "=" as a formula)."""
    if not formula_like(value):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    return cell
