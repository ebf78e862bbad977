"""API tokens on the account: create one for a script, see which exist, revoke them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField

from yanpiao.tokens import create_token, revoke_token, user_tokens

from .ext import db, limiter
from .validators import MaxLength

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")
NEW_TOKEN = "new_api_token"


class TokenForm(FlaskForm):
    name = StringField(_l("Name of the new token"), [MaxLength(100)])


class RevokeForm(FlaskForm):
    pass


@bp.get("")
@login_required
def tokens():
    # Shown once, right after it was made: only its hash is stored.
    new_token = session.pop(NEW_TOKEN, None)
    return render_template("tokens/page.html", form=TokenForm(), revoke_form=RevokeForm(),
                           tokens=user_tokens(db.session, current_user.id), new_token=new_token)


@bp.post("")
@login_required
@limiter.limit("30 per hour")
def create():
    form = TokenForm()
    if not form.validate_on_submit():
        return render_template("tokens/page.html", form=form, revoke_form=RevokeForm(),
                               tokens=user_tokens(db.session, current_user.id),
                               new_token=None), 422
    _row, token = create_token(db.session, current_user.id,
                               form.name.data or _("Token for scripts"))
    session[NEW_TOKEN] = token
    return redirect(url_for("tokens.tokens"), code=303)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    if not RevokeForm().validate_on_submit():
        abort(400)
    if not revoke_token(db.session, current_user.id, token_id):
        if not any(token.id == token_id for token in user_tokens(db.session, current_user.id)):
            abort(404)
        # Revoked already: the second click of a double click, or another tab.
    flash(_("The token was revoked. Scripts using it can no longer send batches."))
    return redirect(url_for("tokens.tokens"), code=303)
