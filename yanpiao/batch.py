"""Batch verification: a job per uploaded file, checked in chunks outside the request.

The job row is the truth every page and API call reads: a reload, a second tab or another
server process sees the same job. The rows are checked by ``verification.verify_many`` with the
rules of a single check; each chunk's results, records, counters and the job's progress are
committed together, so a job whose process died resumes where its last chunk ended.
"""

from __future__ import annotations

import enum
import json
from contextlib import contextmanager
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from . import accounts  # noqa: F401  (users, whom jobs belong to)
from . import bulk, registry
from .batch_files import BatchFileError, InputRow, read_upload
from .db import Base, UTCDateTime, utcnow
from .paging import Page, within_pages
from .requests import FIELDS, FieldError
from .types import EntryPath, Outcome, Status
from .verification import BulkRow, Settings, VerificationResult, verify_many

log = logging.getLogger(__name__)

TABLE_CHUNK = 5000
ZIP_CHUNK = 10  # decoding images is slow: commit progress often
STALE_AFTER = timedelta(seconds=120)
SQLITE_CACHE_KIB = 32 * 1024


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def is_finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED)


class RowProblem(enum.StrEnum):
    """Why a file of a ZIP or a row of a list gave no invoice to check (field errors use
    ``ErrorCode``)."""

    UNREADABLE_FILE = "unreadable_file"
    NO_INVOICE_QR = "no_invoice_qr"
    # A list's row whose code or number the spreadsheet kept as a number, without its last
    # digits: checking what is left would report a genuine invoice as not found.
    DIGITS_LOST = "digits_lost"
    # A CSV row with a double quote left open, which took in the lines after it.
    UNCLOSED_QUOTE = "unclosed_quote"


class BatchJob(Base):
    __tablename__ = "batch_jobs"
    __table_args__ = (Index("ix_batch_jobs_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Which runner owns the job: a second runner (after a stale heartbeat) takes it over.
    runner: Mapped[str] = mapped_column(String(16), default="")
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED.value)
    kind: Mapped[str] = mapped_column(String(8))  # csv, xlsx, zip
    filename: Mapped[str] = mapped_column(String(255), default="")
    via: Mapped[str] = mapped_column(String(8), default="web")  # web or api
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    problem: Mapped[str] = mapped_column(String(32), default="")
    # The uploaded file until the job is done; rows are read from it again on a resume.
    upload: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)

    @property
    def state_enum(self) -> JobState:
        return JobState(self.state)

    @property
    def is_finished(self) -> bool:
        return self.state_enum.is_finished

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)


