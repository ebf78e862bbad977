"""What bench/soak.py and bench/chaos.py share: a throwaway database and gunicorn server on
the loopback interface, and many keep-alive clients sending the mixed traffic of real visitors.

Nothing here leaves 127.0.0.1; every loop is bounded by a deadline.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

UNLIMITED = "1000000 per second"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """Limits raised so that neither the daily nor the rate limit answers instead of the app."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url, SECRET_KEY="yanpiao-bench-secret-key", YANPIAO_DEMO="1",
        YANPIAO_DAILY_LIMIT="1000000", YANPIAO_API_RATE_LIMIT=UNLIMITED,
        YANPIAO_VERIFY_RATE_LIMIT=UNLIMITED, YANPIAO_FEEDBACK_RATE_LIMIT=UNLIMITED,
        YANPIAO_LOGIN_RATE_LIMIT=UNLIMITED, YANPIAO_FAQ_VOTE_RATE_LIMIT=UNLIMITED,
        RATELIMIT_STORAGE_URI="memory://",
        # A worker that crashes in native code (SIGSEGV) leaves the Python stacks in the log.
        PYTHONFAULTHANDLER="1",
    )
    env.update(extra)
    return env


def prepare_database(env: dict[str, str], invoices: int = 300) -> None:
    flask = [str(VENV_BIN / "flask"), "--app", "app"]
    for args in (["db", "upgrade"], ["registry", "seed", "--count", str(invoices)]):
        subprocess.run([*flask, *args], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)


class Server:
    """gunicorn with the app's gunicorn.conf.py on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.log = log
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind",
             f"127.0.0.1:{self.port}", "--workers", str(workers), "--access-logfile",
             "/dev/null", "app:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab"),
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz")

    def workers(self) -> list[int]:
        """pids of the master's worker processes."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    @staticmethod
    def rss_kib(pid: int) -> int:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- the traffic ------------------------------------------------------------------------------


@dataclass
class Result:
    at: float  # seconds since the load started
    action: str
    status: int  # 0: no answer (connection refused, reset, timeout)
    seconds: float
    receipt: str = ""  # a verification the server acknowledged
    retried: bool = False  # sent again on a new connection after a kept-alive one died


@dataclass
class Recorder:
    started: float = field(default_factory=time.monotonic)
    results: list[Result] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, result: Result) -> None:
        with self.lock:
            self.results.append(result)


