"""Registry queries, invoice snapshots and the import formats (JSON Lines, DESIGN 3.3, and CSV)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import PurePath
from typing import IO, Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from . import codes, normalize
from .models import Invoice, InvoiceItem
from .types import InvoiceType, Status

PARTY_FIELDS = ("name", "tax_id", "address_phone", "bank_account")
# The column sizes: a longer value would fail on PostgreSQL in the middle of a file.
PARTY_LIMITS = {"name": 200, "tax_id": 20, "address_phone": 200, "bank_account": 200}
ITEM_FIELDS = ("name", "spec", "unit", "quantity", "unit_price", "amount", "tax_rate", "tax")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# The years an issue date can bear: the VAT invoice system dates from 1994; 0001 or 9999 is a
# slip that would then sit in the registry as a real invoice.
FIRST_ISSUE_YEAR, LAST_ISSUE_YEAR = 1994, 2099


def find_invoice(session: Session, invoice_code: str, invoice_number: str) -> Invoice | None:
    """The invoice with this code and number; 数电 numbers are found by number alone."""
    query = select(Invoice).where(Invoice.invoice_number == invoice_number)
    if len(invoice_number) != codes.DIGITAL_NUMBER_LENGTH:
        query = query.where(Invoice.invoice_code == invoice_code)
    return session.scalars(query.limit(1)).first()


_INVOICES = Invoice.__table__
_ITEMS = InvoiceItem.__table__
# Built once: a check runs these with new parameters, never builds them again.
_ROW_BY_NUMBER = (
    select(_INVOICES).where(_INVOICES.c.invoice_number == bindparam("number")).limit(1)
)
_ROW_BY_CODE_AND_NUMBER = (
    select(_INVOICES)
    .where(_INVOICES.c.invoice_number == bindparam("number"),
           _INVOICES.c.invoice_code == bindparam("code"))
    .limit(1)
)
_ITEMS_OF_INVOICE = (
    select(*(_ITEMS.c[name] for name in ITEM_FIELDS))
    .where(_ITEMS.c.invoice_id == bindparam("invoice_id"))
    .order_by(_ITEMS.c.position)
)


def find_invoice_row(session: Session, invoice_code: str, invoice_number: str) -> Any:
    """``find_invoice`` as a plain row of every invoice column: the one query a check needs.

    A prepared Core select skips the ORM's identity map and attribute machinery, which cost
    more than the indexed lookup itself on the verification hot path.
    """
    connection = session.connection()
    if len(invoice_number) == codes.DIGITAL_NUMBER_LENGTH:
        return connection.execute(_ROW_BY_NUMBER, {"number": invoice_number}).first()
    return connection.execute(
        _ROW_BY_CODE_AND_NUMBER, {"number": invoice_number, "code": invoice_code}
    ).first()


def invoice_items(session: Session, invoice_id: int) -> list[Any]:
    """An invoice's line items in order, as rows (``find_invoice_row``'s companion)."""
    return list(session.connection().execute(_ITEMS_OF_INVOICE, {"invoice_id": invoice_id}))


# What the rules need of an invoice, without its parties and items: bulk checks show no details.
# Table columns, not ORM attributes: plain rows come back without the ORM's loading machinery.
LOOKUP_COLUMNS = tuple(
    _INVOICES.c[name]
    for name in ("id", "type_code", "invoice_code", "invoice_number", "issue_date", "check_code",
                 "amount", "total", "status", "verification_count", "last_verified_at")
)


def lookup_key(invoice_code: str, invoice_number: str) -> tuple[str, str]:
    """How ``find_invoice`` identifies an invoice: 数电 numbers alone, others with their code."""
    if len(invoice_number) == codes.DIGITAL_NUMBER_LENGTH:
        return "", invoice_number
    return invoice_code, invoice_number


def find_invoices(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """``find_invoice`` for many (code, number) keys in one query: key → row of LOOKUP_COLUMNS.

    Keys are ``lookup_key`` values; keys not in the registry are missing from the answer.
    """
    wanted = {lookup_key(code, number) for code, number in keys}
    if not wanted:
        return {}
    numbers = sorted({number for _code, number in wanted})
    rows = session.connection().execute(
        select(*LOOKUP_COLUMNS).where(_INVOICES.c.invoice_number.in_(numbers))
    )
    found: dict[tuple[str, str], Any] = {}
    for row in rows:
        key = lookup_key(row.invoice_code, row.invoice_number)
        if key in wanted:
            found.setdefault(key, row)
    return found


@dataclass(frozen=True)
class Party:
    name: str = ""
    tax_id: str = ""
    address_phone: str = ""
    bank_account: str = ""


@dataclass(frozen=True)
class Item:
    name: str
    spec: str
    unit: str
    quantity: str
    unit_price: str
    amount: Decimal
    tax_rate: str
    tax: Decimal


@dataclass(frozen=True)
class InvoiceSnapshot:
    """Everything a match shows, detached from the database session."""

    invoice_type: InvoiceType
    invoice_code: str
    invoice_number: str
    issue_date: date
    check_code: str
    amount: Decimal
    tax: Decimal
    total: Decimal
    status: Status
    seller: Party
    buyer: Party
    items: tuple[Item, ...] = field(default_factory=tuple)
    remarks: str = ""
    drawer: str = ""

    @property
    def region(self) -> str | None:
        if self.invoice_code:
            return codes.region_of_code(self.invoice_code)
        return codes.region_of_digital_number(self.invoice_number)

    def to_dict(self) -> dict[str, Any]:
        """The invoice in the field names of the import format."""
        return {
            "type": self.invoice_type.code,
            "invoice_code": self.invoice_code,
            "invoice_number": self.invoice_number,
            "issue_date": self.issue_date.isoformat(),
            "check_code": self.check_code,
            "amount": str(self.amount),
            "tax": str(self.tax),
            "total": str(self.total),
            "status": self.status.value,
            "seller": {name: getattr(self.seller, name) for name in PARTY_FIELDS},
            "buyer": {name: getattr(self.buyer, name) for name in PARTY_FIELDS},
            "items": [
                {
                    name: str(value) if isinstance(value, Decimal) else value
                    for name, value in ((n, getattr(item, n)) for n in ITEM_FIELDS)
                }
                for item in self.items
            ],
            "remarks": self.remarks,
            "drawer": self.drawer,
        }


def _party(invoice: Invoice, prefix: str) -> Party:
    return Party(**{name: getattr(invoice, f"{prefix}_{name}") for name in PARTY_FIELDS})


def snapshot(invoice: Any, items: Iterable[Any] | None = None) -> InvoiceSnapshot:
    """An ``Invoice`` (or a row of its columns, with ``items`` rows) detached from the session."""
    if items is None:
        items = invoice.items
    return InvoiceSnapshot(
        invoice_type=InvoiceType(invoice.type_code),
        invoice_code=invoice.invoice_code,
        invoice_number=invoice.invoice_number,
        issue_date=invoice.issue_date,
        check_code=invoice.check_code,
        amount=invoice.amount,
        tax=invoice.tax,
        total=invoice.total,
        status=Status(invoice.status),
        seller=_party(invoice, "seller"),
        buyer=_party(invoice, "buyer"),
        items=tuple(
            Item(**{name: getattr(item, name) for name in ITEM_FIELDS}) for item in items
        ),
        remarks=invoice.remarks,
        drawer=invoice.drawer,
    )


# --- import -------------------------------------------------------------------------------


def N_(template: str) -> str:
    """Marks an English template for the message catalogs; the staff pages translate it."""
    return template


class Reason(str):
    """Why a line was refused: English text (the CLI prints it) that keeps its template and
    values, so that a page can put the same reason into the reader's language."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Reason:
        reason = super().__new__(cls, template % params if params else template)
        reason.template, reason.params = template, params
        return reason

    def to_json(self) -> dict[str, Any]:
        return {"template": self.template,
                "params": {key: value.to_json() if isinstance(value, Reason) else value
                           for key, value in self.params.items()}}

    @classmethod
    def from_json(cls, data: Any) -> Reason:
        """A stored reason; the plain text of a report written before reasons kept templates
        comes back as its own template."""
        if isinstance(data, str):
            return cls(data)
        params = {key: cls.from_json(value) if isinstance(value, dict) else value
                  for key, value in data["params"].items()}
        return cls(data["template"], **params)


