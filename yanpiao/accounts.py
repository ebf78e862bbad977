"""People with an account: visitors who keep a history, staff, and administrators."""

from __future__ import annotations

import enum
import hashlib
import hmac
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, UTCDateTime, utcnow
from .normalize import fold

_hasher = PasswordHasher()


class Role(enum.StrEnum):
    USER = "user"
    STAFF = "staff"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"
    # SQLite would give a deleted newest account's id to the next one, and with it the audit
    # events kept under that id.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    # Either or both: people register with an email address or a mobile number.
    email: Mapped[str | None] = mapped_column(String(254), unique=True, default=None)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True, default=None)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.USER.value)
    locale: Mapped[str | None] = mapped_column(String(16), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Raised when the account is deactivated: its sessions stay ended once it is reactivated.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # flask-login reads these; they are plain properties, no Flask import needed.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """What the session keeps: the id and a stamp of the password and the session
        generation, so that a new password (changed or reset) or a deactivation ends every
        session signed in before it."""
        return f"{self.id}:{self.session_stamp}"

    @property
    def session_stamp(self) -> str:
        # Generation 0 stamps the password alone, as before generations existed.
        material = self.password_hash + (
            f":{self.session_generation}" if self.session_generation else "")
        return hashlib.sha256(material.encode()).hexdigest()[:16]

    def matches_session(self, stamp: str) -> bool:
        return hmac.compare_digest(stamp, self.session_stamp)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def login_name(self) -> str:
        return self.email or self.phone or f"#{self.id}"

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return check_password(self.password_hash, password)


def hash_password(password: str) -> str:
    """Argon2id, the current OWASP recommendation."""
    return _hasher.hash(password)


# Checked against when no user matches, so an unknown login costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")


def check_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(text: str) -> str:
    return fold(text).lower()


def normalise_phone(text: str) -> str:
    """Mainland mobile numbers: 11 digits, with or without +86 and separators."""
    digits = "".join(ch for ch in fold(text) if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def find_user(session: Session, login: str) -> User | None:
    """The user whose email address or mobile number this is."""
    login = login.strip()
    if "@" in login:
        return session.scalar(select(User).where(User.email == normalise_email(login)))
    phone = normalise_phone(login)
    return session.scalar(select(User).where(User.phone == phone)) if phone else None


def create_user(
    session: Session,
    password: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    role: Role = Role.USER,
) -> User:
    user = User(
        email=normalise_email(email) if email else None,
        phone=normalise_phone(phone) if phone else None,
        role=role.value,
    )
    user.set_password(password)
    session.add(user)
    session.flush()
    return user
