"""The /history pages: whose checks, filters (page and htmx fragment), exports, deleting, purge."""

import csv
import html
import io
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from factories import TODAY
from yanpiao.models import VerificationRecord
from yanpiao.verification import verify

PASSWORD = "correct horse battery"
HTMX = {"HX-Request": "true", "HX-Target": "history-list"}


@pytest.fixture(autouse=True)
def setup(app, tmp_path):
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["YANPIAO_RECEIPT_KEY_DIR"] = str(tmp_path / "keys")


@pytest.fixture
def stored(make_invoice):
    return make_invoice()


@pytest.fixture
def fields(stored):
    return {"invoice_code": stored["invoice_code"], "invoice_number": stored["invoice_number"],
            "issue_date": stored["issue_date"], "check_code": "294433"}


def new_client(app):
    client = app.test_client()
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def client(app):
    return new_client(app)


def text(response) -> str:
    return response.get_data(as_text=True)


def check(client, fields, **overrides) -> str:
    """Verify through the page, as a visitor does; returns the receipt id."""
    response = client.post("/verify", data={**fields, **overrides})
    assert response.status_code == 303, text(response)
    return response.headers["Location"].rsplit("/", 1)[1]


def listed(client, query="", **kwargs) -> list[str]:
    page = text(client.get(f"/history{query}", **kwargs))
    return re.findall(r'href="/history/([A-Z2-7]{20})"', page)


def sign_in(client, email="user@example.com"):
    response = client.post("/login", data={"login": email, "password": PASSWORD})
    assert response.status_code == 303
    return response


def record(app, receipt_id) -> VerificationRecord | None:
    with app.app_context():
        from blueprints.ext import db

        return db.session.get(VerificationRecord, receipt_id)


def test_an_anonymous_visitor_has_a_history_of_their_own(app, client, fields):
    empty = text(client.get("/history"))
    assert "No checks yet." in empty and "Sign in" in empty
    receipt = check(client, fields)
    assert listed(client) == [receipt]
    assert listed(new_client(app)) == []


def test_anonymous_history_moves_into_the_account_on_sign_in(app, client, fields, make_user):
    make_user()
    before = check(client, fields)
    response = sign_in(client)
    page = text(client.get(response.headers["Location"]))
    assert "1 check made in this browser was added to your history." in page
    assert listed(client) == [before]
    during = check(client, fields)
    assert record(app, during).user_id is not None
    # On another device the account's history is all there.
    elsewhere = new_client(app)
    sign_in(elsewhere)
    assert set(listed(elsewhere)) == {before, during}
    # After signing out, this browser starts an empty anonymous history.
    client.post("/logout")
    assert listed(client) == []
    assert client.get(f"/history/{before}").status_code == 404
    assert client.get(f"/verify/results/{during}").status_code == 404


def test_the_detail_shows_the_stored_result_and_its_receipt(client, fields):
    receipt = check(client, fields)
    page = text(client.get(f"/history/{receipt}"))
    assert "verdict-ok" in page and "北京星河科技有限公司" in page
    assert f'/receipts/{receipt}?k=' in page and f'/receipts/{receipt}.pdf?k=' in page
    assert f'action="/history/{receipt}/verify-again"' in page
    assert f'action="/history/{receipt}/delete"' in page


def test_the_detail_of_a_check_that_failed_says_what_was_checked(client, fields):
    """A mismatch showed only its verdict: which invoice, which date, nobody could tell."""
    receipt = check(client, fields, check_code="000000")
    page = html.unescape(text(client.get(f"/history/{receipt}")))
    given = page.split('id="given-title"')[1].split("</section>")[0]
    assert "Invoice number</dt><dd><bdi dir=\"ltr\">12345678</bdi>" in given
    assert "Check code (last 6 digits)</dt><dd><bdi dir=\"ltr\">000000</bdi>" in given
    assert "Issue date" in given
    # A found invoice shows its own details instead.
    found = text(client.get(f"/history/{check(client, fields)}"))
    assert 'id="given-title"' not in found


def test_verify_again_makes_a_new_check(app, client, fields):
    first = check(client, fields)
    response = client.post(f"/history/{first}/verify-again")
    assert response.status_code == 303
    again = response.headers["Location"].rsplit("/", 1)[1]
    assert again != first
    assert "Check number 2" in text(client.get(response.headers["Location"]))
    assert listed(client) == [again, first]


def test_delete_one(client, fields):
    keep, gone = check(client, fields), check(client, fields)
    response = client.post(f"/history/{gone}/delete")
    assert response.status_code == 303
    assert "The check was deleted" in text(client.get("/history"))
    assert listed(client) == [keep]
    assert client.post(f"/history/{gone}/delete").status_code == 404


def test_delete_all_asks_first(client, fields):
    check(client, fields)
    check(client, fields)
    confirm = client.get("/history/delete-all")
    assert "This deletes all 2 checks" in text(confirm)
    assert len(listed(client)) == 2  # asking changed nothing
    response = client.post("/history/delete-all")
    assert response.status_code == 303
    assert "2 checks were deleted." in text(client.get("/history"))
    assert listed(client) == []


