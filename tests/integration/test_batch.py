"""Batch verification through the pages and the API: upload, progress, results, tokens."""

from __future__ import annotations

import csv
import html
import io
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, select, update

from blueprints.batch_worker import wait_for_jobs
from factories import TODAY, invoice_record
from yanpiao import registry
from yanpiao.batch import BatchJob, BatchRow
from yanpiao.tokens import ApiToken

ISSUED = (TODAY - timedelta(days=10)).isoformat()
TOO_OLD = (TODAY - timedelta(days=6 * 366)).isoformat()
FUTURE = (TODAY + timedelta(days=5)).isoformat()
HEADER = ["发票代码", "发票号码", "开票日期", "金额", "校验码"]


def invoice_fields(k: int) -> dict:
    """The k-th stored invoice: types 04, 01 and 32 in turn; some void or red-reversed."""
    kind = k % 3
    if kind == 0:
        return {"type": "04", "invoice_code": "011002400104", "invoice_number": f"{k:08d}",
                "check_code": "48114255542168294433"}
    if kind == 1:
        return {"type": "01", "invoice_code": "1100245130", "invoice_number": f"{k:08d}",
                "check_code": ""}
    return {"type": "32", "invoice_code": "", "invoice_number": f"2611200000000{k:07d}",
            "check_code": ""}


def status_of(k: int) -> str:
    return "void" if k % 10 == 7 else "red_reversed" if k % 25 == 3 else "normal"


def typed(k: int, right: bool = True, **overrides) -> list[str]:
    stored = invoice_fields(k)
    amount, check = "", ""
    if stored["type"] == "04":
        check = "294433" if right else "000000"
    elif stored["type"] == "01":
        amount = "1000.00" if right else "999.00"
    else:
        amount = "1,130" if right else "1131"
    row = {"invoice_code": stored["invoice_code"], "invoice_number": stored["invoice_number"],
           "issue_date": ISSUED, "amount": amount, "check_code": check, **overrides}
    return [row["invoice_code"], row["invoice_number"], row["issue_date"], row["amount"],
            row["check_code"]]


INVALID = [
    (lambda k: typed(3 * k, invoice_code="123"), "invoice_code"),
    (lambda k: typed(k, issue_date=""), "issue_date"),
    (lambda k: typed(k, invoice_number="12AB5678"), "invoice_number"),
    (lambda k: typed(1, amount="abc"), "amount"),
    (lambda k: typed(3 * k + 2, amount="99999999999999999999.99"), "amount"),
    (lambda k: typed(0, check_code=""), "check_code"),
]


@pytest.fixture
def stored_invoices(app):
    from blueprints.ext import db

    with app.app_context():
        for k in range(400):
            record = invoice_record(issue_date=ISSUED, status=status_of(k), **invoice_fields(k))
            if record["type"] == "32":
                record["total"] = "1130.00"
            registry.store_invoice(db.session, registry.parse_import_record(record))
        db.session.commit()


def thousand_rows():
    """1,000 rows of every outcome, with duplicates, and what each must give.

    Expected: (outcome, status, check number, duplicate of row, field in error).
    """
    plan = []  # (cells, intent, invoice k or None, error field)
    for k in range(400):
        plan.append((typed(k), "match", k, None))
    for k in range(100):
        plan.append((typed(k, right=False), "mismatch", k, None))
    for k in range(100):
        plan.append((typed(0, invoice_number=f"9{k:07d}"), "not_found", None, None))
    for k in range(100):
        make, field = INVALID[k % len(INVALID)]
        plan.append((make(k), "invalid", None, field))
    for k in range(50):
        plan.append((typed(0, invoice_number=f"8{k:07d}", issue_date=TOO_OLD), "too_old", None,
                     "issue_date"))
    for k in range(50):
        plan.append((typed(0, invoice_number=f"7{k:07d}", issue_date=FUTURE), "future_date",
                     None, "issue_date"))
    for k in range(100, 200):
        plan.append((typed(k), "match", k, None))
    for k in range(200, 220):
        plan += [(typed(k), "match", k, None)] * 5
    assert len(plan) == 1000

    # What the rules of DESIGN 1.4 give, worked out row by row.
    attempts, matches, first_row = Counter(), Counter(), {}
    rows, expected = [], []
    number = 1  # the header
    for index, (cells, intent, k, field) in enumerate(plan):
        number += 1
        if index == 500:
            rows.append(["", "", "", "", ""])  # a blank line: skipped, but it has a number
            number += 1
        rows.append(cells)
        key = None if intent == "invalid" else (
            "" if len(cells[1]) == 20 else cells[0], cells[1])
        duplicate_of = None
        if key is not None:
            duplicate_of = first_row.setdefault(key, number)
            duplicate_of = None if duplicate_of == number else duplicate_of
        outcome, status, count = intent, None, None
        if k is not None:
            attempts[k] += 1
            if attempts[k] > 5:
                outcome = "limit_exceeded"
            elif intent == "match":
                matches[k] += 1
                status, count = status_of(k), matches[k]
        expected.append((number, outcome, status, count, duplicate_of, field))
    return rows, expected


