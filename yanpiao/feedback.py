"""Feedback tickets: what visitors report, how staff work on it, and the reports about it.

A ticket is numbered ``FB-<year>-<sequence>`` for people to quote (a number is never given
twice, not even after its ticket was deleted), and reachable by its reporter through a private
status link. The link's token is derived from the form's one-time submission key, so a form
sent twice finds the same ticket and the same link; only a hash of the token is stored.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import secrets
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from . import audit, bulk
from .audit import Actor, Subject
from .db import Base, UTCDateTime, utcnow
from .mail import OutgoingMail
from .paging import Page, within_pages

CHINA = ZoneInfo("Asia/Shanghai")
MESSAGE_MAX = 5000
RATINGS = range(1, 6)


class Category(enum.StrEnum):
    WRONG_RESULT = "wrong_result"
    SCANNING = "scanning"
    ACCESSIBILITY = "accessibility"
    SUGGESTION = "suggestion"
    OTHER = "other"


class TicketStatus(enum.StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting_for_reporter"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


# The response-time standard: how long a reporter may wait for staff to answer.
RESPONSE_TIME = {Priority.URGENT: timedelta(hours=24), Priority.NORMAL: timedelta(days=7)}

# The way forward is new → in progress → waiting for reporter → resolved → closed; staff may
# skip steps, and reopen a resolved or closed ticket, but nothing goes back to "new".
TRANSITIONS = {
    TicketStatus.NEW: {TicketStatus.IN_PROGRESS, TicketStatus.WAITING, TicketStatus.RESOLVED,
                       TicketStatus.CLOSED},
    TicketStatus.IN_PROGRESS: {TicketStatus.WAITING, TicketStatus.RESOLVED, TicketStatus.CLOSED},
    TicketStatus.WAITING: {TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CLOSED},
    TicketStatus.RESOLVED: {TicketStatus.IN_PROGRESS, TicketStatus.WAITING, TicketStatus.CLOSED},
    TicketStatus.CLOSED: {TicketStatus.IN_PROGRESS},
}
FINISHED = {TicketStatus.RESOLVED, TicketStatus.CLOSED}


class FeedbackError(Exception):
    """A change the ticket's rules do not allow; ``code`` says which rule."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# --- models --------------------------------------------------------------------------------


class Ticket(Base):
    __tablename__ = "feedback_tickets"
    __table_args__ = (
        UniqueConstraint("year", "sequence"),
        Index("ix_feedback_tickets_status", "status"),
        Index("ix_feedback_tickets_created_at", "created_at"),
        # SQLite would give a deleted newest ticket's id to the next one, and with it the
        # audit events kept under that id (a staff deletion is recorded after the ticket went).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)

    category: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    # Only with the reporter's consent, and never on an anonymous ticket.
    contact: Mapped[str] = mapped_column(String(254), default="")
    invoice_reference: Mapped[str] = mapped_column(String(40), default="")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # The reporter's language, so staff know which one to answer in.
    locale: Mapped[str] = mapped_column(String(16), default="")

    status: Mapped[str] = mapped_column(String(24), default=TicketStatus.NEW.value)
    priority: Mapped[str] = mapped_column(String(16), default=Priority.NORMAL.value)
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Since when the reporter has been waiting for an answer; None once staff answered.
    awaiting_reply_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    rating: Mapped[int | None] = mapped_column(Integer, default=None)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id", cascade="all, delete-orphan"
    )

    @property
    def status_enum(self) -> TicketStatus:
        return TicketStatus(self.status)

    @property
    def category_enum(self) -> Category:
        return Category(self.category)

    @property
    def priority_enum(self) -> Priority:
        return Priority(self.priority)

    @property
    def contact_email(self) -> str:
        """The address to mail replies to, when the contact the reporter left is one."""
        return self.contact if "@" in self.contact else ""

    @property
    def reply_due_at(self) -> datetime | None:
        if self.awaiting_reply_since is None or self.status_enum in FINISHED:
            return None
        return self.awaiting_reply_since + RESPONSE_TIME[self.priority_enum]

    def is_overdue(self, now: datetime) -> bool:
        due = self.reply_due_at
        return due is not None and now > due

    def deleted_after(self, retention: timedelta | None) -> datetime | None:
        """When ``purge_finished`` may delete this ticket; None while it is open or when
        finished tickets are kept for good (``retention`` None)."""
        if retention is None or self.status_enum not in FINISHED:
            return None
        return self.updated_at + retention

    @property
    def can_be_rated(self) -> bool:
        return self.status_enum in FINISHED and self.resolved_at is not None and not self.rating


