"""Registry upkeep: issuers' files imported in the background, invoices searched, statuses
changed with an audit trail, and what staff may see of an invoice's verifications.

Imports, one transaction per file. A file is read and every line checked first; bad lines are
reported by line number and nothing of them is stored (DESIGN 3.3). The good lines are then
written in ONE transaction together with the job's result. When anything stops it part-way — a
database error, the server restarting, the process being killed — that transaction is rolled
back: the registry is exactly as it was before the file, and the job says so. Running the same
file again is safe (the import is idempotent on code + number). The command line import
(``flask --app app registry import``) and the staff page go through ``import_file`` alike.
"""

from __future__ import annotations

import enum
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import registry
from .accounts import User
from .db import Base, UTCDateTime, utcnow
from .models import Invoice, VerificationRecord
from .normalize import fold
from .paging import Page, within_pages
from .types import EntryPath, InvoiceType, Outcome, Status

log = logging.getLogger(__name__)

# A job that has not reported for this long died with its process; its transaction never
# committed. Saving a 10 MB file takes seconds, so this cannot catch a job still at work.
STALE_AFTER = timedelta(minutes=5)
PROGRESS_EVERY = 0.5  # seconds between progress commits while checking lines
MAX_STORED_ERRORS = 1000  # refused lines kept for the report; the count stays exact
REASON_MAX_LENGTH = 500


class JobState(enum.StrEnum):
    QUEUED = "queued"
    CHECKING = "checking"  # lines read and checked; progress committed as it goes
    SAVING = "saving"  # the good lines written in one transaction
    DONE = "done"
    FAILED = "failed"  # stopped part-way; nothing of the file stored
    # Never stored: an active job whose process died (see STALE_AFTER).
    INTERRUPTED = "interrupted"

    @property
    def is_active(self) -> bool:
        return self in (JobState.QUEUED, JobState.CHECKING, JobState.SAVING)