class ImportError_(ValueError):
    """A line of an import file that cannot be stored, with its ``Reason``."""

    def __init__(self, template: str, **params: Any) -> None:
        self.reason = Reason(template, **params)
        super().__init__(self.reason)

    def __str__(self) -> str:
        return str(self.reason)


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    errors: list[tuple[int, Reason]] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return len(self.errors)


def _text(record: dict, key: str, max_length: int | None = None) -> str:
    value = record.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ImportError_(N_("'%(field)s' must be a string"), field=key)
    if max_length is not None and len(value) > max_length:
        raise ImportError_(N_("'%(field)s' is longer than %(limit)d characters"), field=key,
                          limit=max_length)
    return value


def _amount(record: dict, key: str, required: bool = True) -> Decimal:
    value = record.get(key)
    if value in (None, ""):
        if required:
            raise ImportError_(N_("'%(field)s' is missing"), field=key)
        return Decimal("0.00")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ImportError_(N_("'%(field)s' is not an amount"), field=key)
    try:
        return normalize.parse_amount(str(value))
    except normalize.AmountTooLarge:
        raise ImportError_(N_("'%(field)s' is larger than any invoice amount: %(value)s"),
                           field=key, value=repr(value)) from None
    except ValueError:
        raise ImportError_(N_("'%(field)s' is not an amount: %(value)s"), field=key,
                          value=repr(value)) from None