class TicketMessage(Base):
    """The conversation: the reporter's follow-ups and staff replies, both seen by both."""

    __tablename__ = "feedback_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_tickets.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author: Mapped[str] = mapped_column(String(16))  # audit.Actor: reporter or staff
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    body: Mapped[str] = mapped_column(Text)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")

    @property
    def from_staff(self) -> bool:
        return self.author == Actor.STAFF


# --- tokens --------------------------------------------------------------------------------

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


def is_submission_key(text: str) -> bool:
    return bool(_SUBMISSION_KEY.match(text or ""))


def status_token_for(secret: str | bytes, submission_key: str) -> str:
    """The private status token of the ticket a form submission creates (43 characters)."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, b"feedback-status:" + submission_key.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def status_token_of(secret: str | bytes, ticket: Ticket) -> str | None:
    """The ticket's private status token once more, to send to its reporter; None when the
    secret key has changed since the ticket was made (the old link still works, this one
    would not)."""
    token = status_token_for(secret, ticket.submission_key)
    return token if hmac.compare_digest(hash_token(token), ticket.token_hash) else None


def find_by_token(session: Session, token: str) -> Ticket | None:
    if not _TOKEN.match(token or ""):
        return None
    return session.scalar(select(Ticket).where(Ticket.token_hash == hash_token(token)))


def find_by_number(session: Session, number: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.number == number.strip().upper()))


def format_number(year: int, sequence: int) -> str:
    return f"FB-{year}-{sequence:06d}"


# --- the reporter's side -------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    category: Category
    message: str
    contact: str = ""
    invoice_reference: str = ""
    anonymous: bool = False
    user_id: int | None = None
    locale: str = ""


class TicketNumbering(Base):
    """The last sequence number given in each year (China calendar)."""

    __tablename__ = "feedback_numbering"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_sequence: Mapped[int] = mapped_column(Integer)


def _next_sequence(session: Session, year: int) -> int:
    """The year's next ticket sequence, never one given before.

    The year's row stays locked until the transaction ends (SQLite: the write lock), so
    concurrent reports take turns. Two first reports of a year both insert the row: the loser
    raises ``IntegrityError`` and tries again.
    """
    table = TicketNumbering.__table__
    bumped = session.execute(update(table).where(table.c.year == year)
                             .values(last_sequence=table.c.last_sequence + 1))
    if bumped.rowcount == 0:
        session.execute(insert(table).values(year=year, last_sequence=1))
        return 1
    return session.scalar(select(table.c.last_sequence).where(table.c.year == year))


def submit_ticket(
    session: Session,
    submission: Submission,
    *,
    submission_key: str,
    status_token: str,
    now: datetime | None = None,
    tz: ZoneInfo = CHINA,
) -> tuple[Ticket, bool]:
    """Store a new ticket, or find the one this submission key already made.

    Returns the ticket and whether it is new. Call it at the start of a transaction (it rolls
    back when another request wins a race); the caller commits.
    """
    now = now or utcnow()
    year = now.astimezone(tz).year
    anonymous = submission.anonymous
    for _attempt in range(10):
        existing = session.scalar(select(Ticket).where(Ticket.submission_key == submission_key))
        if existing is not None:
            return existing, False
        try:
            sequence = _next_sequence(session, year)
            ticket = Ticket(
                number=format_number(year, sequence),
                year=year,
                sequence=sequence,
                token_hash=hash_token(status_token),
                submission_key=submission_key,
                category=submission.category.value,
                message=submission.message.strip()[:MESSAGE_MAX],
                # Sending anonymously keeps nothing that could identify the reporter.
                contact="" if anonymous else submission.contact.strip(),
                user_id=None if anonymous else submission.user_id,
                anonymous=anonymous,
                invoice_reference=submission.invoice_reference.strip(),
                locale=submission.locale,
                created_at=now,
                updated_at=now,
                awaiting_reply_since=now,
            )
            session.add(ticket)
            session.flush()
        except IntegrityError:
            # The same form sent at the same moment, or the year's first two reports at once.
            # (No savepoint: SQLite's driver would commit the ticket when releasing it.)
            session.rollback()
            continue
        audit.record(session, Subject.TICKET, ticket.id, "created", actor=Actor.REPORTER,
                     new=ticket.status, now=now)
        return ticket, True
    raise RuntimeError("could not allocate a ticket number")


def add_follow_up(session: Session, ticket: Ticket, body: str, *,
                  now: datetime | None = None) -> TicketMessage:
    """The reporter adds to their ticket; it is staff's turn again."""
    now = now or utcnow()
    if ticket.status_enum is TicketStatus.CLOSED:
        raise FeedbackError("closed")
    message = TicketMessage(ticket=ticket, created_at=now, author=Actor.REPORTER.value,
                            body=body.strip()[:MESSAGE_MAX])
    session.add(message)
    audit.record(session, Subject.TICKET, ticket.id, "follow_up", actor=Actor.REPORTER, now=now)
    if ticket.status_enum in (TicketStatus.WAITING, TicketStatus.RESOLVED):
        _set_status(session, ticket, TicketStatus.IN_PROGRESS, Actor.REPORTER, None, now)
    if ticket.awaiting_reply_since is None:
        ticket.awaiting_reply_since = now
    ticket.updated_at = now
    return message


