"""A real gunicorn serving the app, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from factories import FLOW_RECORD, invoice_record

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def server_env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{folder / 'live.db'}",
        SECRET_KEY="browser-tests",
        YANPIAO_DAILY_LIMIT="1000",
        YANPIAO_VERIFY_RATE_LIMIT="10000 per minute",
        YANPIAO_API_RATE_LIMIT="10000 per minute",
        # Many tests sign in from 127.0.0.1 within a minute (faster still under pytest-xdist).
        YANPIAO_LOGIN_RATE_LIMIT="10000 per minute",
        # A report and two batches in each language and theme the accessibility run opens.
        YANPIAO_FEEDBACK_RATE_LIMIT="10000 per hour",
        YANPIAO_BATCH_RATE_LIMIT="10000 per hour",
    )
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    records = folder / "registry.jsonl"
    lines = [json.dumps(record, ensure_ascii=False) for record in (invoice_record(), FLOW_RECORD)]
    records.write_text("\n".join(lines) + "\n", encoding="utf-8")
    subprocess.run([*flask, "registry", "import", str(records)], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([*flask, "registry", "seed", "--count", "30"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    return env


@pytest.fixture(scope="session")
def live_server(server_env):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind",
         f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "/dev/null", "app:create_app()"],
        cwd=ROOT, env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(process.stderr.read().decode()[-2000:])
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()
