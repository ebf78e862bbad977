"""Soak: many concurrent visitors for minutes, zero errors, workers that do not grow.

    .venv/bin/python bench/soak.py                  # 5 minutes, 100 clients, SQLite
    .venv/bin/python bench/soak.py --minutes 1 --clients 20
    .venv/bin/python bench/soak.py --database-url postgresql+psycopg://…  # a migrated, empty DB

Serves the app with gunicorn (gunicorn.conf.py, 2 workers × 1 thread unless --workers) on a
throwaway SQLite file seeded with demo invoices, and sends the mixed traffic of bench/load.py:
pages, htmx fragments, verifications by form, scanner and API, photo decoding, feedback
reports. After a warm-up (pools, caches, first imports) it notes each worker's resident memory,
and again at the end. Exits 1 when any request failed (5xx, unexpected status, connection
error) or a worker's RSS grew by more than 10 % after the warm-up.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from load import (Recorder, Server, demo_invoices, prepare_database, print_table, qr_png,
                  run_visitors, server_env, summarize)

TARGET_GROWTH = 0.10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=30, help="seconds before measuring")
    parser.add_argument("--database-url", help="default: a new SQLite file")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="yanpiao-soak-"))
    url = args.database_url or f"sqlite:///{folder / 'soak.db'}"
    env = server_env(url)
    prepare_database(env)
    invoices = demo_invoices(url)
    png = qr_png("01,04,011001900104,12345678,1000.00,20241025,48114255542168294433,DBFE,")
    server = Server(env, folder / "gunicorn.log", workers=args.workers)
    print(f"soak: {args.clients} clients for {args.minutes:g} min against gunicorn "
          f"({args.workers} workers) on {url.split('///')[0]}…")
    try:
        warm = Recorder()
        run_visitors(server.port, invoices, png, args.clients, args.warmup, warm)
        before = {pid: Server.rss_kib(pid) for pid in server.workers()}
        recorder = Recorder()
        started = time.monotonic()
        run_visitors(server.port, invoices, png, args.clients, args.minutes * 60, recorder)
        seconds = time.monotonic() - started
        after = {pid: Server.rss_kib(pid) for pid in server.workers()}
    finally:
        server.stop()

    summary = summarize(recorder.results)
    print_table(summary, seconds)
    failed = sum(row["failed"] for row in summary["rows"].values())
    warm_failed = sum(row["failed"] for row in summarize(warm.results)["rows"].values())
    print(f"warm-up ({args.warmup:g} s): {len(warm.results):,} requests, {warm_failed} failed")
    growths = []
    print("| worker | RSS after warm-up | RSS at end | growth |")
    print("|---|---:|---:|---:|")
    for pid, start in before.items():
        end = after.get(pid)
        if end is None:
            print(f"| {pid} | {start / 1024:.1f} MiB | (restarted) | |")
            growths.append(float("inf"))
            continue
        growth = (end - start) / start
        growths.append(growth)
        print(f"| {pid} | {start / 1024:.1f} MiB | {end / 1024:.1f} MiB | {growth:+.1%} |")
    ok = failed == 0 and warm_failed == 0 and growths and max(growths) <= TARGET_GROWTH
    print(f"target: 0 failed requests, RSS growth ≤ {TARGET_GROWTH:.0%} → "
          f"{'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
