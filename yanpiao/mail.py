"""Outgoing mail: an outbox in the database, sent through SMTP outside any request.

A request only queues its mail, in its own transaction: a staff reply and the mail about it
are stored together or not at all, and a slow or unreachable SMTP server never holds up a
page. ``deliver_due`` sends what is due, in a thread of each server process or from the
``flask mail send`` command, and tries again later when the server cannot be reached or
answers "try later". Without an SMTP host (development) the mail goes to the log.
"""

from __future__ import annotations

import enum
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import ForeignKey, Index, Integer, String, Text, delete, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from .db import Base, UTCDateTime, single_writer, utcnow

log = logging.getLogger("yanpiao.mail")


@dataclass(frozen=True)
class MailSettings:
    host: str = ""
    port: int = 587
    user: str = ""
    password: str = ""
    sender: str = "Yanpiao <no-reply@localhost>"
    security: str = "starttls"  # "starttls", "ssl" or "none"
    timeout: float = 10.0


def compose(settings: MailSettings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="yanpiao")
    message.set_content(body)
    return message


class Problem(enum.StrEnum):
    """Why a mail has not gone yet, in words staff can act on (the details go to the log)."""

    UNREACHABLE = "unreachable"  # no connection, a timeout, a TLS failure
    LOGIN = "login"  # the server refused our user name or password
    DEFERRED = "deferred"  # the server answered "try again later" (4xx)
    REFUSED = "refused"  # the server refused the mail or its address for good (5xx)


def _transmit(settings: MailSettings, to: str, subject: str, body: str) -> None:
    message = compose(settings, to, subject, body)
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with smtp:
        if settings.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.user:
            smtp.login(settings.user, settings.password)
        smtp.send_message(message)


def _problem(exc: Exception) -> Problem:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return Problem.LOGIN
    if isinstance(exc, smtplib.SMTPNotSupportedError):  # e.g. an address in Chinese characters
        return Problem.REFUSED
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in exc.recipients.values()]
        return Problem.REFUSED if codes and min(codes) >= 500 else Problem.DEFERRED
    code = getattr(exc, "smtp_code", None)
    if isinstance(code, int) and code >= 500:
        return Problem.REFUSED
    if isinstance(code, int) and code >= 400:
        return Problem.DEFERRED
    return Problem.UNREACHABLE


def try_send(settings: MailSettings, to: str, subject: str, body: str) -> Problem | None:
    """Send one plain-text mail now; None when it went, else why it did not (logged)."""
    if not settings.host:
        # Written readably, not MIME-encoded, so a developer can follow the link in it; a
        # warning, so it shows with Python's default logging too.
        log.warning(
            "Mail not sent (no SMTP host set):\nTo: %s\nSubject: %s\n\n%s", to, subject, body
        )
        return None
    try:
        _transmit(settings, to, subject, body)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("Mail to %s could not be sent through %s: %r", to, settings.host, exc)
        return _problem(exc)
    except (UnicodeError, ValueError):  # an address or header smtplib cannot put on the wire
        log.exception("Mail to %r cannot be sent", to)
        return Problem.REFUSED
    return None


def send_mail(settings: MailSettings, to: str, subject: str, body: str) -> bool:
    """Send one plain-text mail now; False (and the reason logged) when it could not be sent."""
    return try_send(settings, to, subject, body) is None


# --- the outbox ----------------------------------------------------------------------------


class MailState(enum.StrEnum):
    QUEUED = "queued"  # waiting for its first or next try
    SENT = "sent"  # an SMTP server accepted it
    LOGGED = "logged"  # no SMTP host was set: it went to the log
    GAVE_UP = "gave-up"  # refused for good, or every try failed
    EXPIRED = "expired"  # not sent before it stopped being useful (a reset link's lifetime)


# After each failed try, the wait before the next: six tries over about four and a half hours.
RETRY_AFTER = (
    timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=20), timedelta(hours=1),
    timedelta(hours=3),
)
# A sender's claim on a mail: longer than any SMTP conversation takes with its timeouts, so a
# mail is sent once; a sender that died mid-way leaves a claim that lapses and is taken over.
# One mail at a time: a claim on many would lapse while a hanging server times out on each.
CLAIM = timedelta(minutes=2)
# A finished mail about no ticket (a password reset) is kept this long, for ``flask mail
# status``, then deleted: its recipient is all that is left of it. A ticket's mails stay as
# long as the ticket (``feedback purge``).
FORGET_AFTER = timedelta(days=30)


