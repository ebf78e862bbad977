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


def test_numbering_migration_keeps_every_row_and_takes_up_each_years_last_number(tmp_path):
    """0009 copies the accounts and tickets tables on SQLite: nothing that refers to them may
    go with the old copies, and the next number follows the highest one given so far."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = alembic_config(url)
    later = {"0009_feedback_numbering", "0010_session_generation"}  # 0009 and what follows it
    for head in code_heads() - later | {"0008_outbox"}:
        command.upgrade(config, head)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO users (id, email, password_hash, role, active, created_at) VALUES "
            "(1, 'staff@example.com', 'h', 'staff', 1, '2026-01-01'), "
            "(2, 'visitor@example.com', 'h', 'user', 1, '2026-01-01')")
        connection.exec_driver_sql(
            "INSERT INTO feedback_tickets (id, number, year, sequence, token_hash, "
            "submission_key, category, message, contact, invoice_reference, anonymous, user_id, "
            "locale, status, priority, assigned_to_id, created_at, updated_at) VALUES "
            "(1, 'FB-2026-000007', 2026, 7, 't1', 'k1', 'other', 'm', '', '', 0, 2, '', 'new', "
            "'normal', 1, '2026-01-01', '2026-01-01'), "
            "(2, 'FB-2025-000004', 2025, 4, 't2', 'k2', 'other', 'm', '', '', 0, NULL, '', "
            "'new', 'normal', NULL, '2025-01-01', '2025-01-01')")
        connection.exec_driver_sql(
            "INSERT INTO feedback_messages (ticket_id, created_at, author, staff_id, body) "
            "VALUES (1, '2026-01-02', 'staff', 1, 'Thank you.')")
    engine.dispose()

    upgrade_database(url)

    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT id, user_id, assigned_to_id FROM feedback_tickets ORDER BY id").all() == [
            (1, 2, 1), (2, None, None)]
        assert connection.exec_driver_sql(
            "SELECT ticket_id, staff_id, body FROM feedback_messages").all() == [
            (1, 1, "Thank you.")]
        assert connection.exec_driver_sql(
            "SELECT year, last_sequence FROM feedback_numbering ORDER BY year").all() == [
            (2025, 4), (2026, 7)]
        assert "AUTOINCREMENT" in connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'users'").scalar()
    engine.dispose()