def test_nobody_reaches_another_users_checks_by_their_id(app, fields, make_user):
    make_user()
    make_user(email="mallory@example.com")
    owner, mallory, anonymous = new_client(app), new_client(app), new_client(app)
    sign_in(owner)
    sign_in(mallory, "mallory@example.com")
    receipt = check(owner, fields)
    for intruder in (mallory, anonymous):
        assert intruder.get(f"/history/{receipt}").status_code == 404
        elsewhere = intruder.get(f"/verify/results/{receipt}", headers={"Accept-Language": "en"})
        assert elsewhere.status_code == 404
        # The address bar showed it like a shareable link: the page says what it is.
        assert "shown only in the browser or account that made it" in html.unescape(
            elsewhere.get_data(as_text=True))
        assert intruder.post(f"/history/{receipt}/delete").status_code == 404
        assert intruder.post(f"/history/{receipt}/verify-again").status_code == 404
        intruder.post("/history/delete-all")
        assert receipt not in text(intruder.get("/history/export.csv"))
        assert listed(intruder) == []
        for path in (f"/receipts/{receipt}", f"/receipts/{receipt}.pdf",
                     f"/receipts/{receipt}.txt"):
            assert intruder.get(path).status_code == 404
    assert record(app, receipt) is not None
    assert listed(owner) == [receipt]


@pytest.fixture
def varied(app, stored, client):
    """Five checks of this browser: three outcomes over three days."""
    with client.session_transaction() as session:
        session["owner"] = "browser-key"
    now = datetime.now(UTC)
    plan = [  # oldest first, as they happened
        ("not_found", {"invoice_code": "", "invoice_number": "26112000000000000009",
                       "check_code": "", "amount": "1130.00",
                       "issue_date": (TODAY - timedelta(days=60)).isoformat()},
         now - timedelta(days=30)),
        ("mismatch", {"check_code": "000000"}, now - timedelta(days=2)),
        ("not_found", {"invoice_number": "87654321"}, now - timedelta(days=2)),
        ("match", {}, now - timedelta(days=1)),
        ("match", {}, now),
    ]
    made = {}
    with app.app_context():
        from blueprints.ext import db

        for outcome, changes, when in plan:
            data = {"invoice_code": stored["invoice_code"],
                    "invoice_number": stored["invoice_number"],
                    "issue_date": stored["issue_date"], "check_code": "294433", **changes}
            result = verify(db.session, data, now=when, owner_key="browser-key")
            assert result.outcome.value == outcome
            made.setdefault(outcome, []).append(result.receipt_id)
    return made


def days_ago(n: int) -> str:
    """A day of the service's calendar (Asia/Shanghai), n days back."""
    return (datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=n)).isoformat()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["match", "match", "mismatch", "not_found", "not_found"]),
        ("?outcome=match", ["match", "match"]),
        ("?outcome=not_found", ["not_found", "not_found"]),
        ("?invoice_type=04", ["match", "match", "mismatch", "not_found"]),
        ("?number=8765", ["not_found"]),
        ("?number=%EF%BC%98%EF%BC%97%EF%BC%96", ["not_found"]),  # full-width digits
    ],
    ids=["all", "outcome-match", "outcome-not-found", "type", "number", "full-width-number"],
)
def test_filters_as_page_and_fragment(client, varied, query, expected):
    def outcomes(ids):
        return sorted(next(o for o, made in varied.items() if i in made) for i in ids)

    assert outcomes(listed(client, query)) == sorted(expected)
    fragment = client.get(f"/history{query}", headers=HTMX)
    body = text(fragment)
    assert "<html" not in body and 'hx-swap-oob="true"' in body
    assert "HX-Request" in fragment.headers["Vary"]
    assert outcomes(re.findall(r'href="/history/([A-Z2-7]{20})"', body)) == sorted(expected)


def test_date_range_filter(client, varied):
    yesterday = listed(client, f"?checked_from={days_ago(2)}&checked_to={days_ago(1)}")
    assert set(yesterday) == {varied["match"][0], varied["mismatch"][0], varied["not_found"][1]}
    assert listed(client, f"?checked_to={days_ago(20)}") == [varied["not_found"][0]]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?checked_from=yesterday", "Enter a real date"),
        ("?checked_from=2026-02-30", "Enter a real date"),
        (f"?checked_from={TODAY.isoformat()}&checked_to=2000-01-01", "same as or after the start"),
        ("?number=abc", "Enter up to 20 digits"),
        ("?number=" + "1" * 21, "Enter up to 20 digits"),
        ("?outcome=everything", "Choose an outcome from the list."),
        ("?invoice_type=99", "Choose an invoice type from the list."),
        ("?page=-3", None),
        ("?page=abc", None),
    ],
)
def test_bad_filters_are_explained_and_ignored(client, varied, query, message):
    response = client.get(f"/history{query}")
    page = text(response)
    assert response.status_code == 200
    assert len(re.findall(r'href="/history/([A-Z2-7]{20})"', page)) >= 1
    if message:
        assert message in page and 'class="error-summary"' in page
        fragment = text(client.get(f"/history{query}", headers=HTMX))
        assert message in fragment  # the swapped-in filter fields carry it


