"""Chaos under load: crashing workers, a database that goes away and comes back.

    .venv/bin/python bench/chaos.py workers              # SIGKILL a worker every 30 s, 3 min
    .venv/bin/python bench/chaos.py postgres             # stop PostgreSQL for 15 s under load
    .venv/bin/python bench/chaos.py workers --minutes 1 --clients 50

``workers``: gunicorn on a SQLite file, 100 visitors of bench/load.py; every 30 s one worker
is killed with SIGKILL (a crash, not a graceful stop) and gunicorn starts another. Target:
fewer than 0.1 % failed requests. Visitors behave like browsers: a request on a kept-alive
connection that the dead worker had closed is sent again once; a request the dying worker had
already taken counts as failed.

``postgres``: a private PostgreSQL server (initdb in a temporary directory, a free loopback
port; Debian's postgresql package), the app on it, the same load; after 30 s the server is
stopped (fast shutdown: connections cut) for 15 s, then started again. Targets: 503 answers
only while it is down (and for at most 5 s after it is back: the recovery time), no other
failure, and no lost write: every verification the app acknowledged with a receipt id, and
every feedback report it acknowledged, is in the database afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from load import (Recorder, Server, demo_invoices, prepare_database, print_table, qr_png,
                  run_visitors, server_env, summarize, free_port)

PNG_PAYLOAD = "01,04,011001900104,12345678,1000.00,20241025,48114255542168294433,DBFE,"
WRITES = ("verify", "api_verify", "feedback", "scan")


def workers(args) -> int:
    folder = Path(tempfile.mkdtemp(prefix="yanpiao-chaos-"))
    url = f"sqlite:///{folder / 'chaos.db'}"
    env = server_env(url)
    prepare_database(env)
    invoices, png = demo_invoices(url), qr_png(PNG_PAYLOAD)
    server = Server(env, folder / "gunicorn.log", workers=args.workers)
    recorder, stop = Recorder(), threading.Event()
    kills = []

    def killer() -> None:
        rng = random.Random(7)
        while not stop.wait(args.interval):
            pids = server.workers()
            if pids:
                victim = rng.choice(pids)
                os.kill(victim, signal.SIGKILL)
                kills.append(time.monotonic() - recorder.started)

    seconds = args.minutes * 60
    print(f"chaos/workers: {args.clients} clients for {args.minutes:g} min, SIGKILL of one of "
          f"{args.workers} workers every {args.interval:g} s…")
    thread = threading.Thread(target=killer, daemon=True)
    try:
        thread.start()
        run_visitors(server.port, invoices, png, args.clients, seconds, recorder)
    finally:
        stop.set()
        server.stop()
    summary = summarize(recorder.results)
    print_table(summary, seconds)
    total = len(recorder.results)
    failed = sum(row["failed"] for row in summary["rows"].values())
    share = failed / total if total else 1
    print(f"workers killed: {len(kills)} (at {', '.join(f'{t:.0f} s' for t in kills)})")
    ok = share < 0.001 and len(kills) >= 1
    print(f"failed: {failed} of {total:,} = {share:.3%}; target < 0.1 % → "
          f"{'met' if ok else 'MISSED'}")
    return 0 if ok else 1


# --- PostgreSQL ---------------------------------------------------------------------------------


class Postgres:
    """A throwaway cluster; as root it runs as the postgres user, which Debian creates."""

    def __init__(self, folder: Path) -> None:
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not versions:
            raise SystemExit("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        self.bin = versions[-1].parent
        self.folder = folder
        self.port = free_port()
        self.data = folder / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        folder.mkdir(parents=True)
        for path in (folder.parent, folder):
            path.chmod(0o755)  # the postgres user must reach its data directory
        if self.as_user:
            shutil.chown(folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        self.start()
        subprocess.run([str(self.bin / "psql"), "-q", "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "postgres", "-c", "CREATE DATABASE yanpiao"], check=True)
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/yanpiao"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / program), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w",
                  "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


def stored(url: str, receipts: set[str]) -> tuple[set[str], int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        found = set(connection.execute(text("SELECT id FROM verification_records")).scalars())
        tickets = connection.execute(text("SELECT count(*) FROM feedback_tickets")).scalar()
    engine.dispose()
    return found & receipts, tickets


def postgres(args) -> int:
    folder = Path(tempfile.mkdtemp(prefix="yanpiao-chaos-pg-"))
    database = Postgres(folder / "pg")
    server = None
    try:
        env = server_env(database.url)
        prepare_database(env)
        invoices, png = demo_invoices(database.url), qr_png(PNG_PAYLOAD)
        server = Server(env, folder / "gunicorn.log", workers=args.workers)
        recorder, marks = Recorder(), {}
        seconds = args.before + args.down + args.after

        def outage() -> None:
            time.sleep(args.before)
            marks["down"] = time.monotonic() - recorder.started
            database.stop()
            time.sleep(args.down)
            database.start()  # returns once the server accepts connections
            marks["up"] = time.monotonic() - recorder.started

        print(f"chaos/postgres: {args.clients} clients; PostgreSQL stopped after "
              f"{args.before:g} s for {args.down:g} s, then {args.after:g} s more…")
        thread = threading.Thread(target=outage, daemon=True)
        thread.start()
        run_visitors(server.port, invoices, png, args.clients, seconds, recorder)
        thread.join()
        results = recorder.results
        summary = summarize(results)
        print_table(summary, seconds)
        down, up = marks["down"], marks["up"]
        finished = [(r, r.at + r.seconds) for r in results]
        unavailable = [(r, end) for r, end in finished if r.status == 503]
        # A 503 is right when the request overlapped the outage or the recovery that follows.
        early = [r for r, end in unavailable if end < down]
        late = [r for r, _end in unavailable if r.at > up + args.recovery]
        other = [r for r, _end in finished if r.status != 503 and (r.status <= 0
                                                                   or r.status >= 500)]
        after_up = [r.at - up for r, _end in unavailable if r.at >= up]
        recovery = max(after_up, default=0.0)
        first_write = min((end - up for r, end in finished if r.at >= up
                           and r.action in WRITES and r.status in (200, 303)), default=None)
        acked = {r.receipt for r in results if r.receipt}
        acked_reports = sum(1 for r in results if r.action == "feedback" and r.status == 303)
        found, tickets = stored(database.url, acked)
        lost = len(acked) - len(found) + max(0, acked_reports - tickets)
        print(f"outage: {down:.1f} s → {up:.1f} s; 503 answers: {len(unavailable)}, before it: "
              f"{len(early)}, more than {args.recovery:g} s after: {len(late)}; other failures: "
              f"{len(other)}")
        print(f"recovery: last 503 began {recovery:.1f} s after the database was back; first "
              f"acknowledged write {first_write if first_write is None else round(first_write, 2)}"
              " s after")
        print(f"acknowledged writes: {len(acked):,} verifications, {acked_reports:,} reports; "
              f"lost: {lost}")
        ok = (not early and not late and not other and lost == 0 and len(unavailable) > 0
              and first_write is not None and first_write <= args.recovery)
        if other:
            log = (folder / "gunicorn.log").read_text(errors="replace")
            at = max(log.find("unhandled error"), log.find("Error handling request"),
                     log.find("Exception on"))
            print("server log:", log[at:at + 6000] if at >= 0 else log[-3000:])
        print(f"targets: 503 only while down, recovery ≤ {args.recovery:g} s, no lost write → "
              f"{'met' if ok else 'MISSED'}")
        return 0 if ok else 1
    finally:
        if server is not None:
            server.stop()
        try:
            database.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=["workers", "postgres"])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=3, help="workers: how long")
    parser.add_argument("--interval", type=float, default=30, help="workers: seconds per kill")
    parser.add_argument("--before", type=float, default=30, help="postgres: load before")
    parser.add_argument("--down", type=float, default=15, help="postgres: outage seconds")
    parser.add_argument("--after", type=float, default=30, help="postgres: load after")
    parser.add_argument("--recovery", type=float, default=5, help="postgres: allowed seconds")
    args = parser.parse_args()
    return workers(args) if args.scenario == "workers" else postgres(args)


if __name__ == "__main__":
    raise SystemExit(main())
