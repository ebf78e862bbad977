"""Account commands: ``flask --app app users create-admin EMAIL``, ``users token EMAIL``.

Other areas add their account commands to the same group (``@users_cli.command(...)``).
"""

from __future__ import annotations

import secrets
import sys

import click
from flask import Flask
from flask.cli import AppGroup

from yanpiao.accounts import Role, create_user, find_user
from yanpiao.staff_accounts import PASSWORD_MIN, StaffError, create_account, is_email
from yanpiao.tokens import create_token

from .cli import require_schema
from .ext import db

users_cli = AppGroup("users", help="Manage accounts: administrators, staff, tokens.",
                     callback=require_schema)

_PROBLEMS = {
    "email": "That is not an email address.",
    "password": f"The password needs at least {PASSWORD_MIN} characters.",
    "exists": "An account with this email address exists already.",
}


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when not given (give it only in scripts).")
def create_admin(email: str, password: str) -> None:
    """Create an administrator account with EMAIL, e.g. the first one after installing."""
    try:
        user = create_account(db.session, email, password, Role.ADMIN, actor_id=None)
    except StaffError as exc:
        db.session.rollback()
        click.echo(_PROBLEMS.get(exc.code, exc.code), err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Administrator {user.login_name} created.")


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="", help="What the token is for, e.g. 'nightly import'.")
def users_token(email: str, name: str) -> None:
    """Print a new API token for the account EMAIL, creating the account when missing."""
    user = find_user(db.session, email)
    if user is None:
        if not is_email(email):
            click.echo(_PROBLEMS["email"], err=True)
            sys.exit(1)
        # A random password nobody knows: the account signs in only after a password reset.
        user = create_user(db.session, secrets.token_urlsafe(24), email=email)
        db.session.commit()
        click.echo(f"Account {user.login_name} created.")
    _row, token = create_token(db.session, user.id, name or "Token for scripts")
    click.echo("The token is shown only this once; keep it secret:")
    click.echo(token)


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
