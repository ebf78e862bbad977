"""Backups and restores of the database.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot page
by page while the app goes on serving, and copies a backup back into the live file the same way.
PostgreSQL: ``pg_dump`` in its custom format, restored by ``pg_restore``; the password travels
in the environment, never on a command line that ``ps`` shows.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


@dataclass(frozen=True)
class Command:
    """A program to run, with the environment it needs besides the current one."""

    args: list[str]
    env: dict[str, str]

    def shown(self) -> str:
        """The command line for an operator to read or copy (the password stays hidden)."""
        prefix = "PGPASSWORD=… " if "PGPASSWORD" in self.env else ""
        return prefix + " ".join(_quote(arg) for arg in self.args)

    def environment(self) -> dict[str, str]:
        return {**os.environ, **self.env}


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def backend(url: str) -> str:
    """"sqlite" or "postgresql" (any driver); other databases are refused."""
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups are supported for SQLite and PostgreSQL, not {name}.")
    return name


def sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(database)


def _check_sqlite(path: Path, thorough: bool = True) -> None:
    """A readable SQLite file that holds a Yanpiao schema; ``thorough``: read every page."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            if thorough and connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{path} is damaged (PRAGMA quick_check failed).")
            has_version = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite database ({exc}).") from None
    if not has_version:
        raise BackupError(f"{path} holds no Yanpiao schema (no alembic_version table).")


def backup_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of the live database at ``source``, written atomically to ``target``."""
    _check_sqlite(source, thorough=False)
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder: create it, or write the backup "
                          "elsewhere.")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(source, timeout=30)) as live, \
                closing(sqlite3.connect(partial)) as copy:
            live.backup(copy)
            # One self-contained file: no -wal beside it to forget when copying it elsewhere.
            copy.execute("PRAGMA journal_mode=DELETE")
        _check_sqlite(partial)
        partial.replace(target)
    except (OSError, sqlite3.OperationalError) as exc:  # a folder one may not write in, a full disk
        raise BackupError(f"Cannot write {target}: {exc}.") from None
    finally:
        partial.unlink(missing_ok=True)


def restore_sqlite(backup: Path, target: Path) -> None:
    """Replace the contents of the database at ``target`` by the backup, in one step.

    The running app may keep its connections: they see the restored data on their next query.
    """
    _check_sqlite(backup)
    with closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as copy, \
            closing(sqlite3.connect(target, timeout=30)) as live:
        copy.backup(live)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the password as PGPASSWORD."""
    parsed: URL = make_url(url)
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    plain = URL.create("postgresql", username=parsed.username, host=parsed.host,
                       port=parsed.port, database=parsed.database, query=parsed.query)
    return plain.render_as_string(hide_password=False), env


def pg_dump_command(url: str, target: Path) -> Command:
    conninfo, env = _libpq(url)
    return Command(["pg_dump", "--format=custom", "--no-owner", f"--file={target}",
                    f"--dbname={conninfo}"], env)


def pg_restore_command(url: str, backup: Path) -> Command:
    conninfo, env = _libpq(url)
    return Command(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                    "--exit-on-error", f"--dbname={conninfo}", str(backup)], env)