def _digits(record: dict, key: str, lengths: tuple[int, ...]) -> str:
    value = _text(record, key)
    if not value.isascii() or not value.isdigit() or len(value) not in lengths:
        if len(lengths) == 1:
            raise ImportError_(N_("'%(field)s' must be %(length)d digits, not %(value)s"),
                               field=key, length=lengths[0], value=repr(value))
        raise ImportError_(N_("'%(field)s' must be %(length)d or %(other)d digits, not %(value)s"),
                           field=key, length=lengths[0], other=lengths[1], value=repr(value))
    return value


def parse_import_record(record: Any) -> dict[str, Any]:
    """Check one import record and return the column values of an ``Invoice``."""
    if not isinstance(record, dict):
        raise ImportError_(N_("a line must be a JSON object"))
    type_code = _text(record, "type")
    invoice_type = InvoiceType.from_code(type_code)
    if invoice_type is None:
        raise ImportError_(N_("unknown invoice type %(value)s"), value=repr(type_code))
    if invoice_type.is_digital:
        code = _text(record, "invoice_code")
        if code:
            raise ImportError_(N_("'invoice_code' must be empty for type 31 and 32"))
        number = _digits(record, "invoice_number", (codes.DIGITAL_NUMBER_LENGTH,))
    else:
        code = _digits(record, "invoice_code", (10, 12))
        number = _digits(record, "invoice_number", (codes.LEGACY_NUMBER_LENGTH,))
        try:
            derived = codes.type_from_code(code)
        except ValueError:
            raise ImportError_(N_("invoice code %(code)s names no invoice kind"),
                               code=code) from None
        if derived is not invoice_type:
            raise ImportError_(N_("invoice code %(code)s is of type %(derived)s, not %(stated)s"),
                               code=code, derived=derived.code, stated=invoice_type.code)
    try:
        # fromisoformat alone also reads 20241025 and 2024-W43-5.
        text = _text(record, "issue_date")
        if not _ISO_DAY.fullmatch(text):
            raise ValueError(text)
        issue_date = date.fromisoformat(text)
    except ValueError:
        raise ImportError_(N_("'issue_date' must be YYYY-MM-DD, not %(value)s"),
                           value=repr(record.get("issue_date"))) from None
    if not FIRST_ISSUE_YEAR <= issue_date.year <= LAST_ISSUE_YEAR:
        raise ImportError_(N_("'issue_date' %(value)s is not a year an invoice can bear "
                              "(%(first)d to %(last)d)"), value=issue_date.isoformat(),
                           first=FIRST_ISSUE_YEAR, last=LAST_ISSUE_YEAR)
    check_code = _text(record, "check_code")
    if invoice_type.extra_field.value == "check_code":
        check_code = _digits(record, "check_code", (20,))
    elif check_code and (not (check_code.isascii() and check_code.isdigit())
                         or len(check_code) != 20):  # "１２…" passes isdigit() alone
        raise ImportError_(N_("'check_code' must be 20 digits or empty, not %(value)s"),
                           value=repr(check_code))
    status = _text(record, "status") or Status.NORMAL.value
    if status not in {s.value for s in Status}:
        raise ImportError_(N_("unknown status %(value)s"), value=repr(status))

    values: dict[str, Any] = {
        "type_code": invoice_type.code,
        "invoice_code": code,
        "invoice_number": number,
        "issue_date": issue_date,
        "check_code": check_code,
        "amount": _amount(record, "amount"),
        "tax": _amount(record, "tax"),
        "total": _amount(record, "total"),
        "status": status,
        "remarks": _text(record, "remarks", 2000),
        "drawer": _text(record, "drawer", 50),
    }
    for role in ("seller", "buyer"):
        party = record.get(role) or {}
        if not isinstance(party, dict):
            raise ImportError_(N_("'%(field)s' must be an object"), field=role)
        for name in PARTY_FIELDS:
            values[f"{role}_{name}"] = _text(party, name, PARTY_LIMITS[name])
    items = record.get("items") or []
    if not isinstance(items, list):
        raise ImportError_(N_("'items' must be a list"))
    parsed_items = []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ImportError_(N_("item %(position)d must be an object"), position=position)
        try:
            parsed_items.append(
                {
                    "position": position,
                    "name": _text(item, "name", 200),
                    "spec": _text(item, "spec", 100),
                    "unit": _text(item, "unit", 20),
                    "quantity": _text(item, "quantity", 32),
                    "unit_price": _text(item, "unit_price", 32),
                    "amount": _amount(item, "amount"),
                    "tax_rate": _text(item, "tax_rate", 10),
                    "tax": _amount(item, "tax", required=False),
                }
            )
        except ImportError_ as exc:
            raise ImportError_(N_("item %(position)d: %(reason)s"), position=position,
                               reason=exc.reason) from None
    values["items"] = parsed_items
    return values


