"""The kiosk through the Flask test client: screens, camera hand-over, keypad, the reset."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from factories import invoice_record
from yanpiao import kiosk
from yanpiao.camera import CameraState, CameraStatus, FilePublisher
from yanpiao.db import utcnow
from yanpiao.models import VerificationRecord

RECORD = invoice_record()
PAYLOAD = (f"01,04,{RECORD['invoice_code']},{RECORD['invoice_number']},1000.00,"
           f"{RECORD['issue_date'].replace('-', '')},{RECORD['check_code']},DBFE,")
TYPED = {"invoice_code": RECORD["invoice_code"], "invoice_number": RECORD["invoice_number"],
         "issue_date": RECORD["issue_date"], "check_code": RECORD["check_code"][-6:]}
HTMX = {"HX-Request": "true"}


@pytest.fixture
def kiosk_app(app, tmp_path, make_invoice):
    app.config.update(WTF_CSRF_ENABLED=False, YANPIAO_CAMERA="0",
                      YANPIAO_KIOSK_DIR=str(tmp_path / "kiosk"), YANPIAO_KIOSK_ID="mall-east-1")
    make_invoice()
    return app


@pytest.fixture
def camera(kiosk_app):
    """The camera reader's publications, as if it were running."""
    publisher = FilePublisher(kiosk_app.config["YANPIAO_KIOSK_DIR"])

    def publish(state=CameraState.READING):
        publisher.status(CameraStatus(state, "device 0", updated_at=time.time()))
        publisher.preview(b"\xff\xd8\xff\xe0fake-jpeg")

    publish()
    return publish


def english_client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def visitor(kiosk_app):
    client = english_client(kiosk_app)
    assert client.post("/kiosk/start").headers["Location"] == "/kiosk/scan"
    return client


def scan(app, text=PAYLOAD, seconds_ago=0):
    with app.app_context():
        from blueprints.ext import db

        return kiosk.record_scan(db.session, "mall-east-1", text,
                                 utcnow() - timedelta(seconds=seconds_ago))


def records(app) -> list[VerificationRecord]:
    with app.app_context():
        from blueprints.ext import db

        return list(db.session.scalars(select(VerificationRecord)))


def visit_token(client) -> str:
    with client.session_transaction() as session:
        return session["kiosk_visit"]


def poll(client, screen="scan", camera="live", htmx=True):
    return client.post("/kiosk/poll", data={"screen": screen, "camera": camera},
                       headers=HTMX if htmx else {})


# --- the screens -----------------------------------------------------------------------------


def test_the_attract_screen_names_each_language_in_itself_and_invites_a_touch(kiosk_app):
    response = english_client(kiosk_app).get("/kiosk")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Touch to start" in html and "Is your invoice genuine?" in html
    for code, name in (("zh-Hans", "简体中文"), ("en", "English"), ("ja", "日本語"), ("ko", "한국어"),
                       ("ru", "Русский"), ("ar", "العربية")):
        assert re.search(rf'value="[^"]+" lang="{code}"[^>]*>{name}</button>', html), name
    assert html.count("<svg") >= 3  # what it does, in pictures
    # Its own layout: no site header, footer or links out; nothing kept for the Back button.
    assert 'class="site-header"' not in html and "site-footer" not in html
    assert 'hx-history="false"' in html and '"historyCacheSize":0' in html
    assert response.headers["Cache-Control"] == "no-store"
    assert re.search(r"<a [^>]*href=\"(?!/kiosk)", html) is None


def test_the_attract_screen_shows_the_way_in_the_kiosk_has(kiosk_app, camera):
    """A kiosk without a camera told visitors to hold the invoice under the camera."""
    client = english_client(kiosk_app)
    kiosk_app.config["YANPIAO_CAMERA"] = "0"
    html = client.get("/kiosk").get_data(as_text=True)
    assert "Hold it under the camera" in html and "hold the invoice's QR code" in html
    assert "Type the details with the keys on the screen" not in html
    kiosk_app.config["YANPIAO_CAMERA"] = ""
    html = client.get("/kiosk").get_data(as_text=True)
    assert "camera" not in html.lower()
    assert "Type the details with the keys on the screen" in html
    assert "Find the code, number, date and amount on your invoice" in html


