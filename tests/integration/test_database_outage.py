"""The database goes away and comes back: friendly 503s meanwhile, recovery without a restart;
probes; the refusal to serve an unmigrated database; SQLite's settings."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import OperationalError

from app import create_app
from blueprints.cli import upgrade_database
from blueprints.schema import SchemaNotReady
from factories import invoice_record
from yanpiao.accounts import Role

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "postgresql+psycopg://yanpiao@127.0.0.1:1/yanpiao?connect_timeout=2"


class Switch:
    """Cuts the app's database connections, as a crashed or restarting server does."""

    def __init__(self, app) -> None:
        self.engine = app.extensions["database"].engine
        self.down = False
        event.listen(self.engine, "do_connect", self._connect)

    def _connect(self, dialect, record, cargs, cparams):
        if self.down:
            raise self.engine.dialect.loaded_dbapi.OperationalError("connection refused")
        return None

    def cut(self) -> None:
        self.down = True
        self.engine.dispose()  # pooled connections die with the server

    def restore(self) -> None:
        self.down = False


@pytest.fixture
def unreachable_app(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": UNREACHABLE, "SECRET_KEY": "x",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    yield app
    app.extensions["database"].engine.dispose()


def verify_fields(record=None) -> dict:
    record = record or invoice_record()
    return {"invoice_code": record["invoice_code"], "invoice_number": record["invoice_number"],
            "issue_date": record["issue_date"], "check_code": record["check_code"][-6:]}


def test_pages_answer_503_in_the_visitors_language_with_retry_after(unreachable_app):
    client = unreachable_app.test_client()
    response = client.post("/verify", data=verify_fields(), headers={"Accept-Language": "zh-CN"})
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "服务暂不可用" in page and "Traceback" not in page and "psycopg" not in page


def test_the_api_answers_503_as_json(unreachable_app):
    client = unreachable_app.test_client()
    response = client.post("/api/v1/verify", json=verify_fields())
    assert response.status_code == 503
    assert response.json["error"] == 503 and response.json["message"]
    assert response.headers["Retry-After"]


def test_a_signed_in_visitor_gets_the_503_page_too(unreachable_app):
    client = unreachable_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1"
    response = client.get("/history", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.get_data(as_text=True)


def test_probes_tell_the_process_from_the_database(unreachable_app):
    client = unreachable_app.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["database"] == "unreachable"


def test_the_service_recovers_by_itself_and_loses_no_acknowledged_write(app, make_invoice,
                                                                         make_user, login):
    make_invoice()
    switch = Switch(app)
    client = login(app.test_client(), make_user(role=Role.USER))
    app.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/verify", data=verify_fields()).status_code == 303

    switch.cut()
    during = [client.post("/verify", data=verify_fields()).status_code for _ in range(3)]
    assert during == [503, 503, 503]
    assert client.get("/readyz").status_code == 503

    switch.restore()
    assert client.get("/readyz").status_code == 200
    after = client.post("/verify", data=verify_fields())
    assert after.status_code == 303
    assert client.get(after.headers["Location"]).status_code == 200
    with app.app_context():
        from blueprints.ext import db
        from yanpiao.models import VerificationRecord

        # The two acknowledged checks, none of the refused ones.
        assert len(db.session.scalars(select(VerificationRecord)).all()) == 2


def test_a_connection_lost_mid_request_is_discarded(app, make_invoice):
    """The request that meets the outage must not leave a broken session behind."""
    make_invoice()
    switch = Switch(app)
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    calls = {"n": 0}

    @app.before_request
    def cut_after_the_session_started():
        from blueprints.ext import db

        calls["n"] += 1
        if calls["n"] == 1:
            db.session.execute(text("SELECT 1"))
            switch.cut()
            # The server closes the connection this request holds.
            db.session.connection().connection.dbapi_connection.close()

    assert client.post("/verify", data=verify_fields()).status_code == 503
    switch.restore()
    assert client.post("/verify", data=verify_fields()).status_code == 303


def test_a_database_lost_after_the_answer_was_made_does_not_spoil_it(app):
    """Found by bench/chaos.py: ending the request's transaction on a dead connection."""

    @app.get("/test-read-then-lose")
    def read_then_lose():
        from blueprints.ext import db

        db.session.execute(text("SELECT 1"))  # a transaction is open now
        return "answered"

    @app.after_request
    def lose_the_connection(response):
        from flask import g

        if "db_session" in g:
            g.db_session.connection().connection.dbapi_connection.close()
        return response

    response = app.test_client().get("/test-read-then-lose")
    assert response.status_code == 200 and response.get_data(as_text=True) == "answered"


# --- an unmigrated database ------------------------------------------------------------------


def production_app(url: str):
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "x"})


