"""``flask --app app kiosk camera`` (the one camera reader) and ``flask --app app kiosk run``
(the whole kiosk: web app, camera reader and a locked-down Chromium; ``make kiosk``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from yanpiao import kiosk
from yanpiao.camera import CameraReader, CameraTaken, FilePublisher, own_camera, parse_source
from yanpiao.db import utcnow

from .ext import db

ROOT = Path(__file__).resolve().parent.parent

# Chromium as a kiosk: full screen with no way out, printing without a dialog, and nothing
# that asks the visitor anything (first-run pages, translate bar, crash bubbles, prompts).
KIOSK_FLAGS = (
    "--kiosk",
    "--noerrdialogs",
    "--disable-pinch",
    "--overscroll-history-navigation=0",
    "--incognito",
    "--disable-features=Translate,TouchpadOverscrollHistoryNavigation",
    "--no-first-run",
    "--kiosk-printing",
    "--no-default-browser-check",
    "--disable-session-crashed-bubble",
    "--disable-infobars",
    "--block-new-web-contents",  # a link that opens a window opens nothing
    "--disable-extensions",
    "--disable-sync",
    "--deny-permission-prompts",
    "--password-store=basic",  # no keyring prompt at start
    "--autoplay-policy=no-user-gesture-required",  # the idle warning's sound
    "--check-for-update-interval=31536000",
)


def _log(message: str) -> None:
    click.echo(f"{time.strftime('%Y-%m-%d %H:%M:%S')} camera: {message}", err=True)


@click.command("camera")
@with_appcontext
def camera_command() -> None:
    """Read the kiosk camera (YANPIAO_CAMERA) and hand each new code to the kiosk screen.

    Exactly one reader may run per camera: a second one exits at once.
    """
    config = current_app.config
    try:
        source = parse_source(config["YANPIAO_CAMERA"])
    except ValueError:
        raise click.ClickException(
            "YANPIAO_CAMERA is not set: a device index (0), a video file or a stream URL."
        ) from None
    folder = Path(config["YANPIAO_KIOSK_DIR"])
    try:
        lock = own_camera(folder)
    except CameraTaken:
        raise click.ClickException("Another camera reader is already running.") from None
    kiosk_id = config["YANPIAO_KIOSK_ID"]

    def hand_on(texts: list[str]) -> None:
        for text in texts:
            try:
                kiosk.record_scan(db.session, kiosk_id, text, utcnow())
            except SQLAlchemyError as exc:  # the next code may get through again
                db.session.rollback()
                _log(f"could not store a scan: {exc.__class__.__name__}")
            else:
                _log("code read")  # never the payload: it is someone's invoice

    # OpenCV would log every attempt to open a missing camera; the reader logs its states.
    import cv2  # the camera process only: web workers never load OpenCV for the kiosk

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    publisher = FilePublisher(folder)
    reader = CameraReader(source, on_codes=hand_on, on_status=publisher.status,
                          on_preview=publisher.preview, log=_log)
    _log(f"reading {source.describe()} for kiosk {kiosk_id}")
    try:
        reader.run(stop)
    finally:
        publisher.withdraw()
        lock.close()


def chromium_command(browser: str, url: str, profile: Path) -> list[str]:
    command = [browser, *KIOSK_FLAGS, f"--user-data-dir={profile}"]
    if os.geteuid() == 0:  # Chromium will not start as root without it; better: a kiosk user
        command.append("--no-sandbox")
    return [*command, url]


def _wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)  # nosec B310 # our own http://127.0.0.1 URL
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise click.ClickException("The web app did not start.") from None
            time.sleep(0.3)


@click.command("run")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Keep the kiosk on the machine itself.")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), show_default="8000")
@click.option("--browser/--no-browser", default=True, help="Start Chromium in kiosk mode.")
@click.option("--chromium", default="chromium", show_default=True)
def run_command(host: str, port: int, browser: bool, chromium: str) -> None:
    """The whole kiosk: the app (gunicorn), the camera reader and Chromium in kiosk mode.

    Stops everything when Chromium or the app ends, or on Ctrl-C / SIGTERM; a camera reader
    that ends is started again.
    """
    base = f"http://{host}:{port}"
    folder = Path(current_app.config["YANPIAO_KIOSK_DIR"])
    python = sys.executable
    web = subprocess.Popen([python, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind",
                            f"{host}:{port}", "app:create_app()"], cwd=ROOT)
    children = {"web": web}

    def start_camera() -> None:
        if current_app.config["YANPIAO_CAMERA"]:
            children["camera"] = subprocess.Popen(
                [python, "-m", "flask", "--app", "app", "kiosk", "camera"], cwd=ROOT)

    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    try:
        start_camera()
        _wait_until_up(base + "/healthz", web)
        if browser:
            children["browser"] = subprocess.Popen(
                chromium_command(chromium, base + "/kiosk", folder / "chromium"))
        while not stop.wait(1):
            if web.poll() is not None or ("browser" in children
                                           and children["browser"].poll() is not None):
                break
            if "camera" in children and children["camera"].poll() is not None:
                start_camera()
    finally:
        for process in children.values():
            if process.poll() is None:
                process.terminate()
        for process in children.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
