"""Response headers every page carries: a strict CSP and friends."""

from __future__ import annotations

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def secure_cookies_over_tls(wsgi_app):
    """Every cookie sent over HTTPS gets ``Secure``, whatever code set it.

    So one configuration serves plain HTTP on a developer's machine and TLS in production;
    YANPIAO_SECURE_COOKIES forces it for the session cookie even on HTTP.
    """

    def middleware(environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return wsgi_app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            headers = [
                (name, value + "; Secure")
                if name.lower() == "set-cookie" and "; secure" not in value.lower()
                else (name, value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return wsgi_app(environ, secure_start_response)

    return middleware


def init_app(app: Flask) -> None:
    app.wsgi_app = secure_cookies_over_tls(app.wsgi_app)
    proxies = app.config.get("YANPIAO_PROXY_COUNT", 0)
    if proxies:
        # Behind nginx: the client address (rate limits, logs) and the scheme (HSTS, Secure
        # cookies) come from the last `proxies` hops of X-Forwarded-For/-Proto, which the
        # proxies set; anything a client adds in front of them is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0,
                                x_port=0, x_prefix=0)

    @app.after_request
    def secure_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        # What a signed-in account sees (a new token, invoices' tax ids and bank accounts, the
        # staff area) is kept by no cache, nor for the next person at a shared computer. The
        # account is looked at only if the request loaded it: an API call does not.
        user = g.get("_login_user")
        if user is not None and user.is_authenticated:
            headers.setdefault("Cache-Control", "private, no-store")
        return response