def store_invoice(session: Session, values: dict[str, Any]) -> bool:
    """Insert or replace the invoice with this code and number; True when it was new."""
    values = dict(values)
    items = values.pop("items")
    invoice = find_invoice(session, values["invoice_code"], values["invoice_number"])
    added = invoice is None
    if invoice is None:
        invoice = Invoice()
        session.add(invoice)
    for key, value in values.items():
        setattr(invoice, key, value)
    invoice.items = [InvoiceItem(**item) for item in items]
    return added


# What the json and csv modules say about a broken line (the start of their message), in words
# a translator can put into the staff member's language. Other messages are shown as they are.
PARSER_PROBLEMS = (
    ("Expecting value", N_("a value is missing, or a text value is not in double quotes")),
    ("Expecting ',' delimiter", N_("a comma is missing between two values")),
    ("Expecting ':' delimiter", N_("a colon is missing after a field name")),
    ("Expecting property name", N_("a field name is not in double quotes, or a comma stands "
                                   "before a closing brace")),
    ("Illegal trailing comma", N_("a comma stands before a closing bracket or brace")),
    ("Unterminated string", N_("a text value has no closing double quote")),
    ("Extra data", N_("more follows the end of the record: put one record on each line")),
    ("Invalid control character", N_("a text value holds a tab or a line break")),
    ("Invalid \\u", N_("a Unicode escape needs four hexadecimal digits")),
    ("Invalid \\escape", N_("a backslash in a text value starts no valid escape")),
    ("field larger than field limit", N_("a field is too long")),
    ("new-line character seen in unquoted field",
     N_("a line break stands inside a field without quotes")),
    ("unexpected end of data", N_("the file ends inside a quoted field")),
    ("',' expected after '\"'", N_("a closing double quote is not followed by a comma")),
)