def rate(session: Session, ticket: Ticket, rating: int, *, now: datetime | None = None) -> None:
    """The reporter's satisfaction with the resolution, 1 (poor) to 5 (very good), once."""
    now = now or utcnow()
    if rating not in RATINGS:
        raise FeedbackError("rating_range")
    if ticket.rating:
        raise FeedbackError("already_rated")
    if not ticket.can_be_rated:
        raise FeedbackError("not_resolved")
    ticket.rating = rating
    ticket.rated_at = now
    ticket.updated_at = now
    audit.record(session, Subject.TICKET, ticket.id, "rating", actor=Actor.REPORTER,
                 new=rating, now=now)


# --- the staff side ------------------------------------------------------------------------


def _set_status(session, ticket, new: TicketStatus, actor: Actor, actor_id, now) -> None:
    old = ticket.status_enum
    if new is old:
        return
    if new not in TRANSITIONS[old]:
        raise FeedbackError("transition")
    ticket.status = new.value
    if new is TicketStatus.RESOLVED:
        ticket.resolved_at = now
    elif new is TicketStatus.CLOSED:
        ticket.closed_at = now
    else:  # reopened or still being worked on
        ticket.resolved_at = None
        ticket.closed_at = None
        if old in FINISHED:
            # The rating was of the answer that is now reopened; the next resolution asks for
            # a rating of its own. The audit trail keeps the earlier one.
            ticket.rating = None
    if new in FINISHED or new is TicketStatus.WAITING:
        ticket.awaiting_reply_since = None
    elif old in FINISHED and ticket.awaiting_reply_since is None:
        ticket.awaiting_reply_since = now
    ticket.updated_at = now
    audit.record(session, Subject.TICKET, ticket.id, "status", actor=actor, actor_id=actor_id,
                 old=old.value, new=new.value, now=now)


def change_status(session: Session, ticket: Ticket, new: TicketStatus, *, actor_id: int,
                  now: datetime | None = None) -> None:
    _set_status(session, ticket, new, Actor.STAFF, actor_id, now or utcnow())


def set_priority(session: Session, ticket: Ticket, priority: Priority, *, actor_id: int,
                 now: datetime | None = None) -> None:
    now = now or utcnow()
    if ticket.priority == priority.value:
        return
    audit.record(session, Subject.TICKET, ticket.id, "priority", actor=Actor.STAFF,
                 actor_id=actor_id, old=ticket.priority, new=priority.value, now=now)
    ticket.priority = priority.value
    ticket.updated_at = now


