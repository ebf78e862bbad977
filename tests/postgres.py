"""A fresh PostgreSQL database per test, cloned from one migrated template (TEST_DATABASE_URL).

``CREATE DATABASE … TEMPLATE`` copies files and takes a fraction of a second, where migrating
each test's database would take seconds. TEST_DATABASE_URL names a database on the server that
the role may connect to; the role needs CREATEDB. Under pytest-xdist each worker has its own
template, so no two workers ever clone from, or drop, the same database.
"""

from __future__ import annotations

import os
import time
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

from blueprints.cli import upgrade_database


def server_url() -> URL | None:
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    return make_url(url) if url else None


def _admin_engine(url: URL):
    # CREATE/DROP DATABASE cannot run inside a transaction.
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


class PostgresDatabases:
    def __init__(self, url: URL, worker: str) -> None:
        self.url = url
        self.admin = _admin_engine(url)
        self.template = f"yp_tpl_{worker}_{uuid.uuid4().hex[:8]}"
        self._execute(f'CREATE DATABASE "{self.template}"')
        upgrade_database(self.url_of(self.template))
        # Nobody may stay connected to a template while it is cloned.
        self._execute(f"ALTER DATABASE \"{self.template}\" WITH ALLOW_CONNECTIONS false")

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def _execute(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(statement))

    def create(self) -> str:
        name = f"yp_t_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def drop(self, name: str) -> None:
        # FORCE: a background thread of the test (batch worker) may still hold a connection.
        # An autovacuum worker in the database belongs to the server, not to our role, so
        # FORCE may not end it: it finishes or yields within moments, then the drop goes on.
        for attempt in range(20):
            try:
                self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except ProgrammingError:
                if attempt == 19:
                    raise
                time.sleep(0.25)

    def close(self) -> None:
        self._execute(f"ALTER DATABASE \"{self.template}\" WITH ALLOW_CONNECTIONS true")
        self.drop(self.template)
        self.admin.dispose()
