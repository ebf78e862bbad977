"""Staff pages: who may open them, the queue, a ticket's actions, reports, staff accounts."""

import csv
import io
import re
from datetime import timedelta

import pytest

from feedback_fixtures import NOW, known_report, submit
from yanpiao.accounts import Role
from yanpiao.db import utcnow
from yanpiao.feedback import Category

PASSWORD = "correct horse battery"


@pytest.fixture
def app(app):
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def as_role(app, make_user, login):
    """A client signed in with a new account of the given role."""

    def make(role: Role, email: str | None = None):
        user_id = make_user(email=email or f"{role.value}@example.com", role=role)
        client = login(english(app.test_client()), user_id)
        client.user_id = user_id
        return client

    return make


@pytest.fixture
def ticket_number(app):
    with app.app_context():
        from blueprints.ext import db

        ticket, _ = submit(db.session, when=utcnow(), category=Category.SCANNING,
                           message="The camera does not read my invoice.")
        db.session.commit()
        return ticket.number


def staff_urls(number: str) -> list[tuple[str, str]]:
    return [
        ("GET", "/staff"), ("GET", "/staff/feedback"), ("GET", f"/staff/feedback/{number}"),
        ("GET", "/staff/reports"), ("GET", "/staff/reports/categories.csv"),
        ("GET", "/staff/users"),
        ("POST", f"/staff/feedback/{number}/reply"), ("POST", f"/staff/feedback/{number}/status"),
        ("POST", f"/staff/feedback/{number}/priority"),
        ("POST", f"/staff/feedback/{number}/assign"),
        ("POST", "/staff/users"), ("POST", "/staff/users/1/role"),
        ("POST", "/staff/users/1/active"),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(app, ticket_number):
    client = app.test_client()
    for method, url in staff_urls(ticket_number):
        response = client.open(url, method=method, data={"body": "x", "status": "closed"})
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url


def test_plain_accounts_get_403(as_role, ticket_number):
    client = as_role(Role.USER)
    for method, url in staff_urls(ticket_number):
        response = client.open(url, method=method, data={"body": "x", "status": "closed"})
        assert response.status_code == 403, url
    assert "open this page" in client.get("/staff").get_data(as_text=True)


def test_staff_see_everything_but_account_management(as_role, ticket_number):
    client = as_role(Role.STAFF)
    for method, url in staff_urls(ticket_number):
        if method == "GET":
            expected = 403 if url.startswith("/staff/users") else 200
            assert client.get(url).status_code == expected, url
    assert client.post("/staff/users", data={}).status_code == 403


def test_the_landing_page_lists_the_sections_for_the_role(as_role, monkeypatch):
    from blueprints import staff

    monkeypatch.setattr(staff, "STAFF_SECTIONS", staff.STAFF_SECTIONS + [
        ("faq.faq", "Added by another area", "A page someone else wrote.", "staff"),
        ("nowhere.page", "Not registered", "Hidden: no such endpoint.", "staff"),
    ])
    html = as_role(Role.STAFF).get("/staff").get_data(as_text=True)
    assert 'href="/staff/feedback"' in html and 'href="/staff/reports"' in html
    assert 'href="/staff/registry/"' in html and 'href="/staff/stats"' in html
    assert 'href="/staff/users"' not in html
    assert "Added by another area" in html and "Not registered" not in html
    admin_html = as_role(Role.ADMIN).get("/staff").get_data(as_text=True)
    assert 'href="/staff/users"' in admin_html


def test_the_staff_link_is_in_the_navigation_for_staff_only(app, as_role):
    def navigation(client) -> str:
        html = client.get("/faq").get_data(as_text=True)
        return re.search(r'<nav aria-label="Main">.*?</nav>', html, re.S).group(0)

    visitor = navigation(english(app.test_client()))
    assert 'href="/faq"' in visitor and 'href="/feedback"' in visitor
    assert 'href="/staff"' not in visitor
    assert 'href="/staff"' not in navigation(as_role(Role.USER))
    assert 'href="/staff"' in navigation(as_role(Role.STAFF))


# --- the queue ---------------------------------------------------------------------------

@pytest.fixture
def queue_tickets(app):
    """A fresh scanning ticket and a wrong-result ticket 8 days old (overdue)."""
    with app.app_context():
        from blueprints.ext import db

        fresh, _ = submit(db.session, when=utcnow(), category=Category.SCANNING)
        old, _ = submit(db.session, when=utcnow() - timedelta(days=8),
                        category=Category.WRONG_RESULT)
        db.session.commit()
        return fresh.number, old.number


def rows(html: str) -> list[str]:
    return re.findall(
        r'<tr( class="overdue")?>\s*<th scope="row"><a href="/staff/feedback/([^"]+)"', html)


def test_queue_page_flags_overdue_tickets(as_role, queue_tickets):
    fresh, old = queue_tickets
    html = as_role(Role.STAFF).get("/staff/feedback").get_data(as_text=True)
    assert rows(html) == [(' class="overdue"', old), ("", fresh)]  # the longest waiting first
    assert html.count("Overdue</span>") == 1


@pytest.mark.parametrize("query, expected", [
    ("?overdue=y", "old"),
    ("?category=scanning", "fresh"),
    ("?status=new&category=wrong_result", "old"),
    ("?status=closed", None),
    ("?assignee=none&priority=normal", "both"),
    ("?status=bogus&category=%3Cx%3E&assignee=999999&page=-3", "both"),  # hand-edited address
])
@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}], ids=["page", "fragment"])
def test_queue_filters_as_page_and_fragment(as_role, queue_tickets, query, expected, headers):
    fresh, old = queue_tickets
    response = as_role(Role.STAFF).get("/staff/feedback" + query, headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("<html" in html) == (not headers)
    shown = [number for _flag, number in rows(html)]
    assert shown == {"old": [old], "fresh": [fresh], None: [], "both": [old, fresh]}[expected]
    if headers:
        assert 'id="queue-status"' in html and 'hx-swap-oob="true"' in html


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}], ids=["page", "fragment"])
def test_queue_pages_keep_the_filters(app, as_role, headers):
    with app.app_context():
        from blueprints.ext import db

        for minutes in range(52):
            submit(db.session, when=utcnow() - timedelta(minutes=minutes),
                   category=Category.SCANNING)
        submit(db.session, when=utcnow(), category=Category.WRONG_RESULT)
        db.session.commit()
    client = as_role(Role.STAFF)
    html = client.get("/staff/feedback?category=scanning", headers=headers).get_data(as_text=True)
    assert len(rows(html)) == 50 and "52 tickets" in html
    assert "Page 1 of 2" in html and "Previous page" not in html
    next_url = re.search(r'<a href="([^"]+)" rel="next" hx-get="\1" hx-target="#ticket-list"',
                         html).group(1).replace("&amp;", "&")
    assert next_url == "/staff/feedback?category=scanning&page=2"
    second = client.get(next_url, headers=headers).get_data(as_text=True)
    assert len(rows(second)) == 2 and "Page 2 of 2" in second and "Next page" not in second
    # A page number past the end (tickets closed meanwhile) shows the last page.
    assert rows(client.get("/staff/feedback?category=scanning&page=9").get_data(as_text=True)) \
        == rows(second)