class BatchRow(Base):
    """One checked row: the fields as given, the outcome, and why a row could not be checked."""

    __tablename__ = "batch_rows"
    __table_args__ = (Index("ix_batch_rows_job_id_outcome", "job_id", "outcome"),)

    job_id: Mapped[str] = mapped_column(
        ForeignKey("batch_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(255), default="")
    invoice_code: Mapped[str] = mapped_column(String(64), default="")
    invoice_number: Mapped[str] = mapped_column(String(64), default="")
    issue_date: Mapped[str] = mapped_column(String(64), default="")
    amount: Mapped[str] = mapped_column(String(64), default="")
    check_code: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(16), default=None)
    verification_count: Mapped[int | None] = mapped_column(Integer, default=None)
    # The first row of the file with the same invoice (code and number), when this repeats it.
    duplicate_of: Mapped[int | None] = mapped_column(Integer, default=None)
    invoice_key: Mapped[str | None] = mapped_column(String(40), default=None)
    # [[field, code, params], ...] as JSON: the reasons of invalid and refused rows.
    errors: Mapped[str] = mapped_column(Text, default="")
    receipt_id: Mapped[str | None] = mapped_column(String(24), default=None)

    @property
    def outcome_enum(self) -> Outcome:
        return Outcome(self.outcome)

    @property
    def status_enum(self) -> Status | None:
        return Status(self.status) if self.status else None

    @property
    def is_valid(self) -> bool:
        return self.outcome == Outcome.MATCH and self.status == Status.NORMAL

    def reasons(self) -> list[tuple[str, str, dict]]:
        """(field, code, params) of each reason; codes are ``ErrorCode`` or ``RowProblem``."""
        return [tuple(item) for item in json.loads(self.errors)] if self.errors else []


# --- creating and finding jobs ----------------------------------------------------------------


def new_job_id() -> str:
    return secrets.token_urlsafe(12)


def create_job(
    session: Session, user_id: int, data: bytes, filename: str, kind: str, *, via: str = "web",
    now: datetime | None = None,
) -> BatchJob:
    job = BatchJob(
        id=new_job_id(), user_id=user_id, created_at=now or utcnow(), kind=kind,
        filename=filename[:255], via=via, upload=data, state=JobState.QUEUED.value,
    )
    session.add(job)
    session.commit()
    return job


def find_job(session: Session, job_id: str, user_id: int) -> BatchJob | None:
    """The job if it is this user's: nobody sees another's jobs, not even that they exist."""
    return session.scalar(
        select(BatchJob).where(BatchJob.id == job_id, BatchJob.user_id == user_id)
    )


def recent_jobs(session: Session, user_id: int, limit: int = 20) -> list[BatchJob]:
    return list(session.scalars(
        select(BatchJob).where(BatchJob.user_id == user_id)
        .order_by(BatchJob.created_at.desc()).limit(limit)
    ))


def needs_runner(job: BatchJob, now: datetime | None = None) -> bool:
    """An unfinished job that nobody is working on (its process died or restarted)."""
    if job.is_finished:
        return False
    now = now or utcnow()
    last_sign = job.heartbeat_at or job.created_at
    return now - last_sign > STALE_AFTER


# --- running ----------------------------------------------------------------------------------


Decoder = Callable[[bytes], tuple[dict[str, str] | None, Any, RowProblem | None]]


def run_job(
    session_factory: sessionmaker,
    job_id: str,
    *,
    settings: Settings = Settings(),
    decoder: Decoder | None = None,
    now: Callable[[], datetime] = utcnow,
    chunk_size: int | None = None,
) -> JobState | None:
    """Check every row of a job not checked yet; None when another runner has the job."""
    runner = secrets.token_hex(8)
    with session_factory() as session:
        if not _claim(session, job_id, runner, now()):
            return None
        job = session.get(BatchJob, job_id)
        try:
            parsed = read_upload(job.upload or b"", job.filename)
        except BatchFileError as exc:
            session.expunge(job)
            return _end(session, job_id, runner, JobState.FAILED, now(), problem=exc.problem.value)
        if parsed.kind != "zip":
            # The rows are read: the file's bytes need not stay in memory while they are checked.
            session.expunge(job)
            job = _JobRef(job.id, job.processed_rows)
        try:
            with _big_page_cache(session):
                _run_rows(session, job, runner, parsed, settings, decoder, now, chunk_size)
        except _LostJob:
            session.rollback()
            return None
        except Exception:
            log.exception("batch job %s failed", job_id)
            session.rollback()
            return _end(session, job_id, runner, JobState.FAILED, now(), problem="internal")
        return _end(session, job_id, runner, JobState.DONE, now())


@contextmanager
def _big_page_cache(session: Session):
    """A larger SQLite page cache while a job runs, then the default again.

    Each chunk probes the registry's index and inserts into several indexes at random places;
    with SQLite's default 2 MB cache a 100,000-row job re-reads the same pages thousands of
    times. The connection goes back to the pool afterwards, so it gets its default back.
    """
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    connection = session.connection()
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    session.commit()
    try:
        yield
    finally:
        session.rollback()
        session.connection().exec_driver_sql(f"PRAGMA cache_size={int(previous)}")
        session.commit()


@dataclass(frozen=True)
class _JobRef:
    id: str
    processed_rows: int


class _LostJob(Exception):
    """Another runner took the job over."""


def _claim(session: Session, job_id: str, runner: str, now: datetime) -> bool:
    stale = now - STALE_AFTER
    claimed = session.execute(
        update(BatchJob)
        .where(
            BatchJob.id == job_id,
            or_(
                BatchJob.state == JobState.QUEUED.value,
                BatchJob.heartbeat_at.is_(None),
                BatchJob.heartbeat_at < stale,
            ),
            BatchJob.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]),
        )
        .values(state=JobState.RUNNING.value, runner=runner, heartbeat_at=now,
                started_at=func.coalesce(BatchJob.started_at, now))
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return bool(claimed)


