"""Reading batch uploads: invoice lists as CSV or XLSX, or a ZIP of invoice images and files.

Lists come from people and from accounting software, so headers may be Chinese or English, in
any case and spacing; CSV may be UTF-8 (with or without BOM) or GB18030 as Excel saves it in
China, separated by commas, semicolons or tabs; Excel may have turned digits into numbers.
"""

from __future__ import annotations

import csv
import enum
from array import array
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePosixPath

from . import normalize
from .requests import FIELDS, plan_fields
from .types import ExtraField

MAX_ROWS = 100_000
# A ZIP member larger than this is not an invoice file (and could be a zip bomb).
MAX_MEMBER_BYTES = 20 * 1024 * 1024
ZIP_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".pdf", ".ofd")
_SEPARATOR = "\x1f"  # ASCII unit separator
# Starts a stored row that cannot be checked, followed by one of these letters saying why.
_ROW_PROBLEM = "\x1e"  # ASCII record separator
_PROBLEM_CODES = {"d": "digits_lost", "q": "unclosed_quote"}  # values of batch.RowProblem
# Stands for a line break inside a CSV cell: only a double quote left open puts one there.
_LINE_BREAK = "\x1d"  # ASCII group separator
# A spreadsheet number keeps 15 significant digits: a 20-digit 数电 number typed into a cell
# formatted as a number comes back with its last digits changed, shown as 2.4112E+19 (and
# written so into a CSV the sheet saves).
EXACT_DIGITS = 15
_SHEET_NUMBER = re.compile(r"\d(?:\.\d+)?E\+\d+", re.IGNORECASE)
MAX_CELL = 64  # longer cells are cut: nothing an invoice field holds is that long


class FileProblem(enum.StrEnum):
    """Why an upload cannot be checked; the web layer words each one."""

    EMPTY = "empty"
    KIND = "kind"
    UNREADABLE = "unreadable"
    HEADERS = "headers"
    NO_ROWS = "no_rows"
    TOO_MANY_ROWS = "too_many_rows"


class BatchFileError(ValueError):
    def __init__(self, problem: FileProblem, **params):
        super().__init__(problem.value)
        self.problem = problem
        self.params = params


# Header spellings, compared after folding (NFKC, lower case, no spaces, dashes or underscores).
# "amount" is whichever amount the invoice type needs; "pretax" and "total" are the two named
# amounts of invoice lists, chosen per row by type when both are there.
HEADER_ALIASES = {
    "invoice_code": ("invoicecode", "code", "发票代码", "代码"),
    "invoice_number": ("invoicenumber", "invoiceno", "number", "发票号码", "号码", "发票号"),
    "issue_date": ("issuedate", "date", "invoicedate", "开票日期", "日期"),
    "amount": ("amount", "金额", "发票金额"),
    "pretax": ("pretaxamount", "amountbeforetax", "不含税金额", "合计金额", "金额(不含税)"),
    "total": ("total", "totalamount", "价税合计", "含税金额", "价税合计(小写)", "车价合计"),
    "check_code": ("checkcode", "校验码", "校验码后6位", "校验码后六位"),
}
_ALIAS_TO_COLUMN = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}

# Template headers: what the downloadable template and the results files use.
TEMPLATE_HEADERS = {
    "zh": ("发票代码", "发票号码", "开票日期", "金额", "校验码"),
    "en": FIELDS,
}


