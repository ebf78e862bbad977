"""Registry upkeep without the web: file formats, the one-transaction rule, import jobs,
searches, status changes and the verification log."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from factories import TODAY, invoice_record
from import_files import as_csv, as_jsonl
from yanpiao import registry, upkeep
from yanpiao.accounts import Role, create_user
from yanpiao.db import make_session_factory
from yanpiao.models import Invoice, InvoiceItem, VerificationRecord
from yanpiao.types import EntryPath, InvoiceType, Outcome, Status
from yanpiao.upkeep import InvoiceStatusChange, JobState
from yanpiao.verification import Settings, verify

NOW = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)


@pytest.fixture
def db(engine):
    """A plain SQLAlchemy session on a migrated database: the domain needs no Flask."""
    session = make_session_factory(engine)()
    yield session
    session.close()


@pytest.fixture
def staff(db):
    user = create_user(db, "correct horse battery", email="officer@example.com", role=Role.STAFF)
    db.commit()
    return user


def jsonl(*records) -> bytes:
    return as_jsonl(*records)


def dump(session) -> list[dict]:
    """The registry's content as import records, in a stable order."""
    session.expire_all()
    return sorted(
        (registry.snapshot(invoice).to_dict() for invoice in session.scalars(select(Invoice))),
        key=lambda record: (record["invoice_code"], record["invoice_number"]),
    )


def count(session, model=Invoice) -> int:
    return session.scalar(select(func.count()).select_from(model))


TWO_ITEMS = invoice_record(
    invoice_number="20000001",
    items=[
        {"name": "*办公用品*打印纸", "spec": "A4", "unit": "箱", "quantity": "5",
         "unit_price": "100.00", "amount": "500.00", "tax_rate": "0.13", "tax": "65.00"},
        {"name": "*办公用品*墨盒, 黑色", "spec": "", "unit": "个", "quantity": "5",
         "unit_price": "100.00", "amount": "500.00", "tax_rate": "0.13", "tax": "65.00"},
    ],
)
DIGITAL = invoice_record(type="32", invoice_code="", invoice_number="26112000000000000002",
                         check_code="", items=[])


# --- file formats -------------------------------------------------------------------------


def test_csv_and_jsonl_give_the_same_records():
    records = [invoice_record(), TWO_ITEMS, DIGITAL]
    from_csv = [(r, e) for _n, r, e in registry.read_records(as_csv(*records), "csv")]
    from_jsonl = [(r, e) for _n, r, e in registry.read_records(jsonl(*records).decode(), "jsonl")]
    assert [registry.parse_import_record(r) for r, _e in from_csv] == [
        registry.parse_import_record(r) for r, _e in from_jsonl
    ]


def test_csv_numbers_an_invoice_by_its_first_row_even_across_quoted_line_breaks():
    multi = invoice_record(invoice_number="30000001", remarks="第一行\n第二行")
    text = as_csv(multi, TWO_ITEMS, invoice_record(invoice_number="30000002"))
    lines = [number for number, _record, _error in registry.read_csv(io.StringIO(text, newline=""))]
    # header 1; the first invoice spans lines 2-3; TWO_ITEMS has rows on 4 and 5.
    assert lines == [2, 4, 6]


@pytest.mark.parametrize(("header", "reason"), [
    ("type,invoice_number,issue_date,colour", "unknown column 'colour'"),
    ("type,invoice_code,issue_date", "no 'invoice_number' column"),
    ("type,invoice_number,issue_date,type", "names 'type' twice"),
])
def test_a_bad_csv_header_refuses_the_file_at_line_1(header, reason):
    triples = list(registry.read_csv(io.StringIO(header + "\n04,12345678,2024-10-25\n")))
    assert len(triples) == 1
    assert triples[0][0] == 1 and triples[0][1] is None and reason in triples[0][2]


def test_csv_rows_of_one_invoice_must_agree():
    text = as_csv(TWO_ITEMS).replace("1130.00", "1131.00", 1)  # only the first row changes
    [(number, record, error)] = list(registry.read_csv(io.StringIO(text, newline="")))
    assert number == 2 and record is None
    assert "line 3 continues this invoice with a different 'total'" in error


def test_csv_row_with_too_many_fields():
    text = "type,invoice_number,issue_date\n04,12345678,2024-10-25,extra\n"
    [(number, _record, error)] = list(registry.read_csv(io.StringIO(text)))
    assert number == 2 and "4 fields" in error


