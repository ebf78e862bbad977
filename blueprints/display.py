"""The large-text, high-contrast display mode: a toggle in the header that works without JS.

The choice is kept in the session and a cookie and rendered as a class on ``<html>``. Without a
choice, the stylesheet follows the system's ``prefers-contrast: more``; choosing "off"
explicitly overrides that too (class ``theme-standard``).
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request, session

from .ext import csrf
from .i18n import safe_next

COOKIE = "contrast"
COOKIE_MAX_AGE = 365 * 24 * 3600
CHOICES = ("on", "off")

bp = Blueprint("display", __name__)


def contrast_choice() -> str | None:
    for choice in (session.get(COOKIE), request.cookies.get(COOKIE)):
        if choice in CHOICES:
            return choice
    return None


@csrf.exempt
@bp.post("/display")
def toggle_contrast():
    """A display preference, kept in this browser only: it needs no CSRF token, so it still
    works on a page left open until the session expired."""
    choice = request.form.get("contrast", "")
    response = redirect(safe_next(), code=303)
    if choice in CHOICES:
        session[COOKIE] = choice
        response.set_cookie(COOKIE, choice, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)
    return response


def init_app(app: Flask) -> None:
    @app.context_processor
    def display_context():
        choice = contrast_choice()
        return {
            "display": {
                "contrast": choice == "on",
                "html_class": {"on": "theme-contrast", "off": "theme-standard"}.get(choice, ""),
            }
        }
