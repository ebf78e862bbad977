"""The kiosk end to end: gunicorn serving the app, the camera reader reading a video file made
here, and Debian's chromium on a portrait touch screen.

Two servers: one with a camera (a video: paper without a code, then the invoice held up for
five seconds) and the normal idle timeout, one without a camera and with short timeouts.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from factories import invoice_record
from kiosk_video import invoice_payload, write_video

ROOT = Path(__file__).resolve().parents[2]
RECORD = invoice_record()
PORTRAIT = {"width": 1080, "height": 1920}
# The video: 3 s of paper, the invoice for 5 s, then 12 s of paper (it loops every 20 s).
BLANK_BEFORE, HELD, BLANK_AFTER = 3.0, 5.0, 12.0
IDLE, WARNING = 6, 4  # seconds, for the server without a camera


class Kiosk:
    """A live server (and, on demand, its camera reader) with its own database and folder."""

    def __init__(self, folder: Path, camera: str, idle: int, warning: int):
        self.folder = folder
        self.env = dict(os.environ)
        self.env.update(
            DATABASE_URL=f"sqlite:///{folder / 'kiosk.db'}", SECRET_KEY="kiosk-tests",
            YANPIAO_DAILY_LIMIT="1000", YANPIAO_VERIFY_RATE_LIMIT="10000 per minute",
            YANPIAO_CAMERA=camera, YANPIAO_KIOSK_DIR=str(folder / "kiosk"),
            YANPIAO_KIOSK_ID="test-kiosk", YANPIAO_KIOSK_IDLE_SECONDS=str(idle),
            YANPIAO_KIOSK_WARNING_SECONDS=str(warning),
        )
        flask = [sys.executable, "-m", "flask", "--app", "app"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=self.env, check=True,
                       capture_output=True)
        records = folder / "registry.jsonl"
        records.write_text(json.dumps(RECORD, ensure_ascii=False) + "\n", encoding="utf-8")
        subprocess.run([*flask, "registry", "import", str(records)], cwd=ROOT, env=self.env,
                       check=True, capture_output=True)
        self.reader: subprocess.Popen | None = None
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind",
             f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "/dev/null",
             "app:create_app()"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1)
                break
            except OSError:
                if self.server.poll() is not None or time.monotonic() > deadline:
                    self.server.kill()
                    raise RuntimeError(self.server.stderr.read().decode()[-2000:])
                time.sleep(0.2)

    def start_reader(self) -> None:
        self.reader = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "kiosk", "camera"],
                                       cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)

    def stop_reader(self) -> None:
        if self.reader is not None and self.reader.poll() is None:
            self.reader.terminate()
            self.reader.wait(timeout=20)

    def camera_status(self) -> dict:
        path = self.folder / "kiosk" / "status.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def records(self):
        from yanpiao.db import make_engine, make_session_factory
        from yanpiao.models import VerificationRecord

        engine = make_engine(self.env["DATABASE_URL"])
        try:
            with make_session_factory(engine)() as session:
                return list(session.scalars(select(VerificationRecord)))
        finally:
            engine.dispose()

    def close(self) -> None:
        self.stop_reader()
        self.server.terminate()
        self.server.wait(timeout=20)


@pytest.fixture(scope="module")
def camera_kiosk(tmp_path_factory):
    folder = tmp_path_factory.mktemp("camera-kiosk")
    video = folder / "invoices.avi"
    write_video(video, [(BLANK_BEFORE, None), (HELD, invoice_payload(RECORD)), (BLANK_AFTER, None)])
    kiosk = Kiosk(folder, camera=str(video), idle=60, warning=30)
    yield kiosk
    kiosk.close()


@pytest.fixture(scope="module")
def plain_kiosk(tmp_path_factory):
    kiosk = Kiosk(tmp_path_factory.mktemp("plain-kiosk"), camera="", idle=IDLE, warning=WARNING)
    yield kiosk
    kiosk.close()


def screen(browser, kiosk: Kiosk, **options):
    context = browser.new_context(base_url=kiosk.url, locale="en-GB", viewport=PORTRAIT,
                                  has_touch=True, **options)
    return context, context.new_page()


def start(page) -> None:
    page.goto("/kiosk")
    page.get_by_role("button", name="Touch to start").click()
    expect(page).to_have_url(re.compile(r"/kiosk/scan$"))


def key(page, keys: str) -> None:
    for k in keys:
        page.locator(f'[data-keypad] [data-key="{k}"]').click()


def type_on_keypad(page, check_code: str = RECORD["check_code"][-6:]) -> None:
    page.get_by_role("textbox", name="Invoice code", exact=True).click()
    key(page, RECORD["invoice_code"])
    page.get_by_role("button", name="Next field").click()
    key(page, RECORD["invoice_number"])
    page.get_by_role("button", name="Next field").click()
    key(page, RECORD["issue_date"].replace("-", ""))
    field = page.get_by_role("textbox", name="Check code (last 6 digits)", exact=True)
    # The form adapted to the code, as on the web page: only the check code is asked for.
    expect(page.locator("#amount")).to_have_count(0)
    expect(field).to_be_visible()
    field.click()
    key(page, check_code)


# --- with a camera ---------------------------------------------------------------------------


def test_the_camera_result_appears_without_a_touch_and_is_verified_once(browser, camera_kiosk):
    context, page = screen(browser, camera_kiosk)
    start(page)
    # No reader yet: a calm message and the keypad path.
    camera = page.locator("#kiosk-camera")
    expect(camera).to_contain_text("The camera is not available at the moment.")
    expect(camera.get_by_role("link", name="Type the details")).to_be_visible()

    camera_kiosk.start_reader()  # the camera "comes back": no reload, no touch
    expect(page.locator("img[data-preview]")).to_be_visible(timeout=20_000)
    expect(page.locator(".kiosk-guide")).to_be_visible()
    result = page.get_by_role("status")
    expect(result.get_by_role("heading", name="Valid invoice")).to_be_visible(timeout=20_000)
    expect(result).to_contain_text(RECORD["invoice_number"])
    expect(page.locator("#kiosk-verdict-title")).to_be_focused()

    # The invoice stays in view for five seconds: wait until it has gone, then count.
    playback = camera_kiosk.camera_status()
    gone = playback["started_at"] + BLANK_BEFORE + HELD + 1.0
    time.sleep(max(0.0, gone - time.time()))
    mine = [r for r in camera_kiosk.records() if r.invoice_number == RECORD["invoice_number"]]
    assert len(mine) == 1 and mine[0].entry_path == "kiosk_camera"
    expect(result.locator(".kiosk-facts")).to_contain_text("Check number1")

    # Unplugged: back to the calm message and the keypad, while the verdict stays.
    camera_kiosk.stop_reader()
    expect(camera).to_contain_text("The camera is not available at the moment.", timeout=15_000)
    expect(result.get_by_role("heading", name="Valid invoice")).to_be_visible()
    context.close()


# --- without a camera ------------------------------------------------------------------------


def test_without_a_camera_a_keypad_entry_verifies(browser, plain_kiosk):
    context, page = screen(browser, plain_kiosk)
    start(page)
    expect(page.locator("#kiosk-camera")).to_contain_text("Type the details printed on the invoice")
    page.get_by_role("link", name="Type the details").click()
    expect(page).to_have_url(re.compile(r"/kiosk/keypad$"))
    # No OS keyboard: the fields take the on-screen keys only.
    assert page.locator("#invoice_code").get_attribute("inputmode") == "none"
    # Upright, the sticky keys span the screen: the form scrolling behind showed at their side.
    keys = page.locator("[data-keypad]").bounding_box()
    form = page.locator("#verify-form").bounding_box()
    assert keys["x"] <= form["x"] + 1 and keys["x"] + keys["width"] >= form["x"] + form["width"] - 1
    type_on_keypad(page, check_code="2944339")
    page.locator('[data-keypad] [data-key="back"]').click()  # one digit too many
    assert page.locator("#check_code").input_value() == RECORD["check_code"][-6:]
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page).to_have_url(re.compile(r"/kiosk/scan$"))
    verdict = page.get_by_role("status").get_by_role("heading", name="Valid invoice")
    expect(verdict).to_be_visible()
    (record,) = [r for r in plain_kiosk.records() if r.owner_key]
    assert record.kiosk_id == "test-kiosk"
    context.close()


def test_the_idle_warning_and_the_reset_wipe_the_visitor(browser, plain_kiosk):
    context, page = screen(browser, plain_kiosk)
    start(page)
    page.goto("/kiosk/keypad")
    for name, value in (("Invoice code", RECORD["invoice_code"]),
                        ("Invoice number", RECORD["invoice_number"]),
                        ("Issue date", RECORD["issue_date"])):
        page.get_by_role("textbox", name=name, exact=True).fill(value)
    expect(page.locator("#amount")).to_have_count(0)
    page.get_by_role("textbox", name="Check code (last 6 digits)", exact=True).fill(
        RECORD["check_code"][-6:])
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.get_by_role("heading", name="Valid invoice")).to_be_visible()
    receipt = page.locator(".kiosk-verdict").get_attribute("data-receipt")
    page.evaluate("sessionStorage.setItem('left', 'behind'); localStorage.setItem('left', 'behind')")

    warning = page.get_by_role("alertdialog", name="Are you still there?")
    expect(warning).to_be_visible(timeout=(IDLE + 5) * 1000)
    count = int(page.locator("#kiosk-idle-count").inner_text())
    assert 1 <= count <= WARNING
    # One touch; the server hears of it too, or it would end the visit behind the screen's back.
    with page.expect_request(lambda r: r.url.endswith("/kiosk/poll")
                             and "active=1" in (r.post_data or ""), timeout=3000):
        warning.get_by_role("button", name="Continue").tap()
    expect(warning).to_be_hidden()
    expect(page.get_by_role("heading", name="Valid invoice")).to_be_visible()

    # Nobody touches it again: the warning, then the attract screen for the next visitor.
    expect(warning).to_be_visible(timeout=(IDLE + 5) * 1000)
    expect(page).to_have_url(re.compile(r"/kiosk$"), timeout=(WARNING + 5) * 1000)
    expect(page.get_by_role("button", name="Touch to start")).to_be_visible()
    # Wiped by the reset, by the finish response's Clear-Site-Data and by the attract screen's
    # own script once it runs: whichever comes last, nothing may be left.
    page.wait_for_function("sessionStorage.length + localStorage.length === 0", timeout=5000)
    (record,) = [r for r in plain_kiosk.records() if r.id == receipt]
    assert record.owner_key is None and record.kiosk_id == "test-kiosk"  # kept, but nobody's
    # Going back shows nothing of it either.
    page.go_back()
    page.wait_for_load_state()
    expect(page.get_by_text("Valid invoice")).to_have_count(0)
    assert receipt not in page.content()
    context.close()


def test_the_accessibility_mode_is_large_low_and_spoken(browser, plain_kiosk):
    context, page = screen(browser, plain_kiosk)
    context.add_init_script("""
      window.__spoken = []; window.__stopped = 0;
      if (window.speechSynthesis) {
        speechSynthesis.speak = u => window.__spoken.push({text: u.text, lang: u.lang});
        speechSynthesis.cancel = () => { window.__stopped += 1; };
      }""")
    start(page)
    page.get_by_role("button", name="Accessibility").click()
    expect(page.locator("html")).to_have_class(re.compile(r"\bkiosk-accessible\b"))
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.kiosk-calm p')).fontSize)")
    assert size >= 34  # capital H ≥ 6 mm at 50 cm on a 21.5" 1080p screen
    bar = page.locator(".kiosk-bar").bounding_box()
    main = page.locator("main").bounding_box()
    assert bar["y"] > main["y"] and bar["y"] + bar["height"] >= PORTRAIT["height"] - 2  # at the bottom
    button = page.get_by_role("link", name="Type the details").bounding_box()
    assert button["y"] > PORTRAIT["height"] / 2  # in reach of someone seated
    if page.evaluate("'speechSynthesis' in window"):
        deadline = time.monotonic() + 5
        while not page.evaluate("window.__spoken.length") and time.monotonic() < deadline:
            time.sleep(0.1)
        spoken = page.evaluate("window.__spoken")
        assert spoken[0]["lang"] == "en-GB" and "Type the details" in spoken[0]["text"]
        page.get_by_role("button", name="Repeat").click()
        page.get_by_role("button", name="Stop speaking").click()
        assert page.evaluate("window.__spoken.length") >= 2
        assert page.evaluate("window.__stopped") >= 1
    context.close()


def spoken_after(page, action) -> list[str]:
    """What the kiosk says after ``action`` (speechSynthesis replaced by a recorder)."""
    page.evaluate("window.__spoken = []")
    action()
    deadline = time.monotonic() + 5
    while not page.evaluate("window.__spoken.length") and time.monotonic() < deadline:
        time.sleep(0.1)
    return [entry["text"] for entry in page.evaluate("window.__spoken")]


def test_speech_says_the_mistakes_and_the_verdict_in_words(browser, plain_kiosk):
    """A keypad entry with mistakes spoke only the keypad's instructions, and a verdict was
    spoken with its hidden icon first ("✓ Valid invoice")."""
    context, page = screen(browser, plain_kiosk)
    context.add_init_script("""
      window.__spoken = [];
      if (window.speechSynthesis) {
        speechSynthesis.speak = u => window.__spoken.push({text: u.text, lang: u.lang});
        speechSynthesis.cancel = () => {};
      }""")
    start(page)
    # Debian's chromium has speech synthesis; the kiosk's speech mode is built on it.
    assert page.evaluate("'speechSynthesis' in window")
    page.get_by_role("button", name="Accessibility").click()
    page.goto("/kiosk/keypad")
    spoken = spoken_after(page, lambda: page.get_by_role("button", name="Verify", exact=True).click())
    assert spoken and spoken[0].startswith("There is a problem"), spoken
    type_on_keypad(page)
    spoken = spoken_after(page, lambda: page.get_by_role("button", name="Verify", exact=True).click())
    assert spoken and spoken[0].startswith("Valid invoice"), spoken
    context.close()


def on_screen(page, locator) -> bool:
    box = locator.bounding_box()
    main = page.locator("main").bounding_box()
    return (box["x"] >= 0 and box["x"] + box["width"] <= PORTRAIT["width"]
            and box["y"] >= main["y"] and box["y"] + box["height"] <= main["y"] + main["height"] + 1)


def test_long_labels_keep_menus_and_the_start_button_on_the_screen(browser, plain_kiosk):
    """Russian labels wrap the bar: the language list hung from its button ran off the left
    edge. In the accessibility mode the attract screen's pictures pushed the Start button
    under the speech bar and every language out of sight."""
    context, page = screen(browser, plain_kiosk)
    page.goto("/kiosk")
    page.get_by_role("button", name="Русский").click()
    page.get_by_role("button", name="Специальные возможности").click()
    expect(page.locator("html")).to_have_class(re.compile(r"\bkiosk-accessible\b"))
    assert on_screen(page, page.locator(".kiosk-start"))
    for button in page.locator(".kiosk-language-choice button").all():
        assert on_screen(page, button), button.inner_text()
    page.get_by_role("button", name="Специальные возможности").click()  # off again
    page.locator(".kiosk-start").click()
    page.locator(".kiosk-language-menu summary").click()
    for button in page.locator(".kiosk-language-menu button").all():
        box = button.bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= PORTRAIT["width"], button.inner_text()
    context.close()


def test_print_makes_an_80mm_receipt(browser, plain_kiosk):
    import pypdfium2

    context, page = screen(browser, plain_kiosk)
    context.add_init_script("window.__printed = 0; window.print = () => { window.__printed += 1; };")
    start(page)
    page.goto("/kiosk/keypad")
    type_on_keypad(page)
    page.get_by_role("button", name="Verify", exact=True).click()
    receipt = page.locator(".kiosk-verdict").get_attribute("data-receipt")
    page.get_by_role("button", name="Print a receipt").click()
    assert page.evaluate("window.__printed") == 1
    pdf = pypdfium2.PdfDocument(page.pdf(prefer_css_page_size=True))
    width, _height = pdf[0].get_size()
    assert abs(width - 80 / 25.4 * 72) < 1  # 80 mm
    text = "".join(p.get_textpage().get_text_range() for p in pdf).replace("\r", "")
    for expected in ("Valid invoice", RECORD["invoice_number"], receipt, "Check number",
                     "Checked at", "Issue date", "Total including tax"):
        assert expected in text, expected
    assert "Touch to start" not in text and "Finish" not in text
    context.close()


def test_nothing_leads_out_of_the_app(browser, plain_kiosk):
    context, page = screen(browser, plain_kiosk)
    page.goto("/kiosk")
    prevented = page.evaluate("""() => {
      const e = new MouseEvent('contextmenu', {bubbles: true, cancelable: true});
      document.querySelector('h1').dispatchEvent(e);
      return e.defaultPrevented; }""")
    assert prevented
    assert page.evaluate("getComputedStyle(document.body).userSelect") == "none"
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert all(h.startswith("/kiosk") for h in hrefs)
    context.close()
