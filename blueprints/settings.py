"""Configuration from the environment (DESIGN 3.2), resolved when the app is created."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

LANGUAGES = {
    # code: (name in its own language, text direction)
    "zh_Hans": ("简体中文", "ltr"),
    "en": ("English", "ltr"),
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
        "YANPIAO_DAILY_LIMIT": _int("YANPIAO_DAILY_LIMIT", 5),
        "YANPIAO_MAX_AGE_YEARS": _int("YANPIAO_MAX_AGE_YEARS", 5),
        # Demo data and the /samples page; switch off in production.
        "YANPIAO_DEMO": os.environ.get("YANPIAO_DEMO", "1").lower() in ("1", "true", "yes"),
        "YANPIAO_TIMEZONE": os.environ.get("YANPIAO_TIMEZONE", "Asia/Shanghai"),
        # Per client address; the bench and load tests raise it.
        "YANPIAO_API_RATE_LIMIT": os.environ.get("YANPIAO_API_RATE_LIMIT", "120 per minute"),
        "YANPIAO_VERIFY_RATE_LIMIT": os.environ.get("YANPIAO_VERIFY_RATE_LIMIT", "60 per minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "MAX_CONTENT_LENGTH": _int("YANPIAO_MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
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
