"""Signing up, proving who one is, and getting back in: the rules behind the account pages."""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import feedback
from .accounts import User, check_password, create_user, find_user, normalise_email, normalise_phone
from .db import utcnow
from .mail import OutgoingMail
from .models import VerificationRecord
from .normalize import fold
from .staff_accounts import PASSWORD_MIN as STAFF_PASSWORD_MIN
from .staff_accounts import StaffError, is_last_admin

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 256
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class LoginKind(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"


class PasswordProblem(enum.StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    SAME_AS_LOGIN = "same_as_login"


@dataclass(frozen=True)
class LoginName:
    kind: LoginKind
    value: str


def parse_login(text: str) -> LoginName | None:
    """An email address or a mainland mobile number, normalised; None for anything else."""
    text = fold(text or "")
    if "@" in text:
        email = normalise_email(text)
        valid = _EMAIL.match(email) and len(email) <= 254
        return LoginName(LoginKind.EMAIL, email) if valid else None
    phone = normalise_phone(text)
    return LoginName(LoginKind.PHONE, phone) if _MOBILE.match(phone) else None


def minimum_password_length(account: User | None) -> int:
    """Staff and administrators need longer passwords than visitors' accounts."""
    return STAFF_PASSWORD_MIN if account is not None and account.is_staff else PASSWORD_MIN_LENGTH


def password_problem(password: str, *logins: str | None,
                     minimum: int = PASSWORD_MIN_LENGTH) -> PasswordProblem | None:
    """Length is what makes a password strong (NIST SP 800-63B); no composition rules. It may
    not be any of the account's ``logins`` (its email address, its mobile number)."""
    if len(password) < minimum:
        return PasswordProblem.TOO_SHORT
    if len(password) > PASSWORD_MAX_LENGTH:
        return PasswordProblem.TOO_LONG
    if any(login and fold(password).lower() == fold(login).lower() for login in logins):
        return PasswordProblem.SAME_AS_LOGIN
    return None


def is_taken(session: Session, login: LoginName) -> bool:
    column = User.email if login.kind is LoginKind.EMAIL else User.phone
    return session.scalar(select(User.id).where(column == login.value)) is not None


def register(session: Session, login: LoginName, password: str) -> User:
    """A new ordinary account; the caller has checked that the login is free."""
    user = create_user(
        session,
        password,
        email=login.value if login.kind is LoginKind.EMAIL else None,
        phone=login.value if login.kind is LoginKind.PHONE else None,
    )
    user.last_login_at = utcnow()
    session.commit()
    return user


def authenticate(session: Session, login: str, password: str) -> User | None:
    """The user if the password is theirs; None alike for an unknown login, a wrong password
    or a disabled account, in about the same time."""
    user = find_user(session, login or "")
    ok = check_password(user.password_hash if user else None, password or "")
    if user is None or not ok or not user.active:
        return None
    user.last_login_at = utcnow()
    session.commit()
    return user


def change_password(session: Session, user: User, new_password: str) -> None:
    user.set_password(new_password)
    session.commit()


def delete_account(session: Session, user_id: int) -> None:
    """The account and everything of it: its history, the feedback reports it sent (with
    their mails), and the password reset mails sent to its address. Its batches go by the
    foreign key's cascade. The only active administrator cannot go (``StaffError``)."""
    user = session.get(User, user_id)
    if user is None:
        return
    if is_last_admin(session, user):
        raise StaffError("last_admin")
    email = user.email
    session.execute(delete(VerificationRecord).where(VerificationRecord.user_id == user_id))
    feedback.delete_reports_of(session, user_id)
    if email:
        session.execute(delete(OutgoingMail).where(OutgoingMail.recipient == email,
                                                   OutgoingMail.ticket_id.is_(None)))
    session.execute(delete(User).where(User.id == user_id))
    session.commit()


# --- password reset by emailed link ------------------------------------------------------

_RESET_SALT = "yanpiao-password-reset"


def _password_fingerprint(user: User) -> str:
    # In the token so a link stops working once the password changed: it can be used once.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def reset_token(secret_key: str, user: User) -> str:
    serializer = URLSafeTimedSerializer(secret_key, salt=_RESET_SALT)
    return serializer.dumps({"user": user.id, "pw": _password_fingerprint(user)})


def user_for_reset_token(
    session: Session, secret_key: str, token: str, max_age: int
) -> User | None:
    """The user a reset link was made for, if it is genuine, fresh and not used yet."""
    serializer = URLSafeTimedSerializer(secret_key, salt=_RESET_SALT)
    try:
        payload = serializer.loads(token, max_age=max_age)
    except BadSignature:  # also covers expired links
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("user"), int):
        return None
    user = session.get(User, payload["user"])
    if user is None or not user.active or payload.get("pw") != _password_fingerprint(user):
        return None
    return user


def user_for_reset(session: Session, email: str) -> User | None:
    """Who may get a reset link at this address: active accounts with that email."""
    login = parse_login(email)
    if login is None or login.kind is not LoginKind.EMAIL:
        return None
    user = session.scalar(select(User).where(User.email == login.value))
    return user if user is not None and user.active else None
