"""``flask --app app backup FILE`` and ``flask --app app restore FILE`` (docs/DEPLOY.md)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from yanpiao.backup import (BackupError, Command, backend, backup_sqlite, pg_dump_command,
                            pg_restore_command, restore_sqlite, sqlite_file)


def _run(command: Command) -> None:
    program = shutil.which(command.args[0])
    if program is None:
        raise click.ClickException(
            f"{command.args[0]} is not installed (Debian: postgresql-client). Run by hand:\n"
            f"  {command.shown()}"
        )
    finished = subprocess.run([program, *command.args[1:]], env=command.environment(),
                              check=False)
    if finished.returncode:
        raise click.ClickException(f"{command.args[0]} failed (exit {finished.returncode}).")


@click.command("backup")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--print-command", is_flag=True,
              help="PostgreSQL: only print the pg_dump command instead of running it.")
def backup(file: Path, print_command: bool) -> None:
    """Write a consistent backup of the database to FILE while the app keeps serving.

    SQLite: the online backup API (FILE is a SQLite database). PostgreSQL: pg_dump's custom
    format (restore with `flask --app app restore FILE` or pg_restore).
    """
    url = current_app.config["DATABASE_URL"]
    try:
        if backend(url) == "sqlite":
            backup_sqlite(sqlite_file(url), file)
        else:
            command = pg_dump_command(url, file)
            if print_command:
                click.echo(command.shown())
                return
            _run(command)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backup written to {file}.")


@click.command("restore")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--print-command", is_flag=True,
              help="PostgreSQL: only print the pg_restore command instead of running it.")
def restore(file: Path, yes: bool, print_command: bool) -> None:
    """Replace everything in the database by the backup in FILE.

    Afterwards run `flask --app app db upgrade` when the backup is older than this release.
    """
    url = current_app.config["DATABASE_URL"]
    try:
        kind = backend(url)
        command = pg_restore_command(url, file) if kind == "postgresql" else None
        if command is not None and print_command:
            click.echo(command.shown())
            return
        if not yes:
            click.confirm(f"Replace all data in {url.split('@')[-1]} by {file}?", abort=True)
        if command is None:
            restore_sqlite(file, sqlite_file(url))
        else:
            _run(command)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Database restored from {file}. Run `flask --app app db upgrade` if it is "
               "older than this release.")


def init_app(app: Flask) -> None:
    app.cli.add_command(backup)
    app.cli.add_command(restore)
