"""Staff and administrator accounts: who may triage feedback, who may manage staff.

Every change is written to the audit trail. The rules keep the service manageable: there is
always at least one active administrator, and nobody locks themselves out.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from . import audit
from .accounts import Role, User, create_user, find_user, normalise_email
from .audit import Actor, AuditEvent, Subject
from .db import utcnow

PASSWORD_MIN = 12
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StaffError(Exception):
    """A change the account rules refuse; ``code`` says which rule."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def is_email(text: str) -> bool:
    return bool(_EMAIL.match(normalise_email(text or "")))


STAFF_ROLES = (Role.STAFF.value, Role.ADMIN.value)


def staff_members(session: Session) -> list[User]:
    """Staff and administrators, active ones first, then by email; then former staff, whose
    staff access an administrator took away, so that it can be given back."""
    former = select(AuditEvent.subject_id).where(
        AuditEvent.subject_type == Subject.USER.value, AuditEvent.action == "role")
    return list(session.scalars(
        select(User).where(or_(User.role.in_(STAFF_ROLES), User.id.in_(former)))
        .order_by(case((User.role.in_(STAFF_ROLES), 0), else_=1), User.active.desc(),
                  User.email, User.id)
    ))


def active_staff(session: Session) -> list[User]:
    return list(session.scalars(
        select(User).where(User.role.in_(STAFF_ROLES), User.active.is_(True))
        .order_by(User.email, User.id)
    ))


def _active_admins(session: Session) -> int:
    return session.scalar(
        select(func.count(User.id)).where(User.role == Role.ADMIN.value, User.active.is_(True))
    ) or 0


def is_last_admin(session: Session, user: User) -> bool:
    """Whether ``user`` is the only active administrator: the one account that must stay one,
    or nobody could manage staff accounts any more."""
    return user.role == Role.ADMIN and user.active and _active_admins(session) <= 1


def create_account(session: Session, email: str, password: str, role: Role, *,
                   actor_id: int | None, now: datetime | None = None) -> User:
    """A new staff or administrator account; ``actor_id`` None means the command line."""
    if role not in (Role.STAFF, Role.ADMIN):
        raise StaffError("role")
    if not is_email(email):
        raise StaffError("email")
    if len(password) < PASSWORD_MIN:
        raise StaffError("password")
    if find_user(session, email) is not None:
        raise StaffError("exists")
    user = create_user(session, password, email=email, role=role)
    audit.record(session, Subject.USER, user.id, "created",
                 actor=Actor.STAFF if actor_id else Actor.SYSTEM, actor_id=actor_id,
                 new=role.value, now=now or utcnow())
    return user


def change_role(session: Session, user: User, role: Role, *, actor_id: int,
                now: datetime | None = None) -> None:
    """Staff ↔ administrator, or back to a plain account without staff pages."""
    if user.role == role.value:
        return
    if user.id == actor_id:
        raise StaffError("self")
    if is_last_admin(session, user):
        raise StaffError("last_admin")
    audit.record(session, Subject.USER, user.id, "role", actor=Actor.STAFF, actor_id=actor_id,
                 old=user.role, new=role.value, now=now or utcnow())
    user.role = role.value


def set_active(session: Session, user: User, active: bool, *, actor_id: int,
               now: datetime | None = None) -> None:
    """Deactivate (signed out at once, cannot sign in) or reactivate an account."""
    if user.active == active:
        return
    if user.id == actor_id:
        raise StaffError("self")
    if not active and is_last_admin(session, user):
        raise StaffError("last_admin")
    audit.record(session, Subject.USER, user.id, "active", actor=Actor.STAFF, actor_id=actor_id,
                 old=user.active, new=active, now=now or utcnow())
    user.active = active
    if not active:
        user.session_generation += 1