# --- one ticket --------------------------------------------------------------------------

def trail(html: str) -> list[tuple[str, ...]]:
    table = html.split('id="trail-caption"', 1)[1]
    return re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>"
                      r"<td>([^<]*)</td></tr>", table)


def test_staff_work_a_ticket_and_every_change_is_audited(as_role, ticket_number):
    client = as_role(Role.STAFF, "kim@example.com")
    url = f"/staff/feedback/{ticket_number}"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert "The camera does not read my invoice." in html and "Sent anonymously" not in html
    assert page.headers["Cache-Control"] == "no-store"
    assert client.post(url + "/assign", data={"assignee": str(client.user_id)}).status_code == 303
    assert client.post(url + "/priority", data={"priority": "urgent"}).status_code == 303
    assert client.post(url + "/reply", data={"body": "Please send a photo.",
                                             "then": "waiting_for_reporter"}).status_code == 303
    assert client.post(url + "/status", data={"status": "resolved"}).status_code == 303
    html = client.get(url).get_data(as_text=True)
    assert html.count("Status changed.") == 1  # the confirmation, once
    # Text of unknown direction keeps its own: an address or a reply in an Arabic page.
    assert '<bdi dir="ltr">kim@example.com</bdi> replied' in html
    # … and as the assignee, here and in the queue: an Arabic page kept the address's order.
    assert '<dd><bdi dir="ltr">kim@example.com</bdi></dd>' in html
    queue = client.get("/staff/feedback?status=all").get_data(as_text=True)
    assert '<td><bdi dir="ltr">kim@example.com</bdi></td>' in queue
    assert '<p class="message-body" dir="auto">Please send a photo.</p>' in html
    assert trail(html) == [
        ("Reporter", "Created", "", "Received"),
        ("kim@example.com", "Assigned", "", "kim@example.com"),
        ("kim@example.com", "Priority changed", "Normal", "Urgent"),
        ("kim@example.com", "Reply sent to the reporter", "", ""),
        ("kim@example.com", "Status changed", "Received", "Waiting for the reporter"),
        ("kim@example.com", "Status changed", "Waiting for the reporter", "Resolved"),
    ]


