"""Batch verification benchmark: from upload to finished results, against 1M invoices.

    .venv/bin/python bench/batch.py                  # 10,000 and 100,000 rows, CSV and XLSX
    .venv/bin/python bench/batch.py --rows 10000 --formats csv

What it does:

1. Takes the registry of 1,000,000 invoices that bench/verify.py caches under
   /tmp/yanpiao-bench/ (built by its builder when there is none), copies it per run so every run
   starts from the same registry, and upgrades the copy to the current migrations.
2. Writes a list of N rows drawn from stored invoices: 70 % right, 10 % a wrong amount or check
   code, 10 % not in the registry, 5 % malformed, 5 % repeats of earlier rows.
3. In a fresh process per run (so its peak memory is that run's): creates the app on the copy,
   signs a user in, POSTs the file to /batch like a browser, then polls the job until it is
   done (the worker thread runs in this process, as under gunicorn). Reports seconds from the
   upload to finished results, the rows per second, the worker process's peak RSS, and the time
   of the CSV download of all results.
4. Prints a markdown table with the targets (10,000 rows ≤ 2 s, 100,000 rows ≤ 15 s, peak RSS
   ≤ 300 MB) and exits 1 when one is missed or a row's outcome is not the one planned.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CACHE = Path("/tmp/yanpiao-bench")
TARGET_SECONDS = {10_000: 2.0, 100_000: 15.0}
TARGET_RSS_MB = 300
HEADER = ["发票代码", "发票号码", "开票日期", "金额", "校验码"]


def cached_registry(count: int) -> Path:
    """Any cached registry of ``count`` invoices (the data is the same for every schema head)."""
    from alembic.script import ScriptDirectory

    from blueprints.cli import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known = {revision.revision for revision in script.walk_revisions()}
    candidates = sorted(CACHE.glob(f"registry-{count}-*.db"), key=lambda p: p.stat().st_mtime)
    for path in reversed(candidates):
        if not path.with_suffix(".json").exists():
            continue
        with sqlite3.connect(path) as con:
            revisions = {row[0] for row in con.execute("SELECT version_num FROM alembic_version")}
        if revisions <= known:  # built from migrations this checkout has (others' branches vary)
            return path
    import verify as verify_bench  # bench/verify.py and its builder

    path, _how = verify_bench.large_registry(count)
    return path


def prepare_database(source: Path, workdir: Path) -> Path:
    target = workdir / "registry.db"
    for suffix in ("", "-wal", "-shm", "-journal"):  # a stale WAL would be replayed on the copy
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    from blueprints.cli import upgrade_database

    upgrade_database(f"sqlite:///{target}")
    return target


def yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def plan_rows(db_path: Path, count: int, seed: int) -> list[tuple[list[str], str]]:
    """(cells, planned outcome) for ``count`` rows of stored and made-up invoices."""
    from yanpiao.types import ExtraField, InvoiceType

    rng = random.Random(seed)
    con = sqlite3.connect(db_path)
    max_id = con.execute("SELECT max(id) FROM invoices").fetchone()[0]
    ids = rng.sample(range(1, max_id + 1), count)
    rows: list[tuple[list[str], str]] = []
    query = ("SELECT type_code, invoice_code, invoice_number, issue_date, amount, total, "
             "check_code, status FROM invoices WHERE id IN (%s)")
    stored = []
    for start in range(0, len(ids), 5000):
        part = ids[start:start + 5000]
        stored += con.execute(query % ",".join("?" * len(part)), part).fetchall()
    rng.shuffle(stored)
    from verify import missing_number  # bench/verify.py: a number of the same shape, not stored

    for index, (type_code, code, number, issued, amount, total, check, _status) in enumerate(stored):
        kind = index % 20
        if kind == 19 and rows:  # a repeat of an earlier row
            cells, outcome = rows[rng.randrange(len(rows))]
            rows.append((list(cells), outcome if outcome in ("not_found", "invalid") else "repeat"))
            continue
        extra = InvoiceType(type_code).extra_field
        value = yuan(amount if extra is ExtraField.PRETAX_AMOUNT else total)
        cells = [code, number, issued, "" if extra is ExtraField.CHECK_CODE else value,
                 check[-6:] if extra is ExtraField.CHECK_CODE else ""]
        outcome = "match"
        if kind in (0, 1):
            outcome = "mismatch"
            if extra is ExtraField.CHECK_CODE:
                cells[4] = f"{(int(cells[4]) + 1) % 10**6:06d}"
            else:
                cells[3] = yuan((amount if extra is ExtraField.PRETAX_AMOUNT else total) + 100)
        elif kind in (2, 3):
            outcome = "not_found"
            cells[1] = missing_number(con, code, number, rng)
        elif kind == 4:
            outcome = "invalid"
            cells[2] = "2024-02-30"
        rows.append((cells, outcome))
    con.close()
    return rows


def write_file(rows, fmt: str) -> bytes:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(cells for cells, _outcome in rows)
        return out.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for cells, _outcome in rows:
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_one(db_path: Path, file_path: Path, plan_path: Path, fmt: str) -> dict:
    """One upload in this process; the worker thread is this process's, as under gunicorn."""
    from sqlalchemy import select

    from app import create_app
    from blueprints.ext import db
    from yanpiao.accounts import create_user
    from yanpiao.batch import BatchJob, BatchRow

    app = create_app({"DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "bench",
                      "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False,
                      "YANPIAO_BATCH_MAX_UPLOAD_BYTES": 200 * 1024 * 1024})
    with app.app_context():
        user = create_user(db.session, "bench password", email="bench@example.com")
        db.session.commit()
        session_id = user.get_id()  # what flask-login keeps in the session
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    client.get("/batch")  # warm: templates, first connection
    data = file_path.read_bytes()
    planned = json.loads(plan_path.read_text())
    rss_before = current_rss_mb()

    load_before = os.getloadavg()[0]
    cpu_started = time.process_time()
    started = time.perf_counter()
    response = client.post("/batch", data={"file": (io.BytesIO(data), f"bench.{fmt}")},
                           content_type="multipart/form-data")
    accepted = time.perf_counter() - started
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    job_id = response.headers["Location"].rsplit("/", 1)[-1]
    with app.app_context():
        while True:
            state = db.session.scalar(select(BatchJob.state).where(BatchJob.id == job_id))
            db.session.rollback()
            if state in ("done", "failed"):
                break
            time.sleep(0.02)
    finished = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak_during_job = peak_rss_mb()  # before the results page and download add their own
    page = client.get(f"/batch/{job_id}")
    shown = time.perf_counter() - started
    assert page.status_code == 200

    download_started = time.perf_counter()
    download = client.get(f"/batch/{job_id}/results.csv")
    download_lines = download.get_data(as_text=True).count("\n")
    download_seconds = time.perf_counter() - download_started

    with app.app_context():
        outcomes = db.session.execute(
            select(BatchRow.row_number, BatchRow.outcome, BatchRow.duplicate_of)
            .where(BatchRow.job_id == job_id).order_by(BatchRow.row_number)
        ).all()
    wrong = 0
    for (number, outcome, duplicate_of), expected in zip(outcomes, planned, strict=True):
        if expected == "repeat":
            wrong += duplicate_of is None or outcome not in ("match", "mismatch", "limit_exceeded")
        elif outcome != expected:
            wrong += 1
    app.extensions["database"].engine.dispose()
    return {
        "format": fmt, "rows": len(planned), "state": state,
        "accepted_s": accepted, "finished_s": finished, "results_page_s": shown,
        "rows_per_s": len(planned) / finished, "download_csv_s": download_seconds,
        "download_lines": download_lines, "wrong": wrong,
        "outcomes": dict(Counter(outcome for _n, outcome, _d in outcomes)),
        "rss_before_mb": rss_before, "peak_rss_mb": peak_during_job,
        "peak_rss_after_download_mb": peak_rss_mb(), "cpu_s": cpu,
        "load": load_before,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--formats", nargs="*", default=["csv", "xlsx"])
    parser.add_argument("--registry", type=int, default=1_000_000, help="invoices in the registry")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--child", nargs=4, metavar=("DB", "FILE", "PLAN", "FORMAT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        db, file, plan, fmt = args.child
        print(json.dumps(run_one(Path(db), Path(file), Path(plan), fmt)))
        return 0

    source = cached_registry(args.registry)
    print(f"registry: {source}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="yanpiao-batch-bench-") as tmp:
        workdir = Path(tmp)
        for count in args.rows:
            for fmt in args.formats:
                started = time.perf_counter()
                db_path = prepare_database(source, workdir)
                rows = plan_rows(db_path, count, seed=count)
                file_path = workdir / f"rows.{fmt}"
                file_path.write_bytes(write_file(rows, fmt))
                plan_path = workdir / "plan.json"
                plan_path.write_text(json.dumps([outcome for _cells, outcome in rows]))
                print(f"{count:,} rows as {fmt} ({file_path.stat().st_size / 2**20:.1f} MB, "
                      f"set up in {time.perf_counter() - started:.0f} s) ...", flush=True)
                child = subprocess.run(
                    [sys.executable, __file__, "--child", str(db_path), str(file_path),
                     str(plan_path), fmt],
                    cwd=ROOT, capture_output=True, text=True, check=False,
                )
                if child.returncode != 0:
                    print(child.stdout, child.stderr, file=sys.stderr)
                    return 1
                result = json.loads(child.stdout.strip().splitlines()[-1])
                results.append(result)
                print(f"  finished in {result['finished_s']:.2f} s, peak RSS "
                      f"{result['peak_rss_mb']:.0f} MB", flush=True)
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    return 0 if report(results, args) else 1


def report(results: list[dict], args) -> bool:
    print()
    print(f"registry: {args.registry:,} invoices (SQLite); worker = a thread of the process "
          f"that took the upload; daily limit 5; {os.cpu_count()} cores. Process CPU is the "
          "figure that does not depend on what else runs on the machine (load avg).")
    print()
    print("| rows | format | upload answered s | upload → finished s | process CPU s | rows/s "
          "| results page s | CSV download s | RSS before MB | peak RSS MB (job) "
          "| peak RSS MB (after download) | load avg | outcomes | wrong |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    ok = True
    for r in results:
        outcomes = " ".join(f"{k}:{v}" for k, v in sorted(r["outcomes"].items()))
        print(f"| {r['rows']:,} | {r['format']} | {r['accepted_s']:.2f} | {r['finished_s']:.2f} "
              f"| {r['cpu_s']:.2f} | {r['rows_per_s']:,.0f} | {r['results_page_s']:.2f} "
              f"| {r['download_csv_s']:.2f} | {r['rss_before_mb']:.0f} | {r['peak_rss_mb']:.0f} "
              f"| {r['peak_rss_after_download_mb']:.0f} "
              f"| {r['load']:.1f} "
              f"| {outcomes} | {r['wrong']} |")
    print()
    print("| target | measured | result |")
    print("|---|---|---|")
    for r in results:
        target = TARGET_SECONDS.get(r["rows"])
        if target is not None and r["format"] == "csv":
            passed = r["finished_s"] <= target and r["state"] == "done"
            ok &= passed
            print(f"| {r['rows']:,} rows (CSV) ≤ {target:g} s | {r['finished_s']:.2f} s "
                  f"| {'pass' if passed else 'FAIL'} |")
        elif target is not None:
            within = r["finished_s"] <= target
            print(f"| {r['rows']:,} rows (XLSX) ≤ {target:g} s (reported) | {r['finished_s']:.2f} s "
                  f"| {'pass' if within else 'over'} |")
    peak = max(r["peak_rss_mb"] for r in results)
    ok &= peak <= TARGET_RSS_MB
    print(f"| worker peak RSS ≤ {TARGET_RSS_MB} MB | {peak:.0f} MB "
          f"| {'pass' if peak <= TARGET_RSS_MB else 'FAIL'} |")
    wrong = sum(r["wrong"] for r in results)
    ok &= wrong == 0
    print(f"| every row as planned | {wrong} wrong | {'pass' if wrong == 0 else 'FAIL'} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return ok


if __name__ == "__main__":
    sys.exit(main())