def _end(session, job_id, runner, state: JobState, now, problem: str = "") -> JobState | None:
    values: dict[str, Any] = {"state": state.value, "finished_at": now, "heartbeat_at": now,
                              "problem": problem}
    if state is JobState.DONE:
        values["upload"] = None  # the results are kept; the file is not needed any more
    ended = session.execute(
        update(BatchJob).where(BatchJob.id == job_id, BatchJob.runner == runner).values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return state if ended else None


def _run_rows(session, job, runner, parsed, settings, decoder, now, chunk_size) -> None:
    zipped = parsed.kind == "zip"
    size = chunk_size or (ZIP_CHUNK if zipped else TABLE_CHUNK)
    done = job.processed_rows
    _touch(session, job.id, runner, now(), total_rows=parsed.total)
    session.commit()
    first_rows = dict(session.execute(
        select(BatchRow.invoice_key, func.min(BatchRow.row_number))
        .where(BatchRow.job_id == job.id, BatchRow.invoice_key.is_not(None))
        .group_by(BatchRow.invoice_key)
    ).all())
    source = _zip_rows(parsed, done, decoder) if zipped else _table_rows(parsed, done)
    for chunk in bulk.chunks(source, size):
        stamp = now()
        results = verify_many(
            session,
            [BulkRow(row.fields, hint) for row, hint, _problem in chunk if _problem is None],
            entry_path=EntryPath.BATCH, settings=settings, now=stamp, commit=False,
        )
        values = _row_values(job.id, chunk, iter(results), first_rows)
        bulk.executemany(session, insert(BatchRow.__table__), values)
        done += len(chunk)
        if not _touch(session, job.id, runner, stamp, processed_rows=done):
            raise _LostJob
        session.commit()


def _touch(session, job_id, runner, now, **values) -> bool:
    return bool(session.execute(
        update(BatchJob).where(BatchJob.id == job_id, BatchJob.runner == runner)
        .values(heartbeat_at=now, **values)
        .execution_options(synchronize_session=False)
    ).rowcount)


def _table_rows(parsed, start: int) -> Iterator[tuple[InputRow, Any, RowProblem | None]]:
    for row in parsed.rows(start):
        yield row, None, RowProblem(row.problem) if row.problem else None


def _zip_rows(parsed, start: int, decoder: Decoder | None):
    decode = decoder or decode_invoice_file
    for index, (name, data) in enumerate(parsed.members(start), start=start + 1):
        if data is None:
            fields, hint, problem = None, None, RowProblem.UNREADABLE_FILE
        else:
            fields, hint, problem = decode(data)
        yield InputRow(index, fields or {}, source=name), hint, problem


def decode_invoice_file(data: bytes):
    """(QR fields, invoice type, None) of an invoice image, PDF or OFD, or the problem."""
    from . import efiles, qr
    from .decoder import DecodeError, Reason

    try:
        texts = efiles.decode_file(data)
    except DecodeError as exc:
        # A sharp picture without any code is read well: it has no invoice QR code.
        problem = RowProblem.NO_INVOICE_QR if exc.reason is Reason.NO_CODE else \
            RowProblem.UNREADABLE_FILE
        return None, None, problem
    except Exception:  # a damaged or unsupported file is one bad row, not a failed job
        return None, None, RowProblem.UNREADABLE_FILE
    found = qr.find_invoice_payload(texts)
    if found is None:
        return None, None, RowProblem.NO_INVOICE_QR
    payload = qr.parse_qr_payload(found) if isinstance(found, str) else found
    return dict(payload.fields()), payload.invoice_type, None


def _row_values(job_id, chunk, results: Iterator[VerificationResult], first_rows) -> list[dict]:
    values = []
    for row, _hint, problem in chunk:
        given = {name: str(row.fields.get(name) or "")[:64] for name in FIELDS}
        item = {"job_id": job_id, "row_number": row.number, "source": row.source[:255],
                "duplicate_of": None, "invoice_key": None, "status": None,
                "verification_count": None, "receipt_id": None, **given}
        if problem is not None:
            item.update(outcome=Outcome.INVALID.value,
                        errors=json.dumps([["file", problem.value, {}]]))
            values.append(item)
            continue
        result = next(results)
        item.update(
            outcome=result.outcome.value,
            status=result.status.value if result.status else None,
            verification_count=result.verification_count,
            receipt_id=result.receipt_id,
            errors=_errors_json(result.errors),
        )
        if result.request is not None:
            code, number = registry.lookup_key(result.request.invoice_code,
                                               result.request.invoice_number)
            key = f"{code}:{number}"
            item["invoice_key"] = key
            first = first_rows.setdefault(key, row.number)
            if first != row.number:
                item["duplicate_of"] = first
        values.append(item)
    return values


def _errors_json(errors: dict[str, FieldError]) -> str:
    if not errors:
        return ""
    return json.dumps(
        [[name, error.code.value, {k: str(v) for k, v in error.params.items()}]
         for name, error in errors.items()],
        ensure_ascii=False,
    )


# --- results ----------------------------------------------------------------------------------


@dataclass
class Summary:
    total: int = 0
    outcomes: dict[Outcome, int] = field(default_factory=dict)
    statuses: dict[Status, int] = field(default_factory=dict)
    duplicates: int = 0

    @property
    def valid(self) -> int:
        return self.statuses.get(Status.NORMAL, 0)

    @property
    def warnings(self) -> int:
        """Genuine invoices that must not be accepted: void, red-reversed, …"""
        return sum(n for status, n in self.statuses.items() if status is not Status.NORMAL)


def summarize(session: Session, job_id: str) -> Summary:
    summary = Summary()
    for outcome, status, count in session.execute(
        select(BatchRow.outcome, BatchRow.status, func.count())
        .where(BatchRow.job_id == job_id).group_by(BatchRow.outcome, BatchRow.status)
    ):
        outcome = Outcome(outcome)
        summary.total += count
        summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + count
        if outcome is Outcome.MATCH and status:
            summary.statuses[Status(status)] = summary.statuses.get(Status(status), 0) + count
    summary.duplicates = session.scalar(
        select(func.count()).select_from(BatchRow)
        .where(BatchRow.job_id == job_id, BatchRow.duplicate_of.is_not(None))
    ) or 0
    summary.outcomes = {o: summary.outcomes[o] for o in Outcome if o in summary.outcomes}
    summary.statuses = {s: summary.statuses[s] for s in Status if s in summary.statuses}
    return summary


class RowFilter(enum.StrEnum):
    """The per-row table's filters, besides one outcome or one status."""

    ALL = "all"
    VALID = "valid"  # match and normal
    WARNINGS = "warnings"  # match with another status
    PROBLEMS = "problems"  # everything but a valid invoice
    DUPLICATES = "duplicates"


def _filtered(query, job_id: str, show: str):
    query = query.where(BatchRow.job_id == job_id)
    if show == RowFilter.VALID:
        return query.where(BatchRow.outcome == Outcome.MATCH.value,
                           BatchRow.status == Status.NORMAL.value)
    if show == RowFilter.WARNINGS:
        return query.where(BatchRow.outcome == Outcome.MATCH.value,
                           BatchRow.status != Status.NORMAL.value)
    if show == RowFilter.PROBLEMS:
        return query.where(or_(BatchRow.outcome != Outcome.MATCH.value,
                               BatchRow.status != Status.NORMAL.value))
    if show == RowFilter.DUPLICATES:
        return query.where(BatchRow.duplicate_of.is_not(None))
    if show in {o.value for o in Outcome}:
        return query.where(BatchRow.outcome == show)
    if show in {s.value for s in Status}:
        return query.where(BatchRow.outcome == Outcome.MATCH.value, BatchRow.status == show)
    return query


FILTERS = (*(f.value for f in RowFilter), *(o.value for o in Outcome), *(s.value for s in Status))


@dataclass(frozen=True)
class RowPage(Page):
    rows: list[BatchRow] = field(default_factory=list)


def page_of_rows(
    session: Session, job_id: str, show: str = RowFilter.ALL, page: int = 1, per_page: int = 50,
    *, clamp: bool = False,
) -> RowPage:
    """One page of rows in file order; its ``total`` is how many rows the filter matches.
    ``clamp`` makes a page past the last (a stale link) the last page, for people; the API
    answers it with no rows, the end its clients page to."""
    count = session.scalar(_filtered(select(func.count()).select_from(BatchRow), job_id, show))
    if clamp:
        page = within_pages(page, count or 0, per_page)
    rows = session.scalars(
        _filtered(select(BatchRow), job_id, show)
        .order_by(BatchRow.row_number).offset((page - 1) * per_page).limit(per_page)
    )
    return RowPage(total=count or 0, page=page, per_page=per_page, rows=list(rows))


def iter_rows(session: Session, job_id: str, show: str = RowFilter.ALL,
              batch: int = 1000) -> Iterator[BatchRow]:
    """Every row in file order, read in slices: for downloads of 100,000 rows."""
    last = 0
    while True:
        rows = list(session.scalars(
            _filtered(select(BatchRow), job_id, show).where(BatchRow.row_number > last)
            .order_by(BatchRow.row_number).limit(batch)
        ))
        if not rows:
            return
        yield from rows
        session.expunge_all()
        last = rows[-1].row_number


_FINISHED = [state.value for state in JobState if state.is_finished]


def delete_job(session: Session, job_id: str) -> bool:
    """Delete a finished job with its rows (a running one is left to finish); whether it did."""
    return _delete_finished(session, [job_id]) == 1


def purge_before(session: Session, cutoff: datetime) -> int:
    """Delete every finished job made before ``cutoff``, with its rows; how many jobs."""
    ids = list(session.scalars(
        select(BatchJob.id).where(BatchJob.created_at < cutoff, BatchJob.state.in_(_FINISHED))
    ))
    return _delete_finished(session, ids)


def _delete_finished(session: Session, job_ids: list[str]) -> int:
    deleted = 0
    for chunk in bulk.chunks(job_ids, bulk.IN_LIST):
        # The rows go with their job (ON DELETE CASCADE).
        deleted += session.execute(
            delete(BatchJob).where(BatchJob.id.in_(chunk), BatchJob.state.in_(_FINISHED))
        ).rowcount
    session.commit()
    return deleted