class ImportJob(Base):
    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The login name is kept as well, so the record outlives the account.
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_by: Mapped[str] = mapped_column(String(254), default="")
    filename: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(8))
    size: Mapped[int] = mapped_column(Integer, default=0)
    # The uploaded file, until the job is done (kept after a failure, to run it again).
    content: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED.value)
    total_lines: Mapped[int] = mapped_column(Integer, default=0)
    lines_checked: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    # JSON list of [line number, reason], the first MAX_STORED_ERRORS of them.
    errors: Mapped[str] = mapped_column(Text, default="[]")
    failure: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    def state_at(self, now: datetime) -> JobState:
        state = JobState(self.state)
        last_sign_of_life = self.heartbeat_at or self.created_at
        if state.is_active and last_sign_of_life < now - STALE_AFTER:
            return JobState.INTERRUPTED
        return state

    @property
    def refused_lines(self) -> list[tuple[int, registry.Reason]]:
        """(line, reason) of the refused lines kept, in file order."""
        return [(int(line), registry.Reason.from_json(reason))
                for line, reason in json.loads(self.errors or "[]")]

    @property
    def percent_checked(self) -> int:
        if not self.total_lines:
            return 100 if self.state == JobState.DONE else 0
        return min(100, self.lines_checked * 100 // self.total_lines)


class InvoiceStatusChange(Base):
    """The audit trail of invoice statuses: who, when, from, to, why.

    Staff changes carry the reason they typed; an import that changes a status names its
    job (none for the command line) and line instead.
    """

    __tablename__ = "invoice_status_changes"
    __table_args__ = (Index("ix_invoice_status_changes_invoice_id", "invoice_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    changed_by: Mapped[str] = mapped_column(String(254), default="")
    import_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_jobs.id", ondelete="SET NULL"), default=None
    )
    import_line: Mapped[int | None] = mapped_column(Integer, default=None)

    @property
    def by_import(self) -> bool:
        return self.import_line is not None


# --- imports ------------------------------------------------------------------------------


class ImportBusy(RuntimeError):
    """Another import is still running; files are imported one after the other."""

    def __init__(self, job: ImportJob) -> None:
        super().__init__(f"import job {job.id} is still running")
        self.job = job


def import_file(
    session: Session,
    data: bytes,
    filename: str,
    *,
    file_format: str | None = None,
    by_id: int | None = None,
    by_name: str = "",
    job_id: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_checked: Callable[[int], None] | None = None,
    commit: bool = True,
    now: Callable[[], datetime] = utcnow,
) -> registry.ImportReport:
    """Import a JSON Lines or CSV file; status changes it makes land in the audit trail.

    Raises ``registry.UnreadableFile`` for an empty file or one that is not one of the two
    formats; any error while writing rolls everything back and is raised.
    """
    file_format = file_format or registry.import_format(filename)
    text = registry.decode_import(data)
    if not text.strip():  # as the staff page refuses it: an import of nothing is a mistake
        raise registry.UnreadableFile("empty", "the file is empty")

    def audit(line: int, invoice_id: int, old: str, new: str) -> None:
        session.add(InvoiceStatusChange(
            invoice_id=invoice_id, changed_at=now(), from_status=old, to_status=new,
            changed_by_id=by_id, changed_by=by_name, import_job_id=job_id, import_line=line,
        ))

    return registry.import_records(
        session, registry.read_records(text, file_format), progress=progress,
        on_checked=on_checked, on_status_change=audit, commit=commit,
    )


def active_job(session: Session, now: datetime | None = None) -> ImportJob | None:
    now = now or utcnow()
    jobs = session.scalars(
        select(ImportJob)
        .where(ImportJob.state.in_([s.value for s in JobState if s.is_active]))
        .order_by(ImportJob.id)
    )
    return next((job for job in jobs if job.state_at(now).is_active), None)


def create_import_job(
    session: Session, filename: str, data: bytes, *, user: User | None = None,
    now: datetime | None = None,
) -> ImportJob:
    """A queued job for an uploaded file, committed; ``run_import_job`` does the work.

    Refuses (``registry.UnreadableFile``) what could never be imported, and (``ImportBusy``)
    while another import is running.
    """
    now = now or utcnow()
    file_format = registry.import_format(filename)
    text = registry.decode_import(data)
    if not text.strip():
        raise registry.UnreadableFile("empty", "the file is empty")
    running = active_job(session, now)
    if running is not None:
        raise ImportBusy(running)
    job = ImportJob(
        created_at=now, heartbeat_at=now, filename=filename[:255], file_format=file_format,
        size=len(data), content=data, total_lines=registry.count_lines(text),
        created_by_id=user.id if user else None, created_by=user.login_name if user else "",
    )
    session.add(job)
    session.commit()
    return job


def _describe(exc: BaseException) -> str:
    """One line for staff: what stopped the import (the full trace goes to the log)."""
    if isinstance(exc, DBAPIError):
        text = f"database error: {exc.orig}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text.splitlines()[0][:300] if text else type(exc).__name__


def run_import_job(
    session: Session, job_id: int, *, now: Callable[[], datetime] = utcnow,
    clock: Callable[[], float] = time.monotonic,
) -> ImportJob | None:
    """Run a queued job to the end: done with its report, or failed with nothing stored.

    Returns None when the job was not queued (another worker took it).
    """
    claimed = session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.state == JobState.QUEUED.value)
        .values(state=JobState.CHECKING.value, started_at=now(), heartbeat_at=now(),
                lines_checked=0)
    ).rowcount
    session.commit()
    if not claimed:
        return None
    job = session.get(ImportJob, job_id)
    data, filename, file_format = job.content or b"", job.filename, job.file_format
    by_id, by_name = job.created_by_id, job.created_by
    # Progress goes through a session of its own, committed while the import's is still open.
    tracker = Session(bind=session.get_bind(), expire_on_commit=False)
    last_report = clock()

    def report_progress(values: dict[str, Any]) -> None:
        tracker.execute(update(ImportJob).where(ImportJob.id == job_id)
                        .values(heartbeat_at=now(), **values))
        tracker.commit()

    def progress(line: int) -> None:
        nonlocal last_report
        if clock() - last_report >= PROGRESS_EVERY:
            last_report = clock()
            report_progress({"lines_checked": line})

    def checked(_good: int) -> None:
        report_progress({"lines_checked": job.total_lines, "state": JobState.SAVING.value})

    try:
        report = import_file(
            session, data, filename, file_format=file_format, by_id=by_id, by_name=by_name,
            job_id=job_id, progress=progress, on_checked=checked, commit=False, now=now,
        )
        job = session.get(ImportJob, job_id)
        job.state = JobState.DONE.value
        job.lines_checked = job.total_lines
        job.added, job.updated, job.refused = report.added, report.updated, report.refused
        job.errors = json.dumps(
            [(line, reason.to_json()) for line, reason in report.errors[:MAX_STORED_ERRORS]],
            ensure_ascii=False,
        )
        job.finished_at = job.heartbeat_at = now()
        job.content = None
        session.commit()  # the invoices and the job's result, together
        return job
    except Exception as exc:
        session.rollback()
        log.exception("import job %s failed; nothing of %r was stored", job_id, filename)
        report_progress({"state": JobState.FAILED.value, "failure": _describe(exc),
                         "finished_at": now()})
        session.expire_all()
        return session.get(ImportJob, job_id)
    finally:
        tracker.close()


