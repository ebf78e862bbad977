"""Feedback from the visitor's side: the form, the ticket's whole life, its private link."""

import logging
import re
import socket
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import create_app
from yanpiao.accounts import Role
from yanpiao.db import utcnow
from yanpiao.feedback import Ticket

EN = {"Accept-Language": "en"}
MESSAGE = "The result said “not found” but the invoice is real."


@pytest.fixture
def app(app):
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def reporter(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def staff(app, make_user, login):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return login(client, make_user(email="staff@example.com", role=Role.STAFF))


def submission_key(client, url="/feedback") -> str:
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="submission" value="([^"]+)"', html).group(1)


def send(client, key=None, **overrides):
    data = {"category": "wrong_result", "message": MESSAGE,
            "submission": key or submission_key(client)}
    data.update(overrides)
    return client.post("/feedback", data=data)


def tickets(app) -> list[Ticket]:
    with app.app_context():
        from blueprints.ext import db

        return list(db.session.scalars(select(Ticket).order_by(Ticket.id)))


def number_on(html: str) -> str:
    return re.search(r"FB-\d{4}-\d{6}", html).group(0)


def html_text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_the_form_offers_categories_consent_and_a_hidden_honeypot(reporter):
    html = reporter.get("/feedback").get_data(as_text=True)
    for value in ("wrong_result", "scanning", "accessibility", "suggestion", "other"):
        assert f'name="category" value="{value}"' in html
    assert "We use it only to reply to you about this report" in html
    assert 'name="anonymous"' in html and 'name="consent"' in html
    honeypot = re.search(r'<div class="hp-field" aria-hidden="true">.*?</div>', html, re.S).group(0)
    assert 'name="website"' in honeypot and 'tabindex="-1"' in honeypot
    assert re.search(r'<form[^>]*method="post" action="/feedback"', html)


@pytest.mark.parametrize("query, shown", [
    ("?receipt=abcd2345efgh6789ijkl", "ABCD2345EFGH6789IJKL"),
    ("?invoice=24312000000136634917", "24312000000136634917"),
    ("?receipt=%3Cscript%3E", ""),
    ("", ""),
])
def test_the_invoice_reference_is_prefilled_from_the_link(reporter, query, shown):
    html = reporter.get("/feedback" + query).get_data(as_text=True)
    field = re.search(r'<input type="text" id="invoice_reference"[^>]*>', html, re.S).group(0)
    assert f'value="{shown}"' in field


def test_every_result_links_to_a_prefilled_report(app, reporter, make_invoice):
    record = make_invoice()
    fields = {"invoice_code": record["invoice_code"], "invoice_number": record["invoice_number"],
              "issue_date": record["issue_date"], "check_code": record["check_code"][-6:]}
    fragment = reporter.post("/verify", data=fields, headers={"HX-Request": "true"})
    link = re.search(r'href="(/feedback\?receipt=[A-Z2-7]+)"', fragment.get_data(as_text=True))
    assert link, "the htmx result has no report link"
    page = reporter.get(reporter.post("/verify", data=fields).headers["Location"])
    link = re.search(r'href="(/feedback\?receipt=([A-Z2-7]+))"', page.get_data(as_text=True))
    html = reporter.get(link.group(1)).get_data(as_text=True)
    assert f'value="{link.group(2)}"' in html


@pytest.mark.parametrize("overrides, field, message", [
    ({"category": ""}, "category", "Choose what your report is about."),
    ({"category": "complaint"}, "category", "Choose what your report is about."),
    ({"message": "  "}, "message", "Tell us what happened or what you suggest."),
    ({"message": "x" * 5001}, "message", "Keep the message under 5000 characters, please."),
    ({"contact": "call me"}, "contact", "Enter an email address like name@example.com"),
    ({"contact": "me@example.com"}, "consent", "Tick the box to let us reply to this contact"),
    ({"contact": "13800138000", "anonymous": "y"}, "contact", "You chose to send anonymously"),
    ({"invoice_reference": "#12?"}, "invoice_reference", "letters and digits only"),
])
def test_invalid_reports_keep_what_was_typed(app, reporter, overrides, field, message):
    response = send(reporter, **overrides)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'<a href="#{field}">[^<]*{re.escape(message)}', html.replace("&#34;", '"'))
    if field != "message":
        assert "not found” but the invoice is real." in html  # the message stays
    assert tickets(app) == []


