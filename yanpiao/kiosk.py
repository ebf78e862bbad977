"""Kiosk visits and camera scans: who stands at the terminal, and what its camera read.

One visit is one stranger at one terminal (``kiosk_id``), from "touch to start" to "Finish" or
the idle reset. Verifications made during a visit carry its token as ``owner_key`` so the
visit can show them; when the visit ends they are detached from it (``owner_key`` cleared) but
kept, with ``kiosk_id``, for the statistics. Nothing of a visit outlives it otherwise.

The camera reader (another process) adds one ``KioskScan`` row per new code. The web worker
serving the visitor's screen claims it with a conditional update, so however many workers
poll, each scan is verified once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, Integer, String, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, UTCDateTime
from .models import VerificationRecord
from .qr import MAX_PAYLOAD_LENGTH, NotInvoicePayload, parse_qr_payload
from .requests import VerificationRequest
from .types import EntryPath
from .verification import Settings, VerificationResult, verify

# A scan is the visitor's if it was read at most this long before they looked for it: long
# enough for someone who held the invoice up before touching "start", short enough that a
# code read while nobody was there does not turn up later.
FRESH_SECONDS = 10
# Scans are only a hand-over between two processes; older ones are dropped.
KEEP_SCANS = timedelta(minutes=10)
# Longer than any QR payload, so an over-long text is stored whole and refused by the parser.
MAX_SCAN_TEXT = 4 * MAX_PAYLOAD_LENGTH


class KioskVisit(Base):
    __tablename__ = "kiosk_visits"
    __table_args__ = (Index("ix_kiosk_visits_kiosk_id", "kiosk_id"),)

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_active_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What the screen shows: a verification of this visit, or a notice about a scan.
    result_id: Mapped[str | None] = mapped_column(String(24), default=None)
    notice: Mapped[str] = mapped_column(String(32), default="")


class KioskScan(Base):
    __tablename__ = "kiosk_scans"
    __table_args__ = (Index("ix_kiosk_scans_kiosk_id_seen_at", "kiosk_id", "seen_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(MAX_SCAN_TEXT))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The visit that claimed it; NULL while it waits.
    visit_token: Mapped[str | None] = mapped_column(String(32), default=None)


# --- visits ----------------------------------------------------------------------------------


def begin_visit(session: Session, kiosk_id: str, now: datetime, idle_limit: timedelta) -> KioskVisit:
    """A new visitor. Visits of this terminal that went idle without a reset (the browser
    crashed or was closed) end first."""
    forget_idle_visits(session, kiosk_id, now, idle_limit)
    visit = KioskVisit(token=secrets.token_urlsafe(18), kiosk_id=kiosk_id, started_at=now,
                       last_active_at=now, result_id=None, notice="")
    session.add(visit)
    session.commit()
    return visit


def find_visit(session: Session, token: str | None, kiosk_id: str) -> KioskVisit | None:
    if not token:
        return None
    return session.scalar(
        select(KioskVisit).where(KioskVisit.token == token, KioskVisit.kiosk_id == kiosk_id)
    )


def is_idle(visit: KioskVisit, now: datetime, limit: timedelta) -> bool:
    return now - visit.last_active_at > limit


def touch(session: Session, visit: KioskVisit, now: datetime) -> bool:
    """The visitor did something; False when the visit has ended meanwhile."""
    return _update_visit(session, visit, last_active_at=now)


def show(session: Session, visit: KioskVisit, now: datetime, *, result_id: str | None = None,
         notice: str = "") -> bool:
    """What the visit's screen shows from now on (nothing: both empty); a new result counts as
    activity. False when the visit has ended meanwhile (a request racing the reset)."""
    return _update_visit(session, visit, result_id=result_id, notice=notice, last_active_at=now)


def _update_visit(session: Session, visit: KioskVisit, **values) -> bool:
    changed = session.execute(
        update(KioskVisit).where(KioskVisit.token == visit.token).values(**values)
    ).rowcount
    session.commit()
    return bool(changed)


def end_visit(session: Session, token: str | None, kiosk_id: str) -> None:
    """The visitor is done: detach their verifications and drop everything else of theirs."""
    if token:
        _detach(session, VerificationRecord.owner_key == token)
        session.execute(delete(KioskScan).where(KioskScan.visit_token == token))
        session.execute(delete(KioskVisit).where(KioskVisit.token == token))
    # Codes read but not yet shown were read for this visitor too.
    session.execute(delete(KioskScan).where(KioskScan.kiosk_id == kiosk_id,
                                            KioskScan.visit_token.is_(None)))
    session.commit()


def forget_idle_visits(session: Session, kiosk_id: str, now: datetime, idle_limit: timedelta) -> int:
    """End the terminal's visits idle for longer than ``idle_limit``; returns how many."""
    tokens = list(session.scalars(
        select(KioskVisit.token).where(KioskVisit.kiosk_id == kiosk_id,
                                       KioskVisit.last_active_at < now - idle_limit)))
    for token in tokens:
        _detach(session, VerificationRecord.owner_key == token)
        session.execute(delete(KioskScan).where(KioskScan.visit_token == token))
        session.execute(delete(KioskVisit).where(KioskVisit.token == token))
    session.commit()
    return len(tokens)


