"""Every migration runs down and up again on the test database: SQLite, and PostgreSQL in
`make test`'s second run (the per-test database starts migrated to all heads)."""

from __future__ import annotations

from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from blueprints.cli import alembic_config, upgrade_database
from blueprints.schema import code_heads
from yanpiao.db import Base


def _state(url: str) -> tuple[frozenset, set]:
    engine = create_engine(url)
    with engine.connect() as connection:
        heads = frozenset(MigrationContext.configure(connection).get_current_heads())
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    return heads, tables


def test_all_migrations_go_down_and_up_again(app, database_url):
    app.extensions["database"].engine.dispose()
    heads, tables = _state(database_url)
    assert heads == code_heads()
    # create_app imported every area, so the metadata holds every model's table.
    assert set(Base.metadata.tables) <= tables, "a model without a migration"

    command.downgrade(alembic_config(database_url), "base")
    heads, tables = _state(database_url)
    assert not heads and tables <= {"alembic_version"}

    upgrade_database(database_url)
    heads, tables = _state(database_url)
    assert heads == code_heads() and set(Base.metadata.tables) <= tables
