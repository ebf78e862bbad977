"""`flask --app app backup FILE` and `restore FILE`: SQLite's online backup API, pg_dump and
pg_restore for PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import threading

import pytest
from sqlalchemy import select

from yanpiao.models import Invoice


def invoice_numbers(app) -> list[str]:
    with app.app_context():
        from blueprints.ext import db

        return sorted(db.session.scalars(select(Invoice.invoice_number)))


def forget_invoices(app) -> None:
    with app.app_context():
        from blueprints.ext import db
        from yanpiao.models import VerificationRecord

        db.session.query(VerificationRecord).delete()
        db.session.query(Invoice).delete()
        db.session.commit()


@pytest.fixture
def stored(make_invoice):
    make_invoice()
    make_invoice(invoice_number="00000002")
    return ["00000002", "12345678"]


def test_backup_and_restore_bring_the_data_back(app, runner, tmp_path, stored, database_url):
    if database_url.startswith("postgresql"):
        assert shutil.which("pg_dump"), "backups of PostgreSQL need pg_dump (postgresql-client)"
    target = tmp_path / "yanpiao.backup"
    done = runner.invoke(args=["backup", str(target)])
    assert done.exit_code == 0, done.output
    assert "Backup written" in done.output and target.stat().st_size > 0

    forget_invoices(app)
    assert invoice_numbers(app) == []
    done = runner.invoke(args=["restore", "--yes", str(target)])
    assert done.exit_code == 0, done.output
    # The running app sees the restored data without a restart.
    assert invoice_numbers(app) == stored


class TestSQLiteFiles:
    """SQLite's online backup and the checks of a restore: on a SQLite file in both passes of
    `make test` (the PostgreSQL pass runs the pg_dump test above)."""

    @pytest.fixture
    def database_url(self, sqlite_database_url):
        return sqlite_database_url

    def test_a_sqlite_backup_is_one_consistent_self_contained_file(self, app, runner, tmp_path,
                                                                   stored):
        target = tmp_path / "copy.db"
        runner.invoke(args=["backup", str(target)])
        assert not (tmp_path / "copy.db-wal").exists()
        with sqlite3.connect(target) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert copy.execute("SELECT count(*) FROM invoices").fetchone()[0] == 2
            assert copy.execute("SELECT count(*) FROM alembic_version").fetchone()[0] >= 1

    def test_a_backup_taken_while_requests_write_is_consistent(self, app, runner, tmp_path,
                                                                make_invoice):
        stop = threading.Event()

        def write():
            n = 0
            while not stop.is_set() and n < 400:
                make_invoice(invoice_number=f"{10_000_000 + n}")
                n += 1

        writer = threading.Thread(target=write)
        writer.start()
        try:
            for round_ in range(3):
                done = runner.invoke(args=["backup", str(tmp_path / f"b{round_}.db")])
                assert done.exit_code == 0, done.output
        finally:
            stop.set()
            writer.join()
        for round_ in range(3):
            with sqlite3.connect(tmp_path / f"b{round_}.db") as copy:
                assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    @pytest.mark.parametrize("content, message", [
        (b"not a database at all, just some text" * 100, "not a SQLite database"),
        (None, "no Yanpiao schema"),
    ])
    def test_restore_refuses_files_that_are_no_yanpiao_backup(self, app, runner, tmp_path,
                                                              stored, content, message):
        bad = tmp_path / "bad.db"
        if content is None:
            with sqlite3.connect(bad) as other:
                other.execute("CREATE TABLE t (x)")
        else:
            bad.write_bytes(content)
        done = runner.invoke(args=["restore", "--yes", str(bad)])
        assert done.exit_code != 0 and message in done.output
        assert invoice_numbers(app) == stored

    def test_a_backup_to_a_place_it_cannot_write_says_so(self, app, runner, tmp_path, stored):
        """A folder that does not exist ended in sqlite3's traceback."""
        done = runner.invoke(args=["backup", str(tmp_path / "no-such-folder" / "b.db")])
        assert done.exit_code == 1 and "no-such-folder is not a folder" in done.output
        assert "Traceback" not in done.output and not isinstance(done.exception,
                                                                 sqlite3.Error)
        (tmp_path / "a-file").write_text("")
        done = runner.invoke(args=["backup", str(tmp_path / "a-file" / "b.db")])
        assert done.exit_code == 1 and "is not a folder" in done.output

    def test_restore_asks_first(self, app, runner, tmp_path, stored):
        target = tmp_path / "b.db"
        runner.invoke(args=["backup", str(target)])
        done = runner.invoke(args=["restore", str(target)], input="n\n")
        assert done.exit_code != 0 and "Aborted" in done.output


def test_postgres_commands_keep_the_password_off_the_command_line(tmp_path):
    from yanpiao.backup import pg_dump_command, pg_restore_command

    url = "postgresql+psycopg://yanpiao:s3cret@db.internal:5432/yanpiao"
    dump = pg_dump_command(url, tmp_path / "x.dump")
    assert dump.args[0] == "pg_dump" and "--format=custom" in dump.args
    assert "s3cret" not in " ".join(dump.args) and dump.env == {"PGPASSWORD": "s3cret"}
    assert "--dbname=postgresql://yanpiao@db.internal:5432/yanpiao" in dump.args
    assert "s3cret" not in dump.shown()
    restore = pg_restore_command(url, tmp_path / "x.dump")
    assert restore.args[0] == "pg_restore" and "--clean" in restore.args


def test_backup_can_print_the_pg_dump_command(app, runner, tmp_path):
    app.config["DATABASE_URL"] = "postgresql+psycopg://yanpiao:pw@localhost/yanpiao"
    done = runner.invoke(args=["backup", "--print-command", str(tmp_path / "x.dump")])
    assert done.exit_code == 0
    assert done.output.startswith("PGPASSWORD=… pg_dump --format=custom")
    assert ":pw@" not in done.output