def requeue_import_job(session: Session, job_id: int, now: datetime | None = None) -> ImportJob:
    """Queue a failed or interrupted job again, with the file it kept."""
    now = now or utcnow()
    job = session.get(ImportJob, job_id)
    if job is None or job.content is None or job.state_at(now) not in (
        JobState.FAILED, JobState.INTERRUPTED
    ):
        raise ValueError("only a failed or interrupted import that kept its file runs again")
    running = active_job(session, now)
    if running is not None and running.id != job_id:
        raise ImportBusy(running)
    job.state = JobState.QUEUED.value
    job.lines_checked = job.added = job.updated = job.refused = 0
    job.errors, job.failure = "[]", ""
    job.started_at = job.finished_at = None
    job.heartbeat_at = now
    session.commit()
    return job


def recent_jobs(session: Session, limit: int = 20) -> list[ImportJob]:
    return list(session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)))


# --- search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceQuery:
    code: str = ""  # beginning of the invoice code
    number: str = ""  # beginning of the invoice number
    party: str = ""  # part of the seller's or buyer's name or tax ID
    date_from: date | None = None
    date_to: date | None = None
    invoice_type: InvoiceType | None = None
    status: Status | None = None


@dataclass(frozen=True)
class ResultPage(Page):
    rows: list[Any] = field(default_factory=list)


def _page(session: Session, query, order, page: int, per_page: int) -> ResultPage:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = within_pages(page, total, per_page)
    rows = session.execute(query.order_by(*order).limit(per_page).offset((page - 1) * per_page))
    return ResultPage(total=total, page=page, per_page=per_page, rows=list(rows))


SEARCH_COLUMNS = (
    Invoice.id, Invoice.type_code, Invoice.invoice_code, Invoice.invoice_number,
    Invoice.issue_date, Invoice.total, Invoice.status, Invoice.seller_name, Invoice.buyer_name,
)


def search_invoices(
    session: Session, query: InvoiceQuery, *, page: int = 1, per_page: int = 25
) -> ResultPage:
    """Invoices matching every criterion given, newest issue date first."""
    statement = select(*SEARCH_COLUMNS)
    if query.code:
        statement = statement.where(Invoice.invoice_code.startswith(fold(query.code), autoescape=True))
    if query.number:
        statement = statement.where(
            Invoice.invoice_number.startswith(fold(query.number), autoescape=True)
        )
    if query.party:
        text = fold(query.party)
        statement = statement.where(or_(
            *(column.icontains(text, autoescape=True) for column in (
                Invoice.seller_name, Invoice.buyer_name, Invoice.seller_tax_id,
                Invoice.buyer_tax_id,
            ))
        ))
    if query.date_from:
        statement = statement.where(Invoice.issue_date >= query.date_from)
    if query.date_to:
        statement = statement.where(Invoice.issue_date <= query.date_to)
    if query.invoice_type:
        statement = statement.where(Invoice.type_code == query.invoice_type.code)
    if query.status:
        statement = statement.where(Invoice.status == query.status.value)
    return _page(session, statement, (Invoice.issue_date.desc(), Invoice.id.desc()), page, per_page)


# --- one invoice: its history and its verifications ---------------------------------------


def status_history(session: Session, invoice_id: int) -> list[InvoiceStatusChange]:
    """Every status change of an invoice, newest first."""
    return list(session.scalars(
        select(InvoiceStatusChange)
        .where(InvoiceStatusChange.invoice_id == invoice_id)
        .order_by(InvoiceStatusChange.changed_at.desc(), InvoiceStatusChange.id.desc())
    ))


