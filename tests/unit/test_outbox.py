"""The outbox without the web: when mail is tried again, given up, dropped, never sent twice."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest

from yanpiao import mail
from yanpiao.db import make_session_factory, utcnow
from yanpiao.mail import MailSettings, OutgoingMail, deliver_due, queue_mail

from smtp_server import Mailbox


class Refusing(Mailbox):
    """A real SMTP server that answers a recipient or the message with an error code."""

    def __init__(self, rcpt: str = "250 OK", data: str = "250 Message accepted") -> None:
        super().__init__()
        self.rcpt, self.data = rcpt, data

    async def handle_RCPT(self, _server, _session, envelope, address, _options) -> str:
        if self.rcpt.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt

    async def handle_DATA(self, server, session, envelope) -> str:
        if not self.data.startswith("250"):
            return self.data
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def factory(app):
    return make_session_factory(app.extensions["database"].engine)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def settings_for(port: int) -> MailSettings:
    return MailSettings(host="127.0.0.1", port=port, security="none", timeout=5)


def queued(factory, **about) -> int:
    with factory() as session:
        outgoing = queue_mail(session, "me@example.com", "Subject", "Body with a private link",
                              **about)
        session.commit()
        return outgoing.id


def stored(factory, mail_id: int) -> OutgoingMail:
    with factory() as session:
        return session.get(OutgoingMail, mail_id)


def test_an_unreachable_server_is_tried_six_times_over_hours_then_given_up(factory):
    mail_id = queued(factory)
    start = stored(factory, mail_id).created_at
    settings = settings_for(closed_port())
    waits = []
    now = start
    while stored(factory, mail_id).state == "queued":
        next_due = deliver_due(factory, settings, now=now)
        outgoing = stored(factory, mail_id)
        if outgoing.state == "queued":
            assert next_due == outgoing.next_attempt_at
            waits.append(outgoing.next_attempt_at - now)
            now = outgoing.next_attempt_at
    assert waits == [timedelta(minutes=m) for m in (1, 5, 20, 60, 180)]
    outgoing = stored(factory, mail_id)
    assert (outgoing.state, outgoing.attempts, outgoing.problem) == ("gave-up", 6, "unreachable")
    assert outgoing.body == "" and outgoing.finished_at == now


def test_a_mail_is_not_tried_before_its_time(factory):
    mail_id = queued(factory)
    settings = settings_for(closed_port())
    now = stored(factory, mail_id).created_at
    deliver_due(factory, settings, now=now)
    deliver_due(factory, settings, now=now + timedelta(seconds=59))
    assert stored(factory, mail_id).attempts == 1


def test_a_refused_address_is_given_up_at_once(factory):
    server = Refusing(rcpt="550 5.1.1 No such user").start()
    try:
        mail_id = queued(factory)
        assert deliver_due(factory, settings_for(server.port)) is None
    finally:
        server.stop()
    outgoing = stored(factory, mail_id)
    assert (outgoing.state, outgoing.attempts, outgoing.problem) == ("gave-up", 1, "refused")
    assert server == []


def test_try_again_later_is_tried_again_later(factory):
    server = Refusing(data="451 4.3.0 Try again later").start()
    try:
        mail_id = queued(factory)
        deliver_due(factory, settings_for(server.port))
        outgoing = stored(factory, mail_id)
        assert (outgoing.state, outgoing.problem) == ("queued", "deferred")
        assert outgoing.body == "Body with a private link"  # kept for the next try
        server.data = "250 Message accepted"
        deliver_due(factory, settings_for(server.port), now=outgoing.next_attempt_at)
    finally:
        server.stop()
    outgoing = stored(factory, mail_id)
    assert (outgoing.state, outgoing.attempts, outgoing.problem) == ("sent", 2, "")
    assert [subject for _to, subject, _body in server.messages()] == ["Subject"]


def test_a_claimed_mail_is_sent_by_one_sender_only(factory):
    """Two server processes look at the outbox at the same moment: one takes the mail; the
    other only when the first one's claim has lapsed (it died while sending)."""
    mail_id = queued(factory)
    now = utcnow()
    with factory() as first, factory() as second:
        assert mail._claim(first, now).id == mail_id
        assert mail._claim(second, now) is None
        assert mail._claim(second, now + mail.CLAIM - timedelta(seconds=1)) is None
        assert mail._claim(second, now + mail.CLAIM + timedelta(seconds=1)).id == mail_id


def test_without_an_smtp_host_mail_goes_to_the_log(factory, caplog):
    mail_id = queued(factory)
    deliver_due(factory, MailSettings())
    outgoing = stored(factory, mail_id)
    assert (outgoing.state, outgoing.body) == ("logged", "")
    assert "Body with a private link" in caplog.text


def test_an_address_the_server_cannot_take_is_given_up_at_once(factory):
    """A reporter may leave an address in Chinese characters; a server without SMTPUTF8
    cannot take it, now or later."""
    server = Mailbox(enable_SMTPUTF8=False).start()
    try:
        with factory() as session:
            outgoing = queue_mail(session, "反馈@例子.中国", "Subject", "Body")
            session.commit()
            mail_id = outgoing.id
        deliver_due(factory, settings_for(server.port))
    finally:
        server.stop()
    outgoing = stored(factory, mail_id)
    assert (outgoing.state, outgoing.attempts, outgoing.problem) == ("gave-up", 1, "refused")


def test_a_mail_deleted_while_it_is_being_sent_holds_up_no_other(factory, monkeypatch):
    """Deleting an account or a report deletes its mails, also one a sender is sending."""
    first, second = queued(factory), queued(factory)
    real_send = mail.try_send
    sent = []

    def send_and_meanwhile_delete(settings, to, subject, body):
        if not sent:
            with factory() as other:
                other.delete(other.get(OutgoingMail, first))
                other.commit()
        sent.append(body)
        return real_send(settings, to, subject, body)

    monkeypatch.setattr(mail, "try_send", send_and_meanwhile_delete)
    assert deliver_due(factory, MailSettings()) is None
    assert stored(factory, first) is None
    assert len(sent) == 2 and stored(factory, second).state == "logged"


def test_finished_mails_about_no_ticket_are_forgotten_after_a_month(factory):
    from feedback_fixtures import submit

    reset = queued(factory)
    with factory() as session:
        ticket, _token = submit(session, when=utcnow())
        session.commit()
        ticket_id = ticket.id
    about_ticket = queued(factory, ticket_id=ticket_id)
    waiting = queued(factory)
    start = utcnow()
    with factory() as session:  # not due for months: still queued when the others are old
        session.get(OutgoingMail, waiting).next_attempt_at = start + timedelta(days=90)
        session.commit()
    logged = MailSettings(host="")
    deliver_due(factory, logged, now=start)
    assert stored(factory, reset).state == stored(factory, about_ticket).state == "logged"

    deliver_due(factory, logged, now=start + mail.FORGET_AFTER - timedelta(seconds=1))
    assert stored(factory, reset) is not None
    deliver_due(factory, logged, now=start + mail.FORGET_AFTER + timedelta(seconds=1))
    assert stored(factory, reset) is None
    # A ticket's mails go with the ticket; a mail still waiting is never forgotten.
    assert stored(factory, about_ticket).state == "logged"
    assert stored(factory, waiting).state == "queued"