@pytest.mark.parametrize("contact", ["me@example.com", "+86 138-0013-8000"])
def test_a_contact_with_consent_is_kept(app, reporter, contact):
    assert send(reporter, contact=contact, consent="y").status_code == 303
    assert tickets(app)[0].contact == contact


def test_an_email_contact_gets_the_link_and_each_reply_in_their_language(
        app, staff, mailbox, outbox):
    reporter = app.test_client()
    reporter.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    key = submission_key(reporter)
    link = send(reporter, key, contact="me@example.com", consent="y").headers["Location"]
    assert send(reporter, key, contact="me@example.com", consent="y").status_code == 303
    html = reporter.get(link).get_data(as_text=True)
    number = number_on(html)
    assert html.count("me@example.com") == 1  # "emailing this link to …", once
    assert "<dt>Тема</dt>" in html  # the report's topic, not "about the service"
    assert f'<p class="message-body" dir="auto">{MESSAGE}</p>' in html

    outbox.wait()
    [(to, subject, body)] = mailbox.messages()  # one mail, though Send was pressed twice
    assert to == "me@example.com"
    assert number in subject and "Yanpiao" in subject and "Your Yanpiao" not in subject
    assert f"http://localhost{link}\n" in body and reporter.get(link).status_code == 200
    assert "urgent" not in body and "24" in body  # the response times, in Russian

    html = staff.get(f"/staff/feedback/{number}").get_data(as_text=True)
    assert "and gets it by email too" in html
    assert re.search(r"✓</span> Emailed to <bdi dir=\"ltr\">me@example.com</bdi>, \w", html)
    answer = staff.post(f"/staff/feedback/{number}/reply", data={
        "body": "Which invoice number?\nThe 8 digits, please.", "then": "waiting_for_reporter"})
    assert "is being emailed to me@example.com" in staff.get(
        answer.headers["Location"]).get_data(as_text=True)
    outbox.wait()
    [_receipt, (to, subject, body)] = mailbox.messages()
    assert to == "me@example.com" and number in subject
    assert "Which invoice number?\nThe 8 digits, please.\n" in body
    assert f"http://localhost{link}\n" in body
    assert "Reply" not in subject and "replied" not in body  # Russian, as the report was
    # Sent mail keeps no copy of the private link; staff see that it went, under the reply.
    assert {(m.state, m.body) for m in outbox.mails()} == {("sent", "")}
    html = staff.get(f"/staff/feedback/{number}").get_data(as_text=True)
    assert html.count("Emailed to <bdi") == 2
    assert "Email not delivered" not in staff.get("/staff/feedback").get_data(as_text=True)

    # A ticket made under an earlier secret key: no link that would not open, but where it is.
    with app.app_context():
        from blueprints.ext import db

        db.session.execute(update(Ticket).values(submission_key="made-with-an-older-key"))
        db.session.commit()
    staff.post(f"/staff/feedback/{number}/reply", data={"body": "Found it.", "then": "resolved"})
    outbox.wait()
    _to, _subject, body = mailbox.messages()[-1]
    assert "Found it." in body and "/feedback/status/" not in body
    assert "по личной ссылке, которую вы получили" in body


def test_a_phone_contact_is_not_mailed_and_staff_are_told_to_call(
        app, reporter, staff, mailbox, outbox):
    link = send(reporter, contact="13800138000", consent="y").headers["Location"]
    number = number_on(reporter.get(link).get_data(as_text=True))
    assert "by email" not in staff.get(f"/staff/feedback/{number}").get_data(as_text=True)
    answer = staff.post(f"/staff/feedback/{number}/reply",
                        data={"body": "Fixed.", "then": "resolved"})
    html = staff.get(answer.headers["Location"]).get_data(as_text=True)
    assert "asked to be answered at 13800138000: call or text them" in html
    assert outbox.mails() == [] and mailbox == []


