"""Staff accounts, for administrators: list, create, change role, deactivate."""

from __future__ import annotations

from flask import abort, flash, get_flashed_messages, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from yanpiao.accounts import Role, User
from yanpiao.audit import AuditEvent, Subject
from yanpiao.db import utcnow
from yanpiao.staff_accounts import PASSWORD_MIN, StaffError, create_account, is_email, set_active
from yanpiao.staff_accounts import change_role as change_account_role
from yanpiao.staff_accounts import staff_members

from ..access import admin_required
from ..ext import db
from . import bp
from .forms import ActiveForm, NewStaffForm, RoleForm
from .queue import DONE, PROBLEM, names_for
from .trail import describe

RECENT_CHANGES = 30


def _problem(code: str) -> str:
    return {
        "role": _("Choose staff or administrator."),
        "email": _("Enter an email address like name@example.com."),
        "password": _("The password needs at least %(min)d characters.", min=PASSWORD_MIN),
        "exists": _("An account with this email address exists already."),
        "self": _("You cannot change your own role or access. Ask another administrator."),
        "last_admin": _("This is the last active administrator. Make someone else an "
                        "administrator first."),
    }.get(code, _("That change is not possible."))


def _render(form: NewStaffForm | None = None, status: int = 200):
    events = list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.subject_type == Subject.USER.value)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(RECENT_CHANGES)
    ))
    names = names_for([e.actor_id for e in events] + [e.subject_id for e in events])
    changes = [dict(row, account=names.get(event.subject_id, "#%d" % event.subject_id))
               for event, row in zip(events, describe(events, names), strict=True)]
    return render_template(
        "staff/users.html", members=staff_members(db.session),
        form=form or NewStaffForm(formdata=None),
        role_choices=RoleForm.role.kwargs["choices"], changes=changes, password_min=PASSWORD_MIN,
        done=get_flashed_messages(category_filter=[DONE]),
        problems=get_flashed_messages(category_filter=[PROBLEM]),
    ), status


@bp.get("/users")
@admin_required
def users():
    return _render()


@bp.post("/users")
@admin_required
def create_staff():
    form = NewStaffForm()
    if not form.validate_on_submit():
        return _render(form, 422)
    # Every problem at once, not one per attempt: the account rules check one at a time.
    if not is_email(form.email.data):
        form.email.errors = [_problem("email")]
    if len(form.password.data) < PASSWORD_MIN:
        form.password.errors = [_problem("password")]
    if form.email.errors or form.password.errors:
        return _render(form, 422)
    try:
        user = create_account(db.session, form.email.data, form.password.data, Role(form.role.data),
                              actor_id=current_user.id, now=utcnow())
    except StaffError as exc:
        db.session.rollback()
        field = form.password if exc.code == "password" else form.email
        field.errors = [_problem(exc.code)]
        return _render(form, 422)
    db.session.commit()
    flash(_("Account %(login)s created. Give them the initial password in person.",
            login=user.login_name), DONE)
    return redirect(url_for("staff.users"), code=303)


def _member_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/users/<int:user_id>/role")
@admin_required
def change_role(user_id: int):
    user = _member_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        change_account_role(db.session, user, Role(form.role.data), actor_id=current_user.id,
                            now=utcnow())
    except StaffError as exc:
        db.session.rollback()
        flash(_problem(exc.code), PROBLEM)
        return redirect(url_for("staff.users"), code=303)
    db.session.commit()
    flash(_("Role of %(login)s changed.", login=user.login_name), DONE)
    return redirect(url_for("staff.users"), code=303)


@bp.post("/users/<int:user_id>/active")
@admin_required
def change_active(user_id: int):
    user = _member_or_404(user_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        set_active(db.session, user, form.active.data == "1", actor_id=current_user.id,
                   now=utcnow())
    except StaffError as exc:
        db.session.rollback()
        flash(_problem(exc.code), PROBLEM)
        return redirect(url_for("staff.users"), code=303)
    db.session.commit()
    if user.active:
        flash(_("%(login)s can sign in again.", login=user.login_name), DONE)
    else:
        flash(_("%(login)s is deactivated and signed out.", login=user.login_name), DONE)
    return redirect(url_for("staff.users"), code=303)