@pytest.mark.parametrize(("line", "words", "column"), [
    ('{"a" 1}', "a colon is missing after a field name", 6),
    ('{"a": 1 "b": 2}', "a comma is missing between two values", 9),
    ("{a: 1}", "a field name is not in double quotes", 2),
    ('{"a": 1,}', "a field name is not in double quotes", 9),
    ('{"a": "x', "a text value has no closing double quote", 7),
    ("{} {}", "more follows the end of the record", 4),
    ('{"a": "\t"}', "a text value holds a tab or a line break", 8),
    ('{"a": "\\q"}', "a backslash in a text value starts no valid escape", 8),
    ('{"a": "\\u12"}', "a Unicode escape needs four hexadecimal digits", 9),
    ('{"a": nope}', "a value is missing, or a text value is not in double quotes", 7),
])
def test_broken_json_lines_are_explained_in_plain_words(line, words, column):
    [(number, record, error)] = list(registry.read_jsonl([line]))
    assert (number, record) == (1, None)
    assert error.startswith(f"not valid JSON: {words}") and error.endswith(f"(column {column})")
    assert error.params["detail"].template.startswith(words)  # a message of the catalogs


def test_a_json_array_is_one_error_not_one_per_line():
    """A pretty-printed .json export was refused line by line: "[" and every "{" and "}"."""
    lines = ["[", "  {", '    "invoice_number": "1"', "  },", "  {}", "]"]
    [(number, record, error)] = list(registry.read_jsonl(lines))
    assert (number, record) == (1, None)
    assert str(error).startswith("the file is one JSON array, not JSON Lines")
    assert len(list(registry.read_jsonl(['[{"invoice_number": "1"}]']))) == 1


def test_a_line_nested_too_deeply_is_refused_and_the_next_line_read():
    """The JSON parser ran out of stack on it: the whole import stopped with a traceback."""
    lines = ['{"invoice_number": "1"}', '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
             '{"invoice_number": "3"}']
    [_first, (second, record, error), (third, next_record, _error)] = list(
        registry.read_jsonl(lines))
    assert (second, record) == (2, None)
    assert error == "not an invoice record: lists or objects nested too deeply"
    assert (third, next_record) == (3, {"invoice_number": "3"})


def test_a_line_break_in_an_unquoted_csv_field_is_explained():
    # A lone carriage return inside a line, as lines read from a file opened without newline=""
    lines = ["type,invoice_number,issue_date", "04,123\r45678,2024-10-25"]
    [(number, record, error)] = list(registry.read_csv(lines))
    assert (number, record) == (2, None)
    assert error == "not valid CSV: a line break stands inside a field without quotes"


@pytest.mark.parametrize(("name", "expected"), [
    ("a.jsonl", "jsonl"), ("A.CSV", "csv"), ("x.ndjson", "jsonl"), ("invoices.json", "jsonl"),
])
def test_format_from_the_file_name(name, expected):
    assert registry.import_format(name) == expected


@pytest.mark.parametrize("name", ["a.xlsx", "a.txt", "noext", ""])
def test_other_files_are_refused(name):
    with pytest.raises(registry.UnreadableFile) as caught:
        registry.import_format(name)
    assert caught.value.reason == "format"


def test_gb18030_csv_as_spreadsheets_on_chinese_systems_save_it():
    text = as_csv(invoice_record())
    assert registry.decode_import(text.encode("gb18030")) == text
    assert registry.decode_import(b"\xef\xbb\xbf" + text.encode()) == text


def test_a_tax_id_longer_than_its_column_is_refused_before_the_database_sees_it():
    record = invoice_record(seller={"name": "x", "tax_id": "9" * 21})
    with pytest.raises(registry.ImportError_, match="'tax_id' is longer than 20"):
        registry.parse_import_record(record)


@pytest.mark.parametrize(("value", "words"), [
    ("20241025", "'issue_date' must be YYYY-MM-DD, not '20241025'"),
    ("2024-W43-5", "'issue_date' must be YYYY-MM-DD, not '2024-W43-5'"),
    ("0001-01-01", "'issue_date' 0001-01-01 is not a year an invoice can bear (1994 to 2099)"),
    ("9999-12-31", "'issue_date' 9999-12-31 is not a year an invoice can bear (1994 to 2099)"),
])
def test_an_issue_date_is_a_calendar_day_an_invoice_can_bear(value, words):
    """fromisoformat read 20241025 and 2024-W43-5; a year 0001 stood in the registry."""
    with pytest.raises(registry.ImportError_) as refused:
        registry.parse_import_record(invoice_record(issue_date=value))
    assert str(refused.value) == words


