"""The app refuses to serve a database whose schema is not at this code's migration heads.

Checked once when a server process creates the app (a gunicorn worker then fails to boot with
the message below, and gunicorn stops), and lazily on the first request otherwise: under the
``flask`` command (``flask --app app db upgrade`` must work on an empty database), or when the
database was unreachable at start. Tests (``TESTING``) skip it.
"""

from __future__ import annotations

from functools import cache

import click
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, request
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from .cli import MIGRATIONS

UPGRADE_HINT = "Run `flask --app app db upgrade` with the same DATABASE_URL first."


class SchemaNotReady(RuntimeError):
    """The database has no schema, or an older one than this release needs."""


@cache
def code_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


@cache
def known_revisions() -> frozenset[str]:
    scripts = ScriptDirectory(str(MIGRATIONS)).walk_revisions()
    return frozenset(script.revision for script in scripts)


def schema_problem(engine: Engine) -> str | None:
    """What is wrong with the database's schema, in an operator's words; None when current.

    One connection and one small query; raises SQLAlchemyError when the database is down.
    """
    with engine.connect() as connection:
        current = frozenset(MigrationContext.configure(connection).get_current_heads())
    wanted = code_heads()
    if current == wanted:
        return None
    where = engine.url.render_as_string(hide_password=True)
    if not current:
        return f"The database {where} has no Yanpiao schema. {UPGRADE_HINT}"
    if current - known_revisions():
        # Upgraded by a newer release: migrations only add, so during a rolling deploy the
        # servers still on this release keep serving (and a restarted worker may boot).
        return None
    return (f"The database {where} is at revision {', '.join(sorted(current))}; this release "
            f"needs {', '.join(sorted(wanted))}. {UPGRADE_HINT}")


def init_app(app: Flask) -> None:
    if app.testing or not app.config.get("YANPIAO_SCHEMA_CHECK", True):
        return
    checked = False
    engine = app.extensions["database"].engine
    if click.get_current_context(silent=True) is None:
        try:
            problem = schema_problem(engine)
        except SQLAlchemyError as exc:
            # A database outage must not stop a worker from booting: it serves friendly 503s
            # and checks the schema once the database is back.
            app.logger.warning("database unreachable at start (%s); schema checked later",
                               type(exc).__name__)
        else:
            if problem:
                raise SchemaNotReady(problem)
            checked = True

    @app.before_request
    def refuse_unmigrated_database():
        nonlocal checked
        if checked or request.endpoint == "health.healthz":
            return None
        problem = schema_problem(engine)  # an outage goes to the 503 handler in errors.py
        if problem:
            app.logger.error(problem)
            from .errors import unavailable

            return unavailable()
        checked = True
        return None
