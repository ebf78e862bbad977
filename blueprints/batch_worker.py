"""Batch jobs run in a thread of the process that took the upload, outside any request.

The job's state lives in the database, so the thread only has to do the work: any process can
show progress, and one that finds a job nobody works on any more (its process died) starts a
new runner, which takes over where the last committed chunk ended.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app

from yanpiao.batch import BatchJob, needs_runner, run_job
from yanpiao.db import make_session_factory

from .context import verification_settings


def start_job(job_id: str, app: Flask | None = None) -> threading.Thread | None:
    app = app or current_app._get_current_object()
    if not app.config.get("YANPIAO_BATCH_AUTOSTART", True):
        return None
    settings = verification_settings()
    factory = make_session_factory(app.extensions["database"].engine)

    def work():
        with app.app_context():
            run_job(factory, job_id, settings=settings)

    thread = threading.Thread(target=work, name=f"batch-{job_id}", daemon=True)
    app.extensions.setdefault("batch_threads", {})[job_id] = thread
    thread.start()
    return thread


def keep_running(job: BatchJob) -> None:
    """Start a runner for a job whose runner has stopped (process restarted or died)."""
    if needs_runner(job):
        start_job(job.id)


def wait_for_jobs(app: Flask, timeout: float = 60) -> None:
    """Tests and scripts: wait until every job started by this process has finished."""
    for thread in list(app.extensions.get("batch_threads", {}).values()):
        thread.join(timeout)
