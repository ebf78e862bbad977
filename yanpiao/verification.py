"""The one verification function every entry path ends in (DESIGN 1.4, 2.1)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import registry
from .db import utcnow
from .models import DailyCounter, Invoice, VerificationRecord
from .requests import (
    ErrorCode,
    FieldError,
    InvalidRequest,
    VerificationRequest,
    build_request,
    check_issue_date,
)
from .types import EntryPath, ExtraField, InvoiceType, Outcome, Status

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Settings:
    daily_limit: int = 5
    max_age_years: int = 5
    timezone: ZoneInfo = CHINA


@dataclass(frozen=True)
class VerificationResult:
    outcome: Outcome
    request: VerificationRequest | None = None
    errors: Mapping[str, FieldError] = field(default_factory=dict)
    invoice: registry.InvoiceSnapshot | None = None  # only on a match
    # Number of this successful check (查验次数), and the previous one's time.
    verification_count: int | None = None
    previous_verified_at: datetime | None = None
    receipt_id: str | None = None
    checked_at: datetime | None = None

    @property
    def status(self) -> Status | None:
        return self.invoice.status if self.invoice else None

    @property
    def is_valid(self) -> bool:
        """Genuine and in force: the one result shown as a success."""
        return self.outcome is Outcome.MATCH and self.status is Status.NORMAL

    @property
    def is_duplicate_use(self) -> bool:
        return (self.verification_count or 0) > 1


def new_receipt_id() -> str:
    """20 characters of base32: unguessable, easy to read aloud or type."""
    return base64.b32encode(secrets.token_bytes(12)).decode().rstrip("=")


def verify(
    session: Session,
    fields: Mapping[str, str | None] | VerificationRequest,
    *,
    entry_path: EntryPath = EntryPath.TYPED,
    type_hint: InvoiceType | None = None,
    settings: Settings = Settings(),
    now: datetime | None = None,
    owner_key: str | None = None,
    kiosk_id: str | None = None,
) -> VerificationResult:
    """Verify one invoice and record the attempt; commits the session.

    ``fields`` are raw form/API/QR fields or an already built request.
    """
    now = now or utcnow()
    today = now.astimezone(settings.timezone).date()
    if isinstance(fields, VerificationRequest):
        request = fields
    else:
        try:
            request = build_request(fields, entry_path=entry_path, type_hint=type_hint)
        except InvalidRequest as exc:
            # Malformed input is answered, not recorded: it verified nothing.
            return VerificationResult(Outcome.INVALID, errors=exc.errors, checked_at=now)
    date_error = check_issue_date(request.issue_date, today, settings.max_age_years)
    if date_error is not None:
        return _refused(session, date_error, request, now, owner_key, kiosk_id)

    record = VerificationRecord(
        id=new_receipt_id(),
        created_at=now,
        entry_path=request.entry_path.value,
        invoice_code=request.invoice_code,
        invoice_number=request.invoice_number,
        issue_date=request.issue_date,
        amount=request.amount,
        check_code=request.check_code or "",
        type_code=request.invoice_type.code if request.invoice_type else "",
        owner_key=owner_key,
        kiosk_id=kiosk_id,
    )
    invoice = registry.find_invoice(session, request.invoice_code, request.invoice_number)
    if invoice is None:
        return _finish(session, record, VerificationResult(Outcome.NOT_FOUND, request))

    record.invoice_id = invoice.id
    if not _count_attempt(session, invoice.id, today, settings.daily_limit):
        return _finish(session, record, VerificationResult(Outcome.LIMIT_EXCEEDED, request))

    disagreeing = mismatched_fields(request, invoice)
    if disagreeing:
        record.mismatch_fields = ",".join(disagreeing)
        return _finish(session, record, VerificationResult(Outcome.MISMATCH, request))

    previous = invoice.last_verified_at
    session.execute(
        update(Invoice)
        .where(Invoice.id == invoice.id)
        .values(verification_count=Invoice.verification_count + 1, last_verified_at=now)
    )
    count = session.scalar(select(Invoice.verification_count).where(Invoice.id == invoice.id))
    record.type_code = invoice.type_code
    record.status = invoice.status
    record.verification_count = count
    record.previous_verified_at = previous
    snapshot = registry.snapshot(invoice)
    return _finish(
        session,
        record,
        VerificationResult(
            Outcome.MATCH,
            request,
            invoice=snapshot,
            verification_count=count,
            previous_verified_at=previous,
        ),
    )


def mismatched_fields(request: VerificationRequest, invoice: Invoice) -> list[str]:
    """The supplied fields that disagree with the stored invoice (empty when all agree)."""
    wrong = []
    if request.invoice_type is not None and request.invoice_type.code != invoice.type_code:
        wrong.append("type")
    if request.issue_date != invoice.issue_date:
        wrong.append("issue_date")
    expected = expected_extra_value(invoice)
    if request.extra_field is ExtraField.CHECK_CODE:
        if request.check_code != expected:
            wrong.append("check_code")
    elif request.amount != expected:
        wrong.append("amount")
    return wrong


def expected_extra_value(invoice: Invoice) -> Decimal | str:
    """What the invoice's one extra field must be: an amount, or the check code's tail."""
    extra = InvoiceType(invoice.type_code).extra_field
    if extra is ExtraField.CHECK_CODE:
        return invoice.check_code[-6:]
    if extra is ExtraField.PRETAX_AMOUNT:
        return invoice.amount
    return invoice.total


def _count_attempt(session: Session, invoice_id: int, day: date, limit: int) -> bool:
    """Count one attempt against today's limit; False when the limit is already reached.

    A single conditional UPDATE (or the first INSERT of the day) keeps this right under
    concurrent requests on SQLite and PostgreSQL alike.
    """
    counted = session.execute(
        update(DailyCounter)
        .where(
            DailyCounter.invoice_id == invoice_id,
            DailyCounter.day == day,
            DailyCounter.attempts < limit,
        )
        .values(attempts=DailyCounter.attempts + 1)
    ).rowcount
    if counted:
        return True
    if limit <= 0:
        return False
    exists = session.scalar(
        select(DailyCounter.attempts).where(
            DailyCounter.invoice_id == invoice_id, DailyCounter.day == day
        )
    )
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.execute(insert(DailyCounter).values(invoice_id=invoice_id, day=day, attempts=1))
    except IntegrityError:  # another request inserted today's row first
        return _count_attempt(session, invoice_id, day, limit)
    return True


def _refused(session, error, request, now, owner_key, kiosk_id) -> VerificationResult:
    outcome = Outcome.TOO_OLD if error.code is ErrorCode.TOO_OLD else Outcome.FUTURE_DATE
    record = VerificationRecord(
        id=new_receipt_id(),
        created_at=now,
        entry_path=request.entry_path.value,
        invoice_code=request.invoice_code,
        invoice_number=request.invoice_number,
        issue_date=request.issue_date,
        owner_key=owner_key,
        kiosk_id=kiosk_id,
    )
    return _finish(
        session, record, VerificationResult(outcome, request, errors={"issue_date": error})
    )


def _finish(session: Session, record: VerificationRecord, result: VerificationResult):
    record.outcome = result.outcome.value
    session.add(record)
    session.commit()
    return VerificationResult(
        outcome=result.outcome,
        request=result.request,
        errors=result.errors,
        invoice=result.invoice,
        verification_count=result.verification_count,
        previous_verified_at=result.previous_verified_at,
        receipt_id=record.id,
        checked_at=record.created_at,
    )


def result_from_record(
    session: Session, record: VerificationRecord, settings: Settings = Settings()
) -> VerificationResult:
    """A stored verification shown again: the outcome and status as they were then."""
    request = None
    if record.issue_date is not None:
        extra = (
            ExtraField.CHECK_CODE
            if record.check_code
            else ExtraField.TOTAL
            if len(record.invoice_number) == 20
            else ExtraField.PRETAX_AMOUNT
        )
        request = VerificationRequest(
            invoice_number=record.invoice_number,
            issue_date=record.issue_date,
            extra_field=extra,
            invoice_code=record.invoice_code,
            invoice_type=InvoiceType.from_code(record.type_code),
            amount=record.amount,
            check_code=record.check_code or None,
            entry_path=EntryPath(record.entry_path),
        )
    outcome = Outcome(record.outcome)
    invoice = None
    if outcome is Outcome.MATCH and record.invoice_id is not None:
        stored = session.get(Invoice, record.invoice_id)
        if stored is not None:
            invoice = replace(registry.snapshot(stored), status=Status(record.status))
    errors = {}
    if outcome in (Outcome.TOO_OLD, Outcome.FUTURE_DATE):
        code = ErrorCode.TOO_OLD if outcome is Outcome.TOO_OLD else ErrorCode.FUTURE_DATE
        errors = {"issue_date": FieldError(code, {"years": settings.max_age_years})}
    return VerificationResult(
        outcome=outcome,
        request=request,
        errors=errors,
        invoice=invoice,
        verification_count=record.verification_count,
        previous_verified_at=record.previous_verified_at,
        receipt_id=record.id,
        checked_at=record.created_at,
    )
