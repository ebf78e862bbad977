"""Error pages in the site layout (JSON under /api), and never a stack trace."""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from .ext import db, login_manager

ERRORS = {
    400: (_l("Something in that request was wrong"), _l(
        "The page could not understand what was sent. Go back, check the form and try again."
    )),
    403: (_l("You can't open this page"), _l(
        "This page is for other accounts. If you think you should see it, sign in with the "
        "right account."
    )),
    404: (_l("Page not found"), _l(
        "There is no page at this address. Check the address, or start again from the "
        "verification page."
    )),
    405: (_l("That action is not possible here"), _l(
        "This page does not accept that kind of request. Start again from the verification "
        "page."
    )),
    413: (_l("File too large"), _l(
        "The file you sent is larger than %(limit)s. Send a smaller photo or file."
    )),
    429: (_l("Too many requests"), _l(
        "You have sent many requests in a short time. Wait a minute and try again."
    )),
    500: (_l("Something went wrong on our side"), _l(
        "Your request could not be completed. Nothing you entered was stored. Please try "
        "again in a moment."
    )),
    503: (_l("Temporarily unavailable"), _l(
        "The service is briefly unavailable. Please try again in a moment."
    )),
}
CSRF_MESSAGE = _l(
    "Your session expired or the form was already sent. Nothing was lost: check the form "
    "and send it again."
)


def _limit_text(app: Flask) -> str:
    # The limit of this request: batch uploads have their own, larger one.
    size = (request.max_content_length if has_request_context() else None) \
        or app.config.get("MAX_CONTENT_LENGTH") or 0
    return f"{size // (1024 * 1024)} MB"


# Seconds a client is asked to wait while the database is away (clients and nginx retry).
UNAVAILABLE_RETRY_AFTER = 5


# What the API says instead of a page's words (pages, forms, the verification page).
API_ERRORS = {
    404: _l("No API endpoint answers at this address. The endpoints are listed in "
            "/api/v1/openapi.json."),
    405: _l("This endpoint does not accept this method. The Allow header lists those it does."),
    413: _l("The request body is larger than %(limit)s."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_text(status: int) -> str:
    """What the error page of ``status`` says, for a script to say it where a page cannot go."""
    text = ERRORS.get(status, ERRORS[500])[1]
    return str(text) % {"limit": _limit_text(current_app)} if status == 413 else str(text)


def render_error(status: int, message=None, title=None):
    title = title or ERRORS.get(status, ERRORS[500])[0]
    text = message or error_text(status)
    if wants_json():
        if message is None and status in API_ERRORS:
            text = str(API_ERRORS[status]) % ({"limit": _limit_text(current_app)}
                                              if status == 413 else {})
        body = {"error": status, "message": str(text)}
        if status == 429:
            body["outcome"] = "rate_limited"
        return jsonify(body), status
    return render_template("errors/error.html", status=status, title=title,
                           message=text), status


def is_database_outage(exc: Exception) -> bool:
    """Lost or refused connections and a full pool, as opposed to bugs in a query."""
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def unavailable():
    """The friendly 503 page (JSON under /api), rendered without touching the database."""
    db.discard_session()
    # The page layout asks who is signed in; with the database away, nobody is.
    g._login_user = login_manager.anonymous_user()
    body, status = render_error(503)
    response = current_app.make_response((body, status))
    response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["error_text"] = error_text

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        from .verify import redisplay_after_csrf_error

        if request.endpoint in ("verify.verify", "verify.scan", "verify.photo"):
            return redisplay_after_csrf_error(str(CSRF_MESSAGE))
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        from . import kiosk

        if kiosk.is_kiosk_address(request.path):  # no kiosk route matched: the kiosk's own page
            return kiosk.error_outside_routes(exc)
        # Flask-Limiter adds Retry-After to 429s itself (RATELIMIT_HEADERS_ENABLED). The
        # exception's own headers stay: a 405 names the methods allowed (Allow).
        response = current_app.make_response(render_error(exc.code or 500))
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    def database_error(exc: Exception):
        if not is_database_outage(exc):
            return unexpected_error(exc)
        app.logger.warning("database unavailable on %s %s: %s", request.method, request.path,
                           type(exc.orig if isinstance(exc, DBAPIError) else exc).__name__)
        return unavailable()

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        db.discard_session()  # a failed transaction must not break the error page itself
        # The signed-in user was loaded by that session; after a rollback its attributes are
        # expired and, the session closed, could not be loaded again: load it afresh.
        g.pop("_login_user", None)
        return render_error(InternalServerError.code)
