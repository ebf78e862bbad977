"""Extensions, created once and bound to the app in ``create_app`` (DESIGN habit 1)."""

from __future__ import annotations

import time

import flask_limiter
import limits.storage
from flask import Flask, current_app, g
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from yanpiao.db import make_engine, make_session_factory


class BoundDatabase:
    """What one app holds: its engine and its session factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.factory: sessionmaker = make_session_factory(engine)


class Database:
    """One SQLAlchemy engine per app (kept on the app, so two apps in one process stay apart),
    one session per app context."""

    def init_app(self, app: Flask) -> None:
        app.extensions["database"] = BoundDatabase(make_engine(app.config["DATABASE_URL"]))
        app.teardown_appcontext(self._close)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["database"].engine

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = current_app.extensions["database"].factory()
        return g.db_session

    def _close(self, _exc) -> None:
        self.discard_session()

    def discard_session(self) -> None:
        """End this request's session; after a database error the next use starts afresh.

        close() without rollback(): objects already loaded (the signed-in user) stay readable.
        A database that went away after the answer was made must not turn it into an error:
        the connection is then dropped instead of rolled back.
        """
        session = g.pop("db_session", None)
        if session is not None:
            try:
                session.close()
            except SQLAlchemyError:
                session.invalidate()


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter, whose check before every request runs only when there is a limit for it.

    Every Yanpiao limit belongs to its route and is checked by that route's decorator. The
    check before each request serves application-wide, default, blueprint and meta limits
    (``RATELIMIT_APPLICATION``, ``RATELIMIT_DEFAULT``…); with none configured it still resolved
    the request's limits to nothing, at a twentieth of the cost of an API verification.
    """

    def _limits_beyond_routes(self) -> bool:
        manager = self.limit_manager
        return bool(manager.application_limits or manager.default_limits
                    or manager._blueprint_limits or self._meta_limits)

    def init_app(self, app: Flask) -> None:
        # Registered before Flask-Limiter's own hook, so it runs after it (Flask runs them in
        # reverse): the headers add Retry-After to every limited answer, even a 200, where it
        # told scripts to wait before a request they had every right to send.
        app.after_request(_retry_after_only_when_waiting)
        super().init_app(app)

    def _check_request_limit(self, callable_name: str | None = None,
                             in_middleware: bool = True) -> None:
        if in_middleware and not self._limits_beyond_routes():
            return
        super()._check_request_limit(callable_name, in_middleware)


def _retry_after_only_when_waiting(response):
    """Retry-After belongs to answers that ask the client to wait: 429 and 503."""
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


class MemoryStorage(limits.storage.MemoryStorage):
    """The ``memory://`` rate-limit storage (the default), without its sweeper thread.

    limits' own class sweeps expired counters from a ``threading.Timer`` that it starts again
    on the first hit 10 ms after the last one ended: under load every worker started about a
    hundred threads a second for it. A counter is already checked for expiry whenever it is
    read, so the sweep only frees memory: here it runs inline, at most once per ``SWEEP_EVERY``
    seconds. Declaring the ``memory`` scheme makes ``memory://`` URIs build this class.
    """

    STORAGE_SCHEME = ["memory"]
    SWEEP_EVERY = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        self._next_sweep = 0.0

    # limits calls this (name-mangled) method on every hit to have the sweep scheduled.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_EVERY
            self._MemoryStorage__expire_events()


db = Database()
babel = Babel()
csrf = CSRFProtect()
htmx = Htmx()
compress = Compress()
limiter = Limiter(get_remote_address, default_limits=[])
login_manager = LoginManager()
