"""History queries on a real database: owners, filters, moving, purging and export files."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from factories import invoice_record
from yanpiao import history, registry
from yanpiao.accounts import create_user
from yanpiao.models import VerificationRecord
from yanpiao.types import InvoiceType, Outcome
from yanpiao.verification import verify

CHINA = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
ISSUED = date(2026, 11, 1)
GOOD = {"invoice_code": "011002400104", "invoice_number": "12345678",
        "issue_date": ISSUED.isoformat(), "check_code": "294433"}


@pytest.fixture
def stored(session):
    registry.store_invoice(
        session, registry.parse_import_record(invoice_record(issue_date=ISSUED.isoformat()))
    )
    session.commit()


@pytest.fixture
def users(session):
    a = create_user(session, "correct horse battery", email="a@example.com")
    b = create_user(session, "correct horse battery", email="b@example.com")
    session.commit()
    return a.id, b.id


def check(session, when=NOW, **kwargs):
    fields = dict(GOOD, **kwargs.pop("fields", {}))
    return verify(session, fields, now=when, **kwargs).receipt_id


def ids(page_or_records):
    records = getattr(page_or_records, "records", page_or_records)
    return [record.id for record in records]


def test_owners_see_only_their_own(session, stored, users):
    a, b = users
    mine = check(session, user_id=a, owner_key="browser-a")
    theirs = check(session, user_id=b)
    anonymous = check(session, owner_key="browser-a")
    assert ids(history.history_page(session, history.Owner(user_id=a))) == [mine]
    assert ids(history.history_page(session, history.Owner(user_id=b))) == [theirs]
    # The browser key alone never opens what belongs to the account signed in there.
    assert ids(history.history_page(session, history.Owner(owner_key="browser-a"))) == [anonymous]
    assert history.history_page(session, history.Owner()).total == 0
    assert history.find_record(session, history.Owner(user_id=b), mine) is None
    assert history.find_record(session, history.Owner(owner_key="browser-a"), mine) is None


def test_newest_first_and_pages(session, stored):
    made = [check(session, when=NOW + timedelta(minutes=i), owner_key="k") for i in range(5)]
    first = history.history_page(session, history.Owner(owner_key="k"), per_page=2)
    assert ids(first) == made[::-1][:2] and first.pages == 3 and first.has_next
    last = history.history_page(session, history.Owner(owner_key="k"), page=99, per_page=2)
    assert last.page == 3 and ids(last) == [made[0]] and not last.has_next


def test_filters(session, stored):
    owner = history.Owner(owner_key="k")
    match = check(session, owner_key="k")
    mismatch = check(session, owner_key="k", fields={"check_code": "000000"},
                     when=NOW - timedelta(days=3))
    not_found = check(session, owner_key="k", fields={"invoice_number": "87654321"},
                      when=NOW - timedelta(days=10))

    def found(**criteria):
        flt = history.HistoryFilter(**criteria)
        return set(ids(history.matching_records(session, owner, flt, tz=CHINA)))

    assert found(outcome=Outcome.MATCH) == {match}
    assert found(outcome=Outcome.NOT_FOUND) == {not_found}
    assert found(invoice_type=InvoiceType.VAT_ORDINARY) == {match, mismatch, not_found}
    assert found(invoice_type=InvoiceType.DIGITAL_ORDINARY) == set()
    assert found(number="8765") == {not_found}
    assert found(number="2345") == {match, mismatch}
    today = NOW.astimezone(CHINA).date()
    assert found(checked_from=today) == {match}
    assert found(checked_to=today - timedelta(days=3)) == {mismatch, not_found}
    assert found(checked_from=today - timedelta(days=3), checked_to=today - timedelta(days=3)) == {
        mismatch
    }


def test_dates_are_days_in_the_service_time_zone(session, stored):
    # 01:30 in Beijing on 21 November is still 20 November in UTC.
    late = check(session, owner_key="k", when=datetime(2026, 11, 20, 17, 30, tzinfo=UTC))
    flt = history.HistoryFilter(checked_from=date(2026, 11, 21), checked_to=date(2026, 11, 21))
    owner = history.Owner(owner_key="k")
    assert ids(history.matching_records(session, owner, flt, tz=CHINA)) == [late]
    assert ids(history.matching_records(session, owner, flt, tz=UTC)) == []


def test_claiming_moves_anonymous_records_into_the_account(session, stored, users):
    a, _b = users
    first, second = check(session, owner_key="browser"), check(session, owner_key="browser")
    elsewhere = check(session, owner_key="other-browser")
    kiosk = check(session, owner_key="browser", kiosk_id="kiosk-1")
    assert history.claim_anonymous(session, "browser", a) == 2
    assert set(ids(history.history_page(session, history.Owner(user_id=a)))) == {first, second}
    assert history.claim_anonymous(session, None, a) == 0
    assert history.find_record(session, history.Owner(owner_key="other-browser"), elsewhere)
    assert session.get(VerificationRecord, kiosk).user_id is None


def test_delete_one_and_all_only_for_the_owner(session, stored, users):
    a, b = users
    mine, other = check(session, user_id=a), check(session, user_id=a)
    theirs = check(session, user_id=b)
    assert not history.delete_record(session, history.Owner(user_id=b), mine)
    assert history.delete_record(session, history.Owner(user_id=a), mine)
    assert history.delete_all(session, history.Owner(user_id=a)) == 1
    assert session.get(VerificationRecord, other) is None
    assert session.get(VerificationRecord, theirs) is not None
    assert history.delete_all(session, history.Owner()) == 0


def test_purge_keeps_the_retention_period(session, stored):
    old = check(session, owner_key="k", when=NOW - timedelta(days=400))
    recent = check(session, owner_key="k", when=NOW - timedelta(days=10))
    assert history.purge_before(session, history.retention_cutoff(NOW, 365)) == 1
    assert session.get(VerificationRecord, old) is None
    assert session.get(VerificationRecord, recent) is not None


def test_forgetting_a_kiosk_session(session, stored):
    check(session, kiosk_id="kiosk-1")
    kept = check(session, owner_key="k")
    assert history.forget_kiosk_session(session, "kiosk-1") == 1
    assert session.scalar(select(func.count(VerificationRecord.id))) == 1
    assert session.get(VerificationRecord, kept)


def test_export_rows_hold_typed_given_fields(session, stored):
    receipt = check(session, owner_key="k")
    row = history.export_row(session.get(VerificationRecord, receipt), CHINA)
    values = dict(zip(history.EXPORT_COLUMNS, row, strict=True))
    assert values["checked_at"] == datetime(2026, 11, 21, 12, 0)  # local, naive
    assert values["outcome"] is Outcome.MATCH
    assert values["type"] is InvoiceType.VAT_ORDINARY
    assert values["issue_date"] == ISSUED and values["invoice_code"] == "011002400104"
    assert values["check_code"] == "294433" and values["verification_count"] == 1


HEADER = ["时间", "Receipt", "Amount", "Code", "Day"]
ROWS = [[datetime(2026, 11, 21, 12, 0), "R1", Decimal("1130.00"), "011002400104", date(2026, 11, 1)],
        [datetime(2026, 11, 20, 8, 5), "R2", None, "", None]]


def test_csv_has_a_bom_and_reads_back():
    data = history.write_csv(HEADER, ROWS)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [HEADER, ["2026-11-21 12:00:00", "R1", "1130.00", "011002400104", "2026-11-01"],
                    ["2026-11-20 08:05:00", "R2", "", "", ""]]


def test_xlsx_cells_are_typed():
    sheet = load_workbook(io.BytesIO(history.write_xlsx(HEADER, ROWS, "检查"))).active
    assert sheet.title == "检查"
    assert [cell.value for cell in sheet[1]] == HEADER
    when, receipt, amount, code, day = (cell for cell in sheet[2])
    assert when.value == datetime(2026, 11, 21, 12, 0) and when.is_date
    assert day.value == datetime(2026, 11, 1) and day.number_format == "yyyy-mm-dd"
    assert amount.value == 1130 and amount.data_type == "n"
    assert code.value == "011002400104" and code.data_type == "s"  # the leading zero stays
    assert [cell.value for cell in sheet[3]][2:] == [None, None, None]