def test_a_mail_server_that_is_down_holds_up_nobody_and_loses_no_mail(
        app, reporter, staff, outbox, caplog):
    with socket.socket() as probe:  # a port nothing listens on, for now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config.update(YANPIAO_SMTP_HOST="127.0.0.1", YANPIAO_SMTP_PORT=port,
                      YANPIAO_SMTP_SECURITY="none")
    response = send(reporter, contact="me@example.com", consent="y")
    assert response.status_code == 303
    html = reporter.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your report has been received" in html
    number = number_on(html)
    answer = staff.post(f"/staff/feedback/{number}/reply",
                        data={"body": "Which invoice?", "then": "waiting_for_reporter"})
    assert "is being emailed to me@example.com" in staff.get(
        answer.headers["Location"]).get_data(as_text=True)
    assert "Which invoice?" in reporter.get(response.headers["Location"]).get_data(as_text=True)

    outbox.wait()
    assert [(m.state, m.attempts, m.problem) for m in outbox.mails()] == [
        ("queued", 1, "unreachable")] * 2
    assert "could not be sent through 127.0.0.1" in caplog.text
    html = staff.get(f"/staff/feedback/{number}").get_data(as_text=True)
    assert html.count("The email to <bdi dir=\"ltr\">me@example.com</bdi> has not gone yet: "
                      "the mail server could not be reached. Next try ") == 2

    from smtp_server import Mailbox

    mailbox = Mailbox(port).start()  # the server is back; the next try finds it
    try:
        outbox.deliver(later=timedelta(minutes=2))
    finally:
        mailbox.stop()
    assert [subject for _to, subject, _body in mailbox.messages()] == [
        f"Your Yanpiao report {number}", f"Reply to your Yanpiao report {number}"]
    assert "has not gone yet" not in staff.get(f"/staff/feedback/{number}").get_data(
        as_text=True)


def test_staff_see_a_mail_that_could_not_be_delivered(app, reporter, staff, outbox):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        app.config.update(YANPIAO_SMTP_HOST="127.0.0.1", YANPIAO_SMTP_PORT=probe.getsockname()[1],
                          YANPIAO_SMTP_SECURITY="none")
    number = number_on(reporter.get(send(
        reporter, contact="me@example.com", consent="y").headers["Location"]).get_data(
            as_text=True))
    for hours in range(1, 8):  # a try each time, until the outbox gives up
        outbox.deliver(later=timedelta(hours=hours * 4))
    [mail] = outbox.mails()
    assert (mail.state, mail.attempts, mail.body) == ("gave-up", 6, "")
    html = staff.get(f"/staff/feedback/{number}").get_data(as_text=True)
    assert ("⚠</span> The email to <bdi dir=\"ltr\">me@example.com</bdi> could not be "
            "delivered: the mail server could not be reached. Please write to them yourself."
            ) in html
    # The queue flags the ticket, so the failure is seen without opening every ticket.
    assert "Email not delivered" in staff.get("/staff/feedback").get_data(as_text=True)


def test_without_a_mail_server_nobody_is_told_a_mail_went_out(
        app, reporter, staff, outbox, caplog):
    caplog.set_level(logging.INFO, logger="yanpiao.mail")
    link = send(reporter, contact="me@example.com", consent="y").headers["Location"]
    html = reporter.get(link).get_data(as_text=True)
    assert "me@example.com" not in html and "emailing" not in html
    number = number_on(html)
    assert "by email" not in staff.get(f"/staff/feedback/{number}").get_data(as_text=True)
    answer = staff.post(f"/staff/feedback/{number}/reply",
                        data={"body": "Fixed.", "then": "resolved"})
    html = staff.get(answer.headers["Location"]).get_data(as_text=True)
    assert "no mail server set up: please write to them at me@example.com yourself" in html
    # A developer still finds both mails in the log.
    outbox.wait()
    assert caplog.text.count("Mail not sent (no SMTP host set)") == 2
    html = staff.get(f"/staff/feedback/{number}").get_data(as_text=True)
    assert html.count("Not emailed: this site has no mail server set up.") == 2


def test_a_filled_honeypot_makes_no_ticket(app, reporter):
    response = send(reporter, website="http://spam.example")
    assert response.status_code == 422
    assert "could not be accepted" in response.get_data(as_text=True)
    assert tickets(app) == []


def test_double_submit_makes_one_ticket(app, reporter):
    key = submission_key(reporter)
    first = send(reporter, key)
    second = send(reporter, key)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(tickets(app)) == 1
    # A new visit to the form is a new report.
    assert send(reporter).headers["Location"] != first.headers["Location"]
    assert len(tickets(app)) == 2