def fold_header(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", normalize.fold(str(text))).lower()


@dataclass(slots=True)
class InputRow:
    """One row to verify: its number in the file (header = row 1) and its raw fields."""

    number: int
    fields: dict[str, str]
    source: str = ""  # the file name of a ZIP member
    # Why it cannot be checked (a batch.RowProblem value): "digits_lost", its code or number
    # a spreadsheet number of > 15 digits; "unclosed_quote", an open double quote took in the
    # lines after it.
    problem: str = ""


@dataclass
class ParsedUpload:
    kind: str  # "csv", "xlsx" or "zip"
    # Each row's cells joined by a unit separator, and its number in the file: a 100,000-row
    # list kept this way takes a fifth of the memory of a tuple of strings per row.
    _records: list[str] = field(default_factory=list, repr=False)
    _numbers: array = field(default_factory=lambda: array("l"), repr=False)
    _columns: dict[str, int] = field(default_factory=dict, repr=False)
    _members: list[str] = field(default_factory=list, repr=False)
    _archive: zipfile.ZipFile | None = field(default=None, repr=False)

    @property
    def total(self) -> int:
        return len(self._members) if self.kind == "zip" else len(self._records)

    def rows(self, start: int = 0) -> Iterator[InputRow]:
        """The list's rows from the ``start``-th on (blank rows are skipped, not counted)."""
        for index in range(start, len(self._records)):
            record = self._records[index]
            problem = ""
            if record.startswith(_ROW_PROBLEM):
                problem, record = _PROBLEM_CODES[record[1]], record[2:]
            values = tuple(record.split(_SEPARATOR))
            yield InputRow(self._numbers[index], self._fields(values), problem=problem)

    def members(self, start: int = 0) -> Iterator[tuple[str, bytes | None]]:
        """(name, bytes) of each invoice file of a ZIP; bytes is None for an unreadable one."""
        assert self._archive is not None
        for name in self._members[start:]:
            try:
                info = self._archive.getinfo(name)
                if info.file_size > MAX_MEMBER_BYTES:
                    yield name, None
                    continue
                yield name, self._archive.read(name)
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError):
                yield name, None

    def _fields(self, values: tuple) -> dict[str, str]:
        def cell(name: str) -> str:
            index = self._columns.get(name)
            if index is None or index >= len(values):
                return ""
            return values[index]

        fields = {name: cell(name) for name in FIELDS}
        pretax, total = cell("pretax"), cell("total")
        if not fields["amount"] and (pretax or total):
            fields["amount"] = self._amount_for_type(fields, pretax, total)
        return fields

    def _amount_for_type(self, fields: dict[str, str], pretax: str, total: str) -> str:
        if not (pretax and total):
            return pretax or total
        plan = plan_fields(fields["invoice_code"], fields["invoice_number"])
        if plan.extra_field in (ExtraField.TOTAL, ExtraField.VEHICLE_PRICE):
            return total
        return pretax


def read_upload(
    data: bytes, filename: str, *, max_rows: int = MAX_ROWS, header_only: bool = False
) -> ParsedUpload:
    """The upload's rows (CSV, XLSX) or files (ZIP), or ``BatchFileError`` saying why not.

    ``header_only`` checks no more of an XLSX than that it is a workbook (reading a big
    sheet takes seconds): enough to take the upload, the job reads the rows.
    """
    if not data:
        raise BatchFileError(FileProblem.EMPTY)
    suffix = PurePosixPath(filename.lower()).suffix
    if data.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".zip"):
        archive = _open_zip(data)
        names = set(archive.namelist())
        if "xl/workbook.xml" in names or suffix == ".xlsx":
            if header_only and "xl/workbook.xml" in names:
                # Opening a big workbook reads all its shared strings (seconds for 100,000
                # rows): the job reads it and reports a wrong header as the job's problem.
                return ParsedUpload("xlsx")
            return _from_table("xlsx", _xlsx_rows(data), max_rows, header_only)
        return _from_zip(archive, max_rows)
    if suffix in ("", ".csv", ".txt", ".tsv"):
        return _from_table("csv", _csv_rows(data), max_rows)
    raise BatchFileError(FileProblem.KIND)


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise BatchFileError(FileProblem.UNREADABLE) from None


def _from_zip(archive: zipfile.ZipFile, max_rows: int) -> ParsedUpload:
    members = sorted(
        info.filename
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not PurePosixPath(info.filename).name.startswith(".")
        and info.filename.lower().endswith(ZIP_EXTENSIONS)
    )
    if not members:
        raise BatchFileError(FileProblem.NO_ROWS)
    if len(members) > max_rows:
        raise BatchFileError(FileProblem.TOO_MANY_ROWS, limit=max_rows)
    return ParsedUpload("zip", _members=members, _archive=archive)


