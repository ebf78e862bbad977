"""The one verification function every entry path ends in (DESIGN 1.4, 2.1)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import bulk, registry
from .db import single_writer, utcnow
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
    # A match's status when no snapshot was taken (bulk checks show no invoice details).
    match_status: Status | None = None

    @property
    def status(self) -> Status | None:
        return self.invoice.status if self.invoice else self.match_status

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


def receipt_id_for(secret: str | bytes, submission_key: str, fields: Mapping[str, str]) -> str:
    """The receipt id of one form submission: its one-time key and the fields sent with it.

    A form sent twice (a double click without JavaScript, a resent request) gives the same
    id, so ``verify`` records and counts it once (``AlreadyRecorded``). The same form sent
    with other fields gives another id. Keyed with the server's secret, so that a client
    cannot choose an id (receipt ids open receipts).
    """
    key = secret.encode() if isinstance(secret, str) else secret
    text = submission_key + "".join(f"\x1f{k}={fields[k]}" for k in sorted(fields))
    digest = hmac.new(key, b"verify-receipt:" + text.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:12]).decode().rstrip("=")


class AlreadyRecorded(Exception):
    """The record with this receipt id exists: the same submission was verified before."""

    def __init__(self, receipt_id: str) -> None:
        super().__init__(receipt_id)
        self.receipt_id = receipt_id


def new_receipt_ids(count: int) -> list[str]:
    """``count`` receipt ids from one read of the random source (bulk checks)."""
    text = base64.b32encode(secrets.token_bytes(15 * count)).decode()
    return [text[i:i + 20] for i in range(0, 24 * count, 24)]


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
    user_id: int | None = None,
    receipt_id: str | None = None,
) -> VerificationResult:
    """Verify one invoice and record the attempt; commits the session.

    ``fields`` are raw form/API/QR fields or an already built request. ``verify_many`` applies
    the very same steps (``screen`` → lookup → ``judge``) to many rows with set-based queries.
    ``receipt_id`` (from ``receipt_id_for``): when a record already has it, nothing is
    counted or recorded and ``AlreadyRecorded`` is raised.
    """
    now = now or utcnow()
    today = local_day(now, settings)
    screened = screen(fields, entry_path=entry_path, type_hint=type_hint, today=today,
                      settings=settings)
    if isinstance(screened, VerificationResult):
        if screened.outcome is Outcome.INVALID:
            # Malformed input is answered, not recorded: it verified nothing.
            return replace(screened, checked_at=now)
        values = record_values(screened.request, now, owner_key, kiosk_id, refused=True,
                               receipt_id=receipt_id)
        values["user_id"] = user_id
        with single_writer(session):
            return _finish(session, values, screened)

    request = screened
    # The signed-in visitor's account, if any, keeps the record in its history.
    values = record_values(request, now, owner_key, kiosk_id, receipt_id=receipt_id)
    values["user_id"] = user_id
    # Reads first, outside the write transaction: the invoice, and its items if it will match.
    invoice = registry.find_invoice_row(session, request.invoice_code, request.invoice_number)
    items = None
    if invoice is not None and not mismatched_fields(request, invoice):
        items = registry.invoice_items(session, invoice.id)
    # Then the writes, back to back, so the database's write lock is held for as short as can be.
    with single_writer(session):
        outcome, disagreeing = judge(
            request,
            invoice,
            lambda invoice_id: _count_attempt(session, invoice_id, today, settings.daily_limit),
        )
        if invoice is not None:
            values["invoice_id"] = invoice.id
        if outcome is not Outcome.MATCH:
            values["mismatch_fields"] = ",".join(disagreeing)
            return _finish(session, values, VerificationResult(outcome, request))
        previous = invoice.last_verified_at
        count = _count_match(session, invoice.id, now)
        values.update(match_values(invoice, count, previous))
        return _finish(
            session,
            values,
            VerificationResult(
                Outcome.MATCH,
                request,
                invoice=registry.snapshot(invoice, items),
                verification_count=count,
                previous_verified_at=previous,
            ),
        )


# --- the steps every verification goes through, one row or many ---------------------------


def local_day(now: datetime, settings: Settings) -> date:
    """The calendar day in the registry's time zone: daily limits restart at its midnight."""
    return now.astimezone(settings.timezone).date()


def seconds_until_limits_restart(now: datetime, settings: Settings) -> int:
    """Whole seconds from ``now`` until the next midnight in the registry's time zone."""
    midnight = datetime.combine(local_day(now, settings) + timedelta(days=1), time(),
                                tzinfo=settings.timezone)
    return max(1, math.ceil((midnight - now).total_seconds()))