def test_a_check_code_in_full_width_digits_is_refused():
    """It passed str.isdigit() on a type checked by amount, and stood in the registry in
    digits no visitor types."""
    record = invoice_record(type="01", invoice_code="1100245130", check_code="１" * 20)
    with pytest.raises(registry.ImportError_, match="'check_code' must be 20 digits or empty"):
        registry.parse_import_record(record)


# --- one transaction per file -------------------------------------------------------------


def test_a_database_error_half_way_leaves_the_registry_as_it_was(db, monkeypatch):
    upkeep.import_file(db, jsonl(invoice_record()), "before.jsonl")
    before = dump(db)
    calls = []
    write = registry._write_batch

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return write(*args, **kwargs)

    monkeypatch.setattr(registry, "_write_batch", failing)
    records = [invoice_record(invoice_number=f"{n:08d}") for n in range(1, 1300)]
    records.append(invoice_record(status="void"))  # would change the stored one
    with pytest.raises(OperationalError):
        upkeep.import_file(db, jsonl(*records), "big.jsonl")
    assert len(calls) == 3  # two batches of 500 had been written before the error
    assert dump(db) == before
    assert count(db, InvoiceStatusChange) == 0


def test_refused_lines_do_not_stop_the_good_ones(db):
    report = upkeep.import_file(db, jsonl(invoice_record(), {"type": "99"}, DIGITAL), "a.jsonl")
    assert (report.added, report.updated, report.refused) == (2, 0, 1)
    assert report.errors == [(2, "unknown invoice type '99'")]


def test_a_stored_reason_keeps_its_template_and_values_nested_ones_too(db, staff):
    bad_item = invoice_record(items=[{"name": "咨询服务", "amount": "ten"}])
    job = upkeep.create_import_job(db, "a.jsonl", jsonl(bad_item), user=staff)
    [(line, reason)] = upkeep.run_import_job(db, job.id).refused_lines
    assert (line, reason) == (1, "item 1: 'amount' is not an amount: 'ten'")
    assert reason.template == "item %(position)d: %(reason)s"
    inner = reason.params["reason"]
    assert (inner.template, inner.params) == (
        "'%(field)s' is not an amount: %(value)s", {"field": "amount", "value": "'ten'"})


def test_reports_stored_as_plain_text_still_read():
    job = upkeep.ImportJob(errors=json.dumps([[3, "unknown status 'x'"]]))
    assert job.refused_lines == [(3, "unknown status 'x'")]


def test_a_later_line_for_the_same_invoice_wins(db):
    first, second = invoice_record(remarks="first"), invoice_record(remarks="second", items=[])
    report = upkeep.import_file(db, jsonl(first, second), "a.jsonl")
    assert (report.added, report.updated) == (1, 1)
    [stored] = dump(db)
    assert stored["remarks"] == "second" and stored["items"] == []
    assert count(db, InvoiceItem) == 0


def test_status_changes_by_a_file_land_in_the_audit_trail(db, staff):
    upkeep.import_file(db, jsonl(invoice_record()), "a.jsonl")
    upkeep.import_file(db, jsonl(DIGITAL, invoice_record(status="void")), "b.jsonl",
                       by_id=staff.id, by_name=staff.login_name)
    [change] = db.scalars(select(InvoiceStatusChange)).all()
    assert (change.from_status, change.to_status) == ("normal", "void")
    assert (change.import_line, change.changed_by, change.import_job_id) == (
        2, "officer@example.com", None)
    assert change.by_import


# --- import jobs --------------------------------------------------------------------------


def test_a_job_runs_to_its_report_and_forgets_the_file(db, staff):
    job = upkeep.create_import_job(db, "a.jsonl", jsonl(invoice_record(), {"x": 1}), user=staff)
    assert (job.state, job.total_lines, job.created_by) == ("queued", 2, "officer@example.com")
    done = upkeep.run_import_job(db, job.id)
    assert done.state == JobState.DONE
    assert (done.added, done.updated, done.refused, done.lines_checked) == (1, 0, 1, 2)
    assert done.refused_lines == [(2, "unknown invoice type ''")]
    [(_line, reason)] = done.refused_lines
    assert (reason.template, reason.params) == ("unknown invoice type %(value)s", {"value": "''"})
    assert done.content is None and done.percent_checked == 100
    assert upkeep.run_import_job(db, job.id) is None  # a job runs once