def test_a_ticket_from_submit_to_rating(app, reporter, staff):
    sent = send(reporter, contact="me@example.com", consent="y")
    assert sent.status_code == 303
    link = sent.headers["Location"]
    page = reporter.get(link)
    html = page.get_data(as_text=True)
    number = number_on(html)
    assert re.fullmatch(r"FB-\d{4}-000001", number)
    assert html.count("Your report has been received") == 1
    assert f"http://localhost{link}" in html
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Your report has been received" not in reporter.get(link).get_data(as_text=True)

    # Staff ask a question; the reporter sees it and that it is their turn.
    assert staff.post(f"/staff/feedback/{number}/reply", data={
        "body": "Which invoice number?", "then": "waiting_for_reporter"}).status_code == 303
    html = reporter.get(link).get_data(as_text=True)
    assert "Which invoice number?" in html and "Reply from Yanpiao staff" in html
    assert re.search(r'aria-current="step">.*?Waiting for the reporter', html, re.S)
    assert "Rate our answer" not in html

    # The reporter answers; the ticket is staff's again.
    response = reporter.post(f"{link}/messages", data={"body": "It is 12345678."})
    assert response.status_code == 303
    html = reporter.get(link).get_data(as_text=True)
    assert "It is 12345678." in html
    assert re.search(r'aria-current="step">.*?In progress', html, re.S)
    assert "Waiting for the reporter" not in html.split('class="progress"', 1)[1].split("</ol>")[0]

    # Resolved: the reporter rates it, once.
    assert staff.post(f"/staff/feedback/{number}/status",
                      data={"status": "resolved"}).status_code == 303
    html = reporter.get(link).get_data(as_text=True)
    assert "Rate our answer" in html and 'name="rating" value="5"' in html
    assert reporter.post(f"{link}/rating", data={"rating": "4"}).status_code == 303
    html = reporter.get(link).get_data(as_text=True)
    assert "You rated our answer: 4 – good." in html and "Rate our answer" not in html
    assert reporter.post(f"{link}/rating", data={"rating": "1"}).status_code == 409
    assert tickets(app)[0].rating == 4

    staff_page = staff.get(f"/staff/feedback/{number}").get_data(as_text=True)
    assert "4 – good" in staff_page and "Reporter rated the answer" in staff_page


@pytest.mark.parametrize("rating", ["0", "6", "five", ""])
def test_a_rating_outside_one_to_five_is_refused(app, reporter, staff, rating):
    link = send(reporter).headers["Location"]
    staff.post(f"/staff/feedback/{number_on(reporter.get(link).get_data(as_text=True))}/status",
               data={"status": "resolved"})
    response = reporter.post(f"{link}/rating", data={"rating": rating})
    assert response.status_code == 422
    assert "Choose a rating from 1 to 5." in response.get_data(as_text=True)
    assert tickets(app)[0].rating is None


def test_the_status_link_of_one_ticket_never_opens_another(app, reporter):
    first = send(reporter, message="First report").headers["Location"]
    second = send(app.test_client(), message="Second report").headers["Location"]
    first_page = reporter.get(first).get_data(as_text=True)
    second_page = reporter.get(second).get_data(as_text=True)
    assert "First report" in first_page and "Second report" not in first_page
    assert "Second report" in second_page and "First report" not in second_page
    assert number_on(first_page) != number_on(second_page)

    token = first.rsplit("/", 1)[1]
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    for url in (f"/feedback/status/{changed}", f"/feedback/status/{token[:20]}",
                "/feedback/status/" + "A" * 43, "/feedback/status/1",
                f"/feedback/status/{number_on(first_page)}"):
        assert reporter.get(url).status_code == 404, url
        assert reporter.post(url + "/messages", data={"body": "hi"}).status_code == 404
    reporter.post(f"{first}/messages", data={"body": "Only for the first"})
    assert "Only for the first" not in reporter.get(second).get_data(as_text=True)


def test_a_failed_save_shows_an_error_and_keeps_the_input(app, reporter, monkeypatch):
    def broken_commit(self):
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    key = submission_key(reporter)
    monkeypatch.setattr(Session, "commit", broken_commit)
    response = send(reporter, key, contact="me@example.com", consent="y")
    monkeypatch.undo()
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "could not be saved" in html and "not found” but the invoice is real." in html
    assert 'value="me@example.com"' in html and f'value="{key}"' in html
    assert tickets(app) == []
    assert send(reporter, key).status_code == 303  # sending again works, once
    assert len(tickets(app)) == 1


