"""Configuration from the environment (DESIGN 3.2), resolved when the app is created."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

LANGUAGES = {
    # code: (name in its own language, text direction)
    "zh_Hans": ("简体中文", "ltr"),
    "en": ("English", "ltr"),
    "ja": ("日本語", "ltr"),
    "ko": ("한국어", "ltr"),
    "ru": ("Русский", "ltr"),
    "ar": ("العربية", "rtl"),
}
DEFAULT_LOCALE = "zh_Hans"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept under instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def from_environment(instance_path: Path) -> dict:
    instance_path.mkdir(parents=True, exist_ok=True)
    secure = os.environ.get("YANPIAO_SECURE_COOKIES", "").lower() in ("1", "true", "yes")
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "DATABASE_URL": os.environ.get("DATABASE_URL")
        or f"sqlite:///{instance_path / 'yanpiao.db'}",
        "YANPIAO_CAMERA": os.environ.get("YANPIAO_CAMERA", ""),
        # The kiosk: the terminal's name in the statistics, the folder its camera reader
        # publishes to, and how long a visitor may stand still before the screen starts again.
        "YANPIAO_KIOSK_ID": os.environ.get("YANPIAO_KIOSK_ID", "") or os.uname().nodename or "kiosk",
        "YANPIAO_KIOSK_DIR": os.environ.get("YANPIAO_KIOSK_DIR", "") or str(instance_path / "kiosk"),
        "YANPIAO_KIOSK_IDLE_SECONDS": _int("YANPIAO_KIOSK_IDLE_SECONDS", 60),
        "YANPIAO_KIOSK_WARNING_SECONDS": _int("YANPIAO_KIOSK_WARNING_SECONDS", 30),
        "YANPIAO_DAILY_LIMIT": _int("YANPIAO_DAILY_LIMIT", 5),
        "YANPIAO_MAX_AGE_YEARS": _int("YANPIAO_MAX_AGE_YEARS", 5),
        # Demo data and the /samples page; switch off in production.
        "YANPIAO_DEMO": os.environ.get("YANPIAO_DEMO", "1").lower() in ("1", "true", "yes"),
        "YANPIAO_TIMEZONE": os.environ.get("YANPIAO_TIMEZONE", "Asia/Shanghai"),
        # Per client address; the bench and load tests raise it.
        "YANPIAO_API_RATE_LIMIT": os.environ.get("YANPIAO_API_RATE_LIMIT", "120 per minute"),
        "YANPIAO_VERIFY_RATE_LIMIT": os.environ.get("YANPIAO_VERIFY_RATE_LIMIT", "60 per minute"),
        "YANPIAO_FEEDBACK_RATE_LIMIT": os.environ.get("YANPIAO_FEEDBACK_RATE_LIMIT", "10 per hour"),
        "YANPIAO_FAQ_VOTE_RATE_LIMIT": os.environ.get("YANPIAO_FAQ_VOTE_RATE_LIMIT", "60 per hour"),
        # Accounts, history and receipts.
        "YANPIAO_LOGIN_RATE_LIMIT": os.environ.get("YANPIAO_LOGIN_RATE_LIMIT", "10 per minute"),
        "YANPIAO_HISTORY_RETENTION_DAYS": _int("YANPIAO_HISTORY_RETENTION_DAYS", 365),
        "YANPIAO_FEEDBACK_RETENTION_DAYS": _int("YANPIAO_FEEDBACK_RETENTION_DAYS", 365),
        "YANPIAO_PASSWORD_RESET_MAX_AGE": 3600,
        "YANPIAO_SMTP_HOST": os.environ.get("YANPIAO_SMTP_HOST", ""),  # unset: mail is logged
        "YANPIAO_SMTP_PORT": _int("YANPIAO_SMTP_PORT", 587),
        "YANPIAO_SMTP_USER": os.environ.get("YANPIAO_SMTP_USER", ""),
        "YANPIAO_SMTP_PASSWORD": os.environ.get("YANPIAO_SMTP_PASSWORD", ""),
        "YANPIAO_SMTP_FROM": os.environ.get("YANPIAO_SMTP_FROM", "Yanpiao <no-reply@localhost>"),
        # "starttls", "ssl" (port 465) or "none".
        "YANPIAO_SMTP_SECURITY": os.environ.get("YANPIAO_SMTP_SECURITY", "starttls"),
        "YANPIAO_RECEIPT_KEY_DIR": os.environ.get("YANPIAO_RECEIPT_KEY_DIR", str(instance_path)),
        "YANPIAO_RECEIPT_FONT": os.environ.get("YANPIAO_RECEIPT_FONT", ""),
        # Links that leave the site (reset mails, receipt QR codes), e.g. https://yanpiao.example;
        # unset: taken from the request.
        "YANPIAO_PUBLIC_URL": os.environ.get("YANPIAO_PUBLIC_URL", "").rstrip("/"),
        "REMEMBER_COOKIE_DURATION": 30 * 24 * 3600,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Separates the counters of several deployments (or test runs) sharing one Redis.
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", ""),
        # Redis away: count in the worker's memory meanwhile instead of failing requests.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Reverse proxies (nginx) in front of the app whose X-Forwarded-For/-Proto are trusted.
        "YANPIAO_PROXY_COUNT": _int("YANPIAO_PROXY_COUNT", 0),
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "MAX_CONTENT_LENGTH": _int("YANPIAO_MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
        # Batch lists and ZIPs of invoice files (blueprints/batch.py raises the limit for them).
        "YANPIAO_BATCH_MAX_UPLOAD_BYTES": _int("YANPIAO_BATCH_MAX_UPLOAD_BYTES", 50 * 1024 * 1024),
        "YANPIAO_BATCH_RATE_LIMIT": os.environ.get("YANPIAO_BATCH_RATE_LIMIT", "30 per hour"),
        "BABEL_DEFAULT_LOCALE": DEFAULT_LOCALE,
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("YANPIAO_TIMEZONE", "Asia/Shanghai"),
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead of a clock
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "COMPRESS_MIMETYPES": [
            "text/html",
            "application/json",
            "image/svg+xml",
            "text/csv",
        ],
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_MIN_SIZE": 500,
    }
