"""Staff registry pages: imports through the browser, search, invoice detail, status changes."""

from __future__ import annotations

import html
import io
import json
import re

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError

from blueprints.registry_admin import wait_for_imports
from factories import invoice_record
from import_files import as_csv, as_jsonl
from yanpiao import registry, upkeep
from yanpiao.accounts import Role
from yanpiao.models import Invoice
from yanpiao.upkeep import InvoiceStatusChange

EN = {"Accept-Language": "en"}
HTMX = {"HX-Request": "true", **EN}
STORED = invoice_record()


def csrf_token(client, url: str) -> str:
    page = client.get(url, headers=EN).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def staff(client, make_user, login):
    return login(client, make_user(email="officer@example.com", role=Role.STAFF))


def registry_state(app) -> dict:
    """What an import can change: every invoice, and the status changes it recorded."""
    with app.app_context():
        from blueprints.ext import db

        invoices = sorted(
            (dict(registry.snapshot(i).to_dict(), demo=i.is_demo)
             for i in db.session.scalars(select(Invoice))),
            key=lambda r: (r["invoice_code"], r["invoice_number"]),
        )
        changes = [(c.from_status, c.to_status, c.import_line)
                   for c in db.session.scalars(select(InvoiceStatusChange))]
        return {"invoices": invoices, "changes": changes}


def upload(client, data: bytes, filename: str):
    token = csrf_token(client, "/staff/registry/imports")
    return client.post(
        "/staff/registry/imports", headers=EN, content_type="multipart/form-data",
        data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
    )


def import_through_the_browser(app, client, data: bytes, filename: str) -> str:
    response = upload(client, data, filename)
    assert response.status_code == 303, response.get_data(as_text=True)
    wait_for_imports(app)
    return client.get(response.headers["Location"], headers=EN).get_data(as_text=True)


# --- who may open the pages ---------------------------------------------------------------

PAGES = [
    ("get", "/staff/registry/"),
    ("get", "/staff/registry/?number=1"),
    ("get", "/staff/registry/invoices/1"),
    ("get", "/staff/registry/imports"),
    ("get", "/staff/registry/imports/1"),
    ("post", "/staff/registry/imports"),
    ("post", "/staff/registry/invoices/1/status"),
    ("post", "/staff/registry/imports/1/retry"),
]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(app, client, method, url):
    app.config["WTF_CSRF_ENABLED"] = False
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_plain_accounts_are_refused(app, client, make_user, login, method, url):
    app.config["WTF_CSRF_ENABLED"] = False
    login(client, make_user(email="visitor@example.com"))
    assert getattr(client, method)(url).status_code == 403


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_staff_and_administrators_get_in(client, make_user, login, role):
    login(client, make_user(email="someone@example.com", role=role))
    assert client.get("/staff/registry/", headers=EN).status_code == 200


# --- imports ------------------------------------------------------------------------------


def file_for(records, bad_lines, file_format) -> bytes:
    if file_format == "jsonl":
        return as_jsonl(*records, extra_lines=bad_lines)
    return as_csv(*records).encode()


def reset_registry(app) -> None:
    """Back to the registry before the file: only STORED, nothing in its history."""
    with app.app_context():
        from blueprints.ext import db

        db.session.execute(delete(InvoiceStatusChange))
        db.session.execute(delete(Invoice))
        db.session.commit()
        registry.store_invoice(db.session, registry.parse_import_record(STORED))
        db.session.commit()


@pytest.mark.parametrize("file_format", ["jsonl", "csv"])
def test_the_browser_imports_exactly_what_the_command_line_imports(
    app, client, runner, staff, tmp_path, file_format
):
    records = [
        invoice_record(invoice_number="40000001"),
        invoice_record(status="void", remarks="voided by the issuer"),  # replaces STORED
        invoice_record(type="32", invoice_code="", invoice_number="26112000000000000009",
                       check_code="", items=[]),
        invoice_record(invoice_number="40000002", amount="ten"),  # refused
        invoice_record(invoice_number="40000001", drawer="李雷"),  # the same again: wins
    ]
    data = file_for(records, ["{not json", json.dumps({"type": "99"})], file_format)
    path = tmp_path / f"issuer.{file_format}"
    path.write_bytes(data)

    reset_registry(app)
    page = html.unescape(import_through_the_browser(app, client, data, path.name))
    through_the_browser = registry_state(app)
    reset_registry(app)
    result = runner.invoke(args=["registry", "import", str(path)])
    through_the_command_line = registry_state(app)

    assert through_the_browser == through_the_command_line
    assert len(through_the_browser["invoices"]) == 3
    assert through_the_browser["changes"] == [("normal", "void", 3 if file_format == "csv" else 4)]
    summary = re.search(r"Imported: (\d+) added, (\d+) updated, (\d+) refused", result.output)
    added, updated, refused = map(int, summary.groups())
    assert (added, updated, refused) == ((2, 2, 1) if file_format == "csv" else (2, 2, 3))
    assert f"{added} invoices added" in page and f"{updated} invoices updated" in page
    assert (f"{refused} lines refused" if refused > 1 else "1 line refused") in page
    refused_lines = re.findall(r"line (\d+): (.+)", result.output)
    assert len(refused_lines) == refused
    for line, reason in refused_lines:
        assert f'<th scope="row" class="num">{line}</th><td>{reason}</td>' in page
    assert result.exit_code == 1


