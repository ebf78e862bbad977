"""API tokens: what scripts send as ``Authorization: Bearer …`` instead of a password.

Only a SHA-256 hash of a token is stored (a token is 190 random bits, so a slow hash buys
nothing); the first characters are kept in clear so people can tell their tokens apart.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .accounts import User
from .db import Base, UTCDateTime, utcnow

TOKEN_PREFIX = "yp_"
SHOWN_CHARACTERS = 10  # "yp_" and 7 more: enough to tell tokens apart, useless to guess one


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user_id: int, name: str = "") -> tuple[ApiToken, str]:
    """A new token for the user: the stored row and the token itself, shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    row = ApiToken(user_id=user_id, name=name.strip()[:100], prefix=token[:SHOWN_CHARACTERS],
                   token_hash=hash_token(token), created_at=utcnow())
    session.add(row)
    session.commit()
    return row, token


def user_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc())
    ))


def revoke_token(session: Session, user_id: int, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False when there is no such active token."""
    revoked = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == user_id,
               ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return bool(revoked)


def user_for_token(session: Session, token: str) -> User | None:
    """The active user an active token belongs to, noting when the token was last used."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or not row.is_active:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = utcnow()
    session.commit()
    return user