def test_choosing_a_language_on_the_attract_screen(kiosk_app):
    client = english_client(kiosk_app)
    response = client.post("/language", data={"lang": "ar", "next": "/kiosk"})
    assert response.headers["Location"] == "/kiosk"
    html = client.get("/kiosk").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in html
    assert 'data-idle="on"' in html  # a choice to forget: the idle reset runs


def test_an_untouched_attract_screen_needs_no_idle_reset(kiosk_app):
    assert 'data-idle="off"' in english_client(kiosk_app).get("/kiosk").get_data(as_text=True)


def test_the_screens_of_a_visit_need_a_visit(kiosk_app):
    client = english_client(kiosk_app)
    assert client.get("/kiosk/scan").headers["Location"] == "/kiosk"
    assert client.get("/kiosk/keypad").headers["Location"] == "/kiosk"
    response = poll(client)
    assert response.headers["HX-Redirect"] == "/kiosk"


def test_an_unknown_kiosk_address_stays_on_the_kiosk_and_leads_back_to_the_visit(kiosk_app,
                                                                                  visitor):
    """The site's 404 page has the site's menu and footer: on a locked kiosk they led to pages
    with no way back to the kiosk."""
    for path, status in (("/kiosk/nothing-here", 404), ("/kiosk/start", 405)):
        response = visitor.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == status, path
        assert 'class="kiosk' in html and 'action="/kiosk/finish"' in html, path
        assert "site-footer" not in html and 'href="/history"' not in html, path
        assert response.headers["Cache-Control"] == "no-store"
    html = visitor.get("/kiosk/nothing-here").get_data(as_text=True)
    assert "This screen does not exist" in html and 'href="/kiosk/scan"' in html
    # Before a visit the way back is the attract screen.
    html = english_client(kiosk_app).get("/kiosk/nothing").get_data(as_text=True)
    assert 'class="kiosk-button primary" href="/kiosk"' in html
    # The site's other addresses keep the site's page.
    html = visitor.get("/kiosks").get_data(as_text=True)
    assert "Page not found" in html and 'action="/kiosk/finish"' not in html


def test_every_screen_has_finish_and_the_accessibility_mode(visitor):
    for path in ("/kiosk", "/kiosk/scan", "/kiosk/keypad"):
        html = visitor.get(path).get_data(as_text=True)
        assert 'action="/kiosk/finish"' in html, path
        assert 'action="/kiosk/accessibility"' in html, path
        assert "Are you still there?" in html, path
    # The warning's sentence says no number that the running count would contradict; the time
    # left is read out once, when it opens.
    seconds = visitor.application.config["YANPIAO_KIOSK_WARNING_SECONDS"]
    assert f"{seconds} seconds left." in html and "When the count reaches 0" in html
    assert re.search(r'aria-describedby="kiosk-idle-time kiosk-idle-text"', html)
    idle_text = re.search(r'<p id="kiosk-idle-text">([^<]*)</p>', html).group(1)
    assert not re.search(r"\d\d", idle_text)


def test_the_live_camera_shows_its_picture_with_a_guide_frame(visitor, camera):
    html = visitor.get("/kiosk/scan").get_data(as_text=True)
    assert 'src="/kiosk/preview.jpg"' in html and 'class="kiosk-guide"' in html
    assert "Type the details instead" in html
    preview = visitor.get("/kiosk/preview.jpg")
    assert preview.mimetype == "image/jpeg" and preview.data.startswith(b"\xff\xd8")
    assert preview.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("setting", "status", "words"), [
    ("", None, "Type the details printed on the invoice to check it."),  # no camera
    ("0", None, "The camera is not available at the moment."),  # no reader running
    ("0", CameraState.BUSY, "The camera is not available at the moment."),
    ("0", CameraState.STARTING, "The camera is getting ready."),
])
def test_without_a_camera_the_keypad_path_is_offered(kiosk_app, visitor, setting, status, words):
    kiosk_app.config["YANPIAO_CAMERA"] = setting
    if status is not None:
        FilePublisher(kiosk_app.config["YANPIAO_KIOSK_DIR"]).status(
            CameraStatus(status, "device 0", updated_at=time.time()))
    html = visitor.get("/kiosk/scan").get_data(as_text=True)
    assert words in html
    assert re.search(r'<a class="kiosk-button primary" href="/kiosk/keypad"', html)
    assert "kiosk-preview" not in html
    assert visitor.get("/kiosk/preview.jpg").status_code == 404


