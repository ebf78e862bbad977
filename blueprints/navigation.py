"""The site's main navigation: one line per area, shown when its blueprint is registered."""

from __future__ import annotations

from flask import Flask, current_app, g, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

# (endpoint, label, who sees it: "all", "user" (signed in), "staff")
MAIN_NAV = [
    ("verify.verify", _l("Verify"), "all"),
    ("samples.samples", _l("Demo invoices"), "demo"),
    ("history.history", _l("History"), "all"),
    ("batch.index", _l("Batch check"), "user"),
    ("faq.faq", _l("Help"), "all"),
    ("feedback.feedback", _l("Feedback"), "all"),
    ("staff.index", _l("Staff"), "staff"),
    ("stats.index", _l("Statistics"), "staff"),
]

# Shown at the end of the header: signing in and out, the account.
ACCOUNT_NAV: list[tuple[str, object, str]] = [
    ("auth.login", _l("Sign in"), "anonymous"),
    ("auth.register", _l("Create an account"), "anonymous"),
    ("auth.account", _l("Your account"), "user"),
    ("auth.logout", _l("Sign out"), "user"),
]


def _visible(endpoint: str, audience: str) -> bool:
    if endpoint not in current_app.view_functions:
        return False
    if audience == "user":
        return current_user.is_authenticated
    if audience == "staff":
        return current_user.is_authenticated and current_user.is_staff
    if audience == "demo":
        return current_app.config["YANPIAO_DEMO"]
    if audience == "anonymous":
        return not current_user.is_authenticated
    return True


def _items(entries):
    return [{"endpoint": endpoint, "label": label, "current": endpoint == _current_endpoint()}
            for endpoint, label, audience in entries if _visible(endpoint, audience)]


def _current_endpoint() -> str | None:
    """The one entry of both lists this page belongs to: the one whose address is the longest
    leading part of the page's (``/staff/stats/…`` is Statistics, ``/staff/feedback/…`` Staff,
    ``/account/tokens`` Your account); None for a page outside them all."""
    if "nav_current" not in g:
        path = request.path.rstrip("/") or "/"
        best, length = None, -1
        for endpoint, _label, audience in MAIN_NAV + ACCOUNT_NAV:
            if not _visible(endpoint, audience):
                continue
            address = url_for(endpoint).rstrip("/") or "/"
            if (path == address or path.startswith(address + "/")) and len(address) > length:
                best, length = endpoint, len(address)
        g.nav_current = best
    return g.nav_current


def init_app(app: Flask) -> None:
    @app.context_processor
    def navigation():
        return {"main_nav": lambda: _items(MAIN_NAV), "account_nav": lambda: _items(ACCOUNT_NAV)}