def assign(session: Session, ticket: Ticket, staff_id: int | None, *, actor_id: int,
           now: datetime | None = None) -> None:
    """Give the ticket to a staff member (the caller checks they are active staff)."""
    now = now or utcnow()
    if ticket.assigned_to_id == staff_id:
        return
    audit.record(session, Subject.TICKET, ticket.id, "assigned", actor=Actor.STAFF,
                 actor_id=actor_id, old=ticket.assigned_to_id or "", new=staff_id or "", now=now)
    ticket.assigned_to_id = staff_id
    ticket.updated_at = now


def reply(session: Session, ticket: Ticket, body: str, *, actor_id: int,
          then: TicketStatus = TicketStatus.WAITING, now: datetime | None = None) -> TicketMessage:
    """A staff answer the reporter sees on the status page, and the ticket's status after it."""
    now = now or utcnow()
    if then not in (TicketStatus.IN_PROGRESS, TicketStatus.WAITING, TicketStatus.RESOLVED):
        raise FeedbackError("transition")
    if then is not ticket.status_enum and then not in TRANSITIONS[ticket.status_enum]:
        raise FeedbackError("transition")
    message = TicketMessage(ticket=ticket, created_at=now, author=Actor.STAFF.value,
                            staff_id=actor_id, body=body.strip()[:MESSAGE_MAX])
    session.add(message)
    audit.record(session, Subject.TICKET, ticket.id, "reply", actor=Actor.STAFF,
                 actor_id=actor_id, now=now)
    if ticket.first_reply_at is None:
        ticket.first_reply_at = now
    _set_status(session, ticket, then, Actor.STAFF, actor_id, now)
    ticket.awaiting_reply_since = None
    ticket.updated_at = now
    return message


# --- deleting: at the end of the retention period, or when the reporter asks ----------


def purge_finished(session: Session, retention: timedelta, *, now: datetime | None = None) -> int:
    """Delete the tickets finished (resolved or closed) and left unchanged for ``retention``.

    With each go its conversation, the mails about it and its audit trail: nothing of the
    report or of how to reach its reporter stays behind. A ticket still open is kept however
    old it is; any change to a finished one (a follow-up, a rating, reopening) starts its
    period again. Commits; returns how many tickets were deleted.
    """
    cutoff = (now or utcnow()) - retention
    finished_long_ago = and_(Ticket.status.in_([s.value for s in FINISHED]),
                             Ticket.updated_at < cutoff)
    candidates = list(session.scalars(select(Ticket.id).where(finished_long_ago)))
    deleted = 0
    for chunk in bulk.chunks(candidates, bulk.IN_LIST):
        # The condition again, in the deleting statement itself: a ticket reopened since it
        # was listed stays.
        deleted += len(_delete(session, chunk, finished_long_ago))
    session.commit()
    return deleted


def delete_ticket(session: Session, ticket: Ticket, *, staff_id: int | None = None,
                  now: datetime | None = None) -> None:
    """Delete a report: nothing of it stays, as after ``purge_finished``. Its reporter may,
    and staff (spam, or a reporter who asks some other way); a deletion by staff is itself
    recorded, with who, when and the ticket's number. Commits."""
    ticket_id, number = ticket.id, ticket.number
    _delete(session, [ticket_id])
    if staff_id is not None:
        audit.record(session, Subject.TICKET, ticket_id, "deleted", actor=Actor.STAFF,
                     actor_id=staff_id, new=number, now=now)
    session.commit()


def _staff_deletions():
    return select(audit.AuditEvent).where(
        audit.AuditEvent.subject_type == Subject.TICKET.value,
        audit.AuditEvent.action == "deleted",
    )


@dataclass(frozen=True)
class DeletionPage(Page):
    events: list[audit.AuditEvent] = field(default_factory=list)