def test_the_camera_is_not_shown_to_other_machines(kiosk_app, camera):
    client = english_client(kiosk_app)
    client.post("/kiosk/start", environ_base={"REMOTE_ADDR": "10.0.0.7"})
    remote = {"REMOTE_ADDR": "10.0.0.7"}
    assert "kiosk-preview" not in client.get("/kiosk/scan", environ_base=remote).get_data(as_text=True)
    assert client.get("/kiosk/preview.jpg", environ_base=remote).status_code == 404
    scan(kiosk_app)
    response = client.post("/kiosk/poll", data={"screen": "scan", "camera": "off"}, headers=HTMX,
                           environ_base=remote)
    assert response.status_code == 204 and records(kiosk_app) == []


# --- codes from the camera -------------------------------------------------------------------


def test_a_code_read_by_the_camera_is_verified_once_and_shown(kiosk_app, visitor, camera):
    assert poll(visitor).status_code == 204  # nothing read yet
    scan(kiosk_app)
    response = poll(visitor)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<div id="kiosk-result" hx-swap-oob="innerHTML">' in html
    assert "Valid invoice" in html and "Check number" in html
    assert '<div id="kiosk-receipt" hx-swap-oob="innerHTML">' in html
    assert "kiosk-camera" not in html  # the picture is left alone
    assert poll(visitor).status_code == 204  # shown once, verified once
    (record,) = records(kiosk_app)
    assert (record.entry_path, record.outcome) == ("kiosk_camera", "match")
    assert (record.owner_key, record.kiosk_id) == (visit_token(visitor), "mall-east-1")
    # The same verdict as a page (reload, no JavaScript).
    page = visitor.get("/kiosk/scan").get_data(as_text=True)
    assert "Valid invoice" in page and record.id in page
    assert 'id="kiosk-receipt" class="kiosk-receipt">' in page and "Receipt" in page


def test_without_javascript_the_poll_button_leads_to_the_result(kiosk_app, visitor, camera):
    scan(kiosk_app)
    response = poll(visitor, htmx=False)
    assert (response.status_code, response.headers["Location"]) == (303, "/kiosk/scan")
    assert "Valid invoice" in visitor.get("/kiosk/scan").get_data(as_text=True)


def test_a_code_read_while_typing_brings_the_visitor_to_the_result(kiosk_app, visitor, camera):
    scan(kiosk_app)
    response = poll(visitor, screen="keypad")
    assert response.headers["HX-Redirect"] == "/kiosk/scan"
    assert "Valid invoice" in visitor.get("/kiosk/scan").get_data(as_text=True)


def test_each_scan_is_claimed_by_one_poll_only(kiosk_app, camera):
    first = english_client(kiosk_app)
    first.post("/kiosk/start")
    scan(kiosk_app)
    with kiosk_app.app_context():
        from blueprints.ext import db

        visit = kiosk.find_visit(db.session, visit_token(first), "mall-east-1")
        assert kiosk.claim_scan(db.session, visit, utcnow()) is not None
        assert kiosk.claim_scan(db.session, visit, utcnow()) is None


def test_a_stale_scan_is_nobody_s(kiosk_app, visitor, camera):
    scan(kiosk_app, seconds_ago=kiosk.FRESH_SECONDS + 5)
    assert poll(visitor).status_code == 204
    assert records(kiosk_app) == []