def test_pages_of_twenty(app, client, stored):
    with client.session_transaction() as session:
        session["owner"] = "browser-key"
    with app.app_context():
        from blueprints.ext import db

        for i in range(23):
            verify(db.session, {"invoice_code": "011002400104", "invoice_number": f"{i:08d}",
                                "issue_date": stored["issue_date"], "check_code": "111111"},
                   owner_key="browser-key", now=datetime.now(UTC) - timedelta(minutes=i))
    first = text(client.get("/history?outcome=not_found"))
    assert "23 checks found." in first and "Page 1 of 2" in first
    [next_page] = re.findall(r'<a href="([^"]+)" rel="next"', first)
    path, query = html.unescape(next_page).split("?")
    assert path == "/history" and parse_qs(query) == {"page": ["2"], "outcome": ["not_found"]}
    second = client.get("/history?page=2&outcome=not_found", headers=HTMX)
    assert len(re.findall(r'href="/history/([A-Z2-7]{20})"', text(second))) == 3
    assert "Previous page" in text(second)


def exported(client, fmt, query=""):
    response = client.get(f"/history/export.{fmt}{query}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    return response


def test_csv_export_of_the_filtered_list(client, varied):
    response = exported(client, "csv", "?outcome=match")
    assert response.data.startswith(b"\xef\xbb\xbf") and response.mimetype == "text/csv"
    # Said once: "text/csv; charset=utf-8; charset=utf-8" puzzled strict clients.
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [row["Receipt"] for row in rows] == listed(client, "?outcome=match")
    first = rows[0]
    assert first["Invoice code"] == "011002400104"  # leading zero kept
    assert first["Invoice number"] == "12345678" and first["Check code (last 6 digits)"] == "294433"
    assert first["Issue date"] == date.fromisoformat(first["Issue date"]).isoformat()
    assert first["Check number"] == "2"


def test_xlsx_export_has_typed_cells(client, varied):
    response = exported(client, "xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert [row["Receipt"] for row in rows] == listed(client)
    assert all(isinstance(row["Checked at"], datetime) for row in rows)
    assert all(isinstance(row["Issue date"], datetime) for row in rows)  # Excel dates
    # Codes stay text with their leading zero; a fully digital invoice has none.
    assert {row["Invoice code"] for row in rows} == {"011002400104", None}
    newest = rows[0]
    assert newest["Check number"] == 2 and isinstance(newest["Check number"], int)


def test_amounts_export_as_numbers(app, make_invoice):
    make_invoice(type="01", invoice_code="1100245130", invoice_number="00000001", check_code="")
    client = new_client(app)
    check(client, {"invoice_code": "1100245130", "invoice_number": "00000001",
                   "issue_date": (TODAY - timedelta(days=10)).isoformat(), "amount": "1,000.0"})
    sheet = load_workbook(io.BytesIO(exported(client, "xlsx").data)).active
    header = [cell.value for cell in sheet[1]]
    amount = sheet.cell(row=2, column=header.index("Amount") + 1)
    assert amount.value == 1000 and amount.data_type == "n" and amount.number_format == "#,##0.00"
    rows = list(csv.reader(io.StringIO(exported(client, "csv").data.decode("utf-8-sig"))))
    assert rows[1][header.index("Amount")] == "1000.00"


def test_exports_of_nobody_are_empty_and_unknown_formats_404(client):
    rows = list(csv.reader(io.StringIO(exported(client, "csv").data.decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0][1] == "Receipt"
    assert client.get("/history/export.json").status_code == 404


def test_purge_command_keeps_the_retention_period(app, runner, stored):
    with app.app_context():
        from blueprints.ext import db

        old = verify(db.session, {"invoice_code": "011002400104", "invoice_number": "12345678",
                                  "issue_date": stored["issue_date"], "check_code": "294433"},
                     owner_key="k", now=datetime.now(UTC) - timedelta(days=40)).receipt_id
        new = verify(db.session, {"invoice_code": "011002400104", "invoice_number": "12345678",
                                  "issue_date": stored["issue_date"], "check_code": "294433"},
                     owner_key="k").receipt_id
    app.config["YANPIAO_HISTORY_RETENTION_DAYS"] = 0
    result = runner.invoke(args=["history", "purge"])
    assert result.exit_code == 0 and "nothing purged" in result.output
    app.config["YANPIAO_HISTORY_RETENTION_DAYS"] = 60
    assert "Purged 0" in runner.invoke(args=["history", "purge"]).output
    # A negative number of days passed for "keep for good" and purged nothing, silently.
    refused = runner.invoke(args=["history", "purge", "--days", "-1"])
    assert refused.exit_code == 2 and "-1 is not in the range x>=0" in refused.output
    assert record(app, old) is not None and record(app, new) is not None
    result = runner.invoke(args=["history", "purge", "--days", "30"])
    assert result.exit_code == 0 and "Purged 1 verification records made before" in result.output
    assert record(app, old) is None and record(app, new) is not None
    with app.app_context():
        from blueprints.ext import db

        assert db.session.scalars(select(VerificationRecord.id)).all() == [new]