def _parser_detail(message: str) -> Reason | str:
    for start, words in PARSER_PROBLEMS:
        if message.startswith(start):
            return Reason(words)
    return message


def read_jsonl(lines: Iterable[str]) -> Iterator[tuple[int, dict | None, Reason | None]]:
    """(line number, record, error) for every non-blank line; a file that is one JSON array
    (what a .json export usually is) is one error, not an error on each of its lines."""
    first = True
    for number, line in enumerate(lines, start=1):
        line = line.lstrip("\ufeff").strip()
        if not line:
            continue
        if first and line.startswith("["):
            yield number, None, Reason(N_("the file is one JSON array, not JSON Lines: write "
                                          "each invoice as one JSON object on a line of its "
                                          "own"))
            return
        first = False
        try:
            yield number, json.loads(line), None
        except json.JSONDecodeError as exc:
            yield number, None, Reason(N_("not valid JSON: %(detail)s (column %(column)d)"),
                                       detail=_parser_detail(exc.msg), column=exc.colno)
        except RecursionError:
            yield number, None, Reason(N_("not an invoice record: lists or objects nested "
                                          "too deeply"))


# CSV: the fields of DESIGN 3.3 flattened, one row per line item. Parties and items get a
# prefix (seller_name, buyer_tax_id, item_amount, …); rows that follow each other with the same
# type, code and number are one invoice.
CSV_RECORD_COLUMNS = (
    "type", "invoice_code", "invoice_number", "issue_date", "check_code", "amount", "tax",
    "total", "status", "remarks", "drawer",
)
CSV_INVOICE_COLUMNS = CSV_RECORD_COLUMNS + tuple(
    f"{role}_{name}" for role in ("seller", "buyer") for name in PARTY_FIELDS
)
CSV_ITEM_COLUMNS = tuple(f"item_{name}" for name in ITEM_FIELDS)
CSV_COLUMNS = CSV_INVOICE_COLUMNS + CSV_ITEM_COLUMNS
CSV_REQUIRED_COLUMNS = ("type", "invoice_number", "issue_date")


def _csv_header_error(names: list[str]) -> Reason | None:
    unknown = [name for name in names if name not in CSV_COLUMNS]
    if unknown:
        return Reason(N_("unknown column %(column)s in the header; the columns are %(columns)s"),
                      column=repr(unknown[0]), columns=", ".join(CSV_COLUMNS))
    missing = [name for name in CSV_REQUIRED_COLUMNS if name not in names]
    if missing:
        return Reason(N_("the header has no %(column)s column"), column=repr(missing[0]))
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        return Reason(N_("the header names %(column)s twice"), column=repr(repeated[0]))
    return None


def _csv_invoice(rows: list[tuple[int, dict[str, str]]]) -> tuple[int, dict | None, Reason | None]:
    """One invoice from its rows: the invoice columns of the first, an item from each."""
    first_line, first = rows[0]
    for line, row in rows[1:]:
        for name in CSV_INVOICE_COLUMNS:
            if row.get(name, "") != first.get(name, ""):
                return first_line, None, Reason(
                    N_("line %(line)d continues this invoice with a different %(column)s"),
                    line=line, column=repr(name),
                )
    record: dict[str, Any] = {name: first.get(name, "") for name in CSV_RECORD_COLUMNS}
    for role in ("seller", "buyer"):
        record[role] = {name: first.get(f"{role}_{name}", "") for name in PARTY_FIELDS}
    items = []
    for _line, row in rows:
        item = {name: row.get(f"item_{name}", "") for name in ITEM_FIELDS}
        if any(item.values()):
            items.append(item)
    record["items"] = items
    return first_line, record, None


