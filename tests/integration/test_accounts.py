"""Accounts through the test client: register, sign in and out, passwords, deletion, throttling."""

import logging
import re
import socket
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from yanpiao.accounts import Role, User
from yanpiao.models import VerificationRecord

PASSWORD = "correct horse battery"
BAD_LOGIN = "The email address or mobile number and password do not match an account."


@pytest.fixture(autouse=True)
def english_and_private_keys(app, tmp_path):
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["YANPIAO_RECEIPT_KEY_DIR"] = str(tmp_path / "keys")


@pytest.fixture
def client(app):
    client = app.test_client()
    client.set_cookie("lang", "en")
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def sign_in(client, login="user@example.com", password=PASSWORD, **extra):
    return client.post("/login", data={"login": login, "password": password, **extra})


def signed_in(client) -> bool:
    return "Your account" in text(client.get("/verify"))


def count(app, model) -> int:
    with app.app_context():
        from blueprints.ext import db

        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("login", ["new@example.com", "NEW@Example.com ", "+86 138-0013-8000"])
def test_register_signs_in_and_opens_the_history(client, login):
    response = client.post("/register", data={"login": login, "password": PASSWORD,
                                              "confirm": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"].endswith("/history")
    page = text(client.get("/history"))
    assert "Your account is ready" in page
    assert signed_in(client)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"login": "", "password": PASSWORD, "confirm": PASSWORD},
         "Enter your email address or mobile number."),
        ({"login": "not an address", "password": PASSWORD, "confirm": PASSWORD},
         "Enter an email address like name@example.com"),
        ({"login": "12345", "password": PASSWORD, "confirm": PASSWORD},
         "Enter an email address like name@example.com"),
        ({"login": "new@example.com", "password": "short", "confirm": "short"},
         "Use at least 8 characters."),
        ({"login": "new@example.com", "password": PASSWORD, "confirm": PASSWORD + "!"},
         "The two passwords are not the same."),
        ({"login": "new@example.com", "password": "new@example.com",
          "confirm": "new@example.com"}, "must not be your email address"),
        ({"login": "user@example.com", "password": PASSWORD, "confirm": PASSWORD},
         "already exists"),
    ],
    ids=["empty", "not-an-address", "short-number", "short-password", "confirm-differs",
         "password-is-login", "taken"],
)
def test_register_refuses_with_a_message_by_the_field(client, make_user, data, message):
    make_user()
    response = client.post("/register", data=data)
    page = text(response)
    assert response.status_code == 422
    assert message in page
    assert 'class="error-summary"' in page and 'aria-invalid="true"' in page
    assert 'value="correct horse' not in page  # passwords are never sent back
    assert count(client.application, User) == 1


def test_sign_in_and_out(client, make_user):
    make_user()
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/history")
    assert signed_in(client)
    confirm = client.get("/logout")
    assert confirm.status_code == 200 and 'action="/logout"' in text(confirm)
    assert signed_in(client)  # opening the page changed nothing
    response = client.post("/logout")
    assert response.status_code == 303
    assert "You have signed out." in text(client.get(response.headers["Location"]))
    assert not signed_in(client)


@pytest.mark.parametrize(
    ("login", "password"),
    [("user@example.com", "wrong password!"), ("nobody@example.com", PASSWORD),
     ("13800138000", PASSWORD)],
    ids=["wrong-password", "unknown-email", "unknown-phone"],
)
def test_the_same_answer_for_an_unknown_user_and_a_wrong_password(client, make_user, login,
                                                                  password):
    make_user()
    response = sign_in(client, login, password)
    assert response.status_code == 422
    assert BAD_LOGIN in text(response)
    assert not signed_in(client)


def test_sign_in_with_the_mobile_number_in_any_spelling(client, make_user):
    make_user(email=None, phone="13800138000")
    assert sign_in(client, "+86 138 0013 8000").status_code == 303


def test_a_disabled_account_cannot_sign_in(app, client, make_user):
    user_id = make_user()
    with app.app_context():
        from blueprints.ext import db

        db.session.get(User, user_id).active = False
        db.session.commit()
    assert BAD_LOGIN in text(sign_in(client))