def screen(
    fields: Mapping[str, str | None] | VerificationRequest,
    *,
    entry_path: EntryPath,
    type_hint: InvoiceType | None,
    today: date,
    settings: Settings,
) -> VerificationRequest | VerificationResult:
    """A request ready for the registry, or the refusal that ends the check before it.

    Refusals: ``invalid`` (with field errors, nothing recorded) and ``too_old`` /
    ``future_date`` (recorded, but never counted against an invoice).
    """
    if isinstance(fields, VerificationRequest):
        request = fields
    else:
        try:
            request = build_request(fields, entry_path=entry_path, type_hint=type_hint)
        except InvalidRequest as exc:
            return VerificationResult(Outcome.INVALID, errors=exc.errors)
    date_error = check_issue_date(request.issue_date, today, settings.max_age_years)
    if date_error is not None:
        outcome = Outcome.TOO_OLD if date_error.code is ErrorCode.TOO_OLD else Outcome.FUTURE_DATE
        return VerificationResult(outcome, request, errors={"issue_date": date_error})
    return request


def judge(
    request: VerificationRequest,
    invoice: Any,
    count_attempt: Callable[[int], bool],
) -> tuple[Outcome, list[str]]:
    """The outcome for an invoice found (or not) in the registry, and the fields that disagree.

    ``invoice`` is an ``Invoice`` or a row with the same columns. ``count_attempt`` counts one
    attempt against the invoice's daily limit and says whether it was still allowed: every
    attempt that finds the invoice counts, before anything is compared, so nobody can try
    check codes beyond the limit (DESIGN 1.4).
    """
    if invoice is None:
        return Outcome.NOT_FOUND, []
    if not count_attempt(invoice.id):
        return Outcome.LIMIT_EXCEEDED, []
    disagreeing = mismatched_fields(request, invoice)
    if disagreeing:
        return Outcome.MISMATCH, disagreeing
    return Outcome.MATCH, []


def record_values(
    request: VerificationRequest,
    now: datetime,
    owner_key: str | None,
    kiosk_id: str | None,
    *,
    refused: bool = False,
    receipt_id: str | None = None,
) -> dict[str, Any]:
    """The columns of the ``VerificationRecord`` of one attempt, before its outcome is known.

    A refused attempt keeps only what identifies the invoice.
    """
    values: dict[str, Any] = {
        "id": receipt_id or new_receipt_id(),
        "created_at": now,
        "entry_path": request.entry_path.value,
        "invoice_code": request.invoice_code,
        "invoice_number": request.invoice_number,
        "issue_date": request.issue_date,
        "owner_key": owner_key,
        "kiosk_id": kiosk_id,
    }
    if not refused:
        values.update(
            amount=request.amount,
            check_code=request.check_code or "",
            type_code=request.invoice_type.code if request.invoice_type else "",
        )
    return values


def match_values(invoice: Any, count: int | None, previous: datetime | None) -> dict[str, Any]:
    """What a match adds to its record: the invoice's type and status, the check number."""
    return {
        "type_code": invoice.type_code,
        "status": invoice.status,
        "verification_count": count,
        "previous_verified_at": previous,
    }


# --- many rows at once ---------------------------------------------------------------------


@dataclass(frozen=True)
class BulkRow:
    """One row of a bulk check: raw fields (or a built request) and the type a QR code named."""

    fields: Mapping[str, str | None] | VerificationRequest
    type_hint: InvoiceType | None = None