def test_impossible_actions_are_refused_without_losing_the_reply(as_role, ticket_number):
    client = as_role(Role.STAFF)
    url = f"/staff/feedback/{ticket_number}"
    client.post(url + "/status", data={"status": "closed"})
    response = client.post(url + "/reply",
                           data={"body": "Draft answer", "then": "waiting_for_reporter"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "A reply cannot move a ticket that is “Closed” to that status." in html
    assert "Draft answer" in html
    # A closed ticket's reply can only reopen it, and the form offers only that.
    then = re.search(r'<select[^>]*name="then".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option[^>]*value="([^"]+)"', then) == ["in_progress"]
    assert client.post(url + "/reply", data={"body": "Reopened with an answer",
                                             "then": "in_progress"}).status_code == 303
    response = client.post(url + "/reply", data={"body": "  "})
    assert response.status_code == 422
    assert "Write the reply first." in response.get_data(as_text=True)
    assert client.post(url + "/status", data={"status": "new"}).status_code == 303  # not offered
    assert "That status change is not possible" in client.get(url).get_data(as_text=True)
    for action, data in (("assign", {"assignee": "999"}), ("priority", {"priority": "panic"}),
                         ("status", {"status": "gone"})):
        assert client.post(f"{url}/{action}", data=data).status_code == 400
    assert client.get("/staff/feedback/FB-1999-000001").status_code == 404


# --- reports -----------------------------------------------------------------------------

@pytest.fixture
def known(app, make_user, monkeypatch):
    import blueprints.staff.reports as reports

    monkeypatch.setattr(reports, "utcnow", lambda: NOW)
    staff_id = make_user(email="reports@example.com", role=Role.STAFF)
    with app.app_context():
        from blueprints.ext import db

        known_report(db.session, staff_id)
    return staff_id


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff") and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(text[1:])))


def test_report_page_has_charts_tables_and_the_fixtures_numbers(app, known, login):
    client = login(english(app.test_client()), known)
    html = client.get("/staff/reports?weeks=4").get_data(as_text=True)
    assert html.count('<svg class="chart-svg"') == 4
    # Each bar names its week, its series and its figure, as a pointer hover shows it.
    bars = re.findall(r'<rect class="chart-c\d chart-segment"[^>]*><title>([^<]*)</title>', html)
    assert bars[:4] == ["Nov 9, Wrong result: 1", "Nov 9, Scanning problem: 1",
                        "Nov 16, Wrong result: 1", "Nov 16, Accessibility: 1"]
    assert "Nov 9, Resolution (hours): 36.0" in bars
    assert html.count('<table class="report-table">') == 5  # the four charts' data, FAQ votes
    assert "<script" not in html.split("<main", 1)[1]
    summary = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))
    assert summary["Tickets received"] == "4"
    assert summary["Median time to first reply"] == "4.0 hours"
    assert summary["Median time to resolution"] == "36.0 hours"
    assert summary["Satisfaction"] == "4.0 of 5, from 2 ratings"


def test_report_csv_exports_match_the_fixture(app, known, login):
    client = login(app.test_client(), known)
    categories = read_csv(client.get("/staff/reports/categories.csv?weeks=4",
                                     headers={"Accept-Language": "en"}))
    assert categories == [
        ["Week of", "Wrong result", "Scanning problem", "Accessibility", "Suggestion",
         "Something else", "Total"],
        ["2026-10-26", "0", "0", "0", "0", "0", "0"],
        ["2026-11-02", "0", "0", "0", "0", "0", "0"],
        ["2026-11-09", "1", "1", "0", "0", "0", "2"],
        ["2026-11-16", "1", "0", "1", "0", "0", "2"],
    ]
    statuses = read_csv(client.get("/staff/reports/statuses.csv?weeks=4"))
    assert statuses[-2:] == [["2026-11-09", "0", "0", "0", "2", "0", "2"],
                             ["2026-11-16", "1", "0", "1", "0", "0", "2"]]
    times = read_csv(client.get("/staff/reports/response-times.csv?weeks=4"))
    assert times[-2:] == [["2026-11-09", "7.0", "36.0"], ["2026-11-16", "2.0", ""]]
    ratings = read_csv(client.get("/staff/reports/satisfaction.csv?weeks=4"))
    assert ratings[1:] == [["1", "0"], ["2", "0"], ["3", "1"], ["4", "0"], ["5", "1"]]
    faq = read_csv(client.get("/staff/reports/faq.csv"))
    assert ["daily-limit", "0", "0"] in faq
    assert client.get("/staff/reports/secrets.csv").status_code == 404


