"""Registry queries, invoice snapshots and the JSON Lines import format (DESIGN 3.3)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import codes, normalize
from .models import Invoice, InvoiceItem
from .types import InvoiceType, Status

PARTY_FIELDS = ("name", "tax_id", "address_phone", "bank_account")
ITEM_FIELDS = ("name", "spec", "unit", "quantity", "unit_price", "amount", "tax_rate", "tax")


def find_invoice(session: Session, invoice_code: str, invoice_number: str) -> Invoice | None:
    """The invoice with this code and number; 数电 numbers are found by number alone."""
    query = select(Invoice).where(Invoice.invoice_number == invoice_number)
    if len(invoice_number) != codes.DIGITAL_NUMBER_LENGTH:
        query = query.where(Invoice.invoice_code == invoice_code)
    return session.scalars(query.limit(1)).first()


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


def snapshot(invoice: Invoice) -> InvoiceSnapshot:
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
            Item(**{name: getattr(item, name) for name in ITEM_FIELDS}) for item in invoice.items
        ),
        remarks=invoice.remarks,
        drawer=invoice.drawer,
    )


# --- import -------------------------------------------------------------------------------


class ImportError_(ValueError):
    """A line of an import file that cannot be stored, with the reason in plain words."""


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return len(self.errors)


def _text(record: dict, key: str, max_length: int | None = None) -> str:
    value = record.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ImportError_(f"'{key}' must be a string")
    if max_length is not None and len(value) > max_length:
        raise ImportError_(f"'{key}' is longer than {max_length} characters")
    return value


def _amount(record: dict, key: str, required: bool = True) -> Decimal:
    value = record.get(key)
    if value in (None, ""):
        if required:
            raise ImportError_(f"'{key}' is missing")
        return Decimal("0.00")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ImportError_(f"'{key}' is not an amount")
    try:
        return normalize.parse_amount(str(value))
    except ValueError:
        raise ImportError_(f"'{key}' is not an amount: {value!r}") from None


def _digits(record: dict, key: str, lengths: tuple[int, ...]) -> str:
    value = _text(record, key)
    if not value.isascii() or not value.isdigit() or len(value) not in lengths:
        wanted = " or ".join(str(n) for n in lengths)
        raise ImportError_(f"'{key}' must be {wanted} digits, not {value!r}")
    return value


def parse_import_record(record: Any) -> dict[str, Any]:
    """Check one import record and return the column values of an ``Invoice``."""
    if not isinstance(record, dict):
        raise ImportError_("a line must be a JSON object")
    type_code = _text(record, "type")
    invoice_type = InvoiceType.from_code(type_code)
    if invoice_type is None:
        raise ImportError_(f"unknown invoice type {type_code!r}")
    if invoice_type.is_digital:
        code = _text(record, "invoice_code")
        if code:
            raise ImportError_("'invoice_code' must be empty for type 31 and 32")
        number = _digits(record, "invoice_number", (codes.DIGITAL_NUMBER_LENGTH,))
    else:
        code = _digits(record, "invoice_code", (10, 12))
        number = _digits(record, "invoice_number", (codes.LEGACY_NUMBER_LENGTH,))
        try:
            derived = codes.type_from_code(code)
        except ValueError:
            raise ImportError_(f"invoice code {code} names no invoice kind") from None
        if derived is not invoice_type:
            raise ImportError_(
                f"invoice code {code} is of type {derived.code}, not {invoice_type.code}"
            )
    try:
        issue_date = date.fromisoformat(_text(record, "issue_date"))
    except ValueError:
        raise ImportError_(f"'issue_date' must be YYYY-MM-DD, not {record.get('issue_date')!r}") from None
    check_code = _text(record, "check_code")
    if invoice_type.extra_field.value == "check_code":
        check_code = _digits(record, "check_code", (20,))
    elif check_code and (not check_code.isdigit() or len(check_code) != 20):
        raise ImportError_(f"'check_code' must be 20 digits or empty, not {check_code!r}")
    status = _text(record, "status") or Status.NORMAL.value
    if status not in {s.value for s in Status}:
        raise ImportError_(f"unknown status {status!r}")

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
            raise ImportError_(f"'{role}' must be an object")
        for name in PARTY_FIELDS:
            values[f"{role}_{name}"] = _text(party, name, 200)
    items = record.get("items") or []
    if not isinstance(items, list):
        raise ImportError_("'items' must be a list")
    parsed_items = []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ImportError_(f"item {position} must be an object")
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
            raise ImportError_(f"item {position}: {exc}") from None
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


def read_jsonl(lines: Iterable[str]) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, record, error) for every non-blank line."""
    for number, line in enumerate(lines, start=1):
        line = line.lstrip("\ufeff").strip()
        if not line:
            continue
        try:
            yield number, json.loads(line), None
        except json.JSONDecodeError as exc:
            yield number, None, f"not valid JSON: {exc.msg} (column {exc.colno})"


def import_records(
    session: Session,
    numbered: Iterable[tuple[int, Any, str | None]],
    *,
    batch_size: int = 500,
    demo: bool = False,
) -> ImportReport:
    """Store (line number, record, read error) triples: good ones stored, bad ones reported.

    Idempotent on code+number: a record for an invoice already there replaces it.
    """
    report = ImportReport()
    pending = 0
    for number, record, error in numbered:
        if error is None:
            try:
                values = parse_import_record(record)
            except ImportError_ as exc:
                error = str(exc)
        if error is not None:
            report.errors.append((number, error))
            continue
        values["is_demo"] = demo
        if store_invoice(session, values):
            report.added += 1
        else:
            report.updated += 1
        pending += 1
        if pending >= batch_size:
            session.flush()
            pending = 0
    session.commit()
    return report


def import_jsonl(session: Session, stream: IO[str], *, batch_size: int = 500) -> ImportReport:
    """Load a JSON Lines file (DESIGN 3.3), every bad line reported with its number."""
    return import_records(session, read_jsonl(stream), batch_size=batch_size)