def verify_many(
    session: Session,
    rows: Sequence[BulkRow],
    *,
    entry_path: EntryPath = EntryPath.BATCH,
    settings: Settings = Settings(),
    now: datetime | None = None,
    owner_key: str | None = None,
    user_id: int | None = None,
    commit: bool = True,
) -> list[VerificationResult]:
    """``verify`` for many rows, in row order, with a handful of set-based statements.

    Each row goes through the same ``screen`` and ``judge`` as a single check, so it gets the
    outcome it would get if the rows were checked one after another: a row that finds an
    invoice counts an attempt against its daily limit, the sixth of a day is refused, and each
    match gets the next check number. Results carry no invoice snapshot (``match_status``
    instead). With ``commit=False`` the caller commits, e.g. together with its own rows.
    """
    now = now or utcnow()
    today = local_day(now, settings)
    screened = [
        screen(row.fields, entry_path=entry_path, type_hint=row.type_hint, today=today,
               settings=settings)
        for row in rows
    ]
    requests = [item for item in screened if isinstance(item, VerificationRequest)]
    invoices = registry.find_invoices(
        session, ((request.invoice_code, request.invoice_number) for request in requests)
    )
    # The registry row each screened item found (None: not found, or refused before asking).
    found = [
        invoices.get(registry.lookup_key(item.invoice_code, item.invoice_number))
        if isinstance(item, VerificationRequest) else None
        for item in screened
    ]
    remaining = _count_attempts(
        session, Counter(invoice.id for invoice in found if invoice is not None), today,
        settings.daily_limit,
    )

    def count_attempt(invoice_id: int) -> bool:
        if remaining.get(invoice_id, 0) <= 0:
            return False
        remaining[invoice_id] -= 1
        return True

    judged = [
        judge(item, invoice, count_attempt) if isinstance(item, VerificationRequest) else None
        for item, invoice in zip(screened, found, strict=True)
    ]
    counts = _count_matches(
        session,
        Counter(invoice.id for invoice, verdict in zip(found, judged, strict=True)
                if verdict is not None and verdict[0] is Outcome.MATCH),
        now,
    )

    records: list[dict[str, Any]] = []
    results: list[VerificationResult] = []
    receipt_ids = iter(new_receipt_ids(len(screened)))
    for item, invoice, verdict in zip(screened, found, judged, strict=True):
        if verdict is None:
            assert isinstance(item, VerificationResult)
            if item.outcome is Outcome.INVALID:
                results.append(VerificationResult(Outcome.INVALID, errors=item.errors,
                                                  checked_at=now))
                continue
            values = record_values(item.request, now, owner_key, None, refused=True,
                                   receipt_id=next(receipt_ids))
            request, outcome, errors = item.request, item.outcome, item.errors
            count = previous = status = None
        else:
            request, errors = item, {}
            outcome, disagreeing = verdict
            values = record_values(item, now, owner_key, None, receipt_id=next(receipt_ids))
            values["invoice_id"] = invoice.id if invoice is not None else None
            values["mismatch_fields"] = ",".join(disagreeing)
            count = previous = status = None
            if outcome is Outcome.MATCH:
                # The matches of one invoice take its next check numbers in row order.
                count, previous = counts[invoice.id]
                count += 1
                counts[invoice.id] = (count, now)
                status = Status(invoice.status)
                values.update(match_values(invoice, count, previous))
        values["outcome"] = outcome.value
        values["user_id"] = user_id
        records.append(values)
        results.append(VerificationResult(
            outcome, request, errors=errors, verification_count=count,
            previous_verified_at=previous, receipt_id=values["id"], checked_at=now,
            match_status=status,
        ))
    if records:
        bulk.executemany(session, insert(VerificationRecord.__table__), _with_defaults(records))
    if commit:
        session.commit()
    return results


_RECORD_DEFAULTS = {
    "invoice_id": None,
    "status": None,
    "type_code": "",
    "amount": None,
    "check_code": "",
    "mismatch_fields": "",
    "verification_count": None,
    "previous_verified_at": None,
}


