"""Bulk checks follow the single-check rules row for row; batch files are read as people write them."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import delete, func, select, update

from factories import invoice_record
from yanpiao import batch_files, registry
from yanpiao.batch_files import BatchFileError, FileProblem
from yanpiao.models import DailyCounter, Invoice, VerificationRecord
from yanpiao.requests import ErrorCode
from yanpiao.types import EntryPath, InvoiceType, Outcome, Status
from yanpiao.verification import BulkRow, Settings, verify, verify_many

NOW = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
ISSUED = "2026-11-01"


@pytest.fixture
def registry_rows(session):
    """Invoices of several types and statuses; returns their typed fields."""
    stored = [
        invoice_record(issue_date=ISSUED),
        invoice_record(issue_date=ISSUED, invoice_number="12345679", status="void"),
        invoice_record(type="01", invoice_code="1100245130", invoice_number="00000001",
                       check_code="", issue_date=ISSUED),
        invoice_record(type="32", invoice_code="", invoice_number="26112000000000000002",
                       check_code="", issue_date=ISSUED),
        invoice_record(issue_date="2021-11-20", invoice_number="00000009"),
    ]
    for record in stored:
        registry.store_invoice(session, registry.parse_import_record(record))
    session.commit()


def rows_of_every_outcome() -> list[tuple[dict, InvoiceType | None]]:
    good = {"invoice_code": "011002400104", "invoice_number": "12345678",
            "issue_date": ISSUED, "check_code": "294433"}
    bad = {**good, "check_code": "000000"}
    rows = [
        (good, None),
        (bad, None),
        ({**good, "invoice_number": "12345679"}, None),  # void
        ({"invoice_code": "1100245130", "invoice_number": "00000001", "issue_date": ISSUED,
          "amount": "1,000.00"}, None),
        ({"invoice_code": "1100245130", "invoice_number": "00000001", "issue_date": ISSUED,
          "amount": "999"}, None),
        ({"invoice_number": "26112000000000000002", "issue_date": "20261101",
          "amount": "1130"}, InvoiceType.DIGITAL_ORDINARY),
        ({"invoice_number": "26112000000000000002", "issue_date": ISSUED,
          "amount": "1130"}, InvoiceType.DIGITAL_SPECIAL),  # the QR names another type
        ({**good, "invoice_number": "87654321"}, None),  # not found
        ({**good, "invoice_code": "12"}, None),  # invalid
        ({**good, "issue_date": "2021-11-20", "invoice_number": "00000009"}, None),  # too old
        ({**good, "issue_date": "2026-11-22"}, None),  # future
    ]
    # The same invoice again and again: the daily limit of 5 ends it, as for single checks.
    rows += [(good, None), (bad, None), (good, None), (good, None), (bad, None)]
    return rows


def reset(session):
    session.execute(delete(VerificationRecord))
    session.execute(delete(DailyCounter))
    session.execute(update(Invoice).values(verification_count=0, last_verified_at=None))
    session.commit()


def summary(results):
    return [(r.outcome, r.status, r.verification_count, sorted(r.errors)) for r in results]


def stored_state(session):
    records = session.execute(
        select(VerificationRecord.outcome, VerificationRecord.status,
               VerificationRecord.mismatch_fields, VerificationRecord.verification_count,
               VerificationRecord.invoice_id, VerificationRecord.type_code,
               VerificationRecord.check_code, VerificationRecord.amount)
        .order_by(VerificationRecord.created_at, VerificationRecord.verification_count)
    ).all()
    counters = session.execute(select(DailyCounter.invoice_id, DailyCounter.attempts)
                               .order_by(DailyCounter.invoice_id)).all()
    counts = session.execute(select(Invoice.id, Invoice.verification_count)
                             .order_by(Invoice.id)).all()
    return sorted(map(tuple, records), key=repr), counters, counts


@pytest.mark.parametrize("chunks", [1, 4])
def test_verify_many_gives_what_single_checks_give(session, registry_rows, chunks):
    rows = rows_of_every_outcome()
    singles = [verify(session, fields, type_hint=hint, now=NOW, entry_path=EntryPath.BATCH)
               for fields, hint in rows]
    single_state = stored_state(session)
    reset(session)

    bulk = []
    size = -(-len(rows) // chunks)
    for start in range(0, len(rows), size):
        bulk += verify_many(session, [BulkRow(f, h) for f, h in rows[start:start + size]],
                            now=NOW)
    assert summary(bulk) == summary(singles)
    assert stored_state(session) == single_state
    outcomes = [r.outcome for r in bulk]
    assert set(outcomes) == set(Outcome)
    assert outcomes[-5:] == [Outcome.MATCH, Outcome.MISMATCH, Outcome.MATCH,
                             Outcome.LIMIT_EXCEEDED, Outcome.LIMIT_EXCEEDED]
    assert bulk[2].status is Status.VOID and not bulk[2].is_valid
    assert bulk[0].is_valid and bulk[-3].verification_count == 3
    assert all(r.receipt_id for r in bulk if r.outcome is not Outcome.INVALID)


def test_bulk_and_single_checks_share_one_daily_limit(session, registry_rows):
    good = {"invoice_code": "011002400104", "invoice_number": "12345678",
            "issue_date": ISSUED, "check_code": "294433"}
    settings = Settings(daily_limit=5)
    for _ in range(3):
        verify(session, good, now=NOW, settings=settings)
    results = verify_many(session, [BulkRow(good)] * 4, now=NOW, settings=settings)
    assert [r.outcome for r in results] == [Outcome.MATCH, Outcome.MATCH,
                                            Outcome.LIMIT_EXCEEDED, Outcome.LIMIT_EXCEEDED]
    assert session.scalar(select(DailyCounter.attempts)) == 5
    assert verify(session, good, now=NOW, settings=settings).outcome is Outcome.LIMIT_EXCEEDED
    assert verify(session, good, now=NOW + timedelta(days=1), settings=settings).outcome is (
        Outcome.MATCH
    )
    assert results[1].verification_count == 5


def test_verify_many_records_nothing_for_invalid_rows(session):
    results = verify_many(session, [BulkRow({"invoice_number": "1"})], now=NOW)
    assert results[0].outcome is Outcome.INVALID
    assert results[0].errors["invoice_number"].code is ErrorCode.NUMBER_LENGTH
    assert session.scalar(select(func.count()).select_from(VerificationRecord)) == 0


# --- reading files ------------------------------------------------------------------------


def csv_bytes(rows, encoding="utf-8-sig", delimiter=","):
    stream = io.StringIO()
    csv.writer(stream, delimiter=delimiter).writerows(rows)
    return stream.getvalue().encode(encoding)


def xlsx_bytes(rows):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CHINESE = ["发票代码", "发票号码", "开票日期", "金额", "校验码"]
ENGLISH = ["invoice_code", "invoice_number", "issue_date", "amount", "check_code"]


@pytest.mark.parametrize("header", [CHINESE, ENGLISH, ["Invoice Code", "INVOICE NUMBER",
                                                      "Issue date", "Amount", "Check code"]])
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_headers_in_chinese_or_english(header, encoding):
    data = csv_bytes([header, ["011002400104", "12345678", "2026-11-01", "", "294433"],
                      ["", "", "", "", ""]], encoding=encoding)
    parsed = batch_files.read_upload(data, "list.csv")
    assert parsed.kind == "csv"
    rows = list(parsed.rows())
    assert len(rows) == 1
    assert rows[0].number == 2
    assert rows[0].fields == {"invoice_code": "011002400104", "invoice_number": "12345678",
                              "issue_date": "2026-11-01", "amount": "", "check_code": "294433"}


def test_csv_with_semicolons_and_tabs():
    for delimiter in (";", "\t"):
        data = csv_bytes([ENGLISH, ["1100245130", "00000001", "2026-11-01", "1000", ""]],
                         delimiter=delimiter)
        rows = list(batch_files.read_upload(data, "x.csv").rows())
        assert rows[0].fields["amount"] == "1000"


def test_the_amount_column_is_chosen_by_invoice_type():
    header = ["发票代码", "发票号码", "开票日期", "不含税金额", "价税合计", "校验码"]
    data = csv_bytes([
        header,
        ["1100245130", "00000001", "2026-11-01", "1000.00", "1130.00", ""],
        ["", "26112000000000000002", "2026-11-01", "1000.00", "1130.00", ""],
    ])
    rows = list(batch_files.read_upload(data, "x.csv").rows())
    assert [row.fields["amount"] for row in rows] == ["1000.00", "1130.00"]


def test_xlsx_with_chinese_headers_dates_and_numbers():
    data = xlsx_bytes([
        CHINESE,
        ["011002400104", "12345678", date(2026, 11, 1), None, "294433"],
        # Excel turned the digits into numbers and dropped the leading zeros.
        [1100245130, 1, datetime(2026, 11, 1), 1000.5, None],
        [11002400104, 12345678, "2026-11-01", None, 294433],
    ])
    parsed = batch_files.read_upload(data, "月度.xlsx")
    rows = list(parsed.rows())
    assert parsed.kind == "xlsx"
    assert rows[0].fields["issue_date"] == "2026-11-01"
    assert rows[1].fields == {"invoice_code": "1100245130", "invoice_number": "00000001",
                              "issue_date": "2026-11-01", "amount": "1000.5", "check_code": ""}
    assert rows[2].fields["invoice_code"] == "011002400104"
    assert rows[2].fields["check_code"] == "294433"


@pytest.mark.parametrize(("data", "name", "problem"), [
    (b"", "x.csv", FileProblem.EMPTY),
    (b"hello,world\n1,2\n", "x.csv", FileProblem.HEADERS),
    (b"\x00\x01\x02binary", "x.csv", FileProblem.UNREADABLE),
    (b"PK\x03\x04 broken zip", "x.xlsx", FileProblem.UNREADABLE),
    (b"%PDF-1.4", "x.pdf", FileProblem.KIND),
])
def test_unusable_files_are_refused_with_a_reason(data, name, problem):
    with pytest.raises(BatchFileError) as caught:
        batch_files.read_upload(data, name)
    assert caught.value.problem is problem


def test_too_many_rows_are_refused():
    rows = [ENGLISH] + [["011002400104", "12345678", "2026-11-01", "", "294433"]] * 11
    with pytest.raises(BatchFileError) as caught:
        batch_files.read_upload(csv_bytes(rows), "x.csv", max_rows=10)
    assert caught.value.problem is FileProblem.TOO_MANY_ROWS


def test_zip_members_are_listed_in_order_and_junk_skipped():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("b.pdf", b"%PDF")
        archive.writestr("a.png", b"\x89PNG")
        archive.writestr("__MACOSX/._a.png", b"junk")
        archive.writestr("notes.txt", b"text")
        archive.writestr("dir/", b"")
    parsed = batch_files.read_upload(out.getvalue(), "invoices.zip")
    assert parsed.kind == "zip"
    assert [name for name, _data in parsed.members()] == ["a.png", "b.pdf"]
    assert parsed.total == 2


def test_a_zip_member_without_any_code_is_said_to_have_none():
    """A sharp JPEG of a page without a QR code was "a file that could not be read"."""
    import cv2
    import numpy as np

    from yanpiao.batch import RowProblem, decode_invoice_file

    ok, blank = cv2.imencode(".jpg", np.full((300, 400, 3), 255, np.uint8))
    assert ok
    assert decode_invoice_file(blank.tobytes()) == (None, None, RowProblem.NO_INVOICE_QR)
    assert decode_invoice_file(b"\xff\xd8\xff\xe0" + b"\0" * 10) == (
        None, None, RowProblem.UNREADABLE_FILE)
