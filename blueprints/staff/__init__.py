"""Staff pages: the landing page, the feedback queue, reports, and staff accounts.

Every page here needs a staff or administrator account (the guard below); account management
needs an administrator. The landing page lists every staff area, this blueprint's and the
others' (registry upkeep, statistics), from ``STAFF_SECTIONS``.

An entry is shown when its endpoint exists and the signed-in account has its audience
("staff": staff and administrators, "admin": administrators only).
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from yanpiao.db import utcnow
from yanpiao.feedback import queue_summary

from ..access import staff_required
from ..ext import db

bp = Blueprint("staff", __name__, url_prefix="/staff")

# (endpoint, title, description, audience "staff" | "admin")
STAFF_SECTIONS: list[tuple[str, object, object, str]] = [
    ("staff.queue", _l("Feedback queue"),
     _l("Reports from visitors: filter, assign, answer and resolve them."), "staff"),
    ("staff.reports", _l("Feedback reports"),
     _l("Tickets per week by category and status, response times and satisfaction."), "staff"),
    ("registry_admin.search", _l("Invoice registry"),
     _l("Look up invoices, correct their status, import invoices from files."), "staff"),
    ("stats.index", _l("Statistics"),
     _l("Verifications per day, outcomes, mismatch reasons, entry paths and kiosks."), "staff"),
    ("staff.users", _l("Staff accounts"),
     _l("Create staff accounts, change roles, deactivate accounts."), "admin"),
]

# Anonymous visitors are sent to sign in, plain accounts get 403, before any staff view runs.
bp.before_request(staff_required(lambda: None))


@bp.after_request
def keep_out_of_caches(response):
    # Reporters' messages and contacts: never kept by a browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


def visible_sections() -> list[dict]:
    endpoints = current_app.view_functions
    return [
        {"endpoint": endpoint, "title": title, "description": description}
        for endpoint, title, description, audience in STAFF_SECTIONS
        if endpoint in endpoints and (audience != "admin" or current_user.is_admin)
    ]


@bp.get("")
def index():
    return render_template(
        "staff/index.html", sections=visible_sections(),
        summary=queue_summary(db.session, now=utcnow()),
    )


from . import queue, reports, users  # noqa: E402,F401  (their views register on bp)