# --- staff accounts ----------------------------------------------------------------------

def test_words_with_two_meanings_get_a_translation_for_each(as_role, ticket_number):
    """"Total", "Received", "Created", "Staff" and "Normal" each name two things; one shared
    translation showed an invoice's "价税合计" as a report's row total, a ticket's status as
    "date received" in Arabic, and the staff role as a plural in Russian."""
    admin = as_role(Role.ADMIN)

    def page(url, language):
        return admin.get(url, headers={"Accept-Language": language}).get_data(as_text=True)

    zh_report, zh_ticket = page("/staff/reports", "zh-CN"), page(f"/staff/feedback/{ticket_number}", "zh-CN")
    assert "合计" in zh_report and "价税合计" not in zh_report
    assert "已创建" in zh_ticket and "创建时间" not in zh_ticket
    assert "收到时间" in zh_ticket and "发票状态" not in zh_ticket
    ar_ticket = page(f"/staff/feedback/{ticket_number}", "ar")
    assert "تم الاستلام" in ar_ticket and "تاريخ الاستلام" in ar_ticket  # its status, its date
    ru_users = page("/staff/users", "ru")
    assert ">Сотрудник<" in ru_users and ">Сотрудники<" in ru_users  # the role, the header link
    assert ">Обычный<" in page(f"/staff/feedback/{ticket_number}", "ru")


