"""Accounts: register, sign in and out, change or reset the password, delete everything."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, ValidationError

from yanpiao import credentials
from yanpiao.db import utcnow
from yanpiao.feedback import reports_of, status_token_of
from yanpiao.history import claim_anonymous
from yanpiao.staff_accounts import is_last_admin

from .context import OWNER_KEY, external_url, mail, owner_key
from .i18n import remember_locale_for
from .ext import db, limiter
from .i18n import COOKIE as LANGUAGE_KEY
from .validators import MaxLength

bp = Blueprint("auth", __name__)

LOGIN_LABEL = _l("Email address or mobile number")
BAD_LOGIN = _l("The email address or mobile number and password do not match an account.")
# An expired form with a password comes back without it: browsers never get a password back.
EXPIRED_WITH_PASSWORD = _l(
    "Your session expired or the form was already sent. Enter the password again and send "
    "the form."
)
SIGN_IN_AGAIN = _l("Your session has ended. Sign in again to go on.")
PASSWORD_MESSAGES = {
    credentials.PasswordProblem.TOO_SHORT: _l(
        "Use at least %(min)d characters. A few words together make a strong password."
    ),
    credentials.PasswordProblem.TOO_LONG: _l("Use at most %(max)d characters."),
    credentials.PasswordProblem.SAME_AS_LOGIN: _l(
        "Your password must not be your email address or mobile number."
    ),
}


def _login_limit() -> str:
    return current_app.config["YANPIAO_LOGIN_RATE_LIMIT"]


class ChoosesPassword:
    """A form where someone chooses a password for ``account`` (None: one being registered)."""

    account = None

    @property
    def minimum_length(self) -> int:
        return credentials.minimum_password_length(self.account)


def _check_new_password(form, field):
    """The same rules wherever a password is chosen, for the form's ``account`` (None while
    registering: then the login typed beside it)."""
    account = form.account
    logins = (account.email, account.phone) if account is not None else (form.login.data,)
    minimum = form.minimum_length
    problem = credentials.password_problem(field.data or "", *logins, minimum=minimum)
    if problem is not None:
        raise ValidationError(str(PASSWORD_MESSAGES[problem])
                              % {"min": minimum, "max": credentials.PASSWORD_MAX_LENGTH})


def _confirm(field: str):
    return EqualTo(field, message=_l("The two passwords are not the same."))


_enter_password = InputRequired(message=_l("Enter your password."))
_enter_login = DataRequired(_l("Enter your email address or mobile number."))


class LoginForm(FlaskForm):
    login = StringField(LOGIN_LABEL, [_enter_login, MaxLength(254)])
    password = PasswordField(_l("Password"), [_enter_password, MaxLength(1024)])
    remember = BooleanField(_l("Keep me signed in on this device for 30 days"))


class RegisterForm(ChoosesPassword, FlaskForm):
    login = StringField(LOGIN_LABEL, [_enter_login, MaxLength(254)])
    password = PasswordField(_l("Password"), [InputRequired(_l("Choose a password.")),
                                              _check_new_password])
    confirm = PasswordField(_l("Password again"), [_confirm("password")])

    login_name: credentials.LoginName | None = None

    def validate_login(self, field):
        self.login_name = credentials.parse_login(field.data)
        if self.login_name is None:
            raise ValidationError(_(
                "Enter an email address like name@example.com or an 11-digit mobile number."
            ))
        if credentials.is_taken(db.session, self.login_name):
            raise ValidationError(_(
                "An account with this email address or mobile number already exists. Sign in, "
                "or reset its password."
            ))


class PasswordChangeForm(ChoosesPassword, FlaskForm):
    current = PasswordField(_l("Current password"), [_enter_password])
    password = PasswordField(_l("New password"), [InputRequired(_l("Choose a new password.")),
                                                  _check_new_password])
    confirm = PasswordField(_l("New password again"), [_confirm("password")])

    @property
    def account(self):
        return current_user

    def validate_current(self, field):
        if not current_user.check_password(field.data or ""):
            raise ValidationError(_("That is not your current password."))


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Your password, to confirm"), [_enter_password])

    def validate_password(self, field):
        if not current_user.check_password(field.data or ""):
            raise ValidationError(_("That is not your password."))


class ForgotForm(FlaskForm):
    email = StringField(_l("Email address"), [DataRequired(_l("Enter your email address.")),
                                              MaxLength(254)])


class ResetForm(ChoosesPassword, FlaskForm):
    password = PasswordField(_l("New password"), [InputRequired(_l("Choose a new password.")),
                                                  _check_new_password])
    confirm = PasswordField(_l("New password again"), [_confirm("password")])

    def __init__(self, account, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account


def _next_url() -> str:
    """Where to go after signing in: a path on this site, else the history."""
    target = request.args.get("next", "")
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("history.history")


def _sign_in(user, remember: bool) -> None:
    """Sign in and take this browser's anonymous history along into the account."""
    anonymous_key = owner_key(create=False)
    login_user(user, remember=remember)
    remember_locale_for(user)
    moved = claim_anonymous(db.session, anonymous_key, user.id)
    # The key did its job; a fresh one after signing out keeps the account's records apart.
    session.pop(OWNER_KEY, None)
    if moved:
        flash(ngettext(
            "%(num)d check made in this browser was added to your history.",
            "%(num)d checks made in this browser were added to your history.",
            moved,
        ))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm()
    if form.validate_on_submit():
        user = credentials.authenticate(db.session, form.login.data, form.password.data)
        if user is not None:
            _sign_in(user, remember=form.remember.data)
            return redirect(_next_url(), code=303)
        form.login.errors = [str(BAD_LOGIN)]
    return render_template("auth/login.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("auth.account"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = credentials.register(db.session, form.login_name, form.password.data)
        except IntegrityError:  # registered a moment ago by a parallel request
            db.session.rollback()
            return redirect(url_for("auth.login"), code=303)
        _sign_in(user, remember=False)
        flash(_("Your account is ready. Your checks are kept in your history."))
        return redirect(url_for("history.history"), code=303)
    return render_template("auth/register.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("verify.verify"))
        return render_template("auth/logout.html")
    language = session.get(LANGUAGE_KEY)
    session.clear()  # nothing of the account stays in this browser
    logout_user()  # after clear(): it marks the remember-me cookie for removal
    if language:
        session[LANGUAGE_KEY] = language
    flash(_("You have signed out."))
    return redirect(url_for("verify.verify"), code=303)


def _account_page(password_form=None, delete_form=None, status: int = 200,
                  notice: str | None = None, notice_for: str | None = None):
    # Each report with its private link, made again from the key (None: SECRET_KEY changed).
    reports = [(ticket, status_token_of(current_app.secret_key, ticket))
               for ticket in reports_of(db.session, current_user.id)]
    return render_template(
        "auth/account.html",
        password_form=password_form or PasswordChangeForm(prefix="pw", formdata=None),
        delete_form=delete_form or DeleteAccountForm(prefix="del", formdata=None),
        reports=reports, last_admin=is_last_admin(db.session, current_user),
        notice=notice, notice_for=notice_for,
    ), status


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/password")
@login_required
@limiter.limit(_login_limit)
def change_password():
    form = PasswordChangeForm(prefix="pw")
    if not form.validate():
        return _account_page(password_form=form, status=422)
    user = current_user._get_current_object()
    credentials.change_password(db.session, user, form.password.data)
    # Every other session ends with the old password; this one carries on with the new one.
    login_user(user, remember=bool(request.cookies.get(current_app.config.get(
        "REMEMBER_COOKIE_NAME", "remember_token"))))
    flash(_("Your password has been changed."))
    return redirect(url_for("auth.account"), code=303)


@bp.post("/account/delete")
@login_required
@limiter.limit(_login_limit)
def delete_account():
    if is_last_admin(db.session, current_user):
        # The page offers no form then; this answers a form from before the change.
        return _account_page(status=409)
    form = DeleteAccountForm(prefix="del")
    if not form.validate():
        return _account_page(delete_form=form, status=422)
    credentials.delete_account(db.session, current_user.id)
    language = session.get(LANGUAGE_KEY)
    session.clear()
    logout_user()
    if language:
        session[LANGUAGE_KEY] = language
    flash(_("Your account and its history have been deleted."))
    return redirect(url_for("verify.verify"), code=303)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    form = ForgotForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form), 422 if form.is_submitted() else 200
    user = credentials.user_for_reset(db.session, form.email.data)
    if user is not None:
        token = credentials.reset_token(current_app.config["SECRET_KEY"], user)
        minutes = current_app.config["YANPIAO_PASSWORD_RESET_MAX_AGE"] // 60
        body = render_template(
            "auth/reset_mail.txt",
            link=external_url("auth.reset_password", token=token),
            minutes=minutes,
        )
        # Sent later: queued, so a slow mail server adds no time for addresses with an
        # account, which would give them away. A link that has expired is not sent at all.
        mail(user.email, _("Reset your Yanpiao password"), body,
             expires_at=utcnow() + timedelta(
                 seconds=current_app.config["YANPIAO_PASSWORD_RESET_MAX_AGE"]))
        db.session.commit()
    # The same answer whether or not the address has an account.
    flash(_(
        "If an account uses this email address, we have sent it a link to choose a new "
        "password. The link works for one hour."
    ))
    return redirect(url_for("auth.login"), code=303)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset_password(token: str):
    user = credentials.user_for_reset_token(
        db.session,
        current_app.config["SECRET_KEY"],
        token,
        current_app.config["YANPIAO_PASSWORD_RESET_MAX_AGE"],
    )
    if user is None:
        return render_template("auth/reset_invalid.html"), 400
    form = ResetForm(user)
    if not form.validate_on_submit():
        return render_template("auth/reset.html", form=form, token=token), (
            422 if form.is_submitted() else 200
        )
    credentials.change_password(db.session, user, form.password.data)
    flash(_("Your password has been changed. Sign in with your new password."))
    return redirect(url_for("auth.login"), code=303)


# The forms a CSRF failure can come from, shown again: endpoint → (form, template).
_PUBLIC_FORMS = {
    "auth.login": (LoginForm, "auth/login.html"),
    "auth.register": (RegisterForm, "auth/register.html"),
    "auth.forgot_password": (ForgotForm, "auth/forgot.html"),
}


@bp.errorhandler(CSRFError)
def expired_form(_exc):
    """A form sent after the session expired (or sent twice) comes back with what was typed
    and a notice above it; an error page in its place had no form to send again. Password
    fields come back empty, and the notice asks for the password again."""
    from .errors import CSRF_MESSAGE, render_error

    endpoint = request.endpoint
    if endpoint in _PUBLIC_FORMS:
        form_class, template = _PUBLIC_FORMS[endpoint]
        form = form_class(formdata=None)
        form.process(request.form)
        notice = CSRF_MESSAGE if form_class is ForgotForm else EXPIRED_WITH_PASSWORD
        return render_template(template, form=form, notice=str(notice)), 400
    if endpoint in ("auth.change_password", "auth.delete_account"):
        if not current_user.is_authenticated:
            flash(str(SIGN_IN_AGAIN))
            return redirect(url_for("auth.login", next=url_for("auth.account")), code=303)
        return _account_page(status=400, notice=str(EXPIRED_WITH_PASSWORD),
                             notice_for="pw" if endpoint == "auth.change_password" else "del")
    if endpoint == "auth.reset_password":
        token = (request.view_args or {}).get("token", "")
        user = credentials.user_for_reset_token(
            db.session, current_app.config["SECRET_KEY"], token,
            current_app.config["YANPIAO_PASSWORD_RESET_MAX_AGE"])
        if user is None:
            return render_template("auth/reset_invalid.html"), 400
        return render_template("auth/reset.html", form=ResetForm(user, formdata=None),
                               token=token, notice=str(EXPIRED_WITH_PASSWORD)), 400
    return render_error(400, CSRF_MESSAGE)
