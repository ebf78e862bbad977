"""Throughput, latency and registry lookup benchmark for verification.

    .venv/bin/python bench/verify.py            # 10 s per scenario, 20k lookups per registry
    .venv/bin/python bench/verify.py --quick    # 3 s per scenario, 5k lookups

What it does, in order:

1. Makes a throwaway SQLite database with ``flask --app app db upgrade`` and
   ``flask --app app registry seed --count 10000`` (the real maintenance commands), and a
   registry of 1,000,000 invoices cached under /tmp/yanpiao-bench/ (built once by bulk inserts
   of the same demo records; rebuilt when missing or when the schema's migration head changed).
2. Times ``yanpiao.registry.find_invoice_row`` (the lookup of every check) on both registries, half existing keys, half
   missing, one session per lookup as a request has.
3. Serves the app with gunicorn and gunicorn.conf.py, then bench/bare_app.py with the same
   settings, and drives each with the same number of keep-alive clients for a fixed time
   after a warm-up: ``POST /api/v1/verify`` (mixed outcomes), the ``POST /verify`` htmx
   fragment (with a CSRF token and session cookie per client), and the bare endpoint.
4. Prints a markdown table with the targets; exits 1 when a target is missed or a response
   was wrong.

Client and server share the machine's cores, so absolute requests/s understate what the server
alone could do; "server CPU ms/req" is the figure that does not depend on that.
The daily and rate limits are raised so that neither ever answers instead of the code under test.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import resource
import runpy
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
# Not resolved: the venv's python is a symlink and its bin/ is where flask and gunicorn live.
VENV_BIN = Path(sys.executable).parent
CACHE = Path("/tmp/yanpiao-bench")
SEED = 2024  # the seed `flask registry seed` uses
SHANGHAI = ZoneInfo("Asia/Shanghai")

TARGET_RATIO = 0.4
TARGET_P99_MS = 30.0
TARGET_SCALE = 1.2

# Out of every 20 requests: 12 match, 3 mismatch, 3 not found, 2 invalid (60/15/15/10 %).
MIX = ("match",) * 12 + ("mismatch",) * 3 + ("not_found",) * 3 + ("invalid",) * 2

sys.path.insert(0, str(ROOT))


# --- setup ----------------------------------------------------------------------------------


def bench_env(db_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{db_path}",
        SECRET_KEY="yanpiao-bench-secret-key",
        YANPIAO_DEMO="1",
        YANPIAO_DAILY_LIMIT="1000000",
        YANPIAO_API_RATE_LIMIT="1000000 per second",
        YANPIAO_VERIFY_RATE_LIMIT="1000000 per second",
    )
    return env


def flask_cli(db_path: Path, *args: str) -> None:
    subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "app", *args],
        cwd=ROOT, env=bench_env(db_path), check=True, stdout=subprocess.DEVNULL,
    )


def migration_head() -> str:
    from alembic.script import ScriptDirectory

    from blueprints.cli import alembic_config

    return ",".join(sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()))


def db_revision(db_path: Path) -> str:
    with sqlite3.connect(db_path) as con:
        rows = con.execute("SELECT version_num FROM alembic_version").fetchall()
    return ",".join(sorted(row[0] for row in rows))


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def large_registry(count: int) -> tuple[Path, str]:
    """The cached registry of ``count`` invoices, built when missing or stale."""
    CACHE.mkdir(parents=True, exist_ok=True)
    head = migration_head()
    # One file per schema head, so checkouts on different migrations do not rebuild each other's.
    path = CACHE / f"registry-{count}-{head.replace(',', '+')}.db"
    stamp = path.with_suffix(".json")
    if path.exists() and stamp.exists():
        meta = json.loads(stamp.read_text())
        if meta.get("head") == head and db_revision(path) == head:
            return path, f"cached (built {meta['built']} in {meta['seconds']:.0f} s)"
    started = time.monotonic()
    build_registry(path, count)
    seconds = time.monotonic() - started
    stamp.write_text(json.dumps({
        "head": head, "count": count, "seconds": seconds,
        "built": datetime.now(UTC).isoformat(timespec="seconds"),
    }))
    # Each is ~600 MB: keep the newest few schema heads, not every one ever benchmarked.
    cached = sorted(CACHE.glob(f"registry-{count}-*.db"), key=lambda p: p.stat().st_mtime)
    for old in cached[:-3]:
        remove_db(old)
        old.with_suffix(".json").unlink(missing_ok=True)
    return path, f"built now in {seconds:.0f} s"


def build_registry(path: Path, count: int) -> None:
    """The demo records of ``registry seed``, bulk inserted: the CLI stores ~1k invoices/s."""
    from sqlalchemy import create_engine, event, insert

    from yanpiao.models import Invoice, InvoiceItem
    from yanpiao.registry import parse_import_record
    from yanpiao.seed import iter_demo_invoices

    building = path.with_name(path.name + ".building")
    remove_db(building)
    flask_cli(building, "db", "upgrade")
    engine = create_engine(f"sqlite:///{building}")

    @event.listens_for(engine, "connect")
    def _unsafe_but_fast(dbapi_connection, _record):
        # A half-built file is thrown away anyway, so durability buys nothing here.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=OFF")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-262144")
        cursor.close()

    now = datetime.now(UTC)
    today = datetime.now(SHANGHAI).date()
    invoices: list[dict] = []
    items: list[dict] = []
    started = time.monotonic()
    with engine.begin() as conn:
        def flush() -> None:
            conn.execute(insert(Invoice.__table__), invoices)
            conn.execute(insert(InvoiceItem.__table__), items)
            invoices.clear()
            items.clear()

        records = iter_demo_invoices(count, today=today, seed=SEED)
        for invoice_id, record in enumerate(records, start=1):
            values = parse_import_record(record)
            for item in values.pop("items"):
                item["invoice_id"] = invoice_id
                items.append(item)
            values.update(
                id=invoice_id, is_demo=True, verification_count=0, last_verified_at=None,
                created_at=now, updated_at=now,
            )
            invoices.append(values)
            if len(invoices) >= 20_000:
                flush()
            if invoice_id % 100_000 == 0:
                rate = invoice_id / (time.monotonic() - started)
                print(f"  {invoice_id:>9,} invoices stored ({rate:,.0f}/s)", flush=True)
        if invoices:
            flush()
    engine.dispose()
    with sqlite3.connect(building) as con:
        con.execute("PRAGMA journal_mode=WAL")  # what the app's engine sets on every connect
    remove_db(path)
    os.replace(building, path)


# --- registry lookups -------------------------------------------------------------------------


def lookup_keys(db_path: Path, count: int, rng: random.Random) -> list[tuple[str, str, bool]]:
    """Half keys of stored invoices, half keys that look the same but are not stored."""
    con = sqlite3.connect(db_path)
    max_id = con.execute("SELECT max(id) FROM invoices").fetchone()[0]
    present = []
    while len(present) < count // 2:
        row = con.execute(
            "SELECT invoice_code, invoice_number FROM invoices WHERE id = ?",
            (rng.randint(1, max_id),),
        ).fetchone()
        if row:
            present.append(row)
    keys = [(code, number, True) for code, number in present]
    for code, number in rng.choices(present, k=count - len(present)):
        keys.append((code, missing_number(con, code, number, rng), False))
    con.close()
    rng.shuffle(keys)
    return keys


def missing_number(con: sqlite3.Connection, code: str, number: str, rng: random.Random) -> str:
    """A number of the same shape as ``number`` that the registry does not hold."""
    while True:
        # The last six digits are the serial part of both 8- and 20-digit numbers.
        candidate = number[:-6] + f"{rng.randrange(10**6):06d}"
        if len(candidate) == 20:
            query, args = "SELECT 1 FROM invoices WHERE invoice_number = ?", (candidate,)
        else:
            query = "SELECT 1 FROM invoices WHERE invoice_code = ? AND invoice_number = ?"
            args = (code, candidate)
        if con.execute(query, args).fetchone() is None:
            return candidate


def warm_page_cache(path: Path) -> None:
    """Read the file once: a serving registry lives in the OS page cache, a cold one does not."""
    with open(path, "rb") as stream:
        while stream.read(1 << 22):
            pass


def time_lookups(db_path: Path, count: int, seed: int, budget: float) -> dict:
    from yanpiao.db import make_engine, make_session_factory
    from yanpiao.registry import find_invoice_row

    keys = lookup_keys(db_path, count, random.Random(seed))
    warm_page_cache(db_path)
    engine = make_engine(f"sqlite:///{db_path}")
    factory = make_session_factory(engine)

    def run(batch, budget):
        found, missed, wrong = [], [], 0
        deadline = time.monotonic() + budget
        for code, number, present in batch:
            if time.monotonic() > deadline:
                break  # a slow registry must not hold the whole run hostage
            session = factory()
            started = time.perf_counter_ns()
            invoice = find_invoice_row(session, code, number)
            (found if present else missed).append(time.perf_counter_ns() - started)
            session.close()
            wrong += (invoice is not None) != present
        return found, missed, wrong

    run(keys[: min(1000, len(keys))], budget / 10)  # warm-up: pool connections, statement caches
    found, missed, wrong = run(keys, budget)
    times = found + missed
    keys = keys[: len(times)]
    engine.dispose()

    # The bare index probe, same keys, to tell the database's share from the ORM's.
    con = sqlite3.connect(db_path)
    probes = []
    for code, number, _present in keys:
        if len(number) == 20:
            query, args = "SELECT id FROM invoices WHERE invoice_number = ? LIMIT 1", (number,)
        else:
            query = ("SELECT id FROM invoices WHERE invoice_number = ? AND invoice_code = ? "
                     "LIMIT 1")
            args = (number, code)
        started = time.perf_counter_ns()
        con.execute(query, args).fetchone()
        probes.append(time.perf_counter_ns() - started)
    plan = con.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM invoices WHERE invoice_number = ? AND invoice_code = ?",
        ("1", "1"),
    ).fetchall()
    invoices = con.execute("SELECT count(*) FROM invoices").fetchone()[0]
    con.close()
    return {
        "invoices": invoices,
        "lookups": len(times),
        "wrong": wrong,
        "median_us": percentile(times, 0.5) / 1000,
        "p99_us": percentile(times, 0.99) / 1000,
        "found_median_us": percentile(found, 0.5) / 1000,
        "missing_median_us": percentile(missed, 0.5) / 1000,
        "probe_median_us": percentile(probes, 0.5) / 1000,
        "plan": "; ".join(row[-1] for row in plan),
        "size_mb": db_path.stat().st_size / 2**20,
    }


def percentile(values, fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- request bodies ---------------------------------------------------------------------------


def yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def request_bodies(db_path: Path, count: int, seed: int) -> list[tuple[dict, str]]:
    """(fields, expected outcome) in the 60/15/15/10 mix, drawn from the stored invoices."""
    from yanpiao.types import ExtraField, InvoiceType

    rng = random.Random(seed)
    con = sqlite3.connect(db_path)
    rows = con.execute(
        "SELECT type_code, invoice_code, invoice_number, issue_date, amount, total, check_code "
        "FROM invoices"
    ).fetchall()
    bodies = []
    for index in range(count):
        outcome = MIX[index % len(MIX)]
        type_code, code, number, issue_date, amount, total, check_code = rng.choice(rows)
        extra = InvoiceType(type_code).extra_field
        fields = {"invoice_code": code, "invoice_number": number, "issue_date": issue_date}
        expected_cents = amount if extra is ExtraField.PRETAX_AMOUNT else total
        if extra is ExtraField.CHECK_CODE:
            fields["check_code"] = check_code[-6:]
        else:
            fields["amount"] = yuan(expected_cents)
        if outcome == "mismatch":
            if "check_code" in fields:
                fields["check_code"] = f"{(int(fields['check_code']) + 1) % 10**6:06d}"
            else:
                fields["amount"] = yuan(expected_cents + 100)
        elif outcome == "not_found":
            fields["invoice_number"] = missing_number(con, code, number, rng)
        elif outcome == "invalid":
            broken = index % 3
            if broken == 0:
                fields["invoice_number"] = number[:7]  # neither 8 nor 20 digits
            elif broken == 1:
                fields["issue_date"] = "2024-02-30"
            else:
                fields.pop("check_code", None)
                fields.pop("amount", None)
        bodies.append((fields, outcome))
    con.close()
    rng.shuffle(bodies)
    return bodies


# --- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A gunicorn master started with the app's gunicorn.conf.py, stopped by its own pid."""

    def __init__(self, name: str, app_spec: str, env: dict, log_dir: Path, *extra: str):
        self.name = name
        self.port = free_port()
        self.log_path = log_dir / f"gunicorn-{name}.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py",
                "-b", f"127.0.0.1:{self.port}", "--access-logfile", "/dev/null",
                *extra, app_spec,
            ],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} server not ready in {timeout} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and its workers so far."""
        pids = [self.proc.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.append(int(stat.parent.name))
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 30) -> str:
        if not self.log.closed:
            self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(values[:8])
    idle = values[3] + values[4]
    return total - idle, total


# --- load -------------------------------------------------------------------------------------

CSRF_INPUT = re.compile(
    r'name="csrf_token"[^>]*?value="([^"]+)"|value="([^"]+)"[^>]*?name="csrf_token"'
)
SESSION_COOKIE = re.compile(r"(?:^|,\s*)session=([^;]*)")


def prepare(kind: str, bodies: list[tuple[dict, str]], csrf_token: str = "") -> list:
    """Bodies encoded once, before the clock starts: (bytes, expected outcome)."""
    if kind == "htmx":
        return [(urlencode({**fields, "csrf_token": csrf_token}).encode(), outcome)
                for fields, outcome in bodies]
    return [(json.dumps(fields).encode(), outcome) for fields, outcome in bodies]


def client(kind, port, bodies, offset, accept_encoding, clock, results):
    """One keep-alive connection sending requests back to back until the end of the run."""
    start_at, measure_from, stop_at = clock
    latencies: list[float] = []
    statuses: Counter = Counter()
    wrong: Counter = Counter()
    errors = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept-Encoding": accept_encoding}
    if kind == "api":
        path, headers["Content-Type"] = "/api/v1/verify", "application/json"
    elif kind == "bare":
        path, headers["Content-Type"] = "/verify", "application/json"
    else:
        path = "/verify"
        headers.update({"Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true",
                        "HX-Current-URL": f"http://127.0.0.1:{port}/verify"})
        conn.request("GET", "/verify", headers={"Accept-Encoding": "identity"})
        page = conn.getresponse()
        html = page.read().decode()
        match = CSRF_INPUT.search(html)
        cookie = SESSION_COOKIE.search(page.getheader("Set-Cookie") or "")
        if not match or not cookie:
            results.append(([], Counter(), Counter({"no CSRF token on GET /verify": 1}), 1))
            return
        token = match.group(1) or match.group(2)
        headers["X-CSRFToken"] = token
        headers["Cookie"] = f"session={cookie.group(1)}"
        bodies = prepare("htmx", bodies, token)
    if kind != "htmx":
        bodies = prepare(kind, bodies)

    delay = start_at - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    index = offset
    while True:
        body, expected = bodies[index % len(bodies)]
        index += 1
        started = time.monotonic()
        if started >= stop_at:
            break
        try:
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        finished = time.monotonic()
        status = response.status
        if kind == "htmx":
            set_cookie = SESSION_COOKIE.search(response.getheader("Set-Cookie") or "")
            if set_cookie:  # the first verification adds the history key to the session
                headers["Cookie"] = f"session={set_cookie.group(1)}"
        if started < measure_from or finished > stop_at:
            continue
        latencies.append(finished - started)
        statuses[status] += 1
        problem = check(kind, expected, status, response, data)
        if problem:
            wrong[problem] += 1
    conn.close()
    results.append((latencies, statuses, wrong, errors))


def check(kind, expected, status, response, data) -> str | None:
    """Why this response is not the one the body must get, or None when it is."""
    if kind == "bare":
        return None if status == 200 else f"bare: HTTP {status}"
    if kind == "htmx":
        # A fragment is always 200; a verification that ran pushes its receipt URL.
        pushed = response.getheader("HX-Push-Url") is not None
        if status != 200 or pushed == (expected == "invalid"):
            return f"htmx {expected}: HTTP {status}, HX-Push-Url {'set' if pushed else 'missing'}"
        return None
    want = 422 if expected == "invalid" else 200
    if status != want:
        return f"api {expected}: HTTP {status}"
    if response.getheader("Content-Encoding"):
        return None  # compressed on request; the status already tells the outcome class
    outcome = json.loads(data).get("outcome")
    return None if outcome == expected else f"api {expected}: outcome {outcome}"


def load_process(kind, port, bodies, first_client, clients, accept_encoding, clock, queue):
    results: list = []
    threads = [
        threading.Thread(
            target=client,
            args=(kind, port, bodies, (first_client + n) * 97, accept_encoding, clock, results),
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    _start_at, measure_from, stop_at = clock
    time.sleep(max(0.0, measure_from - time.monotonic()))
    cpu_from = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(max(0.0, stop_at - time.monotonic()))
    cpu_to = resource.getrusage(resource.RUSAGE_SELF)
    for thread in threads:
        thread.join()
    cpu = (cpu_to.ru_utime + cpu_to.ru_stime) - (cpu_from.ru_utime + cpu_from.ru_stime)
    queue.put((results, cpu))


def drive(server: Server, kind: str, bodies, args) -> dict:
    """Run ``args.clients`` clients in ``args.procs`` processes; aggregate what they measured."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start_at = time.monotonic() + 1.5  # time for every client to connect (and fetch its token)
    measure_from = start_at + args.warmup
    stop_at = measure_from + args.duration
    clock = (start_at, measure_from, stop_at)
    encoding = args.browser_encoding if kind == "htmx" else args.api_encoding
    processes = []
    first = 0
    for n in range(args.procs):
        share = args.clients // args.procs + (n < args.clients % args.procs)
        processes.append(context.Process(
            target=load_process,
            args=(kind, server.port, bodies, first, share, encoding, clock, queue),
        ))
        first += share
    for process in processes:
        process.start()
    time.sleep(max(0.0, measure_from - time.monotonic()))
    server_cpu, busy = server.cpu_seconds(), machine_busy()
    time.sleep(max(0.0, stop_at - time.monotonic()))
    server_cpu, busy_to = server.cpu_seconds() - server_cpu, machine_busy()
    collected = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join()

    latencies: list[float] = []
    statuses: Counter = Counter()
    wrong: Counter = Counter()
    errors, client_cpu = 0, 0.0
    for results, cpu in collected:
        client_cpu += cpu
        for lat, stat, bad, err in results:
            latencies.extend(lat)
            statuses.update(stat)
            wrong.update(bad)
            errors += err
    done = max(1, len(latencies))
    return {
        "requests": len(latencies),
        "rps": len(latencies) / args.duration,
        "p50_ms": percentile(latencies, 0.5) * 1000 if latencies else float("nan"),
        "p99_ms": percentile(latencies, 0.99) * 1000 if latencies else float("nan"),
        "server_cpu_ms": server_cpu * 1000 / done,
        "client_cpu_ms": client_cpu * 1000 / done,
        "machine_busy": (busy_to[0] - busy[0]) / max(1, busy_to[1] - busy[1]),
        "statuses": dict(sorted(statuses.items())),
        "wrong": dict(wrong.most_common(5)),
        "wrong_total": sum(wrong.values()),
        "errors": errors,
    }


