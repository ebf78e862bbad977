"""What views hand the domain besides the request: settings and whose history it is."""

from __future__ import annotations

import secrets
from zoneinfo import ZoneInfo

from flask import current_app, session

from yanpiao.verification import Settings

OWNER_KEY = "owner"


def verification_settings() -> Settings:
    config = current_app.config
    return Settings(
        daily_limit=config["YANPIAO_DAILY_LIMIT"],
        max_age_years=config["YANPIAO_MAX_AGE_YEARS"],
        timezone=ZoneInfo(config["YANPIAO_TIMEZONE"]),
    )


def owner_key(create: bool = True) -> str | None:
    """The anonymous history key of this browser session."""
    if OWNER_KEY not in session and create:
        session[OWNER_KEY] = secrets.token_urlsafe(18)
    return session.get(OWNER_KEY)
