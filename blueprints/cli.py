"""Maintenance commands: ``flask --app app db …`` and ``flask --app app registry …``."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from yanpiao import registry

from .context import verification_settings
from .ext import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


@with_appcontext
def require_schema() -> None:
    """Before a command that reads or writes the tables: a database without them (a new file,
    a mistyped DATABASE_URL) is said so, not answered with SQLAlchemy's traceback."""
    from sqlalchemy import inspect

    if not inspect(db.engine).has_table("alembic_version"):
        raise click.ClickException(
            "This database has no Yanpiao tables yet: run `flask --app app db upgrade` first "
            "(or check DATABASE_URL).")


db_cli = AppGroup("db", help="Create or upgrade the database schema (Alembic).")
registry_cli = AppGroup("registry", help="Fill and maintain the invoice registry.",
                        callback=require_schema)


@db_cli.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema to REVISION (all heads by default)."""
    before = _revisions()
    upgrade_database(current_app.config["DATABASE_URL"], revision)
    after = _revisions()
    if before == after:
        click.echo(f"Database already at {', '.join(after) or 'no revision'}; nothing to do.")
    else:
        click.echo(f"Database upgraded from {', '.join(before) or 'an empty database'} "
                   f"to {', '.join(after)}.")


def _revisions() -> list[str]:
    """The schema revisions the database is at (none for a new database)."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as connection:
        return sorted(MigrationContext.configure(connection).get_current_heads())


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Step the schema back to REVISION."""
    command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)


@db_cli.command("current")
def db_current() -> None:
    """Show the schema revision of the database."""
    command.current(alembic_config(current_app.config["DATABASE_URL"]), verbose=True)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
def db_revision(message: str, autogenerate: bool) -> None:
    """Write a new migration from the difference between the models and the database."""
    command.revision(
        alembic_config(current_app.config["DATABASE_URL"]), message=message,
        autogenerate=autogenerate,
    )


# The demo set keeps every code and number it made to keep them unique: a bound on memory.
MAX_SEED = 2_000_000


@registry_cli.command("seed")
@click.option("--count", type=click.IntRange(0, MAX_SEED), default=200, show_default=True,
              help=f"How many demo invoices (at most {MAX_SEED:,}).")
@click.option("--if-empty", is_flag=True, help="Only when the registry holds no invoice.")
def registry_seed(count: int, if_empty: bool) -> None:
    """Add COUNT deterministic demo invoices (Beijing, every type and status)."""
    from sqlalchemy import func, select

    from yanpiao.models import Invoice
    from yanpiao.seed import seed_registry

    if if_empty and db.session.scalar(select(func.count(Invoice.id))):
        click.echo("The registry already holds invoices; nothing seeded.")
        return
    today = datetime.now(verification_settings().timezone).date()
    report = seed_registry(db.session, count, today=today)
    click.echo(f"Seeded: {report.added} added, {report.updated} updated.")


@registry_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--format", "file_format", type=click.Choice(["jsonl", "csv"]),
              help="Default: from FILE's ending (.jsonl or .csv); JSON Lines for '-'.")
def registry_import(file, file_format: str | None) -> None:
    """Load invoices from a JSON Lines or CSV FILE ('-' for standard input).

    One transaction per file: refused lines are listed and skipped; when the import fails
    part-way, nothing of the file is stored. The staff import page does the same.
    """
    from yanpiao.upkeep import import_file

    name = getattr(file, "name", "-")
    if file_format is None and name in ("-", "<stdin>"):
        file_format = "jsonl"
    try:
        report = import_file(db.session, file.read(), name, file_format=file_format)
    except registry.UnreadableFile as exc:
        raise click.ClickException(str(exc)) from None
    for line, reason in report.errors:
        click.echo(f"line {line}: {reason}", err=True)
    click.echo(
        f"Imported: {report.added} added, {report.updated} updated, {report.refused} refused."
    )
    if report.errors:
        sys.exit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(registry_cli)