@dataclass(frozen=True)
class LoggedVerification:
    """One check of an invoice as staff see it: nothing about who checked it."""

    receipt_id: str
    checked_at: datetime
    entry_path: EntryPath
    outcome: Outcome
    status: Status | None
    verification_count: int | None
    disagreeing: tuple[str, ...]


# Deliberately no owner_key, user or kiosk: the log says how and with what result, not by whom.
LOG_COLUMNS = (
    VerificationRecord.id, VerificationRecord.created_at, VerificationRecord.entry_path,
    VerificationRecord.outcome, VerificationRecord.status,
    VerificationRecord.verification_count, VerificationRecord.mismatch_fields,
)


def verification_log(
    session: Session, invoice_id: int, *, page: int = 1, per_page: int = 50
) -> ResultPage:
    """The verifications that found this invoice, newest first."""
    statement = select(*LOG_COLUMNS).where(VerificationRecord.invoice_id == invoice_id)
    result = _page(
        session, statement,
        (VerificationRecord.created_at.desc(), VerificationRecord.id.desc()), page, per_page,
    )
    rows = [
        LoggedVerification(
            receipt_id=row.id,
            checked_at=row.created_at,
            entry_path=EntryPath(row.entry_path),
            outcome=Outcome(row.outcome),
            status=Status(row.status) if row.status else None,
            verification_count=row.verification_count,
            disagreeing=tuple(name for name in row.mismatch_fields.split(",") if name),
        )
        for row in result.rows
    ]
    return ResultPage(total=result.total, page=result.page, per_page=result.per_page, rows=rows)


# --- status changes -----------------------------------------------------------------------

# Where staff may move an invoice's status. An issuer's file may set any status (it is the
# issuer's own record), and is audited the same way.
ALLOWED_TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.NORMAL: (Status.VOID, Status.RED_REVERSED, Status.OUT_OF_CONTROL, Status.ABNORMAL),
    # Flags of the tax authority, lifted when the matter is cleared.
    Status.OUT_OF_CONTROL: (Status.NORMAL,),
    Status.ABNORMAL: (Status.NORMAL,),
    # Final. A voided invoice was cancelled by its issuer, and a red-reversed one by a red
    # (negative) invoice that stays in the books: bringing either back to "normal" would make
    # a cancelled invoice count twice. The issuer issues a new invoice instead; a status set
    # here by mistake is corrected by the issuer's own file.
    Status.VOID: (),
    Status.RED_REVERSED: (),
}


class StatusChangeRefused(ValueError):
    """A status change that cannot be made; ``reason`` says why, for the words shown."""

    def __init__(self, reason: str, current: Status | None = None) -> None:
        super().__init__(reason)
        self.reason = reason  # not_found | reason_required | reason_too_long | changed_meanwhile | not_allowed
        self.current = current


def allowed_targets(status: Status) -> tuple[Status, ...]:
    return ALLOWED_TRANSITIONS[status]


def change_status(
    session: Session,
    invoice_id: int,
    new_status: Status,
    reason: str,
    *,
    expected: Status,
    by: User,
    now: datetime | None = None,
) -> InvoiceStatusChange:
    """Move an invoice to ``new_status`` and record it; commits.

    ``expected`` is the status the staff member saw: when someone changed it meanwhile the
    change is refused rather than made on a status nobody looked at.
    """
    reason = reason.strip()
    if not reason:
        raise StatusChangeRefused("reason_required")
    if len(reason) > REASON_MAX_LENGTH:
        raise StatusChangeRefused("reason_too_long")
    current = session.scalar(select(Invoice.status).where(Invoice.id == invoice_id))
    if current is None:
        raise StatusChangeRefused("not_found")
    current = Status(current)
    if current is not expected:
        raise StatusChangeRefused("changed_meanwhile", current)
    if new_status not in allowed_targets(current):
        raise StatusChangeRefused("not_allowed", current)
    # Conditional, so two people changing the same invoice at once cannot both succeed.
    changed = session.execute(
        update(Invoice)
        .where(Invoice.id == invoice_id, Invoice.status == current.value)
        .values(status=new_status.value)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if not changed:
        session.rollback()
        raise StatusChangeRefused("changed_meanwhile")
    change = InvoiceStatusChange(
        invoice_id=invoice_id, changed_at=now or utcnow(), from_status=current.value,
        to_status=new_status.value, reason=reason, changed_by_id=by.id,
        changed_by=by.login_name,
    )
    session.add(change)
    session.commit()
    return change