def _from_table(
    kind: str, rows: Iterator[tuple], max_rows: int, header_only: bool = False
) -> ParsedUpload:
    header: tuple | None = None
    records: list[str] = []
    numbers = array("l")
    for number, values in enumerate(rows, start=1):
        if not any(values):
            continue
        if header is None:
            header = values
            columns = _columns(header)
            digit_columns = [columns[name] for name in ("invoice_code", "invoice_number")
                             if name in columns]
            if header_only:
                return ParsedUpload(kind, _columns=columns)
            continue
        if len(records) >= max_rows:
            raise BatchFileError(FileProblem.TOO_MANY_ROWS, limit=max_rows)
        record = _SEPARATOR.join(value.replace(_SEPARATOR, " ").replace(_ROW_PROBLEM, " ")
                                 for value in values)
        if _LINE_BREAK in record:
            record = _ROW_PROBLEM + "q" + record.replace(_LINE_BREAK, "")
        elif any(index < len(values) and _SHEET_NUMBER.fullmatch(values[index])
                 for index in digit_columns):
            record = _ROW_PROBLEM + "d" + record
        records.append(record)
        numbers.append(number)
    if header is None:
        raise BatchFileError(FileProblem.EMPTY)
    if not records:
        raise BatchFileError(FileProblem.NO_ROWS)
    return ParsedUpload(kind, _records=records, _columns=columns, _numbers=numbers)


def _columns(header: tuple) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        name = _ALIAS_TO_COLUMN.get(fold_header(title)) if title else None
        if name is not None:
            columns.setdefault(name, index)
    if "invoice_number" not in columns or "issue_date" not in columns:
        raise BatchFileError(FileProblem.HEADERS)
    return columns


def _clean(value: str) -> str:
    return value.strip()[:MAX_CELL]


# --- CSV ------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise BatchFileError(FileProblem.UNREADABLE)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BatchFileError(FileProblem.UNREADABLE)


def _csv_cell(value: str) -> str:
    """A cell's text; one holding a line break is marked (str.strip() takes the marker for
    white space: it goes after the cleaning)."""
    if "\n" in value or "\r" in value:
        return _clean(re.sub(r"\s*[\r\n]+\s*", " ", value)) + _LINE_BREAK
    return _clean(value)


def _csv_rows(data: bytes) -> Iterator[tuple]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        line = 0
        for values in reader:
            # A record over several lines has a line break in a cell: marked there.
            spread, line = reader.line_num - line > 1, reader.line_num
            yield tuple(_csv_cell(value) if spread else _clean(value) for value in values)
    except csv.Error:
        raise BatchFileError(FileProblem.UNREADABLE) from None


# --- XLSX -----------------------------------------------------------------------------------


def _xlsx_rows(data: bytes) -> Iterator[tuple]:
    """The first sheet's rows as text. calamine (Rust) reads a 100,000-row sheet about ten
    times faster than openpyxl, whose writer still makes the result downloads."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = iter(book.get_sheet_by_index(0).iter_rows())
        header = next(rows, None)
    except (CalamineError, ValueError, IndexError, OSError):
        raise BatchFileError(FileProblem.UNREADABLE) from None
    if header is None:
        return
    header_text = tuple(_cell_text(value) for value in header)
    yield header_text
    columns = {_ALIAS_TO_COLUMN.get(fold_header(title)) if title else None: index
               for index, title in enumerate(header_text)}
    widths = {columns.get("invoice_code"): None, columns.get("invoice_number"): None}
    try:
        for values in rows:
            yield tuple(
                _digit_cell(value) if index in widths else _cell_text(value)
                for index, value in enumerate(values)
            )
    except (CalamineError, ValueError, OSError):
        raise BatchFileError(FileProblem.UNREADABLE) from None
    finally:
        book.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        text = format(Decimal(repr(value)).normalize(), "f")
        return text
    return _clean(str(value))


def _digit_cell(value) -> str:
    """An invoice code or number that Excel stored as a number: give back its leading zeros.

    Legacy numbers have 8 digits; a 12-digit code starts with 0 and loses it (10-digit codes
    start with a region digit, never 0). A number of more than 15 digits is no longer the one
    typed: it is given as the sheet shows it (2.4112E+19), which refuses the row.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _cell_text(value)
    if isinstance(value, float) and not value.is_integer():
        return _cell_text(value)
    digits = str(int(value))
    if len(digits) > EXACT_DIGITS:
        return f"{value:.6G}"
    if len(digits) < 8:
        return digits.zfill(8)
    if len(digits) == 11:
        return "0" + digits
    return digits