def test_remember_me_sets_a_lasting_cookie_and_sign_out_removes_it(client, make_user):
    make_user()
    sign_in(client)
    assert client.get_cookie("remember_token") is None
    client.post("/logout")
    sign_in(client, remember="y")
    assert client.get_cookie("remember_token") is not None
    client.post("/logout")
    assert client.get_cookie("remember_token") is None


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_sign_in_never_redirects_off_site(client, make_user, target):
    make_user()
    response = client.post(f"/login?next={target}", data={"login": "user@example.com",
                                                          "password": PASSWORD})
    assert response.headers["Location"] == "/history"


def test_sign_in_goes_back_to_the_page_that_asked(client, make_user):
    make_user()
    response = client.get("/account")
    assert response.status_code == 302 and "/login?next=%2Faccount" in response.headers["Location"]
    response = client.post("/login?next=/account", data={"login": "user@example.com",
                                                         "password": PASSWORD})
    assert response.headers["Location"] == "/account"


def test_change_password(client, make_user):
    make_user()
    sign_in(client)
    wrong = client.post("/account/password", data={
        "pw-current": "not it at all", "pw-password": "a new long password",
        "pw-confirm": "a new long password"})
    assert wrong.status_code == 422 and "That is not your current password." in text(wrong)
    done = client.post("/account/password", data={
        "pw-current": PASSWORD, "pw-password": "a new long password",
        "pw-confirm": "a new long password"})
    assert done.status_code == 303
    client.post("/logout")
    assert BAD_LOGIN in text(sign_in(client))
    assert sign_in(client, password="a new long password").status_code == 303


def test_a_changed_password_follows_the_rules_of_a_new_one(client, make_user):
    """Registration refused the email address as the password; changing it accepted it, and
    staff (12 characters when created) could change to 8."""

    def change(to):
        return client.post("/account/password", data={
            "pw-current": PASSWORD, "pw-password": to, "pw-confirm": to})

    make_user(email="user@example.com")
    sign_in(client)
    refused = change("USER@example.com")
    assert refused.status_code == 422
    assert "must not be your email address or mobile number" in text(refused)
    assert "At least 8 characters." in text(client.get("/account"))
    client.post("/logout")
    make_user(email="officer@example.com", role=Role.STAFF)
    sign_in(client, login="officer@example.com")
    short = change("eight ch")
    assert short.status_code == 422 and "Use at least 12 characters" in text(short)
    assert "At least 12 characters." in text(client.get("/account"))
    assert change("twelve chars").status_code == 303


def test_a_new_password_ends_every_other_session(app, client, make_user, caplog, outbox):
    """Someone who changes a password because it leaked must not leave the thief signed in:
    the other browser is signed out, the one that changed it stays signed in."""
    make_user()
    thief, owner = app.test_client(), client
    sign_in(thief)
    sign_in(owner)
    assert signed_in(thief) and signed_in(owner)
    done = owner.post("/account/password", data={
        "pw-current": PASSWORD, "pw-password": "a new long password",
        "pw-confirm": "a new long password"})
    assert done.status_code == 303
    assert signed_in(owner)
    assert not signed_in(thief)
    assert thief.get("/account").status_code == 302  # back to the sign-in page

    # A reset by mail ends the sessions too.
    sign_in(thief, password="a new long password")
    caplog.set_level(logging.INFO, logger="yanpiao.mail")
    app.test_client().post("/password/forgot", data={"email": "user@example.com"})
    link = reset_link(caplog, outbox)
    app.test_client().post(link, data={"password": "another secret here",
                                       "confirm": "another secret here"})
    assert not signed_in(thief)