def read_csv(lines: Iterable[str]) -> Iterator[tuple[int, dict | None, Reason | None]]:
    """(line number, record, error) for every invoice of a CSV file with a header row.

    Records have the shape of the JSON Lines format, so both go through the same checks. An
    invoice's line number is the line of its first row; a bad header refuses the whole file.
    """
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield 1, None, Reason(N_("not valid CSV: %(detail)s"), detail=_parser_detail(str(exc)))
        return
    names = [name.strip().lower() for name in header]
    error = _csv_header_error(names)
    if error:
        yield 1, None, error
        return
    group: list[tuple[int, dict[str, str]]] = []
    group_key: tuple[str, str, str] | None = None
    line_end = reader.line_num
    while True:
        line = line_end + 1  # a quoted field may span lines: a row starts after the last one
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line_end = reader.line_num
            yield line, None, Reason(N_("not valid CSV: %(detail)s"), detail=_parser_detail(str(exc)))
            continue
        line_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(names):
            yield line, None, Reason(N_("%(count)d fields, but the header names %(columns)d columns"),
                                    count=len(row), columns=len(names))
            continue
        values = {name: cell.strip() for name, cell in zip(names, row)}
        key = (values.get("type", ""), values.get("invoice_code", ""),
               values.get("invoice_number", ""))
        if group and key == group_key:
            group.append((line, values))
            continue
        if group:
            yield _csv_invoice(group)
        group, group_key = [(line, values)], key
    if group:
        yield _csv_invoice(group)


# File name endings of the two formats; anything else is refused before it is read.
IMPORT_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}


class UnreadableFile(ValueError):
    """A whole import file that cannot be read: unknown format or not text."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "format" or "encoding", for the words the web shows


def import_format(filename: str) -> str:
    """"jsonl" or "csv", from the file name's ending."""
    file_format = IMPORT_FORMATS.get(PurePath(filename).suffix.lower())
    if file_format is None:
        raise UnreadableFile(
            "format", f"{filename!r} is neither JSON Lines (.jsonl) nor CSV (.csv)"
        )
    return file_format