def test_a_failing_job_stores_nothing_and_keeps_its_file_to_run_again(db, monkeypatch):
    job = upkeep.create_import_job(db, "a.csv", as_csv(invoice_record()).encode())

    def broken(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(registry, "_write_batch", broken)
    failed = upkeep.run_import_job(db, job.id)
    assert failed.state == JobState.FAILED
    assert failed.failure == "database error: database is locked"
    assert count(db) == 0
    monkeypatch.undo()
    again = upkeep.requeue_import_job(db, job.id)
    assert again.state == JobState.QUEUED and again.failure == ""
    assert upkeep.run_import_job(db, job.id).state == JobState.DONE
    assert count(db) == 1


def test_files_are_imported_one_after_the_other(db):
    first = upkeep.create_import_job(db, "a.jsonl", jsonl(invoice_record()), now=NOW)
    with pytest.raises(upkeep.ImportBusy) as caught:
        upkeep.create_import_job(db, "b.jsonl", jsonl(invoice_record()), now=NOW)
    assert caught.value.job.id == first.id
    # A job whose process died long ago no longer blocks, and shows as interrupted.
    later = NOW + upkeep.STALE_AFTER + timedelta(seconds=1)
    assert first.state_at(later) is JobState.INTERRUPTED
    second = upkeep.create_import_job(db, "b.jsonl", jsonl(invoice_record()), now=later)
    assert second.id != first.id


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("a.xlsx", b"PK\x03\x04", "format"),
    ("a.jsonl", b"\xff\xfe\x00\x00\xff", "encoding"),
    ("a.csv", b"  \n\n", "empty"),
])
def test_unreadable_files_make_no_job(db, name, data, reason):
    with pytest.raises(registry.UnreadableFile) as caught:
        upkeep.create_import_job(db, name, data)
    assert caught.value.reason == reason
    assert count(db, upkeep.ImportJob) == 0


# --- search -------------------------------------------------------------------------------


@pytest.fixture
def registry_of_five(db):
    records = [
        invoice_record(invoice_number="10000001", issue_date="2026-01-05"),
        invoice_record(invoice_number="10000002", issue_date="2026-02-05", status="void",
                       seller={"name": "上海100%_公司", "tax_id": "91310000AB12345678"}),
        invoice_record(invoice_number="20000003", issue_date="2026-03-05",
                       buyer={"name": "天津海河商贸有限公司", "tax_id": "91120105ZZ99EFGH3Y"}),
        invoice_record(type="01", invoice_code="1100245130", invoice_number="20000004",
                       check_code="", issue_date="2026-04-05"),
        DIGITAL | {"issue_date": "2026-05-05"},
    ]
    upkeep.import_file(db, jsonl(*records), "five.jsonl")


@pytest.mark.parametrize(("criteria", "numbers"), [
    ({}, ["26112000000000000002", "20000004", "20000003", "10000002", "10000001"]),
    ({"number": "1000"}, ["10000002", "10000001"]),
    ({"code": "1100"}, ["20000004"]),
    ({"code": "０１１"}, ["20000003", "10000002", "10000001"]),  # full-width digits fold
    ({"party": "100%_"}, ["10000002"]),  # LIKE wildcards are taken literally
    ({"party": "zz99efgh"}, ["20000003"]),  # tax IDs in any case
    ({"party": "云图"}, ["26112000000000000002", "20000004", "10000002", "10000001"]),
    ({"date_from": date(2026, 2, 1), "date_to": date(2026, 3, 31)}, ["20000003", "10000002"]),
    ({"invoice_type": InvoiceType.VAT_SPECIAL}, ["20000004"]),
    ({"status": Status.VOID}, ["10000002"]),
    ({"number": "1", "status": Status.NORMAL}, ["10000001"]),
])
def test_search(db, registry_of_five, criteria, numbers):
    result = upkeep.search_invoices(db, upkeep.InvoiceQuery(**criteria))
    assert [row.invoice_number for row in result.rows] == numbers
    assert result.total == len(numbers)


def test_search_pages(db, registry_of_five):
    first = upkeep.search_invoices(db, upkeep.InvoiceQuery(), page=1, per_page=2)
    last = upkeep.search_invoices(db, upkeep.InvoiceQuery(), page=99, per_page=2)
    assert (first.pages, first.has_previous, first.has_next) == (3, False, True)
    assert (last.page, len(last.rows), last.has_next) == (3, 1, False)


