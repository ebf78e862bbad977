"""Per-address, per-route limits on everything a stranger can repeat cheaply: verifying (form,
scanner, photo, API), decoding uploads, signing in, feedback. A refused request gets a 429 page
in the visitor's language (JSON under /api) with Retry-After."""

from __future__ import annotations

import io
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app import create_app

LIMIT = "2 per minute"
CHINA = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def limited_app(database_url):
    app = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x",
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True,
        "YANPIAO_VERIFY_RATE_LIMIT": LIMIT, "YANPIAO_API_RATE_LIMIT": LIMIT,
        "YANPIAO_LOGIN_RATE_LIMIT": LIMIT, "YANPIAO_FEEDBACK_RATE_LIMIT": LIMIT,
    })
    yield app
    app.extensions["database"].engine.dispose()


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (40, 40), 255).save(buffer, "PNG")
    return buffer.getvalue()


# Each entry sends one request of a limited kind; what it sends need not be valid.
SENDERS = {
    "verify form": lambda c, h: c.post("/verify", data={"invoice_number": "1"}, headers=h),
    "scanner": lambda c, h: c.post("/verify/scan", data={"qr": "x"}, headers=h),
    "photo": lambda c, h: c.post("/verify/photo", data={"photo": (io.BytesIO(_png()), "a.png")},
                                 content_type="multipart/form-data", headers=h),
    "sign in": lambda c, h: c.post("/login", data={"login": "a@b.cn", "password": "x"}, headers=h),
    "register": lambda c, h: c.post("/register", data={"login": "a@b.cn"}, headers=h),
    "password reset": lambda c, h: c.post("/password/forgot", data={"email": "a@b.cn"},
                                          headers=h),
    "feedback": lambda c, h: c.post("/feedback", data={"message": "x"}, headers=h),
    "api verify": lambda c, h: c.post("/api/v1/verify", json={"qr": "x"}, headers=h),
    "api decode": lambda c, h: c.post("/api/v1/decode", data={"file": (io.BytesIO(_png()), "a.png")},
                                      content_type="multipart/form-data", headers=h),
}


@pytest.mark.parametrize("kind", SENDERS)
def test_the_third_request_in_a_minute_is_refused_with_retry_after(limited_app, kind):
    client = limited_app.test_client()
    send = SENDERS[kind]
    english = {"Accept-Language": "en"}
    allowed = [send(client, english) for _ in range(2)]
    assert [response.status_code != 429 for response in allowed] == [True, True]
    # Every answer tells how much is left; only a refusal asks the client to wait.
    assert [response.headers.get("X-RateLimit-Remaining") for response in allowed] == ["1", "0"]
    assert [response.headers.get("Retry-After") for response in allowed] == [None, None]
    refused = send(client, english)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    if kind.startswith("api"):
        assert refused.json["outcome"] == "rate_limited"
    else:
        assert "Too many requests" in refused.get_data(as_text=True)


def test_an_invoice_over_its_daily_limit_is_retried_after_midnight_not_in_a_minute(
        limited_app, make_invoice):
    """The daily-limit 429 said "Try again tomorrow" with the rate limit's Retry-After: 60."""
    limited_app.config.update(YANPIAO_DAILY_LIMIT=1, YANPIAO_API_RATE_LIMIT="10 per minute")
    client = limited_app.test_client()
    stored = make_invoice()
    body = {name: stored[name] for name in ("invoice_code", "invoice_number", "issue_date")}
    body["check_code"] = stored["check_code"][-6:]
    assert client.post("/api/v1/verify", json=body).status_code == 200
    refused = client.post("/api/v1/verify", json=body)
    assert refused.status_code == 429 and refused.json["outcome"] == "limit_exceeded"
    midnight = datetime.combine(datetime.now(CHINA).date() + timedelta(days=1), datetime.min.time(),
                                tzinfo=CHINA)
    expected = (midnight - datetime.now(CHINA)).total_seconds()
    assert abs(int(refused.headers["Retry-After"]) - expected) <= 5


def test_the_429_page_speaks_the_visitors_language(limited_app):
    client = limited_app.test_client()
    chinese = {"Accept-Language": "zh-CN"}
    for _ in range(3):
        refused = SENDERS["verify form"](client, chinese)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "请求过于频繁" in page and 'lang="zh-Hans"' in page


def test_limits_count_per_client_address(limited_app):
    first = limited_app.test_client()
    first.environ_base["REMOTE_ADDR"] = "198.51.100.1"
    second = limited_app.test_client()
    second.environ_base["REMOTE_ADDR"] = "198.51.100.2"
    for _ in range(3):
        last = SENDERS["verify form"](first, {})
    assert last.status_code == 429
    assert SENDERS["verify form"](second, {}).status_code != 429


def test_limits_count_per_route(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        SENDERS["verify form"](client, {})
    assert SENDERS["sign in"](client, {}).status_code != 429
    assert client.get("/verify").status_code == 200  # reading the page is never limited


def test_memory_counters_start_no_threads_and_still_forget_expired_ones(monkeypatch):
    """The default ``memory://`` storage counts and expires inline: limits' own class started a
    timer thread on the first hit 10 ms after the previous one, ~100 threads a second a worker
    under load."""
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    storage = storage_from_string("memory://")
    storage.SWEEP_EVERY = 0.0
    limiter = FixedWindowRateLimiter(storage)
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread))

    two_a_minute = parse("2 per minute")
    allowed = []
    for _ in range(3):
        allowed.append(limiter.hit(two_a_minute, "198.51.100.1"))
        time.sleep(0.02)  # past the 10 ms after which limits would start its next timer
    assert allowed == [True, True, False]
    assert started == []

    storage.incr("gone-soon", expiry=0.01)
    time.sleep(0.02)
    storage.incr("another", expiry=60)  # any hit sweeps what has expired
    assert "gone-soon" not in storage.storage
    assert started == []


def test_a_configured_default_limit_still_covers_routes_without_their_own(database_url):
    app = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x",
        "RATELIMIT_ENABLED": True, "RATELIMIT_DEFAULT": LIMIT,
        "RATELIMIT_APPLICATION": "3 per minute",
    })
    try:
        client = app.test_client()
        english = {"Accept-Language": "en"}
        assert [client.get("/faq", headers=english).status_code for _ in range(3)] == [
            200, 200, 429]
        # The application-wide limit counts every route together: /samples is its third.
        assert client.get("/samples", headers=english).status_code == 429
    finally:
        app.extensions["database"].engine.dispose()