def test_of_several_waiting_codes_the_newest_is_shown(kiosk_app, visitor, camera, make_invoice):
    other = make_invoice(invoice_number="12345679")
    scan(kiosk_app)
    scan(kiosk_app, PAYLOAD.replace(RECORD["invoice_number"], other["invoice_number"]))
    html = poll(visitor).get_data(as_text=True)
    assert other["invoice_number"] in html
    assert [r.invoice_number for r in records(kiosk_app)] == [other["invoice_number"]]


def test_a_code_that_is_no_invoice_s_gets_a_clear_answer(kiosk_app, visitor, camera):
    scan(kiosk_app, "https://shop.example/pay?id=42")
    html = poll(visitor).get_data(as_text=True)
    assert "This is not an invoice QR code" in html
    assert records(kiosk_app) == []


def test_the_poll_reports_a_camera_that_came_or_went(kiosk_app, visitor, camera):
    response = poll(visitor, camera="down")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<div id="kiosk-camera" class="kiosk-camera kiosk-camera-live" hx-swap-oob="true">' in html
    camera(CameraState.LOST)
    html = poll(visitor, camera="live").get_data(as_text=True)
    assert "kiosk-camera-down" in html and "/kiosk/keypad" in html


# --- the keypad ------------------------------------------------------------------------------


def test_a_keypad_entry_is_verified_and_shown(kiosk_app, visitor):
    page = visitor.get("/kiosk/keypad").get_data(as_text=True)
    assert 'data-keypad' in page and 'data-key="0"' in page and 'data-key="back"' in page
    # The same type-adaptive form as the verify page.
    assert 'hx-get="/verify/fields"' in page and 'id="extra-fields"' in page
    response = visitor.post("/kiosk/keypad", data=TYPED)
    assert (response.status_code, response.headers["Location"]) == (303, "/kiosk/scan")
    html = visitor.get("/kiosk/scan").get_data(as_text=True)
    assert "Valid invoice" in html and RECORD["invoice_number"] in html
    (record,) = records(kiosk_app)
    assert record.entry_path == "typed" and record.kiosk_id == "mall-east-1"


@pytest.mark.parametrize(("fields", "message"), [
    ({**TYPED, "invoice_number": "123"}, "There is a problem"),
    ({**TYPED, "issue_date": "2024-13-45"}, "There is a problem"),
    ({}, "There is a problem"),
])
def test_a_keypad_entry_with_mistakes_shows_them(visitor, fields, message):
    response = visitor.post("/kiosk/keypad", data=fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'id="error-summary"' in html and "data-keypad" in html


def test_a_mismatch_is_corrected_from_what_was_typed(kiosk_app, visitor):
    """After "details don't match" both ways back led to an empty keypad: 30 digits again."""
    visitor.post("/kiosk/keypad", data={**TYPED, "check_code": "000000"})
    html = visitor.get("/kiosk/scan").get_data(as_text=True)
    assert "Details don" in html and 'href="/kiosk/keypad?correct=1"' in html
    page = visitor.get("/kiosk/keypad?correct=1").get_data(as_text=True)
    for name in ("invoice_code", "invoice_number", "issue_date"):
        assert f'value="{TYPED[name]}"' in page, name
    assert 'value="000000"' in page
    assert 'href="/kiosk/scan"' in page  # back to the verdict, camera or not
    assert 'value="000000"' not in visitor.get("/kiosk/keypad").get_data(as_text=True)
    # A valid invoice needs no correcting.
    visitor.post("/kiosk/keypad", data=TYPED)
    assert "?correct=1" not in visitor.get("/kiosk/scan").get_data(as_text=True)


def test_check_another_puts_the_verdict_away(kiosk_app, visitor):
    visitor.post("/kiosk/keypad", data=TYPED)
    assert visitor.post("/kiosk/another").headers["Location"] == "/kiosk/scan"
    assert "Valid invoice" not in visitor.get("/kiosk/scan").get_data(as_text=True)


# --- forgetting ------------------------------------------------------------------------------


def test_finish_forgets_the_visitor_but_keeps_the_statistics(kiosk_app, visitor, camera):
    visitor.post("/language", data={"lang": "en", "next": "/kiosk/scan"})
    visitor.post("/kiosk/accessibility", data={"next": "/kiosk/scan"})
    visitor.post("/kiosk/keypad", data=TYPED)
    scan(kiosk_app, "https://pending.example/")  # read, not yet shown
    token = visit_token(visitor)
    response = visitor.post("/kiosk/finish")
    assert (response.status_code, response.headers["Location"]) == (303, "/kiosk")
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("lang=;") for c in cookies)
    assert any(c.startswith("contrast=;") for c in cookies)
    (record,) = records(kiosk_app)
    assert record.owner_key is None and record.kiosk_id == "mall-east-1"
    assert record.outcome == "match"
    with kiosk_app.app_context():
        from blueprints.ext import db

        assert kiosk.find_visit(db.session, token, "mall-east-1") is None
        assert db.session.scalars(select(kiosk.KioskScan)).all() == []
    with visitor.session_transaction() as session:
        assert dict(session) == {}
    assert visitor.get("/kiosk/scan").headers["Location"] == "/kiosk"
    html = visitor.get("/kiosk").get_data(as_text=True)
    assert "kiosk-accessible" not in html


