"""Who may open what: flask-login wiring and the role checks of staff pages."""

from __future__ import annotations

from functools import wraps

from flask import Flask, abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from yanpiao.accounts import Role, User

from .ext import db, login_manager


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _, stamp = session_id.partition(":")
        if not user_id.isdecimal():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or not user.matches_session(stamp):
            return None
        return user


def role_required(*roles: Role):
    """Sign-in first (redirect to the login page), then 403 for the wrong role."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in {role.value for role in roles}:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = role_required(Role.STAFF, Role.ADMIN)
admin_required = role_required(Role.ADMIN)
