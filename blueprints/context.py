"""What views hand the domain besides the request: settings, whose history it is, mail."""

from __future__ import annotations

import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app, session, url_for
from flask_login import current_user

from yanpiao.history import Owner
from yanpiao.mail import MailSettings, OutgoingMail, queue_mail
from yanpiao.verification import Settings

from .ext import db

OWNER_KEY = "owner"


def verification_settings() -> Settings:
    config = current_app.config
    return Settings(
        daily_limit=config["YANPIAO_DAILY_LIMIT"],
        max_age_years=config["YANPIAO_MAX_AGE_YEARS"],
        timezone=ZoneInfo(config["YANPIAO_TIMEZONE"]),
    )


def retention(setting: str, days: int | None = None) -> timedelta | None:
    """How long records of one kind are kept: ``days``, else the ``YANPIAO_*_RETENTION_DAYS``
    setting; None when they are kept for good (0 days)."""
    days = current_app.config[setting] if days is None else days
    return timedelta(days=days) if days > 0 else None


def owner_key(create: bool = True) -> str | None:
    """The anonymous history key of this browser session."""
    if OWNER_KEY not in session and create:
        session[OWNER_KEY] = secrets.token_urlsafe(18)
    return session.get(OWNER_KEY)


def history_owner() -> Owner:
    """Whose history this request sees: the signed-in account, else the browser session."""
    if current_user.is_authenticated:
        return Owner(user_id=current_user.id)
    return Owner(owner_key=owner_key(create=False))


def signed_in_user_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def external_url(endpoint: str, **values) -> str:
    """An absolute link for mails and printed QR codes: on the configured public address,
    so a forged Host header cannot redirect them."""
    base = current_app.config.get("YANPIAO_PUBLIC_URL")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def mail_settings() -> MailSettings:
    config = current_app.config
    return MailSettings(
        host=config["YANPIAO_SMTP_HOST"],
        port=config["YANPIAO_SMTP_PORT"],
        user=config["YANPIAO_SMTP_USER"],
        password=config["YANPIAO_SMTP_PASSWORD"],
        sender=config["YANPIAO_SMTP_FROM"],
        security=config["YANPIAO_SMTP_SECURITY"],
    )


def mail(to: str, subject: str, body: str, **about) -> OutgoingMail:
    """Queue one plain-text mail in this request's session; it leaves once that commits.

    ``about``: ``expires_at``, ``ticket_id``, ``message_id`` (``yanpiao.mail.queue_mail``).
    """
    return queue_mail(db.session, to, subject, body, **about)