def test_refused_lines_are_explained_in_the_readers_language(app, client, staff):
    records = [
        invoice_record(invoice_number="40000002", amount="ten"),
        invoice_record(invoice_number="40000003", items=[{"name": "咨询服务"}]),
    ]
    reset_registry(app)
    broken = '{"invoice_code": "011001900411" "invoice_number": "40000004"}'
    response = upload(client, as_jsonl(*records, extra_lines=[json.dumps({"type": "99"}), broken]),
                      "issuer.jsonl")
    wait_for_imports(app)
    chinese = client.get(response.headers["Location"], headers={"Accept-Language": "zh-CN"})
    page = html.unescape(chinese.get_data(as_text=True))
    assert 'lang="zh-Hans"' in page
    # Field names and the file's own values stay as written; the words around them are Chinese.
    assert "<td>'amount' 不是金额：'ten'</td>" in page
    assert "<td>第 1 个明细：缺少 'amount'</td>" in page
    assert "<td>未知的发票类型 '99'</td>" in page
    # What the JSON parser found, in words of the reader's language too.
    assert "<td>不是有效的 JSON：两个值之间缺少逗号（第 33 列）</td>" in page


def test_a_database_error_half_way_leaves_the_registry_untouched(app, client, staff, make_invoice,
                                                                 monkeypatch):
    make_invoice()
    before = registry_state(app)
    write, calls = registry._write_batch, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return write(*args, **kwargs)

    monkeypatch.setattr(registry, "_write_batch", failing)
    records = [invoice_record(invoice_number=f"{n:08d}") for n in range(1, 800)]
    records.append(invoice_record(status="void"))
    page = import_through_the_browser(app, client, as_jsonl(*records), "issuer.jsonl")
    assert "Stopped: nothing was stored" in page
    assert "the registry is as it was before" in page
    assert "disk I/O error" in page
    assert registry_state(app) == before

    monkeypatch.undo()
    job_url = re.search(r'action="(/staff/registry/imports/\d+/retry)"', page).group(1)
    token = csrf_token(client, job_url.removesuffix("/retry"))
    response = client.post(job_url, data={"csrf_token": token}, headers=EN)
    assert response.status_code == 303
    wait_for_imports(app)
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "799 invoices added" in page and "1 invoice updated" in page
    assert registry_state(app)["changes"] == [("normal", "void", 800)]

    # The second click of a double click on "Run this import again" answered 409 with the
    # text of a server error; it now leads back to the import, which says where it stands.
    again = client.post(job_url, data={"csrf_token": token}, headers=EN, follow_redirects=True)
    page = again.get_data(as_text=True)
    assert again.status_code == 200 and "799 invoices added" in page
    assert "This import runs again only after it failed or was interrupted" in page
    assert registry_state(app)["changes"] == [("normal", "void", 800)]


