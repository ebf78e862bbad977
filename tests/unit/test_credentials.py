"""Account rules without the web: login names, passwords, reset tokens, outgoing mail."""

import logging

import pytest

from yanpiao import credentials, mail
from yanpiao.accounts import create_user
from yanpiao.credentials import LoginKind, PasswordProblem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Li.Lei@Example.COM ", (LoginKind.EMAIL, "li.lei@example.com")),
        ("ｌｉ＠ｅｘａｍｐｌｅ．ｃｎ", (LoginKind.EMAIL, "li@example.cn")),  # full-width
        ("13800138000", (LoginKind.PHONE, "13800138000")),
        ("+86 138-0013-8000", (LoginKind.PHONE, "13800138000")),
        ("１３８００１３８０００", (LoginKind.PHONE, "13800138000")),
        ("12800138000", None),  # mobile numbers start 13–19
        ("1380013800", None),
        ("li@", None),
        ("li@example", None),
        ("", None),
    ],
)
def test_parse_login(text, expected):
    login = credentials.parse_login(text)
    assert (login.kind, login.value) == expected if expected else login is None


@pytest.mark.parametrize(
    ("password", "login", "problem"),
    [
        ("seven77", "", PasswordProblem.TOO_SHORT),
        ("x" * 257, "", PasswordProblem.TOO_LONG),
        ("Li@Example.com", "li@example.com", PasswordProblem.SAME_AS_LOGIN),
        ("eight888", "", None),
        ("正确的马电池订书钉", "", None),
    ],
)
def test_password_problem(password, login, problem):
    assert credentials.password_problem(password, login) is problem


def test_reset_token_works_once_and_only_for_its_key(session):
    user = create_user(session, "correct horse battery", email="a@example.com")
    session.commit()
    token = credentials.reset_token("secret", user)
    assert credentials.user_for_reset_token(session, "secret", token, 3600) is user
    assert credentials.user_for_reset_token(session, "other secret", token, 3600) is None
    assert credentials.user_for_reset_token(session, "secret", token + "x", 3600) is None
    credentials.change_password(session, user, "another long password")
    assert credentials.user_for_reset_token(session, "secret", token, 3600) is None


def test_only_active_email_accounts_get_reset_links(session):
    phone_only = create_user(session, "correct horse battery", phone="13800138000")
    disabled = create_user(session, "correct horse battery", email="off@example.com")
    disabled.active = False
    session.commit()
    assert credentials.user_for_reset(session, "13800138000") is None
    assert credentials.user_for_reset(session, "off@example.com") is None
    assert phone_only.email is None


def test_authenticate(session):
    create_user(session, "correct horse battery", email="a@example.com")
    session.commit()
    user = credentials.authenticate(session, "A@example.com", "correct horse battery")
    assert user is not None and user.last_login_at is not None
    assert credentials.authenticate(session, "a@example.com", "wrong") is None
    assert credentials.authenticate(session, "b@example.com", "correct horse battery") is None


def test_without_smtp_host_the_mail_is_logged(caplog):
    with caplog.at_level(logging.INFO, logger="yanpiao.mail"):
        assert mail.send_mail(mail.MailSettings(), "a@example.com", "重置密码", "链接: http://x/y")
    assert "To: a@example.com" in caplog.text and "链接: http://x/y" in caplog.text


class FakeSMTP:
    sent: list = []

    def __init__(self, host, port, timeout):
        self.calls = [("connect", host, port)]
        FakeSMTP.sent.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self, context):
        self.calls.append(("starttls",))

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def send_message(self, message):
        self.calls.append(("send", message["To"], message["Subject"], message.get_content()))


def test_smtp_with_starttls_and_login(monkeypatch):
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent = []
    settings = mail.MailSettings(host="smtp.example", port=587, user="u", password="p")
    assert mail.send_mail(settings, "a@example.com", "重置密码", "正文")
    assert FakeSMTP.sent[0].calls == [
        ("connect", "smtp.example", 587), ("starttls",), ("login", "u", "p"),
        ("send", "a@example.com", "重置密码", "正文\n"),
    ]


def test_an_smtp_failure_is_logged_not_raised(monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("no server")

    monkeypatch.setattr(mail.smtplib, "SMTP", refuse)
    assert not mail.send_mail(mail.MailSettings(host="smtp.example"), "a@example.com", "s", "b")
    assert "could not be sent" in caplog.text