# --- report -----------------------------------------------------------------------------------


def report(settings, http_results, lookups, timings, args) -> bool:
    api, htmx, bare = http_results["api"], http_results["htmx"], http_results["bare"]
    small, large = lookups["small"], lookups["large"]
    print()
    print(f"gunicorn: {settings['workers']} workers x {settings['threads']} threads "
          f"({settings['worker_class']}), {os.cpu_count()} cores shared with "
          f"{args.clients} clients in {args.procs} processes; "
          f"{args.duration:g} s after {args.warmup:g} s warm-up")
    print()
    print("| scenario | req/s | p50 ms | p99 ms | vs bare | server CPU ms/req "
          "| client CPU ms/req | CPU busy | statuses | wrong/errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for label, row in (
        ("POST /api/v1/verify (mixed)", api),
        ("POST /verify htmx fragment", htmx),
        ("bare Flask endpoint", bare),
    ):
        ratio = row["rps"] / bare["rps"] if bare["rps"] else float("nan")
        statuses = " ".join(f"{code}:{n}" for code, n in row["statuses"].items())
        print(f"| {label} | {row['rps']:.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} "
              f"| {ratio:.2f} | {row['server_cpu_ms']:.2f} | {row['client_cpu_ms']:.2f} "
              f"| {row['machine_busy']:.0%} | {statuses} | {row['wrong_total']}/{row['errors']} |")
    print()
    print("| registry | size MB | lookups | find_invoice_row median µs | p99 µs "
          "| median found / missing µs | bare index probe median µs |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in (small, large):
        print(f"| {row['invoices']:,} invoices | {row['size_mb']:.0f} | {row['lookups']:,} "
              f"| {row['median_us']:.0f} | {row['p99_us']:.0f} "
              f"| {row['found_median_us']:.0f} / {row['missing_median_us']:.0f} "
              f"| {row['probe_median_us']:.1f} |")
    print(f"\nquery plan (code+number): {large['plan']}")
    print("setup: " + "; ".join(f"{name} {value}" for name, value in timings.items()))

    scale = large["median_us"] / small["median_us"]
    scale_p99 = large["p99_us"] / small["p99_us"]
    targets = [
        ("API throughput ≥ 0.4 × bare", f"{api['rps'] / bare['rps']:.2f} × bare",
         api["rps"] >= TARGET_RATIO * bare["rps"]),
        ("htmx throughput ≥ 0.4 × bare", f"{htmx['rps'] / bare['rps']:.2f} × bare",
         htmx["rps"] >= TARGET_RATIO * bare["rps"]),
        (f"API p99 ≤ {TARGET_P99_MS:g} ms at {args.clients} clients", f"{api['p99_ms']:.1f} ms",
         api["p99_ms"] <= TARGET_P99_MS),
        (f"htmx p99 ≤ {TARGET_P99_MS:g} ms at {args.clients} clients",
         f"{htmx['p99_ms']:.1f} ms", htmx["p99_ms"] <= TARGET_P99_MS),
        (f"1M lookup ≤ {TARGET_SCALE:g} × 10k (median)",
         f"{scale:.2f} × (p99 {scale_p99:.2f} ×)", scale <= TARGET_SCALE),
        ("every response as expected",
         f"{sum(r['wrong_total'] + r['errors'] for r in http_results.values())} wrong"
         f" + {small['wrong'] + large['wrong']} wrong lookups",
         all(r["wrong_total"] == 0 and r["errors"] == 0 for r in http_results.values())
         and small["wrong"] == 0 and large["wrong"] == 0),
    ]
    print()
    print("| target | measured | result |")
    print("|---|---|---|")
    for name, measured, ok in targets:
        print(f"| {name} | {measured} | {'pass' if ok else 'FAIL'} |")
    for kind, row in http_results.items():
        if row["wrong"]:
            print(f"{kind} wrong answers: {row['wrong']}")
    return all(ok for _name, _measured, ok in targets)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per scenario, 5k lookups")
    parser.add_argument("--duration", type=float, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=float, help="seconds of load before measuring")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--procs", type=int, default=2, help="load generator processes")
    parser.add_argument("--lookups", type=int, help="registry lookups per registry")
    parser.add_argument("--lookup-budget", type=float, help="seconds at most per registry")
    parser.add_argument("--small", type=int, default=10_000, help="invoices served and looked up")
    parser.add_argument("--large", type=int, default=1_000_000, help="invoices of the big registry")
    parser.add_argument("--api-encoding", default="identity",
                        help="Accept-Encoding of API and bare clients (curl sends none)")
    parser.add_argument("--browser-encoding", default="gzip, deflate, br",
                        help="Accept-Encoding of htmx clients (what browsers send)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    args.lookups = args.lookups or (5_000 if args.quick else 20_000)
    args.lookup_budget = args.lookup_budget or (10.0 if args.quick else 30.0)

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    workdir = Path(tempfile.mkdtemp(prefix="yanpiao-bench-"))
    small_db = workdir / "bench.db"
    timings: dict[str, str] = {}
    servers: list[Server] = []
    try:
        started = time.monotonic()
        flask_cli(small_db, "db", "upgrade")
        flask_cli(small_db, "registry", "seed", "--count", str(args.small))
        timings[f"{args.small:,} via CLI seed"] = f"{time.monotonic() - started:.0f} s"
        print(f"seeded {args.small:,} invoices in {small_db} "
              f"({timings[f'{args.small:,} via CLI seed']})", flush=True)

        print(f"registry of {args.large:,} invoices ...", flush=True)
        large_db, how = large_registry(args.large)
        timings[f"{args.large:,} registry"] = how
        print(f"  {large_db}: {how}", flush=True)

        print("timing registry lookups ...", flush=True)
        lookups = {
            "small": time_lookups(small_db, args.lookups, 1, args.lookup_budget),
            "large": time_lookups(large_db, args.lookups, 1, args.lookup_budget),
        }

        bodies = request_bodies(small_db, 2000, seed=7)
        env = bench_env(small_db)
        app_server = Server("app", "app:create_app()", env, workdir)
        servers.append(app_server)
        bare_server = Server("bare", "bare_app:app", env, workdir, "--pythonpath", str(BENCH))
        servers.append(bare_server)
        app_server.wait_ready()
        bare_server.wait_ready()

        busy, total = machine_busy()
        time.sleep(1.0)
        busy_to, total_to = machine_busy()
        background = (busy_to - busy) / max(1, total_to - total)
        timings["background CPU before load"] = f"{background:.0%}"
        if background > 0.1:
            print(f"warning: the machine is {background:.0%} busy with other work before the "
                  "load starts; every figure below is affected", flush=True)

        http_results = {}
        for kind, server in (("api", app_server), ("htmx", app_server), ("bare", bare_server)):
            print(f"load: {kind} ...", flush=True)
            http_results[kind] = drive(server, kind, bodies, args)
            row = http_results[kind]
            print(f"  {row['rps']:.0f} req/s, p50 {row['p50_ms']:.1f} ms, "
                  f"p99 {row['p99_ms']:.1f} ms", flush=True)
        for server in servers:
            server.stop()
        for server in servers:
            if b"Traceback" in server.log_path.read_bytes():
                print(f"\n{server.name} server log has tracebacks:\n{server.log_tail()}")

        ok = report(settings, http_results, lookups, timings, args)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({
                "http": http_results, "lookups": lookups, "timings": timings,
                "gunicorn": {k: settings[k] for k in ("workers", "threads", "worker_class")},
                "args": {k: str(v) for k, v in vars(args).items()},
            }, indent=2))
        return 0 if ok else 1
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