@pytest.mark.parametrize(("filename", "data", "message"), [
    (None, b"", "Choose a JSON Lines or CSV file to import."),
    ("invoices.xlsx", b"PK\x03\x04", "Choose a JSON Lines file (.jsonl) or a CSV file (.csv)."),
    ("invoices.csv", b"\n \n", "The file is empty."),
    ("invoices.jsonl", b"\xff\xfe\x00\x00\xff", "The file is not text in UTF-8 or GB18030."),
])
def test_files_that_cannot_be_imported_are_refused_by_the_form(client, staff, filename, data,
                                                               message):
    token = csrf_token(client, "/staff/registry/imports")
    form = {"csrf_token": token}
    if filename:
        form["file"] = (io.BytesIO(data), filename)
    response = client.post("/staff/registry/imports", data=form, headers=EN,
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="error-summary"' in page and message in page
    assert 'aria-invalid="true"' in page


def test_one_import_at_a_time(app, client, staff):
    with app.app_context():
        from blueprints.ext import db

        upkeep.create_import_job(db.session, "first.jsonl", b'{"type": "04"}\n')
    response = upload(client, b'{"type": "04"}\n', "second.jsonl")
    assert response.status_code == 422
    assert "Another import (first.jsonl) is still running" in response.get_data(as_text=True)


def test_progress_page_and_fragment_while_running_and_when_done(app, client, staff):
    with app.app_context():
        from blueprints.ext import db

        job = upkeep.create_import_job(db.session, "big.jsonl", b'{"type": "04"}\n' * 40)
        job_id = job.id
    url = f"/staff/registry/imports/{job_id}"
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert "<h1>Import of big.jsonl</h1>" in page
    assert 'hx-trigger="every 1s"' in page and f'href="{url}">Refresh to see the progress' in page
    assert '<progress id="import-bar" class="import-bar" max="40" value="0">' in page
    fragment = client.get(url, headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]
    assert body.lstrip().startswith('<div id="import-progress"') and "<html" not in body
    assert 'hx-trigger="every 1s"' in body and "hx-swap-oob" not in body

    with app.app_context():
        from blueprints.ext import db

        upkeep.run_import_job(db.session, job_id)
    body = client.get(url, headers=HTMX).get_data(as_text=True)
    assert "hx-trigger" not in body  # polling stops
    assert '<div id="import-announcement" hx-swap-oob="innerHTML">Finished</div>' in body
    assert "40 lines refused" in body
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert 'role="status">Finished</div>' in page


def test_imports_page_lists_recent_jobs(app, client, staff):
    import_through_the_browser(app, client, b'{"type": "04"}\n', "listed.jsonl")
    page = client.get("/staff/registry/imports", headers=EN).get_data(as_text=True)
    assert "listed.jsonl" in page and "officer@example.com" in page and "Finished" in page


# --- search -------------------------------------------------------------------------------


@pytest.fixture
def three(make_invoice):
    make_invoice(invoice_number="50000001")
    make_invoice(invoice_number="50000002", status="void")
    make_invoice(invoice_number="60000003", seller={"name": "天津海河", "tax_id": "91120000X"})


def test_search_page_and_fragment(client, staff, three):
    url = "/staff/registry/?number=5000&status=void"
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert "<h1>Search the invoice registry</h1>" in page
    assert "1 invoice found" in page and "50000002" in page and "50000001" not in page
    fragment = client.get(url, headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="registry-search">') and "<html" not in fragment
    assert '<p id="search-status" hx-swap-oob="innerHTML">1 invoice found</p>' in fragment
    assert 'hx-get="/staff/registry/" hx-target="#registry-search"' in fragment


def test_search_by_party_and_pages_keep_the_criteria(app, client, staff, make_invoice):
    for n in range(30):
        make_invoice(invoice_number=f"7{n:07d}")
    page = client.get("/staff/registry/?party=云图", headers=EN).get_data(as_text=True)
    assert "30 invoices found" in page and "Page 1 of 2" in page
    second = re.search(r'href="([^"]*page=2[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "party=" in second
    page = client.get(second, headers=EN).get_data(as_text=True)
    assert "Page 2 of 2" in page and page.count('href="/staff/registry/invoices/') == 5


@pytest.mark.parametrize(("query", "message"), [
    ("date_from=2024-13-01", "Enter the date as year-month-day"),
    ("date_from=2024-05-01&date_to=2024-04-01", "The end of the range is before its start."),
    ("type=99", "Choose one of the options in the list."),
    ("status=lost", "Choose one of the options in the list."),
    ("number=" + "1" * 21, "Too long: use at most 20 characters."),
])
def test_bad_search_criteria_are_explained_by_their_fields(client, staff, query, message):
    page = client.get(f"/staff/registry/?{query}", headers=EN).get_data(as_text=True)
    assert 'id="error-summary"' in page and message in page
    assert "invoices found" not in page


# --- one invoice, its status, its log -----------------------------------------------------


@pytest.fixture
def invoice_url(app, make_invoice):
    make_invoice()
    with app.app_context():
        from blueprints.ext import db

        return f"/staff/registry/invoices/{db.session.scalar(select(Invoice.id))}"


API_FIELDS = {"invoice_code": STORED["invoice_code"], "invoice_number": STORED["invoice_number"],
              "issue_date": STORED["issue_date"], "check_code": "294433"}


def change(client, url, **form):
    data = {"csrf_token": csrf_token(client, url), "expected": "normal", **form}
    return client.post(f"{url}/status", data=data, headers=EN)


def test_a_status_change_shows_in_the_next_verification_and_the_audit_trail(client, staff,
                                                                            invoice_url):
    before = client.post("/api/v1/verify", json=API_FIELDS).get_json()
    assert (before["status"], before["valid"]) == ("normal", True)
    response = change(client, invoice_url, new_status="red_reversed",
                      reason="Red invoice 0110024001 04/87654321 issued against it")
    assert response.status_code == 303 and response.headers["Location"] == invoice_url
    after = client.post("/api/v1/verify", json=API_FIELDS).get_json()
    assert (after["outcome"], after["status"], after["valid"]) == ("match", "red_reversed", False)

    page = client.get(invoice_url, headers=EN).get_data(as_text=True)
    assert "Status changed from Normal to Red-reversed." in page  # the flash message
    history = page.split('id="history-title"')[1].split("</section>")[0]
    assert "officer@example.com" in history
    assert "<td>Normal</td>" in history and "<td>Red-reversed</td>" in history
    assert "Red invoice 0110024001 04/87654321 issued against it" in history
    # Each column its own heading in Arabic: "From" and "Who" were both "من".
    arabic = client.get(invoice_url, headers={"Accept-Language": "ar"}).get_data(as_text=True)
    headers = re.findall(r'<th scope="col">([^<]*)</th>',
                         arabic.split('id="history-title"')[1].split("</thead>")[0])
    assert len(headers) == 5 and len(set(headers)) == 5, headers
    # Red-reversed is final: the form is gone, and a hand-made post is refused.
    assert 'name="new_status"' not in page
    assert change(client, invoice_url, new_status="normal", reason="undo",
                  expected="red_reversed").status_code == 422


@pytest.mark.parametrize(("form", "message", "field"), [
    ({"new_status": "void", "reason": "  "}, "Enter the reason for the change.", "reason"),
    ({"reason": "why"}, "Choose the new status.", "new_status"),
    ({"new_status": "void", "reason": "x" * 501}, "Keep the reason to 500 characters or fewer.",
     "reason"),
    ({"new_status": "normal", "reason": "why"},
     "The invoice cannot go from this status to the one chosen.", "new_status"),
    ({"new_status": "void", "reason": "why", "expected": "abnormal"},
     "Someone changed this invoice&#39;s status meanwhile.", "new_status"),
])
def test_refused_status_changes_are_explained(client, staff, invoice_url, form, message, field):
    response = change(client, invoice_url, **form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="error-summary"' in page and f'href="#{field}"' in page and message in page
    assert client.post("/api/v1/verify", json=API_FIELDS).get_json()["status"] == "normal"


def test_status_change_needs_the_csrf_token(client, staff, invoice_url):
    response = client.post(f"{invoice_url}/status", headers=EN,
                           data={"expected": "normal", "new_status": "void", "reason": "x"})
    assert response.status_code == 400
    assert client.post("/api/v1/verify", json=API_FIELDS).get_json()["status"] == "normal"


def test_detail_shows_everything_stored_and_a_log_without_personal_data(app, client, staff,
                                                                       invoice_url):
    visitor = app.test_client()
    token = csrf_token(visitor, "/verify")
    visitor.post("/verify", data={"csrf_token": token, **API_FIELDS})
    with visitor.session_transaction() as session:
        owner = session["owner"]
    client.post("/api/v1/verify", json=dict(API_FIELDS, check_code="000000"))
    page = client.get(invoice_url, headers=EN).get_data(as_text=True)
    for stored in (STORED["seller"]["name"], STORED["seller"]["bank_account"],
                   STORED["check_code"], "*办公用品*打印纸", STORED["drawer"]):
        assert stored in page
    log = html.unescape(page.split('id="verification-log"')[1].split("</section>")[0])
    assert "2 verifications, newest first" in log
    assert "<td>Typed</td>" in log and "<td>API</td>" in log
    assert "Found" in log and "Details don't match" in log and "Differed: Check code" in log
    assert owner not in page and "officer@example.com" not in log


def test_unknown_invoice_and_job_are_404(client, staff):
    assert client.get("/staff/registry/invoices/999", headers=EN).status_code == 404
    assert client.get("/staff/registry/imports/999", headers=EN).status_code == 404