def _detach(session: Session, condition) -> None:
    # Kept for the statistics (kiosk_id, outcome, time), but nobody's history any more.
    session.execute(
        update(VerificationRecord)
        .where(condition, VerificationRecord.kiosk_id.is_not(None))
        .values(owner_key=None)
    )


def detach_record(session: Session, receipt_id: str) -> None:
    """A verification that finished after its visit had ended (a poll racing the reset)."""
    _detach(session, VerificationRecord.id == receipt_id)
    session.commit()


def visit_record(session: Session, visit: KioskVisit) -> VerificationRecord | None:
    """The verification the visit's screen shows, if it is still the visit's."""
    if not visit.result_id:
        return None
    return session.scalar(
        select(VerificationRecord).where(
            VerificationRecord.id == visit.result_id,
            VerificationRecord.owner_key == visit.token,
            VerificationRecord.kiosk_id == visit.kiosk_id,
        )
    )


class Notice:
    """What a visit's screen can show instead of a verdict."""

    NOT_AN_INVOICE = "not_invoice"  # a code, but not an invoice's
    UNREADABLE = "unreadable"  # an invoice's code whose fields do not make a request


def verify_for_visit(
    session: Session,
    visit: KioskVisit,
    fields: VerificationRequest,
    *,
    settings: Settings,
    now: datetime,
) -> VerificationResult:
    """Verify typed fields for the visitor and put the verdict on their screen."""
    result = verify(session, fields, settings=settings, now=now, owner_key=visit.token,
                    kiosk_id=visit.kiosk_id)
    _put_on_screen(session, visit, result, now)
    return result


def verify_scan(session: Session, visit: KioskVisit, text: str, *, settings: Settings,
                now: datetime) -> VerificationResult | None:
    """Verify a code the camera read for the visitor; None when it was no invoice's (the
    screen then shows a notice instead)."""
    try:
        payload = parse_qr_payload(text)
    except NotInvoicePayload:
        show(session, visit, now, notice=Notice.NOT_AN_INVOICE)
        return None
    result = verify(session, payload.fields(), entry_path=EntryPath.KIOSK_CAMERA,
                    type_hint=payload.invoice_type, settings=settings, now=now,
                    owner_key=visit.token, kiosk_id=visit.kiosk_id)
    _put_on_screen(session, visit, result, now)
    return result if result.receipt_id else None


def _put_on_screen(session: Session, visit: KioskVisit, result: VerificationResult,
                   now: datetime) -> None:
    if result.receipt_id is None:  # malformed: answered, never recorded
        show(session, visit, now, notice=Notice.UNREADABLE)
    elif not show(session, visit, now, result_id=result.receipt_id):
        detach_record(session, result.receipt_id)


# --- scans -----------------------------------------------------------------------------------


def record_scan(session: Session, kiosk_id: str, text: str, now: datetime) -> int:
    """The camera reader read a new code; returns the scan's id."""
    scan = KioskScan(kiosk_id=kiosk_id, text=text[:MAX_SCAN_TEXT], seen_at=now)
    session.add(scan)
    session.execute(delete(KioskScan).where(KioskScan.seen_at < now - KEEP_SCANS))
    session.commit()
    return scan.id


@dataclass(frozen=True)
class Claimed:
    scan_id: int
    text: str


def claim_scan(session: Session, visit: KioskVisit, now: datetime) -> Claimed | None:
    """The newest fresh scan nobody has claimed, now the visit's; None when there is none.

    The conditional update is the claim: of two workers polling at once, one changes the row
    and the other changes nothing and moves on. Older waiting scans are dropped, since the
    visitor has already moved on to the newest code.
    """
    since = now - timedelta(seconds=FRESH_SECONDS)
    waiting = session.execute(
        select(KioskScan.id, KioskScan.text)
        .where(KioskScan.kiosk_id == visit.kiosk_id, KioskScan.visit_token.is_(None),
               KioskScan.seen_at >= since)
        .order_by(KioskScan.id.desc())
    ).all()
    for scan_id, text in waiting:
        claimed = session.execute(
            update(KioskScan)
            .where(KioskScan.id == scan_id, KioskScan.visit_token.is_(None))
            .values(visit_token=visit.token)
        ).rowcount
        if claimed:
            session.execute(delete(KioskScan).where(
                KioskScan.kiosk_id == visit.kiosk_id, KioskScan.visit_token.is_(None),
                KioskScan.id < scan_id))
            session.commit()
            return Claimed(scan_id, text)
    session.rollback()
    return None