def csv_file(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_file(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def user(app, make_user, login, client):
    app.config["WTF_CSRF_ENABLED"] = False
    user_id = make_user(email="finance@example.com")
    login(client, user_id)
    return user_id


def upload(client, data: bytes, name: str, **headers):
    return client.post("/batch", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", headers=headers)


def job_id_of(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"].rsplit("/", 1)[-1]


def stored_rows(app, job_id):
    from blueprints.ext import db

    with app.app_context():
        return db.session.scalars(
            select(BatchRow).where(BatchRow.job_id == job_id).order_by(BatchRow.row_number)
        ).all()


def test_a_thousand_rows_give_exactly_the_expected_results(app, client, user, stored_invoices):
    rows, expected = thousand_rows()
    job_id = job_id_of(upload(client, csv_file(rows), "一月.csv"))
    wait_for_jobs(app)
    got = [
        (row.row_number, row.outcome, row.status, row.verification_count, row.duplicate_of,
         row.reasons()[0][0] if row.reasons() else None)
        for row in stored_rows(app, job_id)
    ]
    assert got == expected
    assert {outcome for _n, outcome, *_rest in got} == {
        "match", "mismatch", "not_found", "invalid", "limit_exceeded", "too_old", "future_date"}

    page = client.get(f"/batch/{job_id}", headers={"Accept-Language": "en"})
    text = html.unescape(page.get_data(as_text=True))
    counts = Counter(outcome for _n, outcome, *_rest in expected)
    assert "1,000 rows checked" in text
    names = {"match": "Found", "mismatch": "Details don't match", "not_found": "Not found",
             "invalid": "Not checked", "limit_exceeded": "Daily limit reached",
             "too_old": "Too old to verify", "future_date": "Date in the future"}
    for outcome, n in counts.items():
        assert f'{names[outcome]}</a></th><td class="num">{n:,}</td>' in text, outcome
    duplicates = sum(1 for *_rest, duplicate_of, _field in expected if duplicate_of)
    assert f"{duplicates} duplicates within the file" in text


def test_results_table_filters_and_pages(app, client, user, stored_invoices):
    rows, expected = thousand_rows()
    job_id = job_id_of(upload(client, csv_file(rows), "list.csv"))
    wait_for_jobs(app)
    invalid = client.get(f"/batch/{job_id}?show=invalid", headers={"Accept-Language": "en"})
    body = invalid.get_data(as_text=True)
    assert "100 rows match." in body
    assert "Invoice code: The invoice code has 10 or 12 digits; you entered 3." in body
    assert "Page 1 of 2." in body
    # The next page: a plain link to the rows of page 2, which htmx swaps in place.
    [link] = re.findall(r'<a href="([^"]+)" rel="next"([^>]*)>', body)
    assert html.unescape(link[0]) == f"/batch/{job_id}?show=invalid&page=2#batch-rows"
    assert 'hx-target="#batch-rows"' in link[1] and 'hx-swap="outerHTML"' in link[1]
    assert 'rel="prev"' not in body

    fragment = client.get(f"/batch/{job_id}?show=duplicates&page=2",
                          headers={"HX-Request": "true", "HX-Target": "batch-rows",
                                   "Accept-Language": "en"})
    part = fragment.get_data(as_text=True)
    assert part.lstrip().startswith("<section id=\"batch-rows\"")
    assert "<html" not in part
    duplicates = sum(1 for *_rest, dup, _f in expected if dup)
    assert f"{duplicates} rows match." in part
    assert fragment.headers["Vary"].startswith("HX-Request") or "HX-Request" in fragment.headers["Vary"]

    # A filter nobody offers falls back to all rows instead of failing.
    assert client.get(f"/batch/{job_id}?show=nonsense&page=x").status_code == 200
    # "¹" passes str.isdigit() but not int(): it answered 500.
    assert client.get(f"/batch/{job_id}?page=%C2%B9").status_code == 200
    # A page past the end (a stale link) is the last page, not an empty table.
    past = client.get(f"/batch/{job_id}?show=invalid&page=9",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Page 2 of 2." in past and 'rel="prev"' in past and 'rel="next"' not in past
    assert past.count('<tr>') > 1


def test_downloads_as_csv_and_xlsx(app, client, user, stored_invoices):
    rows, expected = thousand_rows()
    job_id = job_id_of(upload(client, csv_file(rows), "list.csv"))
    wait_for_jobs(app)
    response = client.get(f"/batch/{job_id}/results.csv", headers={"Accept-Language": "en"})
    assert response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0][:3] == ["Row", "File", "Invoice code"]
    assert len(table) == 1001
    assert [int(line[0]) for line in table[1:]] == [number for number, *_rest in expected]
    assert table[1][7] == "Found" and table[1][9] == "yes"
    # The receipt column holds links that open the receipt (a bare number opened nothing).
    receipt = client.get(table[1][13].removeprefix("http://localhost"),
                         headers={"Accept-Language": "en"})
    assert receipt.status_code == 200 and "Found" in receipt.get_data(as_text=True)

    response = client.get(f"/batch/{job_id}/results.xlsx")
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
    assert sum(1 for _row in sheet.iter_rows()) == 1001

    only_invalid = client.get(f"/batch/{job_id}/results.csv?show=invalid")
    assert only_invalid.get_data(as_text=True).count("\n") == 101


def test_xlsx_with_chinese_headers(app, client, user, stored_invoices):
    data = xlsx_file([
        typed(0),
        # Excel stored these as numbers: leading zeros come back.
        [1100245130, 1, ISSUED, 1000, None],
        typed(2, right=False),
    ], header=["发票代码", "发票号码", "开票日期", "价税合计", "校验码后6位"])
    job_id = job_id_of(upload(client, data, "发票清单.xlsx"))
    wait_for_jobs(app)
    got = [(row.row_number, row.outcome, row.status) for row in stored_rows(app, job_id)]
    assert got == [(2, "match", "normal"), (3, "match", "normal"), (4, "mismatch", None)]


def test_a_20_digit_number_stored_as_a_spreadsheet_number_is_refused_with_the_fix(
        app, client, user, stored_invoices):
    """Excel keeps 15 digits of a number: 26112000000000000002 came back as
    26112000000000000000 and the genuine invoice was reported "Not found"."""
    digital = typed(2)
    as_number = [None, int(digital[1]), ISSUED, digital[3], None]
    job_id = job_id_of(upload(client, xlsx_file([typed(0), as_number]), "list.xlsx"))
    wait_for_jobs(app)
    first, second = stored_rows(app, job_id)
    assert (first.outcome, second.outcome) == ("match", "invalid")
    assert second.invoice_number == "2.6112E+19"  # as the sheet shows it
    # The same number saved by the sheet as CSV.
    job_id = job_id_of(upload(client, csv_file([["", "2.6112E+19", ISSUED, "1,130", ""]]),
                              "list.csv"))
    wait_for_jobs(app)
    [row] = stored_rows(app, job_id)
    assert row.outcome == "invalid"
    page = client.get(f"/batch/{job_id}", headers={"Accept-Language": "en"})
    assert ("stored this invoice code or number as a number, which keeps only 15 digits"
            in html.unescape(page.get_data(as_text=True)))
    exported = client.get(f"/batch/{job_id}/results.csv", headers={"Accept-Language": "en"})
    assert "Format the column as text" in exported.get_data(as_text=True)


def test_a_double_quote_left_open_is_named_on_its_row(app, client, user, stored_invoices):
    """An open quote took in the rows after it: they vanished without a word and the row
    was refused for a malformed number."""
    good = ",".join(typed(0))
    data = "\n".join([",".join(HEADER), good, '011002400104,"00000003,' + ISSUED + ',,294433',
                      good, ""]).encode()
    job_id = job_id_of(upload(client, data, "list.csv"))
    wait_for_jobs(app)
    rows = stored_rows(app, job_id)
    assert [(r.row_number, r.outcome) for r in rows] == [(2, "match"), (3, "invalid")]
    page = html.unescape(client.get(f"/batch/{job_id}", headers={"Accept-Language": "en"})
                         .get_data(as_text=True))
    assert "A double quote in this row is not closed, so the lines after it were read" in page


def test_counts_are_written_the_way_the_language_writes_numbers(client, user):
    """"100,000" is English: Russian groups with a space, and the hint said 100,000."""
    page = client.get("/batch", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "100\xa0000" in page and "100,000" not in page
    assert "100,000" in client.get("/batch", headers={"Accept-Language": "en"}).get_data(
        as_text=True)


def test_a_rows_reason_does_not_point_at_a_form(app, client, user, stored_invoices):
    """A row missing its check code was told "Enter them here" and named "Please correct
    the form": a batch file has neither "here" nor a form."""
    row = typed(0, check_code="", amount="1000.00")
    job_id = job_id_of(upload(client, csv_file([row]), "list.csv"))
    wait_for_jobs(app)
    page = html.unescape(client.get(f"/batch/{job_id}", headers={"Accept-Language": "en"})
                         .get_data(as_text=True))
    assert "not an amount. Enter those 6 digits." in page and "Enter them here" not in page
    assert "Not checked" in page and "correct the form" not in page


def test_results_files_give_back_formulas_as_text(app, client, user, stored_invoices):
    """A cell =HYPERLINK(…) of an upload came back in the results as a live formula."""
    formula = '=HYPERLINK("http://example.com/x","Open")'
    job_id = job_id_of(upload(client, csv_file([[formula, "@SUM(1)", ISSUED, "-100", ""]]),
                              "list.csv"))
    wait_for_jobs(app)
    table = list(csv.reader(io.StringIO(
        client.get(f"/batch/{job_id}/results.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert table[1][2:6] == ["'" + formula, "'@SUM(1)", ISSUED, "-100"]
    sheet = load_workbook(io.BytesIO(client.get(f"/batch/{job_id}/results.xlsx").data)).active
    cells = list(sheet.iter_rows(min_row=2, max_row=2))[0]
    assert (cells[2].value, cells[2].data_type) == (formula, "s")
    assert (cells[3].value, cells[3].data_type) == ("@SUM(1)", "s")


def test_a_file_over_the_batch_limit_names_the_batch_limit(app, client, user):
    """The page named the photo limit (10 MB) for a batch file over the 50 MB of batches."""
    app.config["YANPIAO_BATCH_MAX_UPLOAD_BYTES"] = 2 * 1024 * 1024
    response = upload(client, b"x" * (3 * 1024 * 1024), "list.csv", **{"Accept-Language": "en"})
    assert response.status_code == 413
    assert "larger than 2 MB" in response.get_data(as_text=True)


def test_csv_in_gb18030_with_english_headers(app, client, user, stored_invoices):
    data = csv_file([typed(0), typed(3)], header=["Invoice Code", "Invoice Number",
                                                  "Issue Date", "Amount", "Check Code"],
                    encoding="gb18030")
    job_id = job_id_of(upload(client, data, "list.csv"))
    wait_for_jobs(app)
    assert [row.outcome for row in stored_rows(app, job_id)] == ["match", "match"]


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "empty.csv", "The file is empty."),
    (b"a,b\n1,2\n", "x.csv", "The first row must name the columns"),
    (b"%PDF-1.7", "invoice.pdf", "Upload a CSV or XLSX list"),
    ("发票号码,开票日期\n".encode(), "x.csv", "no invoices to check"),
])
def test_unusable_uploads_are_refused_on_the_form(app, client, user, data, name, message):
    response = upload(client, data, name, **{"Accept-Language": "en"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "There is a problem" in body and message in body
    assert 'aria-invalid="true"' in body


def test_too_many_rows_are_refused(app, client, user):
    app.config["YANPIAO_BATCH_MAX_ROWS"] = 3
    response = upload(client, csv_file([typed(0)] * 4), "x.csv", **{"Accept-Language": "en"})
    assert response.status_code == 422
    assert "more than 3 rows" in response.get_data(as_text=True)


def test_batch_pages_need_an_account(client):
    assert client.get("/batch").status_code in (302, 401)


def test_the_job_survives_a_reload_and_shows_in_a_second_tab(app, client, user, stored_invoices):
    app.config["YANPIAO_BATCH_AUTOSTART"] = False  # as if the worker had not started yet
    job_id = job_id_of(upload(client, csv_file([typed(k) for k in range(30)]), "list.csv"))
    first = client.get(f"/batch/{job_id}", headers={"Accept-Language": "en"})
    again = client.get(f"/batch/{job_id}", headers={"Accept-Language": "en"})
    for response in (first, again):
        text = response.get_data(as_text=True)
        assert "Refresh to see the progress" in text  # works without JavaScript
        assert 'hx-trigger="every 1s"' in text
    assert job_id in client.get("/batch").get_data(as_text=True)

    poll = client.get(f"/batch/{job_id}", headers={"HX-Request": "true", "HX-Target": "batch-job"})
    assert poll.get_data(as_text=True).lstrip().startswith('<div id="batch-job"')

    # The process that took the upload died: the next look at the job starts a new runner.
    from blueprints.ext import db

    with app.app_context():
        db.session.execute(update(BatchJob).values(
            created_at=datetime.now(UTC) - timedelta(minutes=10)))
        db.session.commit()
    app.config["YANPIAO_BATCH_AUTOSTART"] = True
    client.get(f"/batch/{job_id}")
    wait_for_jobs(app)
    done = client.get(f"/batch/{job_id}", headers={"HX-Request": "true", "HX-Target": "batch-job",
                                                   "Accept-Language": "en"})
    text = done.get_data(as_text=True)
    assert "hx-trigger" not in text  # polling stops
    assert "Finished: 30 rows checked." in text
    assert len(stored_rows(app, job_id)) == 30


def test_an_interrupted_job_resumes_after_its_last_chunk(app, client, user, stored_invoices):
    from blueprints.ext import db
    from yanpiao.batch import run_job
    from yanpiao.db import make_session_factory

    rows = [typed(k % 30) for k in range(40)]
    app.config["YANPIAO_BATCH_AUTOSTART"] = False
    job_id = job_id_of(upload(client, csv_file(rows), "list.csv"))
    factory = make_session_factory(app.extensions["database"].engine)
    with app.app_context():
        upload_bytes = db.session.scalar(select(BatchJob.upload))
    run_job(factory, job_id, chunk_size=7)
    complete = [(r.row_number, r.outcome, r.duplicate_of, r.verification_count)
                for r in stored_rows(app, job_id)]

    # Take it back to the state of a process that died after its third chunk.
    with app.app_context():
        db.session.execute(delete(BatchRow).where(BatchRow.row_number > 22))
        db.session.execute(update(BatchJob).values(
            state="running", processed_rows=21, upload=upload_bytes, finished_at=None,
            heartbeat_at=datetime.now(UTC) - timedelta(minutes=5)))
        db.session.commit()
    from yanpiao.models import DailyCounter, Invoice
    with app.app_context():  # the checks of the lost chunks never happened either
        db.session.execute(update(Invoice).values(verification_count=0))
        db.session.execute(delete(DailyCounter))
        db.session.commit()
    assert run_job(factory, job_id, chunk_size=7) is not None
    resumed = [(r.row_number, r.outcome, r.duplicate_of) for r in stored_rows(app, job_id)]
    assert resumed == [(n, o, d) for n, o, d, _c in complete]


def test_daily_limits_apply_across_single_checks_and_batches(app, client, user, stored_invoices):
    fields = dict(zip(["invoice_code", "invoice_number", "issue_date", "amount", "check_code"],
                      typed(0)))
    for _ in range(4):
        assert client.post("/api/v1/verify", json=fields).status_code == 200
    job_id = job_id_of(upload(client, csv_file([typed(0), typed(0), typed(3)]), "x.csv"))
    wait_for_jobs(app)
    assert [r.outcome for r in stored_rows(app, job_id)] == ["match", "limit_exceeded", "match"]
    assert client.post("/api/v1/verify", json=fields).status_code == 429


def test_templates_download_with_headers_in_the_visitors_language(client):
    zh = client.get("/batch/template.csv", headers={"Accept-Language": "zh-CN"})
    en = client.get("/batch/template.csv", headers={"Accept-Language": "en"})
    assert zh.get_data(as_text=True).lstrip("\ufeff").startswith("发票代码,发票号码,开票日期")
    assert en.get_data(as_text=True).lstrip("\ufeff").startswith("invoice_code,invoice_number")
    xlsx = client.get("/batch/template.xlsx", headers={"Accept-Language": "zh-CN"})
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [cell.value for cell in sheet[1]] == HEADER


def test_another_users_job_is_not_found(app, client, user, make_user, login, stored_invoices):
    job_id = job_id_of(upload(client, csv_file([typed(0)]), "x.csv"))
    wait_for_jobs(app)
    other = app.test_client()
    login(other, make_user(email="someone@example.com"))
    assert other.get(f"/batch/{job_id}").status_code == 404
    assert other.get(f"/batch/{job_id}/results.csv").status_code == 404
    assert job_id not in other.get("/batch").get_data(as_text=True)


def test_zip_of_invoice_files_checks_each_file(app, client, user, stored_invoices, monkeypatch):
    import zipfile

    from yanpiao import batch as batch_module

    payloads = {b"good": typed(0), b"bad": None}

    def decode(data):
        cells = payloads.get(data)
        if data == b"junk":
            return None, None, batch_module.RowProblem.UNREADABLE_FILE
        if cells is None:
            return None, None, batch_module.RowProblem.NO_INVOICE_QR
        return dict(zip(["invoice_code", "invoice_number", "issue_date", "amount",
                         "check_code"], cells)), None, None

    monkeypatch.setattr(batch_module, "decode_invoice_file", decode)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.pdf", b"good")
        archive.writestr("b.jpg", b"bad")
        archive.writestr("c.ofd", b"junk")
    job_id = job_id_of(upload(client, out.getvalue(), "january.zip"))
    wait_for_jobs(app)
    rows = stored_rows(app, job_id)
    assert [(r.source, r.outcome) for r in rows] == [("a.pdf", "match"), ("b.jpg", "invalid"),
                                                     ("c.ofd", "invalid")]
    page = client.get(f"/batch/{job_id}?show=invalid", headers={"Accept-Language": "en"})
    assert "No invoice QR code was found in this file." in page.get_data(as_text=True)


# --- the API and its tokens -------------------------------------------------------------------


@pytest.fixture
def token(app, client, user):
    client.post("/account/tokens", data={"name": "nightly import"})
    page = client.get("/account/tokens").get_data(as_text=True)
    return re.search(r'value="(yp_[^"]+)"', page).group(1)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def api_upload(client, token, data, name="list.csv"):
    return client.post("/api/v1/batch", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", headers=bearer(token))


def test_api_batch_with_a_token(app, client, token, stored_invoices):
    api = app.test_client()  # no session cookie: the token is all it has
    response = api_upload(api, token, csv_file([typed(0), typed(1, right=False), ["", "1"]]))
    assert response.status_code == 202
    body = response.get_json()
    assert body["status_url"] == f"/api/v1/batch/{body['id']}"
    wait_for_jobs(app)
    status = api.get(body["status_url"], headers={**bearer(token), "Accept-Language": "en"})
    result = status.get_json()
    assert result["state"] == "done" and result["percent"] == 100
    assert result["summary"]["outcomes"] == {"match": 1, "mismatch": 1, "invalid": 1}
    assert [row["outcome"] for row in result["rows"]] == ["match", "mismatch", "invalid"]
    assert result["rows"][0]["valid"] is True
    assert "issue_date" in " ".join(result["rows"][2]["reasons"]).lower() or result["rows"][2]["reasons"]
    assert result["next"] is None
    paged = api.get(body["status_url"] + "?limit=2", headers=bearer(token)).get_json()
    assert len(paged["rows"]) == 2 and paged["next"].endswith("page=2&limit=2")


def test_api_refuses_missing_wrong_and_revoked_tokens(app, client, token):
    api = app.test_client()
    assert api.post("/api/v1/batch").status_code == 401
    assert api_upload(api, "yp_not-a-token", csv_file([typed(0)])).status_code == 401
    assert api.get("/api/v1/batch/x", headers={"Authorization": "Basic abc"}).status_code == 401

    from blueprints.ext import db

    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    revoked = client.post(f"/account/tokens/{token_id}/revoke")
    assert revoked.status_code == 303
    assert client.get(revoked.headers["Location"]).get_data(as_text=True).count(
        "令牌已吊销。") == 1
    response = api_upload(api, token, csv_file([typed(0)]))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # The second click of a double click on "Revoke" landed on the 404 page.
    again = client.post(f"/account/tokens/{token_id}/revoke")
    assert again.status_code == 303
    assert client.post(f"/account/tokens/{token_id + 99}/revoke").status_code == 404


def test_a_token_sees_only_its_own_users_jobs(app, client, token, runner, stored_invoices):
    job = api_upload(app.test_client(), token, csv_file([typed(0)])).get_json()
    wait_for_jobs(app)
    result = runner.invoke(args=["users", "token", "other@example.com"])
    assert result.exit_code == 0, result.output
    other_token = result.stdout.strip().splitlines()[-1]
    assert other_token.startswith("yp_")
    api = app.test_client()
    assert api.get(job["status_url"], headers=bearer(other_token)).status_code == 404
    assert api.get(job["status_url"], headers=bearer(token)).status_code == 200
    # The new account's own batches work with its token.
    assert api_upload(api, other_token, csv_file([typed(0)])).status_code == 202
    wait_for_jobs(app)


def test_api_refuses_unusable_files(client, token):
    response = api_upload(client, token, b"a,b\n1,2\n")
    assert response.status_code == 422
    assert response.get_json()["problem"] == "headers"
    assert client.post("/api/v1/batch", headers=bearer(token)).status_code == 422


def test_the_account_page_leads_to_the_tokens(client, user):
    """The developers page sends integrators to their account page, which had no link."""
    assert 'href="/account/tokens"' in client.get("/account").get_data(as_text=True)


def test_token_page_lists_prefixes_and_never_the_token_again(client, token):
    page = client.get("/account/tokens", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert token not in page
    assert token[:10] in page and "nightly import" in page


def test_the_openapi_document_describes_batches(client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert {"/api/v1/batch", "/api/v1/batch/{job_id}"} <= set(document["paths"])
    assert "bearerToken" in document["components"]["securitySchemes"]


def test_an_xlsx_with_wrong_headers_fails_its_job_with_the_reason(app, client, user):
    job_id = job_id_of(upload(client, xlsx_file([["1", "2"]], header=["名称", "数量"]), "x.xlsx"))
    wait_for_jobs(app)
    page = client.get(f"/batch/{job_id}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert "This batch could not be checked" in text
    assert "The first row must name the columns" in text


def test_a_finished_batch_is_deleted_after_asking(app, client, user, stored_invoices):
    job_id = job_id_of(upload(client, csv_file([typed(0), typed(1)]), "march.csv"))
    wait_for_jobs(app)
    page = client.get(f"/batch/{job_id}").get_data(as_text=True)
    assert f'href="/batch/{job_id}/delete"' in page
    ask = client.get(f"/batch/{job_id}/delete", headers={"Accept-Language": "en"})
    assert ask.status_code == 200
    text = html.unescape(ask.get_data(as_text=True))
    assert "Delete the batch march.csv" in text
    assert "the results of its 2 rows. It cannot be undone" in text
    assert stored_rows(app, job_id)  # asking deleted nothing

    done = client.post(f"/batch/{job_id}/delete", headers={"Accept-Language": "en"})
    assert done.status_code == 303 and done.headers["Location"] == "/batch"
    listing = client.get("/batch", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "The batch march.csv and its results were deleted." in listing
    assert job_id not in listing and stored_rows(app, job_id) == []
    assert client.get(f"/batch/{job_id}").status_code == 404
    assert client.post(f"/batch/{job_id}/delete").status_code == 404


def test_a_running_batch_or_someone_elses_cannot_be_deleted(
        app, client, user, make_user, login, stored_invoices):
    job_id = job_id_of(upload(client, csv_file([typed(0)]), "x.csv"))
    wait_for_jobs(app)
    other = app.test_client()
    login(other, make_user(email="someone@example.com"))
    assert other.post(f"/batch/{job_id}/delete").status_code == 404
    from blueprints.ext import db

    with app.app_context():
        db.session.execute(update(BatchJob).values(state="running"))
        db.session.commit()
    for response in (client.get(f"/batch/{job_id}/delete", headers={"Accept-Language": "en"}),
                     client.post(f"/batch/{job_id}/delete", headers={"Accept-Language": "en"})):
        assert response.status_code == 409
        assert "still being checked" in response.get_data(as_text=True)
    assert len(stored_rows(app, job_id)) == 1


def test_api_deletes_a_finished_batch_of_its_own_account(app, client, token, stored_invoices):
    api = app.test_client()
    job_id = api_upload(api, token, csv_file([typed(0)])).get_json()["id"]
    wait_for_jobs(app)
    assert api.delete(f"/api/v1/batch/{job_id}").status_code == 401
    from blueprints.ext import db

    with app.app_context():
        db.session.execute(update(BatchJob).values(state="running"))
        db.session.commit()
    busy = api.delete(f"/api/v1/batch/{job_id}", headers={**bearer(token), "Accept-Language": "en"})
    assert busy.status_code == 409 and "still being checked" in busy.get_json()["message"]
    with app.app_context():
        db.session.execute(update(BatchJob).values(state="done"))
        db.session.commit()
    assert api.delete(f"/api/v1/batch/{job_id}", headers=bearer(token)).status_code == 204
    assert api.get(f"/api/v1/batch/{job_id}", headers=bearer(token)).status_code == 404
    assert api.delete(f"/api/v1/batch/{job_id}", headers=bearer(token)).status_code == 404
    assert stored_rows(app, job_id) == []
    document = client.get("/api/v1/openapi.json").get_json()
    assert set(document["paths"]["/api/v1/batch/{job_id}"]) == {"get", "delete"}


def test_history_purge_also_deletes_finished_batches_past_the_retention(
        app, client, user, runner, stored_invoices):
    old = job_id_of(upload(client, csv_file([typed(0)]), "old.csv"))
    new = job_id_of(upload(client, csv_file([typed(1)]), "new.csv"))
    wait_for_jobs(app)
    from blueprints.ext import db

    with app.app_context():
        db.session.execute(update(BatchJob).where(BatchJob.id == old)
                           .values(created_at=datetime.now(UTC) - timedelta(days=400)))
        db.session.commit()
    result = runner.invoke(args=["history", "purge"])
    assert result.exit_code == 0
    assert "Purged 1 finished batches made before" in result.output
    assert stored_rows(app, old) == [] and len(stored_rows(app, new)) == 1
    with app.app_context():
        assert db.session.get(BatchJob, old) is None


def test_the_summary_sentence_is_punctuated_in_the_readers_language(
        app, client, user, stored_invoices):
    """Its comma and full stop were outside the translation: Latin ones in Arabic text."""
    job_id = job_id_of(upload(client, csv_file([typed(0), typed(1)]), "x.csv"))
    wait_for_jobs(app)
    text = client.get(f"/batch/{job_id}", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert re.search(r"تم التحقق من صفّين، وانتهى في <bdi>[^<]+</bdi>\.", text)
    english = client.get(f"/batch/{job_id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    assert re.search(r"2 rows checked, finished <bdi>[^<]+</bdi>\.", english)
