"""Queued mail leaves from a thread of each server process, never within a request.

A commit that queued mail (``yanpiao.mail.queue_mail``) wakes this process's sender; it also
wakes by itself for retries and for mail another process queued. gunicorn's
``post_worker_init`` (gunicorn.conf.py) wakes it in each new worker, so mail left queued when
a server stopped goes out after the restart. ``flask --app app mail send`` does one round
without a server.
"""

from __future__ import annotations

import logging
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import event, func, select

from yanpiao.db import make_session_factory, utcnow
from yanpiao.mail import QUEUED_MAIL, MailState, OutgoingMail, deliver_due, next_due

from .context import mail_settings

log = logging.getLogger("yanpiao.mail")


class MailSender:
    IDLE_CHECK = 300.0  # seconds: look at the outbox at least this often
    AFTER_ERROR = 30.0  # seconds: wait after the database itself failed

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wake = threading.Event()
        self._start_lock = threading.Lock()
        self._progress = threading.Condition()
        self._asked = 0  # wake-ups asked for
        self._served = 0  # wake-ups a finished round has answered
        self._thread: threading.Thread | None = None
        self._stopping = False

    def kick(self) -> None:
        """Send what is due now (and start the sender in this process if need be)."""
        with self._progress:
            self._asked += 1
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="mail-sender",
                                                daemon=True)
                self._thread.start()
        self._wake.set()

    def wait_idle(self, timeout: float = 30) -> bool:
        """Until every wake-up asked for so far has had its round (tests, scripts)."""
        with self._progress:
            target = self._asked
            return self._progress.wait_for(lambda: self._served >= target, timeout)

    def stop(self, timeout: float = 30) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        factory = make_session_factory(self.app.extensions["database"].engine)
        while not self._stopping:
            self._wake.clear()
            with self._progress:
                answering = self._asked
            pause = self.IDLE_CHECK
            try:
                with self.app.app_context():
                    due = deliver_due(factory, mail_settings())
                if due is not None:
                    pause = min(pause, max(0.0, (due - utcnow()).total_seconds()))
            except Exception:  # the database is down or broken: keep the thread, try later
                log.exception("The outbox could not be read or updated")
                pause = self.AFTER_ERROR
            with self._progress:
                self._served = max(self._served, answering)
                self._progress.notify_all()
            self._wake.wait(pause)


def init_app(app: Flask) -> None:
    sender = app.extensions["mail_sender"] = MailSender(app)

    @event.listens_for(app.extensions["database"].factory, "after_commit")
    def _queued_mail_committed(session) -> None:
        if session.info.pop(QUEUED_MAIL, False):
            sender.kick()

    @event.listens_for(app.extensions["database"].factory, "after_rollback")
    def _queued_mail_rolled_back(session) -> None:
        session.info.pop(QUEUED_MAIL, None)

    app.cli.add_command(mail_cli)


mail_cli = AppGroup("mail", help="The outbox of mail to reporters and account holders.")


@mail_cli.command("send")
@with_appcontext
def send_command() -> None:
    """Send every queued mail that is due now, then print what is still waiting."""
    factory = current_app.extensions["database"].factory
    deliver_due(factory, mail_settings())
    _print_counts(factory)


@mail_cli.command("status")
@with_appcontext
def status_command() -> None:
    """How many mails are waiting, sent, logged, given up or expired."""
    _print_counts(current_app.extensions["database"].factory)


def _print_counts(factory) -> None:
    with factory() as session:
        counts = dict(session.execute(
            select(OutgoingMail.state, func.count()).group_by(OutgoingMail.state)
        ).all())
        due = next_due(session)
    for state in MailState:
        click.echo(f"{state.value}: {counts.get(state.value, 0)}")
    if due is not None:
        click.echo(f"next try: {due.isoformat(timespec='seconds')}")