def make_idle(app, client, seconds=3600):
    with app.app_context():
        from blueprints.ext import db

        visit = kiosk.find_visit(db.session, visit_token(client), "mall-east-1")
        kiosk.touch(db.session, visit, utcnow() - timedelta(seconds=seconds))


def test_a_new_visitor_finds_nothing_of_the_one_before(kiosk_app, visitor):
    visitor.post("/kiosk/keypad", data=TYPED)
    receipt = records(kiosk_app)[0].id
    following = english_client(kiosk_app)
    following.post("/kiosk/start")
    html = following.get("/kiosk/scan").get_data(as_text=True)
    assert receipt not in html and "Valid invoice" not in html
    assert records(kiosk_app)[0].owner_key == visit_token(visitor)  # still busy meanwhile


def test_a_visit_left_without_a_reset_is_ended_by_the_next_one(kiosk_app, visitor):
    visitor.post("/kiosk/keypad", data=TYPED)
    make_idle(kiosk_app, visitor)  # the browser crashed; nobody finished
    english_client(kiosk_app).post("/kiosk/start")
    assert records(kiosk_app)[0].owner_key is None
    assert visitor.get("/kiosk/scan").headers["Location"] == "/kiosk"


def test_a_visit_the_browser_forgot_to_reset_ends_on_the_server(kiosk_app, visitor):
    visitor.post("/kiosk/keypad", data=TYPED)
    kiosk_app.config.update(YANPIAO_KIOSK_IDLE_SECONDS=0, YANPIAO_KIOSK_WARNING_SECONDS=0)
    make_idle(kiosk_app, visitor, seconds=60)
    assert visitor.get("/kiosk/scan").headers["Location"] == "/kiosk"
    assert records(kiosk_app)[0].owner_key is None


@pytest.mark.parametrize("ask", [
    lambda client: client.get("/kiosk/scan"),
    lambda client: client.get("/kiosk/keypad"),
    lambda client: poll(client),
], ids=["scan", "keypad", "poll"])
def test_a_visit_ended_on_the_server_forgets_its_visitor_like_finish(kiosk_app, visitor, ask):
    visitor.post("/language", data={"lang": "ru", "next": "/kiosk/scan"})
    visitor.post("/kiosk/accessibility", data={"next": "/kiosk/scan"})
    kiosk_app.config.update(YANPIAO_KIOSK_IDLE_SECONDS=0, YANPIAO_KIOSK_WARNING_SECONDS=0)
    make_idle(kiosk_app, visitor, seconds=60)  # the screen's own reset never ran
    response = ask(visitor)
    assert "/kiosk" in (response.headers.get("Location"), response.headers.get("HX-Redirect"))
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("lang=;") for c in cookies)
    assert any(c.startswith("contrast=;") for c in cookies)
    with visitor.session_transaction() as session:
        assert dict(session) == {}