class OutgoingMail(Base):
    """A mail waiting to be sent, or what became of it.

    The body may hold a private link (a ticket's status page, a password reset), so it is
    emptied once the mail is sent or given up; recipient, subject and outcome stay, for the
    staff who need to know whether a reporter heard from them (see ``FORGET_AFTER``).
    """

    __tablename__ = "outgoing_mail"
    __table_args__ = (Index("ix_outgoing_mail_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # What it is about, when it is about a feedback ticket (the receipt) or a reply on it.
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_tickets.id", ondelete="CASCADE"), default=None, index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_messages.id", ondelete="CASCADE"), default=None
    )
    state: Mapped[str] = mapped_column(String(16), default=MailState.QUEUED.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    problem: Mapped[str] = mapped_column(String(16), default="")
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def problem_enum(self) -> Problem | None:
        return Problem(self.problem) if self.problem else None


QUEUED_MAIL = "yanpiao.mail_queued"  # session.info key: this transaction queued mail


def queue_mail(session: Session, to: str, subject: str, body: str, *,
               now: datetime | None = None, expires_at: datetime | None = None,
               ticket_id: int | None = None, message_id: int | None = None) -> OutgoingMail:
    """Put one mail in the outbox; it is sent once the caller's transaction commits."""
    now = now or utcnow()
    mail = OutgoingMail(recipient=to, subject=subject[:300], body=body, ticket_id=ticket_id,
                        message_id=message_id, created_at=now, next_attempt_at=now,
                        expires_at=expires_at)
    session.add(mail)
    session.info[QUEUED_MAIL] = True
    return mail


def _due(now: datetime):
    table = OutgoingMail.__table__
    return (table.c.state == MailState.QUEUED.value, table.c.next_attempt_at <= now,
            or_(table.c.claimed_until.is_(None), table.c.claimed_until < now))


def _claim(session: Session, now: datetime) -> OutgoingMail | None:
    """Take the next due mail for this sender (None: none is due, another sender took it, or
    it was deleted meanwhile); no other sender takes it."""
    table = OutgoingMail.__table__
    mail_id = session.scalar(
        select(table.c.id).where(*_due(now)).order_by(table.c.next_attempt_at).limit(1)
    )
    if mail_id is None:
        return None
    with single_writer(session):
        # Conditional, so two senders (server processes) never both take one mail.
        taken = session.execute(
            update(table).where(table.c.id == mail_id, *_due(now))
            .values(claimed_until=now + CLAIM)
        ).rowcount
        session.commit()
    return session.get(OutgoingMail, mail_id) if taken else None


def _settle(mail: OutgoingMail, problem: Problem | None, logged: bool, now: datetime) -> None:
    """Record one try: sent (or logged), or why not and when to try again, or given up."""
    mail.claimed_until = None
    mail.attempts += 1
    mail.problem = problem.value if problem else ""
    if problem is None:
        mail.state = (MailState.LOGGED if logged else MailState.SENT).value
    elif problem is Problem.REFUSED or mail.attempts > len(RETRY_AFTER):
        mail.state = MailState.GAVE_UP.value
    else:
        mail.next_attempt_at = now + RETRY_AFTER[mail.attempts - 1]
        if mail.expires_at is None or mail.next_attempt_at < mail.expires_at:
            return
        mail.state = MailState.EXPIRED.value
    _finish(mail, now)


def _finish(mail: OutgoingMail, now: datetime) -> None:
    mail.finished_at = now
    mail.body = ""


def deliver_due(factory: sessionmaker, settings: MailSettings, *,
                now: datetime | None = None) -> datetime | None:
    """Send every mail that is due; when the next queued one is due (None: nothing queued)."""
    clock = (lambda: now) if now is not None else utcnow
    with factory() as session:
        while (mail := _claim(session, clock())) is not None:
            if mail.expires_at is not None and mail.expires_at <= clock():
                mail.state = MailState.EXPIRED.value
                _finish(mail, clock())
            else:
                problem = try_send(settings, mail.recipient, mail.subject, mail.body)
                _settle(mail, problem, not settings.host, clock())
            with single_writer(session):
                try:
                    session.commit()
                except StaleDataError:
                    # Deleted while it was being sent (its account or report went):
                    # nothing is left to record, and the next mail is due all the same.
                    session.rollback()
        forget_finished(session, clock())
        return next_due(session)


def forget_finished(session: Session, now: datetime) -> int:
    """Delete the mails about no ticket that finished ``FORGET_AFTER`` ago; how many."""
    table = OutgoingMail.__table__
    old = (table.c.ticket_id.is_(None), table.c.finished_at < now - FORGET_AFTER)
    # Looked for first: most rounds find nothing, and then need no write transaction.
    if session.scalar(select(table.c.id).where(*old).limit(1)) is None:
        return 0
    with single_writer(session):
        deleted = session.execute(delete(table).where(*old)).rowcount
        session.commit()
    return deleted


def next_due(session: Session) -> datetime | None:
    """When the next queued mail is due; None when nothing is queued."""
    return session.scalar(select(func.min(OutgoingMail.next_attempt_at))
                          .where(OutgoingMail.state == MailState.QUEUED.value))


def mails_about_ticket(session: Session, ticket_id: int) -> list[OutgoingMail]:
    """The mails sent or waiting about one feedback ticket, oldest first."""
    return list(session.scalars(
        select(OutgoingMail).where(OutgoingMail.ticket_id == ticket_id).order_by(OutgoingMail.id)
    ))


def undelivered(session: Session, ticket_ids: list[int]) -> set[int]:
    """Of these tickets, those whose latest mail to the reporter was given up or dropped."""
    latest: dict[int, str] = {}
    if ticket_ids:
        for ticket_id, state in session.execute(
            select(OutgoingMail.ticket_id, OutgoingMail.state)
            .where(OutgoingMail.ticket_id.in_(ticket_ids)).order_by(OutgoingMail.id)
        ):
            latest[ticket_id] = state
    return {ticket_id for ticket_id, state in latest.items()
            if state in (MailState.GAVE_UP, MailState.EXPIRED)}
