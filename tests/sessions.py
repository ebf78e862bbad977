"""Signing a test client in without the login form, the way flask-login keeps it."""

from __future__ import annotations


def sign_in(app, client, user_id: int):
    """``client`` signed in as the user: the session holds the user's id and password stamp."""
    with app.app_context():
        from blueprints.ext import db
        from yanpiao.accounts import User

        session_id = db.session.get(User, user_id).get_id()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client
