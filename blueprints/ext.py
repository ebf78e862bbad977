"""Extensions, created once and bound to the app in ``create_app`` (DESIGN habit 1)."""

from __future__ import annotations

from flask import Flask, g
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from yanpiao.db import make_engine, make_session_factory


class Database:
    """One SQLAlchemy engine per app, one session per app context."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._factory: sessionmaker | None = None

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"])
        self._factory = make_session_factory(self.engine)
        app.extensions["database"] = self
        app.teardown_appcontext(self._close)

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self._factory()
        return g.db_session

    def _close(self, _exc) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()
babel = Babel()
csrf = CSRFProtect()
htmx = Htmx()
compress = Compress()
limiter = Limiter(get_remote_address, default_limits=[])
login_manager = LoginManager()