def test_delete_account_takes_its_history_along(app, client, make_user, make_invoice, outbox):
    stored = make_invoice()
    user_id = make_user()
    other = app.test_client()
    make_user(email="other@example.com")
    sign_in(other, "other@example.com")
    sign_in(client)
    fields = {"invoice_code": stored["invoice_code"], "invoice_number": stored["invoice_number"],
              "issue_date": stored["issue_date"], "check_code": "294433"}
    client.post("/verify", data=fields)
    other.post("/verify", data=fields)
    for address in ("user@example.com", "other@example.com"):
        app.test_client().post("/password/forgot", data={"email": address})
    refused = client.post("/account/delete", data={"del-password": "wrong password"})
    assert refused.status_code == 422 and "That is not your password." in text(refused)
    response = client.post("/account/delete", data={"del-password": PASSWORD})
    assert response.status_code == 303
    assert "have been deleted" in text(client.get(response.headers["Location"]))
    assert not signed_in(client)
    with app.app_context():
        from blueprints.ext import db

        assert db.session.get(User, user_id) is None
        owners = db.session.scalars(select(VerificationRecord.user_id)).all()
    assert owners and user_id not in owners  # the other account's check stays
    # Nothing keeps its address: the reset mail sent to it goes too.
    assert [m.recipient for m in outbox.mails()] == ["other@example.com"]
    assert BAD_LOGIN in text(sign_in(client))


def test_account_pages_need_a_sign_in(client):
    for path in ("/account",):
        assert client.get(path).status_code == 302
    for path in ("/account/password", "/account/delete"):
        assert client.post(path).status_code == 302


def reset_link(caplog, outbox) -> str:
    outbox.wait()
    mails = [r.getMessage() for r in caplog.records if r.name == "yanpiao.mail"]
    assert len(mails) == 1, mails
    return re.search(r"http://localhost(/password/reset/\S+)", mails[0]).group(1)


def test_password_reset_through_the_logged_mail(client, make_user, caplog, outbox):
    make_user()
    caplog.set_level(logging.INFO, logger="yanpiao.mail")
    response = client.post("/password/forgot", data={"email": "User@Example.com"})
    assert response.status_code == 303
    assert "If an account uses this email address" in text(client.get("/login"))
    link = reset_link(caplog, outbox)
    assert "To: user@example.com" in caplog.text
    assert client.get(link).status_code == 200
    mismatch = client.post(link, data={"password": "brand new secret", "confirm": "other"})
    assert mismatch.status_code == 422
    own_address = client.post(link, data={"password": "user@example.com",
                                          "confirm": "user@example.com"})
    assert own_address.status_code == 422
    assert "must not be your email address" in text(own_address)
    done = client.post(link, data={"password": "brand new secret", "confirm": "brand new secret"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/login")
    assert sign_in(client, password="brand new secret").status_code == 303
    # A link works once: the password it was made for has changed.
    assert client.get(link).status_code == 400


def test_an_expired_reset_form_is_shown_again_while_its_link_works(app, client, make_user,
                                                                   caplog, outbox):
    make_user()
    caplog.set_level(logging.INFO, logger="yanpiao.mail")
    client.post("/password/forgot", data={"email": "user@example.com"})
    link = reset_link(caplog, outbox)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(link, data={"password": "brand new secret",
                                       "confirm": "brand new secret", "csrf_token": "stale"})
    page = text(response)
    assert response.status_code == 400 and "Enter the password again" in page
    assert f'action="{link}"' in page and "brand new secret" not in page


def test_the_reset_mail_speaks_the_visitors_language(app, make_user, caplog, outbox):
    make_user()
    caplog.set_level(logging.INFO, logger="yanpiao.mail")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    client.post("/password/forgot", data={"email": "user@example.com"})
    outbox.wait()
    [mail] = [r.getMessage() for r in caplog.records if r.name == "yanpiao.mail"]
    assert "Subject: 重置您的验票密码" in mail
    assert "有人申请重置" in mail and "Someone asked" not in mail and "If it was not you" not in mail


def test_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, caplog, outbox):
    caplog.set_level(logging.INFO, logger="yanpiao.mail")
    response = client.post("/password/forgot", data={"email": "nobody@example.com"})
    assert response.status_code == 303
    assert "If an account uses this email address" in text(client.get("/login"))
    assert outbox.mails() == []
    assert not [r for r in caplog.records if r.name == "yanpiao.mail"]


def test_a_reset_mail_that_cannot_go_before_its_link_expires_is_not_sent(
        app, client, make_user, outbox):
    """A mail server that is down for longer than the link lives: the mail is dropped rather
    than delivered hours later with a link that no longer works."""
    make_user()
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        app.config.update(YANPIAO_SMTP_HOST="127.0.0.1", YANPIAO_SMTP_PORT=probe.getsockname()[1],
                          YANPIAO_SMTP_SECURITY="none")
    client.post("/password/forgot", data={"email": "user@example.com"})
    [waiting] = outbox.mails()
    assert (waiting.state, waiting.attempts, waiting.problem) == ("queued", 1, "unreachable")
    outbox.deliver(later=timedelta(hours=2))
    [dropped] = outbox.mails()
    assert (dropped.state, dropped.attempts, dropped.body) == ("expired", 1, "")


@pytest.mark.parametrize("token", ["nonsense", "eyJ1c2VyIjoxfQ.bad.sig"])
def test_a_forged_reset_link_does_not_work(client, token):
    response = client.get(f"/password/reset/{token}")
    assert response.status_code == 400 and "no longer works" in text(response)


def test_an_expired_reset_link_does_not_work(app, client, make_user, caplog, outbox):
    make_user()
    caplog.set_level(logging.INFO, logger="yanpiao.mail")
    client.post("/password/forgot", data={"email": "user@example.com"})
    app.config["YANPIAO_PASSWORD_RESET_MAX_AGE"] = -1
    assert client.get(reset_link(caplog, outbox)).status_code == 400


def test_sign_in_is_throttled(app, make_user):
    from app import create_app

    make_user()
    throttled = create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"],
                            "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False,
                            "YANPIAO_LOGIN_RATE_LIMIT": "3 per minute"})
    client = throttled.test_client()
    statuses = [sign_in(client, password="guess %d" % i).status_code for i in range(4)]
    assert statuses == [422, 422, 422, 429]
    assert sign_in(client).status_code == 429  # even the right password waits
    assert client.get("/login").status_code == 200  # reading the page is not limited
    throttled.extensions["database"].engine.dispose()


