"""Request ids: one per request, in the response, in the app's log lines and in the access log.

nginx (or any proxy) may send its own ``X-Request-ID`` so one id follows a request through every
tier; a well-formed one is kept, anything else is replaced by a fresh id. gunicorn.conf.py
writes the response header into the access log, so an error a visitor reports by its id can be
found in both logs.
"""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

HEADER = "X-Request-ID"
# Ids go into log lines and headers: no spaces, quotes or line breaks from the outside.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
LOG_FORMAT = "[%(asctime)s] %(levelname)s request_id=%(request_id)s %(name)s: %(message)s"


def request_id() -> str:
    """This request's id ("-" outside a request), made on first use."""
    if not has_request_context():
        return "-"
    if "request_id" not in g:
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if _WELL_FORMED.fullmatch(incoming) else uuid.uuid4().hex
    return g.request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


def _install_log_format() -> None:
    # flask's default handler is shared by every app of the process: set it up once.
    if not any(isinstance(f, RequestIdFilter) for f in default_handler.filters):
        default_handler.addFilter(RequestIdFilter())
        default_handler.setFormatter(logging.Formatter(LOG_FORMAT))


def init_app(app: Flask) -> None:
    _install_log_format()

    @app.before_request
    def assign_request_id():
        request_id()

    @app.after_request
    def send_request_id(response):
        response.headers[HEADER] = request_id()
        return response
