"""The self-service kiosk: attract screen, camera scanning, on-screen keypad, the verdict,
the idle reset, and an accessibility mode, in their own touch layout (templates/kiosk/).

The camera belongs to one separate process (``flask --app app kiosk camera``,
blueprints/kiosk_cli.py); these views read what it publishes and claim its scans for the
visitor on screen (yanpiao/kiosk.py).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import (Blueprint, current_app, make_response, redirect, render_template,
                   request, session, url_for)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from yanpiao import kiosk
from yanpiao.camera import CameraState, read_preview, read_status
from yanpiao.db import utcnow
from yanpiao.requests import plan_fields
from yanpiao.verification import result_from_record

from . import display, i18n
from .context import verification_settings
from .ext import db, limiter
from .forms import VerifyForm
from .i18n import safe_next
from .kiosk_cli import camera_command, run_command
from .render import wants_fragment

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk", cli_group="kiosk")
bp.cli.add_command(camera_command)
bp.cli.add_command(run_command)

VISIT = "kiosk_visit"
ACCESSIBLE = "kiosk_accessible"
# A browser that stopped counting (crashed, closed) still gets its visit ended by the server.
GRACE_SECONDS = 15
POLL_LIMIT = "600 per minute"  # two polls a second, with room for a second tab
# speechSynthesis voices are named by region; our locales are not.
SPEECH_LANGS = {"zh_Hans": "zh-CN", "en": "en-GB", "ja": "ja-JP", "ko": "ko-KR", "ru": "ru-RU",
                "ar": "ar-SA"}
LOOPBACK = ("127.0.0.1", "::1")


def _config(name: str):
    return current_app.config[name]


def _kiosk_id() -> str:
    return _config("YANPIAO_KIOSK_ID")


def _verify_limit() -> str:
    return _config("YANPIAO_VERIFY_RATE_LIMIT")


def _idle_limit() -> timedelta:
    seconds = _config("YANPIAO_KIOSK_IDLE_SECONDS") + _config("YANPIAO_KIOSK_WARNING_SECONDS")
    return timedelta(seconds=seconds + GRACE_SECONDS)


def _camera_here() -> bool:
    """The camera is shown only on the kiosk's own screen: a stranger on the network who can
    reach the port must not watch it or claim its codes."""
    return bool(_config("YANPIAO_CAMERA")) and request.remote_addr in LOOPBACK


def camera_view() -> str:
    """What the scan screen shows: ``live`` preview, ``starting``, ``down`` or ``off``."""
    if not _camera_here():
        return "off"
    state = read_status(Path(_config("YANPIAO_KIOSK_DIR"))).state
    if state is CameraState.READING:
        return "live"
    return "starting" if state is CameraState.STARTING else "down"


def current_visit() -> kiosk.KioskVisit | None:
    """The visitor's visit, unless it ended or went idle past the warning."""
    visit = kiosk.find_visit(db.session, session.get(VISIT), _kiosk_id())
    if visit is not None and kiosk.is_idle(visit, utcnow(), _idle_limit()):
        kiosk.end_visit(db.session, visit.token, _kiosk_id())
        return None
    return visit


def _go(endpoint: str):
    """Navigate: htmx follows HX-Redirect, a plain form a 303."""
    if request.headers.get("HX-Request"):
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url_for(endpoint)
        return response
    return redirect(url_for(endpoint), code=303)


def _no_visit():
    """A screen of a visit asked for without one: back to the attract screen.

    A visit that ended on the server (idle past the warning while the screen's own reset did
    not run: a frozen page, timers held up) forgets its visitor as Finish does, so the next
    visitor does not inherit the language, display mode or storage.
    """
    if session.get(VISIT):
        return _forget_visitor()
    return _go("kiosk.attract")


def _shown_result(visit: kiosk.KioskVisit):
    record = kiosk.visit_record(db.session, visit)
    return result_from_record(db.session, record, verification_settings()) if record else None


@bp.after_request
def forget_in_the_browser(response):
    # Nothing of a visitor may come back from the browser's cache for the next one.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def kiosk_context():
    language = i18n.current_language()
    return {"kiosk": {
        "accessible": bool(session.get(ACCESSIBLE)),
        "idle_seconds": _config("YANPIAO_KIOSK_IDLE_SECONDS"),
        "warning_seconds": _config("YANPIAO_KIOSK_WARNING_SECONDS"),
        "speech_lang": SPEECH_LANGS.get(language["code"], language["html_lang"]),
        "in_visit": VISIT in session,
        # Nothing to forget yet: the attract screen needs no idle reset.
        "fresh": not (VISIT in session or ACCESSIBLE in session or i18n.COOKIE in session
                      or request.cookies.get(i18n.COOKIE) or request.cookies.get(display.COOKIE)),
    }}


@bp.get("")
def attract():
    return render_template("kiosk/attract.html", camera=camera_view())