def demo_invoices(database_url: str, count: int = 200) -> list[dict]:
    """Fields of stored invoices, right or wrong in the 60/15/15/10 mix of bench/verify.py."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT type_code, invoice_code, invoice_number, issue_date, amount, total, "
            "check_code FROM invoices ORDER BY id LIMIT :n"), {"n": count}).all()
    engine.dispose()
    from yanpiao.types import ExtraField, InvoiceType

    invoices = []
    for type_code, code, number, issue_date, amount, total, check_code in rows:
        extra = InvoiceType(type_code).extra_field
        fields = {"invoice_code": code, "invoice_number": number, "issue_date": str(issue_date)}
        if extra is ExtraField.CHECK_CODE:
            fields["check_code"] = check_code[-6:]
        else:
            cents = amount if extra is ExtraField.PRETAX_AMOUNT else total
            fields["amount"] = f"{cents // 100}.{cents % 100:02d}"
        invoices.append(fields)
    return invoices


def qr_png(payload: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make_qr(payload, error="m").save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
SUBMISSION = re.compile(r'name="submission" value="([^"]+)"')
PAGES = ["/verify", "/faq", "/samples", "/feedback", "/history", "/developers", "/login"]
# (action, weight): pages, htmx fragments, verifications (form, scanner, API), decoding, feedback.
MIX = [("page", 25), ("fragment", 15), ("verify", 25), ("scan", 5), ("api_verify", 12),
       ("decode", 10), ("feedback", 8)]


class Visitor:
    """One browser-like client: its own keep-alive connection, session cookie and CSRF token.

    Like a browser, it sends a request again once when a kept-alive connection turns out to
    be closed before any answer came (the server restarted a worker meanwhile); any other
    failure counts.
    """

    def __init__(self, port: int, invoices: list[dict], png: bytes, rng: random.Random,
                 timeout: float = 60) -> None:
        self.port, self.invoices, self.png, self.rng = port, invoices, png, rng
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None
        self.cookie = ""
        self.csrf = ""
        self.retried = False

    def _request(self, method: str, path: str, body: bytes | None = None,
                 headers: dict | None = None) -> tuple[int, dict, bytes]:
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        for attempt in (1, 2):
            reused = self.connection is not None
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port,
                                                             timeout=self.timeout)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.BadStatusLine) as exc:
                self.connection.close()
                self.connection = None
                if reused and attempt == 1:
                    self.retried = True
                    continue
                raise ConnectionError(str(exc)) from exc
            except OSError:
                self.connection.close()
                self.connection = None
                raise
            cookie = response.getheader("Set-Cookie")
            if cookie and cookie.startswith("session="):
                self.cookie = cookie.split(";", 1)[0]
            if response.getheader("Connection", "").lower() == "close":
                self.connection.close()
                self.connection = None
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        raise ConnectionError("unreachable")

    def _form(self, path: str, fields: dict, htmx: bool) -> tuple[int, dict, bytes]:
        if not self.csrf:
            status, _h, page = self._request("GET", "/verify")
            match = CSRF.search(page.decode("utf-8", "replace"))
            self.csrf = match.group(1) if match else ""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if htmx:
            headers.update({"HX-Request": "true", "X-CSRFToken": self.csrf})
        body = urlencode({**fields, "csrf_token": self.csrf}).encode()
        return self._request("POST", path, body, headers)

    def _fields(self) -> dict:
        fields = dict(self.rng.choice(self.invoices))
        roll = self.rng.random()
        if roll < 0.15:  # mismatch: a wrong extra field
            key = "check_code" if "check_code" in fields else "amount"
            fields[key] = "000001" if key == "check_code" else "1.23"
        elif roll < 0.30:  # not found
            fields["invoice_number"] = fields["invoice_number"][:-4] + "9999"
        elif roll < 0.40:  # invalid
            fields["issue_date"] = "not a date"
        return fields

    def act(self) -> tuple[str, int, str]:
        """One step of a visit: (action, status, acknowledged receipt id)."""
        total = sum(weight for _, weight in MIX)
        pick, action = self.rng.uniform(0, total), MIX[-1][0]
        for name, weight in MIX:
            if pick < weight:
                action = name
                break
            pick -= weight
        receipt = ""
        if action == "page":
            status, _h, _b = self._request("GET", self.rng.choice(PAGES),
                                           headers={"Accept-Encoding": "gzip"})
            expected = {200}
        elif action == "fragment":
            fields = self.rng.choice(self.invoices)
            path = self.rng.choice([
                "/verify/fields?" + urlencode({"invoice_code": fields["invoice_code"],
                                               "invoice_number": fields["invoice_number"]}),
                "/faq?" + urlencode({"q": self.rng.choice(["amount", "发票", "limit"])}),
            ])
            status, _h, _b = self._request("GET", path, headers={"HX-Request": "true"})
            expected = {200}
        elif action == "verify":
            status, headers, _b = self._form("/verify", self._fields(), htmx=True)
            receipt = headers.get("hx-push-url", "").rsplit("/", 1)[-1] if status == 200 else ""
            expected = {200}
        elif action == "scan":
            fields = self.rng.choice(self.invoices)
            payload = ",".join(["01", "04", fields["invoice_code"], fields["invoice_number"],
                                "1.00", fields["issue_date"].replace("-", ""), "", "ABCD"])
            status, _h, _b = self._form("/verify/scan", {"qr": payload}, htmx=True)
            expected = {200}
        elif action == "api_verify":
            body = json.dumps(self._fields()).encode()
            status, _h, data = self._request("POST", "/api/v1/verify", body,
                                             {"Content-Type": "application/json"})
            if status == 200:
                receipt = json.loads(data).get("receipt_id") or ""
            expected = {200, 422}
        elif action == "decode":
            boundary = "----yanpiao-bench"
            body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                    f"filename=\"code.png\"\r\nContent-Type: image/png\r\n\r\n").encode() + \
                self.png + f"\r\n--{boundary}--\r\n".encode()
            status, _h, _b = self._request(
                "POST", "/api/v1/decode", body,
                {"Content-Type": f"multipart/form-data; boundary={boundary}"})
            expected = {200}
        else:  # feedback: the form page, then the report
            status, _h, page = self._request("GET", "/feedback")
            match = SUBMISSION.search(page.decode("utf-8", "replace"))
            if status == 200 and match:
                status, _h, _b = self._form("/feedback", {
                    "category": "other", "submission": match.group(1),
                    "message": "Load test report: the page answered slowly."}, htmx=False)
            expected = {303}
        return action, status if status in expected or status >= 500 or status == 0 else -status, \
            receipt


def run_visitors(port: int, invoices: list[dict], png: bytes, clients: int, seconds: float,
                 recorder: Recorder, stop: threading.Event | None = None) -> None:
    """``clients`` visitors, each in its own thread, acting until the deadline."""
    stop = stop or threading.Event()
    deadline = time.monotonic() + seconds

    def visit(index: int) -> None:
        visitor = Visitor(port, invoices, png, random.Random(index))
        while time.monotonic() < deadline and not stop.is_set():
            began = time.monotonic()
            visitor.retried = False
            try:
                action, status, receipt = visitor.act()
            except (OSError, ConnectionError, http.client.HTTPException):
                action, status, receipt = "connection", 0, ""
                time.sleep(0.05)  # a refused connection comes back at once: do not spin
            recorder.add(Result(began - recorder.started, action, status,
                                time.monotonic() - began, receipt, visitor.retried))

    threads = [threading.Thread(target=visit, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)


def summarize(results: list[Result]) -> dict:
    by_action: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_action[result.action].append(result)
    statuses = Counter(r.status for r in results)
    rows = {}
    for action, items in sorted(by_action.items()):
        times = sorted(r.seconds for r in items)
        rows[action] = {
            "requests": len(items),
            "failed": sum(1 for r in items if r.status <= 0 or r.status >= 500),
            "p50_ms": times[len(times) // 2] * 1000,
            "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000,
        }
    return {"rows": rows, "statuses": statuses, "retried": sum(r.retried for r in results)}


def print_table(summary: dict, seconds: float) -> None:
    print("| traffic | requests | failed | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    total = failed = 0
    for action, row in summary["rows"].items():
        total += row["requests"]
        failed += row["failed"]
        print(f"| {action} | {row['requests']:,} | {row['failed']} | {row['p50_ms']:.0f} | "
              f"{row['p99_ms']:.0f} |")
    print(f"| **all** | {total:,} ({total / seconds:.0f}/s) | {failed} | | |")
    print("status codes:", dict(sorted(summary["statuses"].items())))
    print(f"sent again after a kept-alive connection closed (as browsers do): "
          f"{summary['retried']}")
