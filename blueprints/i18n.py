"""Which language a visitor sees, and the switcher that changes it.

Order of precedence: the choice made in this session (the switcher, or the account's language
applied at sign-in), the signed-in account's stored language, the cookie of an earlier visit,
``Accept-Language``, and finally simplified Chinese.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (Blueprint, Flask, after_this_request, current_app, has_request_context,
                   redirect, request, session, url_for)
from flask_babel import format_number, get_locale, get_translations, refresh
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from .ext import csrf, db
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


def _account_locale() -> str | None:
    try:
        user = current_user._get_current_object()
    except SQLAlchemyError:  # the database is down: an error page must still render
        return None
    if user is not None and user.is_authenticated:
        return getattr(user, "locale", None)
    return None


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT_LOCALE
    # The API is stateless: only Accept-Language speaks for its clients.
    if request.blueprint != "api":
        for choice in (session.get(COOKIE), _account_locale(), request.cookies.get(COOKIE)):
            if choice in LANGUAGES:
                return choice
    return locale_from_accept_language()


def _keep_choice(choice: str) -> None:
    """The choice holds for this session and, through the cookie, for later visits."""
    session[COOKIE] = choice

    @after_this_request
    def set_cookie(response):
        response.set_cookie(COOKIE, choice, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)
        return response

    refresh()  # so the rest of this request already speaks the chosen language


def remember_locale_for(user) -> None:
    """Call right after signing ``user`` in.

    An account with a stored language gets it at once; an account without one keeps the
    language the visitor chose before signing in, and stores it.
    """
    if user.locale in LANGUAGES:
        _keep_choice(user.locale)
        return
    choice = session.get(COOKIE) or request.cookies.get(COOKIE)
    if choice in LANGUAGES:
        user.locale = choice
        db.session.commit()


def safe_next(default_endpoint: str = "verify.verify") -> str:
    """The ``next`` path of a form: a page of this site that can be opened again.

    A page shown in answer to a post (an error after sending the scanner form, a follow-up
    message) names the post's address, which only takes posts: going back to it answered
    405. Then the page above it is meant (``/verify/scan`` → ``/verify``). Off-site or
    unknown addresses give the default page.
    """
    target = request.form.get("next") or url_for(default_endpoint)
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for(default_endpoint)
    original = path = urlsplit(target).path
    routes = current_app.url_map.bind("")
    while path:
        try:
            routes.match(path, method="GET")
        except RequestRedirect:
            pass  # it opens, after a redirect
        except HTTPException:
            path = path.rsplit("/", 1)[0]
            continue
        return target if path == original else path
    return url_for(default_endpoint)


def current_language() -> dict:
    locale = str(get_locale() or DEFAULT_LOCALE)
    name, direction = LANGUAGES.get(locale, LANGUAGES[DEFAULT_LOCALE])
    return {"code": locale, "html_lang": locale.replace("_", "-"), "dir": direction, "name": name}


@csrf.exempt
@bp.post("/language")
def choose_language():
    """Switch the language, even after the session (and the form's CSRF token) expired: a
    language is no secret and nothing to protect. Only a valid token also stores it as the
    signed-in account's language, which its mail follows."""
    choice = request.form.get("lang", "")
    if choice in LANGUAGES:
        _keep_choice(choice)
        if current_user.is_authenticated and current_user.locale != choice and _token_valid():
            current_user.locale = choice
            db.session.commit()
    return redirect(safe_next(), code=303)


def _token_valid() -> bool:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        csrf.protect()
    except CSRFError:
        return False
    return True


def _catalog(context):
    """The catalog a template renders with: looked up once per render by ``language_context``.

    Macros imported without context do not see it and ask Flask-Babel, with the same result.
    """
    return context.get("_translations") or get_translations()


def _counted(text: str, n) -> str:
    """A plural message with its count written the way the language writes numbers: "%(num)d"
    gave 12345 in every language, where Russian writes 12 345 and English 12,345."""
    return text.replace("%(num)d", format_number(n)) if "%(num)d" in text else text


def _install_template_gettext(app: Flask) -> None:
    """Template strings translated from the catalog of their render.

    Flask-Babel's template functions look the catalog up again for every string (context,
    domain, locale and its identifier); the verify page's answer has some forty of them, and
    those lookups were an eighth of the Python calls made to answer it. Jinja's i18n extension
    still does the rest: autoescaping, ``%(name)s`` variables and plural forms. The catalog is
    found again for each render, so a language changed during the request is followed.
    """
    app.jinja_env.install_gettext_callables(
        gettext=pass_context(lambda context, text: _catalog(context).ugettext(text)),
        ngettext=pass_context(
            lambda context, singular, plural, n: _counted(
                _catalog(context).ungettext(singular, plural, n), n)
        ),
        pgettext=pass_context(
            lambda context, ctxt, text: _catalog(context).upgettext(ctxt, text)
        ),
        npgettext=pass_context(
            lambda context, ctxt, singular, plural, n: _catalog(context).unpgettext(
                ctxt, singular, plural, n
            )
        ),
        newstyle=True,
    )


def init_app(app: Flask) -> None:
    _install_template_gettext(app)

    @app.context_processor
    def language_context():
        return {
            "_translations": get_translations(),
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

    @app.template_filter("isolate")
    def keep_apart(value) -> Markup:
        """A value in its own direction, so it cannot run together with a Latin word beside
        it in right-to-left text ("Yanpiao" followed by an Arabic date and time)."""
        return Markup("<bdi>%s</bdi>") % (value,)