def test_an_expired_form_comes_back_with_the_input(app, reporter):
    app.config["WTF_CSRF_ENABLED"] = True
    response = send(reporter, message="Keep me please")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your session expired" in html and "Keep me please" in html
    assert tickets(app) == []


def test_an_expired_follow_up_comes_back_with_the_text(app, reporter):
    link = send(reporter).headers["Location"]
    app.config["WTF_CSRF_ENABLED"] = True
    response = reporter.post(f"{link}/messages", data={"body": "My extra details"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your session expired" in html and "My extra details" in html
    with app.app_context():
        from blueprints.ext import db

        assert db.session.scalars(select(Ticket)).one().messages == []


def test_sending_is_rate_limited(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True,
                      "YANPIAO_FEEDBACK_RATE_LIMIT": "2 per minute"})
    try:
        client = app.test_client()
        statuses = [send(client).status_code for _ in range(3)]
        assert statuses == [303, 303, 429]
        assert client.get("/feedback").status_code == 200  # reading the form is not limited
    finally:
        app.extensions["database"].engine.dispose()


def test_anonymous_reports_are_not_linked_to_the_account(app, reporter, make_user, login):
    login(reporter, make_user(email="visitor@example.com"))
    send(reporter, anonymous="y")
    send(reporter)
    anonymous, named = tickets(app)
    assert anonymous.user_id is None and anonymous.anonymous
    assert named.user_id is not None


def test_a_failure_after_a_rollback_still_shows_the_error_page_signed_in(
        app, make_user, login, monkeypatch):
    """Numbering a report rolls back when another request takes the number; a request that
    then failed crashed its own error page (the signed-in user, expired by the rollback,
    could not be loaded from the closed session)."""
    import blueprints.feedback as view

    def loses_every_race(session, *_args, **_kwargs):
        session.rollback()
        raise RuntimeError("could not allocate a ticket number")

    monkeypatch.setattr(view, "submit_ticket", loses_every_race)
    client = login(app.test_client(), make_user(email="visitor@example.com"))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = send(client)
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "Something went wrong on our side" in html
    assert "Sign out" in html  # still shown as signed in


def test_progress_ticks_off_only_the_steps_a_report_went_through(reporter, staff):
    """A report resolved straight away showed "In progress ✓ (done)"."""
    link = send(reporter).headers["Location"]
    number = number_on(reporter.get(link).get_data(as_text=True))
    staff.post(f"/staff/feedback/{number}/reply", data={"body": "Fixed.", "then": "resolved"})
    progress = reporter.get(link).get_data(as_text=True).split('class="progress"', 1)[1]
    progress = progress.split("</ol>")[0]
    assert "In progress" not in progress
    assert re.search(r'aria-current="step">.*?Resolved', progress, re.S)
    assert "Closed" in progress  # still ahead
    # Reopened, it shows the step it is at again.
    staff.post(f"/staff/feedback/{number}/status", data={"status": "in_progress"})
    progress = reporter.get(link).get_data(as_text=True).split('class="progress"', 1)[1]
    assert re.search(r'aria-current="step">.*?In progress', progress.split("</ol>")[0], re.S)


def test_finished_reports_say_when_they_go_and_the_purge_takes_them(app, reporter, staff, runner):
    link = send(reporter, contact="me@example.com", consent="y").headers["Location"]
    number = number_on(reporter.get(link).get_data(as_text=True))
    staff.post(f"/staff/feedback/{number}/reply", data={"body": "Fixed.", "then": "resolved"})
    app.config["YANPIAO_FEEDBACK_RETENTION_DAYS"] = 30
    html = reporter.get(link).get_data(as_text=True)
    when = re.search(r"deleted with their conversation 30 days after their last change: "
                     r"this one on (\w+ \d+, \d{4})\.", html)
    assert when, html
    staff_page = staff.get(f"/staff/feedback/{number}").get_data(as_text=True)
    assert "Deleted on" in staff_page and "30 days after its last change" in staff_page

    # Nothing is due yet; once a month has passed without a change, the report goes.
    assert "Purged 0 " in runner.invoke(args=["feedback", "purge"]).output
    # A negative number of days passed for "keep for good" and purged nothing, silently.
    refused = runner.invoke(args=["feedback", "purge", "--days", "-5"])
    assert refused.exit_code == 2 and "-5 is not in the range x>=0" in refused.output
    assert len(tickets(app)) == 1
    with app.app_context():
        from blueprints.ext import db

        db.session.execute(update(Ticket).values(updated_at=utcnow() - timedelta(days=31)))
        db.session.commit()
    result = runner.invoke(args=["feedback", "purge"])
    assert result.exit_code == 0
    assert "Purged 1 resolved or closed feedback reports unchanged for 30 days." in result.output
    assert tickets(app) == []
    gone = reporter.get(link)
    assert gone.status_code == 404
    html = gone.get_data(as_text=True)
    assert "We cannot find this report" in html
    assert "deleted 30 days after its last change" in html
    assert staff.get(f"/staff/feedback/{number}").status_code == 404


def test_open_reports_and_unlimited_retention_keep_everything(app, reporter, staff, runner):
    link = send(reporter).headers["Location"]
    app.config["YANPIAO_FEEDBACK_RETENTION_DAYS"] = 0
    number = number_on(reporter.get(link).get_data(as_text=True))
    staff.post(f"/staff/feedback/{number}/status", data={"status": "closed"})
    assert "deleted" not in reporter.get(link).get_data(as_text=True)
    assert "Deleted on" not in staff.get(f"/staff/feedback/{number}").get_data(as_text=True)
    result = runner.invoke(args=["feedback", "purge"])
    assert "Retention is unlimited (0 days): nothing purged." in result.output
    # An explicit period still applies; an open report is never due.
    second = send(app.test_client(), message="Still open").headers["Location"]
    with app.app_context():
        from blueprints.ext import db

        db.session.execute(update(Ticket).values(updated_at=utcnow() - timedelta(days=400)))
        db.session.commit()
    assert "Purged 1 " in runner.invoke(args=["feedback", "purge", "--days", "365"]).output
    assert reporter.get(second).status_code == 200 and reporter.get(link).status_code == 404
    # A link that never led anywhere says nothing about deleting when nothing is deleted.
    html = reporter.get("/feedback/status/" + "A" * 43).get_data(as_text=True)
    assert "We cannot find this report" in html and "deleted" not in html


def test_in_arabic_the_reply_date_does_not_run_into_the_latin_name(app, reporter, staff):
    """"Yanpiao" followed by a date in Arabic text: without an isolate the bidi algorithm
    joins name and date into one left-to-right run, and the date comes out split in two."""
    link = send(reporter).headers["Location"]
    number = number_on(reporter.get(link).get_data(as_text=True))
    staff.post(f"/staff/feedback/{number}/reply", data={"body": "شكرًا", "then": "resolved"})
    html = reporter.get(link, headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert re.search(r"رد من موظفي Yanpiao، <bdi>[^<]*\d{4}[^<]*</bdi>", html), html
    assert re.search(r"بلاغك، <bdi>[^<]*</bdi>", html)


def test_the_reporter_can_take_back_their_contact_details(app, reporter, staff, outbox):
    link = send(reporter, contact="me@example.com", consent="y").headers["Location"]
    number = number_on(reporter.get(link).get_data(as_text=True))
    page = reporter.get(link).get_data(as_text=True)
    assert "Delete my contact details" in page and "me@example.com" not in page
    outbox.wait()
    assert len(outbox.mails()) == 1
    done = reporter.post(f"{link}/contact")
    assert done.status_code == 303 and done.headers["Location"].endswith("#your-data")
    page = reporter.get(link).get_data(as_text=True)
    assert "Your contact details have been deleted" in page
    assert "Delete my contact details" not in page
    assert tickets(app)[0].contact == "" and outbox.mails() == []
    staff_page = html_text(staff.get(f"/staff/feedback/{number}"))
    assert "me@example.com" not in staff_page and "None: answer on the status page" in staff_page
    assert "Reporter deleted their contact details" in staff_page
    # A reply is no longer mailed to anyone.
    staff.post(f"/staff/feedback/{number}/reply", data={"body": "Fixed.", "then": "resolved"})
    outbox.wait()
    assert outbox.mails() == []


def test_the_reporter_can_delete_their_report_after_being_asked(app, reporter, staff):
    link = send(reporter, contact="me@example.com", consent="y").headers["Location"]
    number = number_on(reporter.get(link).get_data(as_text=True))
    staff.post(f"/staff/feedback/{number}/reply", data={"body": "Which invoice?"})
    ask = reporter.get(f"{link}/delete")
    assert ask.status_code == 200 and ask.headers["Cache-Control"] == "no-store"
    assert ask.headers["Referrer-Policy"] == "no-referrer"
    assert f"Delete report {number}" in html_text(ask) and len(tickets(app)) == 1

    done = reporter.post(f"{link}/delete")
    assert done.status_code == 303 and done.headers["Location"] == "/feedback"
    form = html_text(reporter.get("/feedback"))
    assert f"Your report {number} has been deleted" in form
    assert tickets(app) == []
    assert reporter.get(link).status_code == 404
    assert reporter.post(f"{link}/delete").status_code == 404
    assert staff.get(f"/staff/feedback/{number}").status_code == 404
    with app.app_context():
        from blueprints.ext import db
        from yanpiao.audit import AuditEvent
        from yanpiao.feedback import TicketMessage

        assert db.session.scalars(select(TicketMessage)).all() == []
        assert db.session.scalars(select(AuditEvent).where(
            AuditEvent.subject_type == "ticket")).all() == []


def test_staff_delete_a_ticket_after_being_asked_and_only_that_is_recorded(app, reporter, staff):
    link = send(reporter, message="Buy cheap watches at example.net").headers["Location"]
    number = number_on(reporter.get(link).get_data(as_text=True))
    ticket_page = html_text(staff.get(f"/staff/feedback/{number}"))
    assert f'href="/staff/feedback/{number}/delete"' in ticket_page
    ask = staff.get(f"/staff/feedback/{number}/delete")
    assert ask.status_code == 200 and f"Delete ticket {number}" in html_text(ask)
    assert len(tickets(app)) == 1

    done = staff.post(f"/staff/feedback/{number}/delete")
    assert done.status_code == 303 and done.headers["Location"] == "/staff/feedback"
    assert f"Ticket {number} was deleted." in html_text(staff.get("/staff/feedback"))
    assert tickets(app) == [] and reporter.get(link).status_code == 404
    with app.app_context():
        from blueprints.ext import db
        from yanpiao.audit import AuditEvent

        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.subject_type == "ticket")).all()
        assert [(e.action, e.actor, e.new_value) for e in events] == [("deleted", "staff", number)]
    # Visitors and signed-in users who are not staff cannot.
    assert reporter.post(f"/staff/feedback/{number}/delete").status_code in (302, 303)