def _with_defaults(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # An executemany needs the same keys in every row.
    return [{**_RECORD_DEFAULTS, **values} for values in records]


def _count_attempts(
    session: Session, wanted: Mapping[int, int], day: date, limit: int
) -> dict[int, int]:
    """Count ``wanted[invoice_id]`` attempts at once; how many of them each limit still allowed.

    One upsert adds every attempt, a read-back tells what the counters were before, and the
    attempts over the limit are taken back. The upsert's row locks (SQLite: the write lock)
    make this as safe under concurrent single checks as ``_count_attempt``.
    """
    if not wanted:
        return {}
    if limit <= 0:
        return {invoice_id: 0 for invoice_id in wanted}
    upsert = _upsert(session)
    if upsert is None:  # another database: one attempt at a time, the single-check way
        return {
            invoice_id: sum(_count_attempt(session, invoice_id, day, limit) for _ in range(n))
            for invoice_id, n in wanted.items()
        }
    table = DailyCounter.__table__
    statement = upsert(table)
    bulk.executemany(
        session,
        statement.on_conflict_do_update(
            index_elements=[table.c.invoice_id, table.c.day],
            set_={"attempts": table.c.attempts + statement.excluded.attempts},
        ),
        [{"invoice_id": invoice_id, "day": day, "attempts": n} for invoice_id, n in wanted.items()],
    )
    after: dict[int, int] = {}
    ids = list(wanted)
    for start in range(0, len(ids), 5000):
        after.update(session.execute(
            select(table.c.invoice_id, table.c.attempts).where(
                table.c.day == day, table.c.invoice_id.in_(ids[start:start + 5000])
            )
        ).all())
    allowed: dict[int, int] = {}
    excess: list[dict[str, int]] = []
    for invoice_id, n in wanted.items():
        before = after[invoice_id] - n
        allowed[invoice_id] = max(0, min(n, limit - before))
        if allowed[invoice_id] < n:
            excess.append({"b_id": invoice_id, "b_excess": n - allowed[invoice_id]})
    if excess:
        bulk.executemany(
            session,
            update(table)
            .where(table.c.invoice_id == bindparam("b_id"), table.c.day == day)
            .values(attempts=table.c.attempts - bindparam("b_excess")),
            excess,
        )
    return allowed


def _upsert(session: Session):
    name = session.get_bind().dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as upsert
    elif name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        return None
    return upsert


def _count_matches(
    session: Session, matched: Mapping[int, int], now: datetime
) -> dict[int, tuple[int, datetime | None]]:
    """Add ``matched[invoice_id]`` successful checks; each invoice's (count, last check) before."""
    if not matched:
        return {}
    table = Invoice.__table__
    ids = list(matched)
    before: dict[int, tuple[int, datetime | None]] = {}
    for start in range(0, len(ids), 5000):
        for invoice_id, count, last in session.execute(
            select(table.c.id, table.c.verification_count, table.c.last_verified_at)
            .where(table.c.id.in_(ids[start:start + 5000]))
            .with_for_update()
        ):
            before[invoice_id] = (count, last)
    bulk.executemany(
        session,
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(verification_count=table.c.verification_count + bindparam("b_n"),
                last_verified_at=now, updated_at=table.c.updated_at),
        [{"b_id": invoice_id, "b_n": n} for invoice_id, n in matched.items()],
    )
    return before


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


_COUNTERS = DailyCounter.__table__
_INVOICES = Invoice.__table__
_COUNT_ATTEMPT_UPSERTS: dict[str, Any] = {}


def _count_attempt_upsert(session: Session) -> Any:
    """The prepared upsert of ``_count_attempt`` for this database; None if it has none."""
    name = session.get_bind().dialect.name
    if name not in _COUNT_ATTEMPT_UPSERTS:
        upsert = _upsert(session)
        statement = None
        if upsert is not None:
            statement = upsert(_COUNTERS).values(
                invoice_id=bindparam("invoice_id"), day=bindparam("day"), attempts=1
            )
            statement = statement.on_conflict_do_update(
                index_elements=[_COUNTERS.c.invoice_id, _COUNTERS.c.day],
                set_={"attempts": _COUNTERS.c.attempts + 1},
                where=_COUNTERS.c.attempts < bindparam("limit"),
            ).returning(_COUNTERS.c.attempts)
        _COUNT_ATTEMPT_UPSERTS[name] = statement
    return _COUNT_ATTEMPT_UPSERTS[name]


def _count_attempt(session: Session, invoice_id: int, day: date, limit: int) -> bool:
    """Count one attempt against today's limit; False when the limit is already reached.

    One statement on SQLite and PostgreSQL: an upsert whose update only applies below the
    limit and returns the new count, so concurrent requests can never pass the limit together.
    """
    if limit <= 0:
        return False
    upsert = _count_attempt_upsert(session)
    if upsert is not None:
        parameters = {"invoice_id": invoice_id, "day": day, "limit": limit}
        return session.connection().execute(upsert, parameters).first() is not None
    # Another database: a conditional UPDATE, or the first INSERT of the day.
    table = _COUNTERS
    counted = session.execute(
        update(table)
        .where(table.c.invoice_id == invoice_id, table.c.day == day, table.c.attempts < limit)
        .values(attempts=table.c.attempts + 1)
    ).rowcount
    if counted:
        return True
    exists = session.scalar(
        select(table.c.attempts).where(table.c.invoice_id == invoice_id, table.c.day == day)
    )
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.execute(insert(table).values(invoice_id=invoice_id, day=day, attempts=1))
    except IntegrityError:  # another request inserted today's row first
        return _count_attempt(session, invoice_id, day, limit)
    return True


_COUNT_MATCH = (
    update(_INVOICES)
    .where(_INVOICES.c.id == bindparam("b_id"))
    .values(verification_count=_INVOICES.c.verification_count + 1,
            last_verified_at=bindparam("b_now"),
            # A check is not a change of the invoice: "Last changed" stays (onupdate skipped).
            updated_at=_INVOICES.c.updated_at)
    .returning(_INVOICES.c.verification_count)
)


def _count_match(session: Session, invoice_id: int, now: datetime) -> int:
    """Add one successful check to the invoice; its check number (查验次数) after that."""
    return session.connection().execute(
        _COUNT_MATCH, {"b_id": invoice_id, "b_now": now}
    ).scalar_one()


_RECORD_INSERT = insert(VerificationRecord.__table__)


def _finish(session: Session, values: dict[str, Any], result: VerificationResult):
    values["outcome"] = result.outcome.value
    try:
        session.connection().execute(_RECORD_INSERT, {**_RECORD_DEFAULTS, **values})
    except IntegrityError:
        # Only a given receipt id can already be taken: its counts are rolled back with it.
        session.rollback()
        if session.get(VerificationRecord, values["id"]) is None:
            raise
        raise AlreadyRecorded(values["id"]) from None
    session.commit()
    return VerificationResult(
        outcome=result.outcome,
        request=result.request,
        errors=result.errors,
        invoice=result.invoice,
        verification_count=result.verification_count,
        previous_verified_at=result.previous_verified_at,
        receipt_id=values["id"],
        checked_at=values["created_at"],
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