# --- status changes -----------------------------------------------------------------------


@pytest.fixture
def stored(db):
    upkeep.import_file(db, jsonl(invoice_record()), "one.jsonl")
    return db.scalar(select(Invoice.id))


ALL_MOVES = [(a, b) for a in Status for b in Status if a is not b]
ALLOWED = {
    (Status.NORMAL, Status.VOID), (Status.NORMAL, Status.RED_REVERSED),
    (Status.NORMAL, Status.OUT_OF_CONTROL), (Status.NORMAL, Status.ABNORMAL),
    (Status.OUT_OF_CONTROL, Status.NORMAL), (Status.ABNORMAL, Status.NORMAL),
}


@pytest.mark.parametrize(("old", "new"), ALL_MOVES)
def test_allowed_transitions(db, staff, stored, old, new):
    db.execute(Invoice.__table__.update().values(status=old.value))
    db.commit()
    if (old, new) in ALLOWED:
        change = upkeep.change_status(db, stored, new, " tax office notice 12 ", expected=old,
                                      by=staff, now=NOW)
        assert (change.from_status, change.to_status, change.reason) == (
            old.value, new.value, "tax office notice 12")
        assert (change.changed_by, change.changed_at) == ("officer@example.com", NOW)
        assert db.scalar(select(Invoice.status)) == new.value
    else:
        with pytest.raises(upkeep.StatusChangeRefused) as caught:
            upkeep.change_status(db, stored, new, "why", expected=old, by=staff)
        assert caught.value.reason == "not_allowed"
        assert db.scalar(select(Invoice.status)) == old.value


@pytest.mark.parametrize(("reason_text", "expected", "refusal"), [
    ("   ", Status.NORMAL, "reason_required"),
    ("x" * 501, Status.NORMAL, "reason_too_long"),
    ("notice", Status.ABNORMAL, "changed_meanwhile"),
])
def test_refused_status_changes_change_nothing(db, staff, stored, reason_text, expected, refusal):
    with pytest.raises(upkeep.StatusChangeRefused) as caught:
        upkeep.change_status(db, stored, Status.VOID, reason_text, expected=expected, by=staff)
    assert caught.value.reason == refusal
    assert db.scalar(select(Invoice.status)) == "normal"
    assert count(db, InvoiceStatusChange) == 0


def test_the_next_verification_shows_the_new_status(db, staff, stored):
    upkeep.change_status(db, stored, Status.OUT_OF_CONTROL, "flagged", expected=Status.NORMAL,
                         by=staff)
    fields = {"invoice_code": "011002400104", "invoice_number": "12345678",
              "issue_date": (TODAY - timedelta(days=10)).isoformat(), "check_code": "294433"}
    result = verify(db, fields, settings=Settings())
    assert result.outcome is Outcome.MATCH and result.status is Status.OUT_OF_CONTROL
    assert not result.is_valid
    history = upkeep.status_history(db, stored)
    assert [(c.from_status, c.to_status) for c in history] == [("normal", "out_of_control")]


# --- the verification log -----------------------------------------------------------------


def test_the_log_says_how_and_with_what_result_but_not_who(db, stored):
    day = (TODAY - timedelta(days=10)).isoformat()
    base = {"invoice_code": "011002400104", "invoice_number": "12345678", "issue_date": day}
    verify(db, base | {"check_code": "294433"}, entry_path=EntryPath.SCANNER, owner_key="secret-owner")
    verify(db, base | {"check_code": "000000"}, entry_path=EntryPath.API)
    verify(db, base | {"invoice_number": "87654321", "check_code": "294433"})  # not this invoice
    log = upkeep.verification_log(db, stored)
    assert log.total == 2
    entries = {(e.entry_path, e.outcome, e.disagreeing) for e in log.rows}
    assert entries == {(EntryPath.SCANNER, Outcome.MATCH, ()),
                       (EntryPath.API, Outcome.MISMATCH, ("check_code",))}
    assert all("secret-owner" not in repr(entry) for entry in log.rows)
    assert set(upkeep.LoggedVerification.__dataclass_fields__) == {
        "receipt_id", "checked_at", "entry_path", "outcome", "status", "verification_count",
        "disagreeing"}
    assert db.scalar(select(func.count()).select_from(VerificationRecord)) == 3