def test_an_account_lists_its_reports_and_takes_them_when_deleted(
        app, reporter, make_user, login):
    login(reporter, make_user(email="visitor@example.com", password="correct horse battery"))
    mine = send(reporter, message="Signed in").headers["Location"]
    send(reporter, message="Anonymous", anonymous="y")
    number = number_on(reporter.get(mine).get_data(as_text=True))
    account = html_text(reporter.get("/account"))
    assert "Your feedback reports" in account
    assert f'href="{mine}"><bdi dir="ltr">{number}</bdi></a>' in account
    assert account.count("FB-") == 1  # the anonymous one is nobody's

    reporter.post("/account/delete", data={"del-password": "correct horse battery"})
    assert [t.message for t in tickets(app)] == ["Anonymous"]
    assert reporter.get(mine).status_code == 404


def test_staff_see_which_tickets_were_deleted_and_what_an_old_link_now_means(
        app, reporter, staff):
    spam = number_on(reporter.get(send(reporter, message="Cheap watches").headers["Location"])
                     .get_data(as_text=True))
    kept = number_on(reporter.get(send(reporter, message="Wrong result").headers["Location"])
                     .get_data(as_text=True))
    empty = html_text(staff.get("/staff/feedback/deleted"))
    assert "No ticket has been deleted by staff." in empty
    assert "finished reports deleted 365 days after their last change, leave no record" in empty
    assert 'href="/staff/feedback/deleted"' in html_text(staff.get("/staff/feedback"))
    staff.post(f"/staff/feedback/{spam}/delete")

    listed = staff.get("/staff/feedback/deleted")
    assert listed.status_code == 200
    page = html_text(listed)
    assert spam in page and kept not in page and "staff@example.com" in page
    # A link to the deleted ticket (a notification, a bookmark) says what became of it.
    gone = staff.get(f"/staff/feedback/{spam}")
    assert gone.status_code == 410
    assert f"Ticket {spam} was deleted" in html_text(gone) and "staff@example.com" in html_text(gone)
    assert staff.get("/staff/feedback/FB-2000-000001").status_code == 404
    # Visitors never learn about it.
    assert reporter.get("/staff/feedback/deleted").status_code in (302, 303)