@bp.post("/start")
def start():
    visit = kiosk.begin_visit(db.session, _kiosk_id(), utcnow(), _idle_limit())
    session[VISIT] = visit.token
    return redirect(url_for("kiosk.scan"), code=303)


@bp.get("/scan")
def scan():
    visit = current_visit()
    if visit is None:
        return _no_visit()
    kiosk.touch(db.session, visit, utcnow())  # bookkeeping only: a touch brought the visitor here
    return render_template("kiosk/scan.html", result=_shown_result(visit), notice=visit.notice,
                           camera=camera_view())


@bp.post("/poll")
@limiter.limit(POLL_LIMIT)
def poll():
    """The screens ask twice a second: a new code read for this visitor, or a camera that
    came or went. Answers 204 when nothing changed."""
    visit = current_visit()
    if visit is None:
        return _no_visit()
    if request.form.get("active") == "1":  # touches on the screen the server did not see
        kiosk.touch(db.session, visit, utcnow())
    result, changed = None, False
    if _camera_here():
        claimed = kiosk.claim_scan(db.session, visit, utcnow())
        if claimed is not None:
            changed = True
            result = kiosk.verify_scan(db.session, visit, claimed.text,
                                       settings=verification_settings(), now=utcnow())
    if not wants_fragment() or (changed and request.form.get("screen") != "scan"):
        return _go("kiosk.scan")
    camera = camera_view()
    camera_changed = camera != request.form.get("camera", camera)
    if not changed and not camera_changed:
        return "", 204
    return render_template("kiosk/_poll.html", changed=changed, result=result,
                           notice=visit.notice if changed else "", camera=camera,
                           camera_changed=camera_changed)


@bp.route("/keypad", methods=["GET", "POST"])
@limiter.limit(_verify_limit, methods=["POST"])
def keypad():
    visit = current_visit()
    if visit is None:
        return _no_visit()
    kiosk.touch(db.session, visit, utcnow())
    form = VerifyForm(data=_shown_fields(visit) if request.args.get("correct") else None)
    if form.validate_on_submit():
        kiosk.verify_for_visit(db.session, visit, form.verification_request,
                               settings=verification_settings(), now=utcnow())
        return redirect(url_for("kiosk.scan"), code=303)
    plan = plan_fields(form.invoice_code.data or "", form.invoice_number.data or "")
    status = 422 if form.is_submitted() else 200
    return render_template("kiosk/keypad.html", form=form, plan=plan, camera=camera_view()), status


def _shown_fields(visit: kiosk.KioskVisit) -> dict | None:
    """What was typed or read for the verdict on screen: "Correct the details" starts there."""
    result = _shown_result(visit)
    return result.request.given_fields() if result and result.request else None


@bp.post("/another")
def another():
    """Put the verdict away: the screen is ready for the next invoice."""
    visit = current_visit()
    if visit is not None:
        kiosk.show(db.session, visit, utcnow())
    return redirect(url_for("kiosk.scan"), code=303)


@bp.post("/finish")
def finish():
    return _forget_visitor()


def _forget_visitor():
    """Everything of the visitor goes: their verifications are detached from them, their
    scans, screen and session dropped, the language and display choices reset, and the
    browser told to clear its cache and storage for this site."""
    kiosk.end_visit(db.session, session.get(VISIT), _kiosk_id())
    session.clear()
    response = _go("kiosk.attract")
    response.delete_cookie(i18n.COOKIE)
    response.delete_cookie(display.COOKIE)
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.post("/accessibility")
def accessibility():
    session[ACCESSIBLE] = not session.get(ACCESSIBLE)
    return redirect(safe_next("kiosk.attract"), code=303)


@bp.get("/preview.jpg")
def preview():
    data = read_preview(Path(_config("YANPIAO_KIOSK_DIR"))) if _camera_here() else None
    if data is None:  # not a page: the picture element just tries again a moment later
        return make_response("", 404, {"Content-Type": "text/plain"})
    response = make_response(data)
    response.mimetype = "image/jpeg"
    return response


@bp.errorhandler(CSRFError)
def expired(_exc):
    # The visit was reset meanwhile (another tab, the idle timeout): start again, clean.
    return _forget_visitor()


@bp.errorhandler(HTTPException)
def kiosk_error(exc: HTTPException):
    return render_template("kiosk/error.html", status=exc.code or 500), exc.code or 500


def is_kiosk_address(path: str) -> bool:
    return path == bp.url_prefix or path.startswith(bp.url_prefix + "/")


def error_outside_routes(exc: HTTPException):
    """A 404 or 405 under /kiosk that no kiosk route answered, on a kiosk screen: the site's
    page would lead a locked kiosk out of the kiosk, to pages without a way back."""
    status = exc.code or 500
    response = current_app.make_response(
        (render_template("kiosk/error.html", status=status, **kiosk_context()), status))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(Exception)
def kiosk_failure(exc: Exception):
    if isinstance(exc, HTTPException):
        return kiosk_error(exc)
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return render_template("kiosk/error.html", status=500), 500
