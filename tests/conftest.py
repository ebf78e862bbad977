"""Shared fixtures: an app on a fresh migrated SQLite database per test, clients, factories."""

from __future__ import annotations

import os
import shutil

import pytest

from app import create_app
from blueprints.cli import upgrade_database
from yanpiao import registry
from yanpiao.db import make_engine

import sessions
from factories import TODAY, invoice_record  # noqa: F401  (re-exported for tests)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """One database migrated by Alembic, copied for every test (faster than migrating each)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_databases():
    """With TEST_DATABASE_URL set: per-test PostgreSQL databases (tests/postgres.py)."""
    from postgres import PostgresDatabases, server_url

    url = server_url()
    if url is None:
        yield None
        return
    databases = PostgresDatabases(url, os.environ.get("PYTEST_XDIST_WORKER", "main"))
    yield databases
    databases.close()


@pytest.fixture
def sqlite_database_url(tmp_path, migrated_template):
    """A fresh migrated SQLite file. Tests of SQLite itself override ``database_url`` with it,
    so they run on SQLite in both passes of `make test`."""
    path = tmp_path / "yanpiao.db"
    shutil.copyfile(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def database_url(request, postgres_databases):
    """A fresh migrated database for this test: a SQLite file, or PostgreSQL when
    TEST_DATABASE_URL is set (`make test` runs the suite both ways)."""
    if postgres_databases is not None:
        name = postgres_databases.create()
        yield postgres_databases.url_of(name)
        postgres_databases.drop(name)
        return
    yield request.getfixturevalue("sqlite_database_url")


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(monkeypatch):
    """With RATELIMIT_STORAGE_URI=redis://… (the PostgreSQL run of `make test`) each test
    starts without counters, as it does with an app's own memory storage: each xdist worker
    counts in its own Redis database (1, 2, …), emptied before every test. Point it at a
    Redis kept for tests only."""
    from urllib.parse import urlsplit, urlunsplit

    uri = os.environ.get("RATELIMIT_STORAGE_URI", "")
    if not uri.startswith("redis://"):
        return
    import redis

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    own = urlunsplit(urlsplit(uri)._replace(path=f"/{int(worker or 0) + 1}"))
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", own)
    redis.Redis.from_url(own).flushdb()


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "RATELIMIT_ENABLED": False,
        }
    )
    yield app
    app.extensions["mail_sender"].stop()
    app.extensions["database"].engine.dispose()


@pytest.fixture
def mailbox(app):
    """The app sends its mail through a real SMTP server on localhost that keeps it."""
    from smtp_server import Mailbox

    box = Mailbox().start()
    app.config.update(YANPIAO_SMTP_HOST="127.0.0.1", YANPIAO_SMTP_PORT=box.port,
                      YANPIAO_SMTP_SECURITY="none")
    yield box
    box.stop()


@pytest.fixture
def outbox(app):
    """What became of queued mail: ``outbox.wait()`` until this process's sender has sent
    what is due, ``outbox.deliver(later=…)`` a round as if that much time had passed,
    ``outbox.mails()`` every mail in the outbox."""
    from datetime import timedelta

    from sqlalchemy import select

    from yanpiao.db import utcnow
    from yanpiao.mail import OutgoingMail, deliver_due

    class Outbox:
        def wait(self) -> None:
            assert app.extensions["mail_sender"].wait_idle(), "the mail sender did not finish"

        def deliver(self, later: timedelta) -> None:
            self.wait()
            with app.app_context():
                from blueprints.context import mail_settings

                deliver_due(app.extensions["database"].factory, mail_settings(),
                            now=utcnow() + later)

        def mails(self) -> list[OutgoingMail]:
            self.wait()
            with app.extensions["database"].factory() as session:
                return list(session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))

    return Outbox()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    with app.app_context():
        from blueprints.ext import db

        yield db.session


@pytest.fixture
def make_invoice(app):
    """Store an invoice (import-format overrides) and return its record."""

    def make(**overrides) -> dict:
        record = invoice_record(**overrides)
        with app.app_context():
            from blueprints.ext import db

            registry.store_invoice(db.session, registry.parse_import_record(record))
            db.session.commit()
        return record

    return make


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def make_user(app):
    """Create an account: make_user(email=..., role=Role.STAFF) → its id."""
    from yanpiao.accounts import Role, create_user

    def make(email="user@example.com", password="correct horse battery", role=Role.USER,
             phone=None):
        with app.app_context():
            from blueprints.ext import db

            user = create_user(db.session, password, email=email, phone=phone, role=role)
            db.session.commit()
            return user.id

    return make


@pytest.fixture
def login(app):
    """Sign a test client in as a user id, the way flask-login keeps it in the session."""

    return lambda client, user_id: sessions.sign_in(app, client, user_id)