def test_forms_need_the_csrf_token(app, make_user):
    make_user()
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    assert sign_in(client).status_code == 400
    page = text(client.get("/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert sign_in(client, csrf_token=token).status_code == 303


EXPIRED = "Your session expired or the form was already sent."


@pytest.mark.parametrize("path, data, field", [
    ("/login", {"login": "user@example.com", "password": PASSWORD}, "login"),
    ("/register", {"login": "new@example.com", "password": PASSWORD, "confirm": PASSWORD},
     "login"),
    ("/password/forgot", {"email": "user@example.com"}, "email"),
])
def test_an_expired_form_comes_back_with_what_was_typed(app, client, make_user, path, data,
                                                        field):
    """After the session expired these forms answered an error page that said "check the form
    and send it again" with no form on it; what was typed was gone."""
    make_user()
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(path, data={**data, "csrf_token": "from-an-old-session"})
    page = text(response)
    assert response.status_code == 400 and EXPIRED in page
    assert f'action="{path}"' in page and 'name="csrf_token"' in page
    assert f'value="{data[field]}"' in page
    assert PASSWORD not in page  # a password is typed again, never sent back


def test_an_expired_password_change_asks_again_or_signs_in(app, client, make_user):
    make_user()
    sign_in(client)
    app.config["WTF_CSRF_ENABLED"] = True
    sent = {"pw-current": PASSWORD, "pw-password": "a new long password",
            "pw-confirm": "a new long password", "csrf_token": "stale"}
    response = client.post("/account/password", data=sent)
    page = text(response)
    assert response.status_code == 400 and "Enter the password again" in page
    assert 'action="/account/password"' in page and "Change your password" in page
    # With the session gone as well, the way on is signing in, back to the account page.
    client.delete_cookie("session")
    response = client.post("/account/password", data=sent)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/account"
    assert "Your session has ended. Sign in again to go on." in text(client.get("/login"))


def test_navigation_by_audience(client, make_user):
    make_user()
    anonymous = text(client.get("/verify"))
    assert 'href="/history"' in anonymous and 'href="/login"' in anonymous
    assert 'href="/register"' in anonymous and 'href="/account"' not in anonymous
    sign_in(client)
    user = text(client.get("/verify"))
    assert 'href="/history"' in user and 'href="/account"' in user and 'href="/logout"' in user
    assert 'href="/login"' not in user


def test_pages_render_in_chinese_by_default(app, make_user):
    client = app.test_client()
    page = text(client.get("/login"))
    assert 'lang="zh-Hans"' in page and 'name="password"' in page
