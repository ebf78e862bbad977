"""Which language a visitor sees, and the switcher that changes it."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request, session, url_for
from flask_babel import get_locale
from markupsafe import Markup

from .settings import DEFAULT_LOCALE, LANGUAGES

COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

bp = Blueprint("i18n", __name__)


def _supported(tag: str) -> str | None:
    """Our locale for a language tag like ``zh-CN``, ``zh-Hans``, ``en-GB``, or None."""
    tag = tag.replace("_", "-").lower()
    if tag.startswith("zh"):
        # Traditional-script tags get simplified Chinese too: closer than any other language.
        return "zh_Hans"
    primary = tag.split("-")[0]
    return primary if primary in LANGUAGES else None


def locale_from_accept_language() -> str:
    for tag, _quality in request.accept_languages:
        locale = _supported(tag)
        if locale:
            return locale
    return DEFAULT_LOCALE


def select_locale() -> str:
    # The API is stateless: only Accept-Language speaks for its clients.
    if request.blueprint != "api":
        for choice in (session.get(COOKIE), request.cookies.get(COOKIE)):
            if choice in LANGUAGES:
                return choice
    return locale_from_accept_language()


def current_language() -> dict:
    locale = str(get_locale() or DEFAULT_LOCALE)
    name, direction = LANGUAGES.get(locale, LANGUAGES[DEFAULT_LOCALE])
    return {"code": locale, "html_lang": locale.replace("_", "-"), "dir": direction, "name": name}


@bp.post("/language")
def choose_language():
    choice = request.form.get("lang", "")
    target = request.form.get("next") or url_for("verify.verify")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("verify.verify")
    response = redirect(target, code=303)
    if choice in LANGUAGES:
        session[COOKIE] = choice
        response.set_cookie(COOKIE, choice, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)
    return response


def init_app(app: Flask) -> None:
    @app.context_processor
    def language_context():
        return {
            "language": current_language(),
            "languages": [
                {"code": code, "html_lang": code.replace("_", "-"), "name": name, "dir": d}
                for code, (name, d) in LANGUAGES.items()
            ],
        }

    @app.template_filter("ltr")
    def keep_left_to_right(value) -> Markup:
        """Codes, numbers and amounts stay left-to-right inside right-to-left text."""
        return Markup('<bdi dir="ltr">%s</bdi>') % (value,)