def test_a_server_refuses_to_start_on_an_empty_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(SchemaNotReady, match="no Yanpiao schema.*flask --app app db upgrade"):
        production_app(url)


def test_a_server_refuses_to_start_on_an_older_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade_database(url, "0001_registry")
    with pytest.raises(SchemaNotReady, match="at revision 0001_registry; this release needs"):
        production_app(url)


def test_a_server_starts_on_a_current_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'current.db'}"
    upgrade_database(url)
    app = production_app(url)
    assert app.test_client().get("/readyz").status_code == 200
    app.extensions["database"].engine.dispose()


def test_a_server_of_the_previous_release_still_starts_after_an_upgrade(tmp_path):
    """Rolling deploys: the database already has a newer release's migration."""
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    upgrade_database(url)
    with sqlite3.connect(tmp_path / "newer.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099_next_release' "
                           "WHERE version_num = (SELECT max(version_num) FROM alembic_version)")
    app = production_app(url)
    assert app.test_client().get("/readyz").status_code == 200
    app.extensions["database"].engine.dispose()


def test_under_the_flask_command_the_check_waits_for_the_first_request(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with click.Context(click.Command("flask")):
        app = production_app(url)  # `flask db upgrade` must be able to create the app
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/verify").status_code == 503
    upgrade_database(url)
    assert client.get("/verify").status_code == 200
    app.extensions["database"].engine.dispose()


def test_db_upgrade_works_on_an_empty_database(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}", "SECRET_KEY": "x",
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # It says what it did: "up to date" was printed whether anything was done or not.
    assert done.stdout.startswith("Database upgraded from an empty database to ")
    again = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    head = done.stdout.rsplit(" to ", 1)[1].strip().rstrip(".")
    assert again.stdout.strip() == f"Database already at {head}; nothing to do."


# --- SQLite ------------------------------------------------------------------------------------


class TestSQLiteSettings:
    """On a SQLite file in both passes of `make test`."""

    @pytest.fixture
    def database_url(self, sqlite_database_url):
        return sqlite_database_url

    def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(self, app):
        engine = app.extensions["database"].engine
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_an_unreachable_redis_does_not_stop_the_app(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True,
                      "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
                      "YANPIAO_VERIFY_RATE_LIMIT": "2 per minute"})
    client = app.test_client()
    statuses = [client.post("/verify", data=verify_fields()).status_code for _ in range(3)]
    # Limits still hold, counted in the worker's memory meanwhile.
    assert statuses[:2] != [500, 500] and 500 not in statuses
    assert statuses[-1] == 429
    app.extensions["database"].engine.dispose()


def test_the_postgres_pool_checks_connections_before_use():
    from yanpiao.db import make_engine

    engine = make_engine(UNREACHABLE)
    assert engine.pool._pre_ping
    engine.dispose()


def test_outage_errors_are_told_from_query_bugs():
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    from blueprints.errors import is_database_outage

    assert is_database_outage(OperationalError("SELECT 1", {}, sqlite3.OperationalError("x")))
    assert not is_database_outage(IntegrityError("INSERT", {}, sqlite3.IntegrityError("x")))
    assert not is_database_outage(ProgrammingError("SELECT", {}, sqlite3.ProgrammingError("x")))