def test_touches_reported_by_the_poll_keep_the_visit_alive(kiosk_app, visitor):
    kiosk_app.config.update(YANPIAO_KIOSK_IDLE_SECONDS=60, YANPIAO_KIOSK_WARNING_SECONDS=30)
    make_idle(kiosk_app, visitor, seconds=100)  # typing on the keypad: nothing reached the server
    visitor.post("/kiosk/poll", data={"screen": "keypad", "active": "1"}, headers=HTMX)
    with kiosk_app.app_context():
        from blueprints.ext import db

        visit = kiosk.find_visit(db.session, visit_token(visitor), "mall-east-1")
        assert utcnow() - visit.last_active_at < timedelta(seconds=5)
    assert visitor.get("/kiosk/keypad").status_code == 200


def test_a_reset_form_after_the_session_ended_still_starts_afresh(kiosk_app, visitor):
    kiosk_app.config["WTF_CSRF_ENABLED"] = True
    response = visitor.post("/kiosk/finish", data={"csrf_token": "stale"})
    assert response.headers["Location"] == "/kiosk"
    response = visitor.post("/kiosk/poll", data={"csrf_token": "stale"}, headers=HTMX)
    assert response.headers["HX-Redirect"] == "/kiosk"


# --- accessibility mode ----------------------------------------------------------------------


def test_the_accessibility_mode_is_one_touch_away_and_speaks(visitor):
    response = visitor.post("/kiosk/accessibility", data={"next": "/kiosk/keypad"})
    assert response.headers["Location"] == "/kiosk/keypad"
    html = visitor.get("/kiosk/keypad").get_data(as_text=True)
    assert 'class="kiosk theme-contrast kiosk-accessible"' in html
    assert 'data-speech="on"' in html and "data-speech-repeat" in html and "data-speech-stop" in html
    assert 'aria-pressed="true"' in html
    visitor.post("/language", data={"lang": "zh_Hans", "next": "/kiosk/keypad"})
    assert 'data-speech-lang="zh-CN"' in visitor.get("/kiosk/keypad").get_data(as_text=True)
    visitor.post("/kiosk/accessibility", data={"next": "/kiosk/keypad"})
    assert "kiosk-accessible" not in visitor.get("/kiosk/keypad").get_data(as_text=True)


def test_a_failure_on_the_kiosk_stays_in_the_kiosk(visitor, camera, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database fell over")

    monkeypatch.setattr(kiosk, "claim_scan", broken)
    response = poll(visitor, htmx=False)
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Start again" in html and "site-header" not in html


# --- the camera reader command ---------------------------------------------------------------


def test_the_camera_command_needs_a_camera(kiosk_app):
    kiosk_app.config["YANPIAO_CAMERA"] = ""
    result = kiosk_app.test_cli_runner().invoke(args=["kiosk", "camera"])
    assert result.exit_code != 0 and "YANPIAO_CAMERA is not set" in result.output


def test_a_second_camera_reader_refuses_to_start(kiosk_app):
    from yanpiao.camera import own_camera

    held = own_camera(kiosk_app.config["YANPIAO_KIOSK_DIR"])
    try:
        result = kiosk_app.test_cli_runner().invoke(args=["kiosk", "camera"])
    finally:
        held.close()
    assert result.exit_code != 0 and "Another camera reader is already running" in result.output


def test_chromium_is_locked_down():
    from blueprints.kiosk_cli import KIOSK_FLAGS, chromium_command

    command = chromium_command("chromium", "http://127.0.0.1:8000/kiosk", "/tmp/profile")
    for flag in ("--kiosk", "--noerrdialogs", "--disable-pinch", "--overscroll-history-navigation=0",
                 "--incognito", "--no-first-run", "--kiosk-printing"):
        assert flag in KIOSK_FLAGS
    assert any(f.startswith("--disable-features=") and "Translate" in f for f in command)
    assert command[-1] == "http://127.0.0.1:8000/kiosk"
