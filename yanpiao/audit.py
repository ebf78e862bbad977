"""The audit trail: who changed what, when, on a feedback ticket or a staff account.

One table for every kind of subject, so staff read a ticket's history and an account's history
the same way.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, UTCDateTime, utcnow


class Subject(enum.StrEnum):
    TICKET = "ticket"
    USER = "user"


class Actor(enum.StrEnum):
    REPORTER = "reporter"
    STAFF = "staff"
    SYSTEM = "system"


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(16))
    # Kept when the account is deleted, as "a staff member who no longer has an account".
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str] = mapped_column(String(64), default="")
    new_value: Mapped[str] = mapped_column(String(64), default="")


def record(
    session: Session,
    subject: Subject,
    subject_id: int,
    action: str,
    *,
    actor: Actor,
    actor_id: int | None = None,
    old: object = "",
    new: object = "",
    now: datetime | None = None,
) -> AuditEvent:
    event = AuditEvent(
        created_at=now or utcnow(),
        subject_type=subject.value,
        subject_id=subject_id,
        actor=actor.value,
        actor_id=actor_id,
        action=action,
        old_value="" if old is None else str(old)[:64],
        new_value="" if new is None else str(new)[:64],
    )
    session.add(event)
    return event


def trail(session: Session, subject: Subject, subject_id: int) -> list[AuditEvent]:
    """Every change to one subject, oldest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.subject_type == subject.value, AuditEvent.subject_id == subject_id)
            .order_by(AuditEvent.created_at, AuditEvent.id)
        )
    )