def staff_deletions(session: Session, *, page: int = 1, per_page: int) -> DeletionPage:
    """One page of the records of tickets staff deleted, newest first (the number is the new
    value). Deletions by reporters and by the retention purge leave none."""
    query = _staff_deletions()
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = within_pages(page, total, per_page)
    events = session.scalars(query.order_by(audit.AuditEvent.created_at.desc(),
                                            audit.AuditEvent.id.desc())
                             .limit(per_page).offset((page - 1) * per_page))
    return DeletionPage(total=total, page=page, per_page=per_page, events=list(events))


def deletion_of(session: Session, number: str) -> audit.AuditEvent | None:
    """The record of staff deleting the ticket that had this number, if they did."""
    return session.scalar(_staff_deletions().where(
        audit.AuditEvent.new_value == number.strip().upper()))


def reports_of(session: Session, user_id: int) -> list[Ticket]:
    """The reports an account sent while signed in (not anonymously), newest first."""
    return list(session.scalars(
        select(Ticket).where(Ticket.user_id == user_id).order_by(Ticket.created_at.desc())
    ))


def delete_reports_of(session: Session, user_id: int) -> int:
    """Delete an account's reports, as their reporter could one by one; the caller commits."""
    return len(_delete(session, list(session.scalars(
        select(Ticket.id).where(Ticket.user_id == user_id)))))


def withdraw_contact(session: Session, ticket: Ticket, *, now: datetime | None = None) -> bool:
    """The reporter withdraws their consent to be contacted: the address goes, and with it the
    mails about the report, which carry it. Whether there was an address; the caller commits.
    """
    if not ticket.contact:
        return False
    now = now or utcnow()
    ticket.contact = ""
    ticket.updated_at = now
    session.execute(delete(OutgoingMail).where(OutgoingMail.ticket_id == ticket.id))
    audit.record(session, Subject.TICKET, ticket.id, "contact_removed", actor=Actor.REPORTER,
                 now=now)
    return True


def _delete(session: Session, ids: list[int], *conditions) -> list[int]:
    """Delete these tickets (those meeting ``conditions``) and their audit trail; the database
    removes their messages and mails (ON DELETE CASCADE). The ids deleted."""
    gone = list(session.scalars(
        delete(Ticket).where(Ticket.id.in_(ids), *conditions).returning(Ticket.id)
    ))
    if gone:
        session.execute(delete(audit.AuditEvent).where(
            audit.AuditEvent.subject_type == Subject.TICKET.value,
            audit.AuditEvent.subject_id.in_(gone),
        ))
    return gone


# --- the queue -----------------------------------------------------------------------------


def overdue_clause(now: datetime):
    """SQL for "the reporter has waited longer than the response-time standard"."""
    return and_(
        Ticket.awaiting_reply_since.is_not(None),
        Ticket.status.not_in([s.value for s in FINISHED]),
        or_(*(
            and_(Ticket.priority == priority.value, Ticket.awaiting_reply_since < now - limit)
            for priority, limit in RESPONSE_TIME.items()
        )),
    )


OPEN = "open"  # the queue's default: everything not yet closed


@dataclass(frozen=True)
class QueueFilter:
    status: TicketStatus | str | None = OPEN  # a status, OPEN, or None for every ticket
    category: Category | None = None
    priority: Priority | None = None
    overdue: bool = False
    assignee_id: int | None = None
    unassigned: bool = False


@dataclass(frozen=True)
class QueuePage(Page):
    tickets: list[Ticket] = field(default_factory=list)


def assignee_ids(session: Session) -> set[int]:
    """The accounts that hold at least one ticket, staff or not any more."""
    return set(session.scalars(
        select(Ticket.assigned_to_id).where(Ticket.assigned_to_id.is_not(None)).distinct()))