def decode_import(data: bytes) -> str:
    """The text of an import file: UTF-8 (with or without a BOM), else GB18030, which is how
    spreadsheet programs on Chinese systems save CSV."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("encoding", "the file is neither UTF-8 nor GB18030 text")


def read_records(text: str, file_format: str) -> Iterator[tuple[int, dict | None, Reason | None]]:
    """(line number, record, error) triples of a whole file in either format."""
    # newline="": line breaks inside quoted CSV fields and U+2028 in JSON stay inside their line.
    lines = io.StringIO(text, newline="")
    return read_csv(lines) if file_format == "csv" else read_jsonl(lines)


def count_lines(text: str) -> int:
    """Lines of a file as ``read_records`` numbers them (for progress)."""
    return sum(1 for _line in io.StringIO(text, newline=""))


# One transaction per file. Every line is read and checked first, without touching the
# database: bad lines are reported by number and nothing of them is stored (DESIGN 3.3). Then
# the good ones are written in one transaction; if anything stops the writing part-way (a
# database error, the process being killed), it is rolled back and the registry is as it was
# before the file. Checking first and writing in bulk keeps that transaction short, which
# matters on SQLite, where it holds up every other writer (verifications too) until it commits.

StatusChangeHook = Callable[[int, int, str, str], None]


def check_records(
    numbered: Iterable[tuple[int, Any, Reason | None]],
    report: ImportReport,
    progress: Callable[[int], None] | None = None,
) -> list[tuple[int, dict[str, Any]]]:
    """(line number, column values) of every good record; the bad ones go to ``report``."""
    checked = []
    for number, record, error in numbered:
        if error is None:
            try:
                checked.append((number, parse_import_record(record)))
            except ImportError_ as exc:
                error = exc.reason
        if error is not None:
            report.errors.append((number, error))
        if progress is not None:
            progress(number)
    return checked


def _write_batch(
    session: Session,
    batch: list[tuple[int, dict[str, Any]]],
    report: ImportReport,
    *,
    demo: bool,
    on_status_change: StatusChangeHook | None,
) -> None:
    """Insert or replace a batch of checked invoices with a handful of statements."""
    # A later line for the same invoice replaces an earlier one, as if stored one by one.
    latest: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for number, values in batch:
        key = lookup_key(values["invoice_code"], values["invoice_number"])
        if key in latest:
            report.updated += 1
        latest[key] = (number, values)
    found = find_invoices(session, latest.keys())
    new_rows, new_items, changed_rows, changed_items = [], [], [], []
    for key, (number, values) in latest.items():
        row = dict(values)
        items = row.pop("items")
        stored = found.get(key)
        if stored is None:
            new_rows.append(dict(row, is_demo=demo))
            new_items.append(items)
            report.added += 1
            continue
        # A corrected demo invoice stays on the samples page; seeding marks what it touches.
        changed_rows.append(dict(row, id=stored.id, **({"is_demo": True} if demo else {})))
        changed_items.append((stored.id, items))
        report.updated += 1
        if on_status_change is not None and stored.status != row["status"]:
            on_status_change(number, stored.id, stored.status, row["status"])
    item_rows = []
    if new_rows:
        ids = session.scalars(
            insert(Invoice).returning(Invoice.id, sort_by_parameter_order=True), new_rows
        ).all()
        changed_items.extend(zip(ids, new_items))
    if changed_rows:
        session.execute(update(Invoice), changed_rows)
        session.execute(
            delete(InvoiceItem)
            .where(InvoiceItem.invoice_id.in_([row["id"] for row in changed_rows]))
            .execution_options(synchronize_session=False)
        )
    for invoice_id, items in changed_items:
        item_rows.extend(dict(item, invoice_id=invoice_id) for item in items)
    if item_rows:
        session.execute(insert(InvoiceItem), item_rows)


def import_records(
    session: Session,
    numbered: Iterable[tuple[int, Any, Reason | None]],
    *,
    batch_size: int = 500,
    demo: bool = False,
    progress: Callable[[int], None] | None = None,
    on_checked: Callable[[int], None] | None = None,
    on_status_change: StatusChangeHook | None = None,
    commit: bool = True,
) -> ImportReport:
    """Check (line number, record, read error) triples, then store the good ones together.

    Idempotent on code+number: a record for an invoice already there replaces it. The good
    records are stored in one transaction or, when writing fails part-way, not at all: the
    session is rolled back and the error raised. ``progress(line)`` hears of every line
    checked, ``on_checked(count)`` of the number of good records about to be written, and
    ``on_status_change(line, invoice_id, old, new)`` of every stored invoice whose status the
    file changes. With ``commit=False`` the caller commits, so that rows of its own (the import
    job's result) land in the same transaction.
    """
    report = ImportReport()
    checked = check_records(numbered, report, progress)
    if on_checked is not None:
        on_checked(len(checked))
    try:
        for start in range(0, len(checked), batch_size):
            _write_batch(
                session, checked[start:start + batch_size], report,
                demo=demo, on_status_change=on_status_change,
            )
        # The bulk statements bypass the identity map: objects loaded before are reloaded.
        session.expire_all()
        if commit:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    return report


def import_jsonl(session: Session, stream: IO[str], *, batch_size: int = 500) -> ImportReport:
    """Load a JSON Lines file (DESIGN 3.3), every bad line reported with its number."""
    return import_records(session, read_jsonl(stream), batch_size=batch_size)
