"""Response headers, cookies over TLS behind a proxy, session protection, request ids."""

from __future__ import annotations

import logging
import re

import pytest

from app import create_app


@pytest.fixture
def proxied_app(database_url):
    """The app as deployed behind one nginx (YANPIAO_PROXY_COUNT=1)."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x",
                      "RATELIMIT_ENABLED": False, "YANPIAO_PROXY_COUNT": 1})
    yield app
    app.extensions["database"].engine.dispose()


def test_every_page_sends_the_strict_headers(client):
    response = client.get("/verify")
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS would mean nothing


@pytest.mark.parametrize("path", ["/verify", "/healthz", "/api/v1/openapi.json", "/nowhere"])
def test_headers_hold_for_json_and_error_responses_too(client, path):
    headers = client.get(path).headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_over_tls(client):
    response = client.get("/verify", base_url="https://yanpiao.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_behind_nginx_the_forwarded_scheme_turns_on_hsts_and_secure_cookies(proxied_app):
    client = proxied_app.test_client()
    response = client.get("/verify", headers={"X-Forwarded-Proto": "https",
                                              "X-Forwarded-For": "203.0.113.9"})
    assert "Strict-Transport-Security" in response.headers
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies, "the verify page starts a session for its CSRF token"
    for cookie in cookies:
        assert "; Secure" in cookie
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_plain_http_cookies_are_httponly_and_samesite_but_not_secure(client):
    cookies = client.get("/verify").headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(client):
    response = client.get("/verify", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_the_proxy_count_decides_which_forwarded_address_is_the_client(proxied_app):
    seen = []

    @proxied_app.get("/test-remote-addr")
    def remote_addr():
        from flask import request

        seen.append(request.remote_addr)
        return "ok"

    # A client may send its own X-Forwarded-For; nginx appends the address it saw.
    proxied_app.test_client().get("/test-remote-addr",
                                  headers={"X-Forwarded-For": "10.9.9.9, 198.51.100.7"})
    assert seen == ["198.51.100.7"]


def test_sign_in_is_protected_against_a_stolen_session_cookie(app, client, make_user, login):
    from blueprints.ext import login_manager

    assert login_manager.session_protection in ("basic", "strong")
    login(client, make_user())
    client.get("/account", headers={"User-Agent": "browser A"})
    with client.session_transaction() as session:
        session["_fresh"] = True
    # The same cookie from another browser: no longer a fresh sign-in.
    client.get("/account", headers={"User-Agent": "something else"})
    with client.session_transaction() as session:
        assert not session.get("_fresh")


def test_pages_for_a_signed_in_account_are_kept_by_no_cache(app, client, make_user, login):
    """The token page showed a new API token with no Cache-Control; so did the registry's
    invoices (tax ids, bank accounts) and the statistics."""
    from yanpiao.accounts import Role

    public = client.get("/faq")
    assert "no-store" not in public.headers.get("Cache-Control", "")
    login(client, make_user(email="officer@example.com", role=Role.STAFF))
    for path in ("/account", "/account/tokens", "/staff/registry/", "/staff/stats", "/faq"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers["Cache-Control"], path


def test_forms_carry_a_csrf_token_and_posts_without_one_are_refused(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/verify").get_data(as_text=True)
    assert re.search(r'name="csrf_token" (type="hidden" )?value="[^"]+"', page)
    assert client.post("/feedback", data={"message": "hello"}).status_code == 400
    assert client.post("/login", data={"login": "a@b.cn", "password": "x"}).status_code == 400
    # Only the language and display switches take no token (test_language_and_display.py).
    assert client.post("/language", data={"lang": "en"}).status_code == 303


def test_the_api_needs_no_csrf_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/api/v1/verify", json={"qr": "not an invoice"})
    assert response.status_code == 422


def test_a_request_id_is_made_or_kept_and_sent_back(client):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/healthz").headers["X-Request-ID"] != made
    kept = client.get("/healthz", headers={"X-Request-ID": "nginx-4f2a9c"})
    assert kept.headers["X-Request-ID"] == "nginx-4f2a9c"


@pytest.mark.parametrize("bad", ["has space", "quote\"d", "x" * 200, "line\u2028break"])
def test_a_malformed_request_id_is_replaced(client, bad):
    sent = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
    assert sent != bad and re.fullmatch(r"[0-9a-f]{32}", sent)


def test_log_lines_of_a_request_carry_its_id(app, client, caplog):
    from blueprints.request_ids import RequestIdFilter

    @app.get("/test-log")
    def log_something():
        app.logger.warning("something happened")
        return "ok"

    handler = caplog.handler
    handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        client.get("/test-log", headers={"X-Request-ID": "rid-77"})
    assert [r.request_id for r in caplog.records if r.getMessage() == "something happened"] == [
        "rid-77"]