def test_create_admin_from_the_command_line(runner, app):
    result = runner.invoke(args=["users", "create-admin", "boss@example.com"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0 and "Administrator boss@example.com created." in result.output
    again = runner.invoke(args=["users", "create-admin", "boss@example.com",
                                "--password", PASSWORD])
    assert again.exit_code == 1 and "exists already" in again.output
    short = runner.invoke(args=["users", "create-admin", "two@example.com", "--password", "short"])
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    with app.app_context():
        from blueprints.ext import db
        from yanpiao.accounts import find_user

        admin = find_user(db.session, "boss@example.com")
        assert admin.role == "admin" and admin.check_password(PASSWORD)


def test_admins_manage_staff_accounts(app, as_role, login):
    admin = as_role(Role.ADMIN, "boss@example.com")
    response = admin.post("/staff/users", data={"email": "new@example.com", "password": PASSWORD,
                                                "role": "staff"})
    assert response.status_code == 303
    html = admin.get("/staff/users").get_data(as_text=True)
    assert "Account new@example.com created." in html
    new_id = int(re.search(r'action="/staff/users/(\d+)/role"', html).group(1))

    colleague = login(english(app.test_client()), new_id)
    assert colleague.get("/staff/feedback").status_code == 200
    assert colleague.get("/staff/users").status_code == 403
    assert admin.post(f"/staff/users/{new_id}/role", data={"role": "admin"}).status_code == 303
    assert colleague.get("/staff/users").status_code == 200
    assert admin.post(f"/staff/users/{new_id}/active", data={"active": "0"}).status_code == 303
    assert colleague.get("/staff").status_code == 302  # deactivated: signed out at once
    # Reactivated, the account signs in afresh: the old session stays ended.
    assert admin.post(f"/staff/users/{new_id}/active", data={"active": "1"}).status_code == 303
    assert colleague.get("/staff").status_code == 302
    assert login(english(app.test_client()), new_id).get("/staff").status_code == 200

    html = admin.get("/staff/users").get_data(as_text=True)
    changes = html.split('id="changes-caption"', 1)[1]
    actions = re.findall(r"<td>boss@example.com</td><td>new@example.com</td><td>([^<]+)</td>",
                         changes)
    assert actions == ["Access changed", "Access changed", "Role changed", "Created"]


def test_staff_access_taken_away_can_be_given_back(app, as_role, login):
    """A colleague set to "No staff access" vanished from the list, and adding them again
    said the account existed: only a hand-made request could restore them."""
    admin = as_role(Role.ADMIN, "boss@example.com")
    colleague_id = as_role(Role.STAFF, "colleague@example.com").user_id
    assert admin.post(f"/staff/users/{colleague_id}/role", data={"role": "user"}).status_code == 303
    html = admin.get("/staff/users").get_data(as_text=True)
    members = html.split('id="members-caption"', 1)[1].split("</table>", 1)[0]
    row = re.search(r"colleague@example.com.*?</tr>", members, re.S).group(0)
    assert '<option value="user" selected>No staff access</option>' in row
    assert admin.post(f"/staff/users/{colleague_id}/role", data={"role": "staff"}).status_code == 303
    colleague = login(english(app.test_client()), colleague_id)
    assert colleague.get("/staff/feedback").status_code == 200


def test_tickets_of_a_deactivated_colleague_stay_theirs_and_findable(app, as_role, ticket_number):
    """The ticket page preselected "Nobody" for a deactivated holder (pressing Assign
    unassigned it), and the queue's filter for them fell back to every ticket."""
    admin = as_role(Role.ADMIN, "boss@example.com")
    holder_id = as_role(Role.STAFF, "leaver@example.com").user_id
    url = f"/staff/feedback/{ticket_number}"
    assert admin.post(url + "/assign", data={"assignee": str(holder_id)}).status_code == 303
    assert admin.post(f"/staff/users/{holder_id}/active", data={"active": "0"}).status_code == 303

    page = admin.get(url).get_data(as_text=True)
    assert (f'<option value="{holder_id}" selected>leaver@example.com (no longer on staff)'
            in page)
    assert admin.post(url + "/assign", data={"assignee": str(holder_id)}).status_code == 303
    with app.app_context():
        from blueprints.ext import db
        from yanpiao.feedback import find_by_number

        assert find_by_number(db.session, ticket_number).assigned_to_id == holder_id
    with app.app_context():
        from blueprints.ext import db
        from feedback_fixtures import submit

        submit(db.session, when=utcnow(), category=Category.SCANNING, message="Another one.")
        db.session.commit()
    everything = admin.get("/staff/feedback").get_data(as_text=True)
    theirs = admin.get(f"/staff/feedback?assignee={holder_id}").get_data(as_text=True)
    assert "2 tickets" in everything and "1 ticket" in theirs and ticket_number in theirs


@pytest.mark.parametrize("data, message", [
    ({"email": "nobody", "password": PASSWORD, "role": "staff"}, "Enter an email address"),
    ({"email": "x@example.com", "password": "short", "role": "staff"}, "at least 12 characters"),
    ({"email": "boss@example.com", "password": PASSWORD, "role": "staff"}, "exists already"),
    ({"email": "", "password": "", "role": "staff"}, "Enter the new colleague"),
])
def test_creating_a_staff_account_explains_problems(as_role, data, message):
    response = as_role(Role.ADMIN, "boss@example.com").post("/staff/users", data=data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_creating_a_staff_account_names_every_problem_at_once(as_role):
    """A bad email address and a short password: only the email was named, and the password
    only after that was corrected."""
    response = as_role(Role.ADMIN).post("/staff/users", data={
        "email": "nobody", "password": "short", "role": "staff"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter an email address" in html and "at least 12 characters" in html


def test_an_admin_cannot_lock_themselves_out(as_role):
    admin = as_role(Role.ADMIN, "boss@example.com")
    for action, data in (("active", {"active": "0"}), ("role", {"role": "staff"})):
        assert admin.post(f"/staff/users/{admin.user_id}/{action}", data=data).status_code == 303
        assert "You cannot change your own role or access" in admin.get("/staff/users").get_data(
            as_text=True)
    assert admin.get("/staff/users").status_code == 200


def test_the_last_administrator_cannot_delete_their_account(app, as_role, make_user):
    """Role changes and deactivation already keep one active administrator; deleting one's own
    account must not leave the staff pages without anyone to manage them."""
    from yanpiao.accounts import User

    from html import unescape

    def html_text(response):
        return unescape(response.get_data(as_text=True))

    admin = as_role(Role.ADMIN)
    page = html_text(admin.get("/account"))
    assert "You are the only active administrator" in page
    assert 'action="/account/delete"' not in admin.get("/account").get_data(as_text=True)
    assert "It cannot be undone" not in page  # no description of a deletion not offered
    refused = admin.post("/account/delete", data={"del-password": "correct horse battery"})
    assert refused.status_code == 409
    assert "You are the only active administrator" in html_text(refused)
    with app.app_context():
        from blueprints.ext import db

        assert db.session.get(User, admin.user_id) is not None
    # With a second active administrator it can go.
    make_user(email="second@example.com", role=Role.ADMIN)
    assert 'action="/account/delete"' in admin.get("/account").get_data(as_text=True)
    done = admin.post("/account/delete", data={"del-password": "correct horse battery"})
    assert done.status_code == 303
    with app.app_context():
        from blueprints.ext import db

        assert db.session.get(User, admin.user_id) is None
