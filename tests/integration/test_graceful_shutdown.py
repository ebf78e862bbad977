"""gunicorn with the app's gunicorn.conf.py finishes the requests in flight when it is told to
stop (SIGTERM: deploys, systemd) or to reload (SIGHUP), instead of cutting them off."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def slow_server():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind",
         f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "/dev/null",
         "--chdir", str(ROOT / "tests"), "slow_app:app"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "?0", timeout=2)
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
    yield process, url
    if process.poll() is None:
        process.kill()
        process.wait()


def _in_flight(url: str, count: int) -> tuple[list[threading.Thread], list]:
    answers: list = []

    def fetch():
        try:
            answers.append(urllib.request.urlopen(url + "?2", timeout=30).read())
        except OSError as exc:
            answers.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(count)]
    for thread in threads:
        thread.start()
    time.sleep(0.7)  # all of them have reached gunicorn: being answered or queued for a thread
    return threads, answers


def test_sigterm_finishes_requests_in_flight_then_stops(slow_server):
    process, url = slow_server
    threads, answers = _in_flight(url, 4)
    process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(timeout=30)
    assert answers == [b"finished"] * 4
    assert process.wait(timeout=30) == 0


def test_sighup_reloads_without_dropping_requests(slow_server):
    process, url = slow_server
    threads, answers = _in_flight(url, 4)
    process.send_signal(signal.SIGHUP)
    for thread in threads:
        thread.join(timeout=30)
    assert answers == [b"finished"] * 4
    assert urllib.request.urlopen(url + "?0", timeout=10).read() == b"finished"