def queue(session: Session, filters: QueueFilter, *, now: datetime | None = None,
          page: int = 1, per_page: int = 50) -> QueuePage:
    """One page of the tickets matching the filters, urgent first, then the longest waiting."""
    now = now or utcnow()
    conditions = []
    if filters.status == OPEN:
        conditions.append(Ticket.status != TicketStatus.CLOSED.value)
    elif isinstance(filters.status, TicketStatus):
        conditions.append(Ticket.status == filters.status.value)
    if filters.category:
        conditions.append(Ticket.category == filters.category.value)
    if filters.priority:
        conditions.append(Ticket.priority == filters.priority.value)
    if filters.overdue:
        conditions.append(overdue_clause(now))
    if filters.assignee_id is not None:
        conditions.append(Ticket.assigned_to_id == filters.assignee_id)
    elif filters.unassigned:
        conditions.append(Ticket.assigned_to_id.is_(None))
    total = session.scalar(select(func.count(Ticket.id)).where(*conditions)) or 0
    page = within_pages(page, total, per_page)
    tickets = session.scalars(
        select(Ticket).where(*conditions).order_by(
            (Ticket.priority == Priority.URGENT.value).desc(),
            Ticket.awaiting_reply_since.is_(None),
            Ticket.awaiting_reply_since,
            Ticket.created_at.desc(),
        ).limit(per_page).offset((page - 1) * per_page)
    )
    return QueuePage(total=total, page=page, per_page=per_page, tickets=list(tickets))


@dataclass(frozen=True)
class QueueSummary:
    new: int
    open: int
    overdue: int


def queue_summary(session: Session, *, now: datetime | None = None) -> QueueSummary:
    now = now or utcnow()

    def count(*where):
        return session.scalar(select(func.count(Ticket.id)).where(*where)) or 0

    return QueueSummary(
        new=count(Ticket.status == TicketStatus.NEW.value),
        open=count(Ticket.status.not_in([s.value for s in FINISHED])),
        overdue=count(overdue_clause(now)),
    )


# --- reports -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekRow:
    start: date  # the Monday, in the report's time zone
    by_category: dict[Category, int]
    by_status: dict[TicketStatus, int]
    median_first_reply_hours: float | None
    median_resolution_hours: float | None

    @property
    def total(self) -> int:
        return sum(self.by_category.values())


@dataclass(frozen=True)
class Report:
    weeks: list[WeekRow]
    total: int
    median_first_reply_hours: float | None
    median_resolution_hours: float | None
    ratings: dict[int, int] = field(default_factory=dict)

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def average_rating(self) -> float | None:
        if not self.rated:
            return None
        return sum(r * n for r, n in self.ratings.items()) / self.rated


def week_start(moment: datetime, tz: ZoneInfo) -> date:
    day = moment.astimezone(tz).date()
    return day - timedelta(days=day.weekday())


def _hours(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / 3600


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def weekly_report(session: Session, *, weeks: int, now: datetime | None = None,
                  tz: ZoneInfo = CHINA) -> Report:
    """Tickets received in the last ``weeks`` weeks (this one included), week by week.

    Each week counts the tickets received in it, by category and by their status now; the
    medians are over those tickets that had a first reply / a resolution. Satisfaction counts
    the ratings given to the period's tickets.
    """
    now = now or utcnow()
    first_monday = week_start(now, tz) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first_monday, datetime.min.time(), tz)
    tickets = list(session.scalars(select(Ticket).where(Ticket.created_at >= since)))
    by_week: dict[date, list[Ticket]] = {
        first_monday + timedelta(weeks=i): [] for i in range(weeks)
    }
    for ticket in tickets:
        by_week.setdefault(week_start(ticket.created_at, tz), []).append(ticket)
    rows = []
    for start, group in sorted(by_week.items()):
        categories = Counter(t.category_enum for t in group)
        statuses = Counter(t.status_enum for t in group)
        rows.append(WeekRow(
            start=start,
            by_category={c: categories.get(c, 0) for c in Category},
            by_status={s: statuses.get(s, 0) for s in TicketStatus},
            median_first_reply_hours=_median(_hours(t.created_at, t.first_reply_at) for t in group),
            median_resolution_hours=_median(_hours(t.created_at, t.resolved_at) for t in group),
        ))
    ratings = Counter(t.rating for t in tickets if t.rating)
    return Report(
        weeks=rows,
        total=len(tickets),
        median_first_reply_hours=_median(_hours(t.created_at, t.first_reply_at) for t in tickets),
        median_resolution_hours=_median(_hours(t.created_at, t.resolved_at) for t in tickets),
        ratings={r: ratings.get(r, 0) for r in RATINGS},
    )
