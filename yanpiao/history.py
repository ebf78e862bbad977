"""Whose verifications are whose: history queries, filters, moving, purging and exports.

A verification record belongs to a signed-in user (``user_id``) or, for visitors without an
account, to the anonymous key of their browser session (``owner_key``). Every query here takes
an ``Owner`` so that no caller can forget to scope by it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, false, func, select, update
from sqlalchemy.orm import Session

from .models import VerificationRecord
from .paging import Page, within_pages
from .spreadsheets import csv_cell, xlsx_cell
from .types import InvoiceType, Outcome, Status

PER_PAGE = 20
# An export is a download in one response; beyond this people should narrow the filter.
EXPORT_LIMIT = 10_000


@dataclass(frozen=True)
class Owner:
    """Whose history: an account, else an anonymous browser session, else nobody."""

    user_id: int | None = None
    owner_key: str | None = None

    @property
    def is_nobody(self) -> bool:
        return self.user_id is None and not self.owner_key


def owned_by(owner: Owner) -> ColumnElement[bool]:
    if owner.user_id is not None:
        return VerificationRecord.user_id == owner.user_id
    if owner.owner_key:
        # A session key alone never opens records that already belong to an account.
        return and_(
            VerificationRecord.owner_key == owner.owner_key,
            VerificationRecord.user_id.is_(None),
        )
    return false()


@dataclass(frozen=True)
class HistoryFilter:
    outcome: Outcome | None = None
    invoice_type: InvoiceType | None = None
    # Days on which the check was made, in the service's time zone, both included.
    checked_from: date | None = None
    checked_to: date | None = None
    # Digits anywhere in the invoice number.
    number: str = ""


def _start_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def _conditions(owner: Owner, flt: HistoryFilter, tz: ZoneInfo) -> list[ColumnElement[bool]]:
    conditions = [owned_by(owner)]
    if flt.outcome is not None:
        conditions.append(VerificationRecord.outcome == flt.outcome.value)
    if flt.invoice_type is not None:
        conditions.append(VerificationRecord.type_code == flt.invoice_type.code)
    if flt.checked_from is not None:
        conditions.append(VerificationRecord.created_at >= _start_of(flt.checked_from, tz))
    if flt.checked_to is not None:
        end = _start_of(flt.checked_to + timedelta(days=1), tz)
        conditions.append(VerificationRecord.created_at < end)
    if flt.number:
        conditions.append(VerificationRecord.invoice_number.contains(flt.number, autoescape=True))
    return conditions


@dataclass(frozen=True)
class HistoryPage(Page):
    records: list[VerificationRecord] = field(default_factory=list)


def history_page(
    session: Session,
    owner: Owner,
    flt: HistoryFilter = HistoryFilter(),
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    tz: ZoneInfo = UTC,
) -> HistoryPage:
    """One page of the owner's records matching the filter, newest first."""
    conditions = _conditions(owner, flt, tz)
    total = session.scalar(select(func.count(VerificationRecord.id)).where(*conditions)) or 0
    page = within_pages(page, total, per_page)
    records = session.scalars(
        select(VerificationRecord)
        .where(*conditions)
        .order_by(VerificationRecord.created_at.desc(), VerificationRecord.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return HistoryPage(total=total, page=page, per_page=per_page, records=list(records))


def matching_records(
    session: Session,
    owner: Owner,
    flt: HistoryFilter = HistoryFilter(),
    *,
    tz: ZoneInfo = UTC,
    limit: int = EXPORT_LIMIT,
) -> list[VerificationRecord]:
    """Every record of the owner matching the filter (up to ``limit``), newest first."""
    return list(
        session.scalars(
            select(VerificationRecord)
            .where(*_conditions(owner, flt, tz))
            .order_by(VerificationRecord.created_at.desc(), VerificationRecord.id)
            .limit(limit)
        )
    )


def find_record(session: Session, owner: Owner, receipt_id: str) -> VerificationRecord | None:
    """The owner's record with this receipt id; None for anybody else's."""
    return session.scalar(
        select(VerificationRecord).where(VerificationRecord.id == receipt_id, owned_by(owner))
    )


def delete_record(session: Session, owner: Owner, receipt_id: str) -> bool:
    deleted = session.execute(
        delete(VerificationRecord).where(VerificationRecord.id == receipt_id, owned_by(owner))
    ).rowcount
    session.commit()
    return bool(deleted)


def delete_all(session: Session, owner: Owner) -> int:
    deleted = session.execute(delete(VerificationRecord).where(owned_by(owner))).rowcount
    session.commit()
    return deleted


def claim_anonymous(session: Session, owner_key: str | None, user_id: int) -> int:
    """Move a browser session's anonymous records into an account; returns how many."""
    if not owner_key:
        return 0
    moved = session.execute(
        update(VerificationRecord)
        .where(
            VerificationRecord.owner_key == owner_key,
            VerificationRecord.user_id.is_(None),
            VerificationRecord.kiosk_id.is_(None),
        )
        .values(user_id=user_id)
    ).rowcount
    session.commit()
    return moved


def forget_kiosk_session(session: Session, kiosk_id: str) -> int:
    """A kiosk session leaves nothing behind for the next visitor."""
    deleted = session.execute(
        delete(VerificationRecord).where(VerificationRecord.kiosk_id == kiosk_id)
    ).rowcount
    session.commit()
    return deleted


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def purge_before(session: Session, cutoff: datetime) -> int:
    """Delete every record made before ``cutoff``, whoever it belongs to."""
    deleted = session.execute(
        delete(VerificationRecord).where(VerificationRecord.created_at < cutoff)
    ).rowcount
    session.commit()
    return deleted


# --- export ------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "checked_at",
    "receipt_id",
    "outcome",
    "status",
    "type",
    "invoice_code",
    "invoice_number",
    "issue_date",
    "amount",
    "check_code",
    "verification_count",
)


def export_row(record: VerificationRecord, tz: ZoneInfo) -> tuple:
    """One record as typed values in EXPORT_COLUMNS order: the fields given, nothing more.

    The check time is local and naive: spreadsheets have no time zones.
    """
    return (
        record.created_at.astimezone(tz).replace(tzinfo=None, microsecond=0),
        record.id,
        Outcome(record.outcome),
        Status(record.status) if record.status else None,
        InvoiceType.from_code(record.type_code),
        record.invoice_code,
        record.invoice_number,
        record.issue_date,
        record.amount,
        record.check_code,
        record.verification_count,
    )


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_csv(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """CSV in UTF-8 with a byte order mark, so Excel reads the Chinese right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(_csv_text(value)) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


_XLSX_FORMATS = {datetime: "yyyy-mm-dd hh:mm:ss", date: "yyyy-mm-dd", Decimal: "#,##0.00"}
_XLSX_WIDTHS = (20, 24, 16, 14, 28, 15, 24, 12, 14, 12, 8)


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence], title: str) -> bytes:
    """A workbook with typed cells: dates as dates, amounts as numbers, codes as text."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(list(header))
    for row in rows:
        sheet.append([None if value == "" else xlsx_cell(sheet, value) for value in row])
        for cell, value in zip(sheet[sheet.max_row], row, strict=False):
            number_format = _XLSX_FORMATS.get(type(value))
            if number_format:
                cell.number_format = number_format
    sheet.freeze_panes = "A2"
    for index, width in enumerate(_XLSX_WIDTHS[: len(header)], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
