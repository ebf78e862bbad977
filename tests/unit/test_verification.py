"""Every rule of DESIGN 1.4, through the one verification function, on a real database."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from factories import invoice_record
from yanpiao import registry
from yanpiao.models import DailyCounter, VerificationRecord
from yanpiao.types import EntryPath, InvoiceType, Outcome, Status
from yanpiao.verification import AlreadyRecorded, Settings, receipt_id_for, verify

NOW = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)  # 12:00 in Beijing
ISSUED = date(2026, 11, 1)

# (type, code, number, check code on the invoice, the fields a visitor types besides the date)
TYPES = [
    ("01", "1100245130", "00000001", "", {"amount": "1000.00"}),
    ("03", "111002420001", "00000002", "", {"amount": "1000.00"}),
    ("04", "011002400104", "00000003", "48114255542168294433", {"check_code": "294433"}),
    ("10", "011002400111", "00000004", "48114255542168294433", {"check_code": "294433"}),
    ("11", "011002400106", "00000005", "48114255542168294433", {"check_code": "294433"}),
    ("14", "011002400112", "00000006", "48114255542168294433", {"check_code": "294433"}),
    ("15", "011002400117", "00000007", "", {"amount": "1130.00"}),
    ("20", "011002400113", "00000008", "", {"amount": "1000.00"}),
    ("31", "", "26112000000000000001", "", {"amount": "1130.00"}),
    ("32", "", "26112000000000000002", "", {"amount": "1130.00"}),
]
WRONG = {"amount": "999.99", "check_code": "000000"}


@pytest.fixture
def store(session):
    def store(**overrides):
        record = invoice_record(**{"issue_date": ISSUED.isoformat(), **overrides})
        registry.store_invoice(session, registry.parse_import_record(record))
        session.commit()
        return record

    return store


def typed(code, number, extra, **overrides):
    fields = {"invoice_code": code, "invoice_number": number, "issue_date": ISSUED.isoformat()}
    fields.update(extra)
    fields.update(overrides)
    return fields


def run(session, fields, **kwargs):
    kwargs.setdefault("now", NOW)
    return verify(session, fields, **kwargs)


@pytest.mark.parametrize(("type_code", "code", "number", "check", "extra"), TYPES)
def test_match_for_every_type(session, store, type_code, code, number, check, extra):
    store(type=type_code, invoice_code=code, invoice_number=number, check_code=check)
    result = run(session, typed(code, number, extra))
    assert result.outcome is Outcome.MATCH
    assert result.is_valid
    assert result.invoice.invoice_type is InvoiceType(type_code)
    assert result.verification_count == 1
    assert result.invoice.items[0].name == "*办公用品*打印纸"


@pytest.mark.parametrize(("type_code", "code", "number", "check", "extra"), TYPES)
def test_mismatch_for_every_type_reveals_nothing(session, store, type_code, code, number, check, extra):
    store(type=type_code, invoice_code=code, invoice_number=number, check_code=check)
    wrong = {name: WRONG[name] for name in extra}
    result = run(session, typed(code, number, wrong))
    assert result.outcome is Outcome.MISMATCH
    assert result.invoice is None and result.verification_count is None
    record = session.get(VerificationRecord, result.receipt_id)
    assert record.mismatch_fields in ("amount", "check_code")


@pytest.mark.parametrize(("type_code", "code", "number", "check", "extra"), TYPES)
def test_not_found_for_every_type(session, store, type_code, code, number, check, extra):
    result = run(session, typed(code, number, extra))
    assert result.outcome is Outcome.NOT_FOUND
    assert result.invoice is None


def test_wrong_date_is_a_mismatch(session, store):
    store()
    result = run(session, typed("011002400104", "12345678", {"check_code": "294433"},
                                issue_date="2026-11-02"))
    assert result.outcome is Outcome.MISMATCH
    assert session.get(VerificationRecord, result.receipt_id).mismatch_fields == "issue_date"


def test_digital_type_from_qr_must_agree(session, store):
    store(type="32", invoice_code="", invoice_number="26112000000000000002", check_code="")
    fields = typed("", "26112000000000000002", {"amount": "1130"})
    assert run(session, fields, type_hint=InvoiceType.DIGITAL_SPECIAL).outcome is Outcome.MISMATCH
    assert run(session, fields, type_hint=InvoiceType.DIGITAL_ORDINARY).outcome is Outcome.MATCH


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.NORMAL])
def test_a_match_carries_a_status_that_is_not_valid(session, store, status):
    store(status=status.value)
    result = run(session, typed("011002400104", "12345678", {"check_code": "294433"}))
    assert result.outcome is Outcome.MATCH
    assert result.status is status
    assert not result.is_valid


def test_check_number_counts_matches_only_and_warns_of_reuse(session, store):
    store()
    good = typed("011002400104", "12345678", {"check_code": "294433"})
    first = run(session, good)
    run(session, typed("011002400104", "12345678", {"check_code": "000000"}))  # a mismatch
    second = run(session, good, now=NOW + timedelta(minutes=5))
    assert (first.verification_count, first.is_duplicate_use) == (1, False)
    assert (second.verification_count, second.is_duplicate_use) == (2, True)
    assert second.previous_verified_at == NOW


def test_a_check_is_not_a_change_of_the_invoice(session, store):
    """Every successful check moved the invoice's "Last changed" on the staff page."""
    from yanpiao.models import Invoice
    from yanpiao.verification import BulkRow, verify_many

    store()
    changed = session.scalar(select(Invoice.updated_at))
    good = typed("011002400104", "12345678", {"check_code": "294433"})
    run(session, good, now=NOW + timedelta(days=3))
    verify_many(session, [BulkRow(good, None)], now=NOW + timedelta(days=4))
    session.commit()
    session.expire_all()
    invoice = session.scalars(select(Invoice)).one()
    assert invoice.verification_count == 2 and invoice.updated_at == changed


def test_a_submission_sent_twice_is_counted_and_recorded_once(session, store):
    store()
    good = typed("011002400104", "12345678", {"check_code": "294433"})
    receipt = receipt_id_for("secret", "form-key", good)
    first = run(session, good, receipt_id=receipt)
    assert (first.receipt_id, first.verification_count) == (receipt, 1)
    with pytest.raises(AlreadyRecorded):
        run(session, good, receipt_id=receipt, now=NOW + timedelta(seconds=1))
    # Nothing of the second sending stayed: not the check number, the daily count, a record.
    assert session.scalar(select(func.sum(DailyCounter.attempts))) == 1
    assert session.scalar(select(func.count()).select_from(VerificationRecord)) == 1
    assert run(session, good).verification_count == 2  # a new submission counts again


def test_receipt_id_of_a_submission():
    fields = {"invoice_number": "12345678", "check_code": "294433"}
    receipt = receipt_id_for("secret", "form-key", fields)
    assert len(receipt) == 20 and receipt.isalnum() and receipt.isupper()
    assert receipt_id_for("secret", "form-key", dict(fields)) == receipt
    # Other fields sent from the same form, another form or another server: another id.
    assert receipt_id_for("secret", "form-key", {**fields, "check_code": "294434"}) != receipt
    assert receipt_id_for("secret", "other-key", fields) != receipt
    assert receipt_id_for("other", "form-key", fields) != receipt


def test_daily_limit_counts_matches_and_mismatches(session, store):
    store()
    good = typed("011002400104", "12345678", {"check_code": "294433"})
    bad = typed("011002400104", "12345678", {"check_code": "000000"})
    settings = Settings(daily_limit=5)
    outcomes = [run(session, f, settings=settings).outcome for f in (bad, bad, bad, good, bad)]
    assert outcomes == [Outcome.MISMATCH] * 3 + [Outcome.MATCH, Outcome.MISMATCH]
    # The sixth attempt, right or wrong, is refused without comparing anything.
    assert run(session, good, settings=settings).outcome is Outcome.LIMIT_EXCEEDED
    assert run(session, bad, settings=settings).outcome is Outcome.LIMIT_EXCEEDED
    # Tomorrow (in Beijing) the count starts again.
    tomorrow = NOW + timedelta(days=1)
    assert run(session, good, settings=settings, now=tomorrow).outcome is Outcome.MATCH
    assert session.scalar(select(func.sum(DailyCounter.attempts))) == 6


def test_day_boundary_is_beijing_time(session, store):
    store()
    bad = typed("011002400104", "12345678", {"check_code": "000000"})
    settings = Settings(daily_limit=1)
    late_utc = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)  # 23:30 in Beijing
    assert run(session, bad, settings=settings, now=late_utc).outcome is Outcome.MISMATCH
    after_midnight = late_utc + timedelta(hours=1)  # 00:30 the next day in Beijing
    assert run(session, bad, settings=settings, now=after_midnight).outcome is Outcome.MISMATCH


def test_not_found_does_not_count_towards_any_limit(session):
    fields = typed("011002400104", "87654321", {"check_code": "294433"})
    for _ in range(7):
        assert run(session, fields).outcome is Outcome.NOT_FOUND


def test_too_old_and_future_dates_are_refused_and_recorded(session, store):
    store(issue_date="2021-11-20")
    old = run(session, typed("011002400104", "12345678", {"check_code": "294433"},
                             issue_date="2021-11-20"))
    future = run(session, typed("011002400104", "12345678", {"check_code": "294433"},
                                issue_date="2026-11-22"))
    assert old.outcome is Outcome.TOO_OLD and old.errors["issue_date"].params["years"] == 5
    assert future.outcome is Outcome.FUTURE_DATE
    assert session.scalar(select(func.count()).select_from(VerificationRecord)) == 2
    assert session.scalar(select(func.count()).select_from(DailyCounter)) == 0


def test_invalid_input_is_answered_not_recorded(session):
    result = run(session, {"invoice_code": "abc", "invoice_number": "1"})
    assert result.outcome is Outcome.INVALID
    assert set(result.errors) == {"invoice_code", "invoice_number", "issue_date"}
    assert result.receipt_id is None
    assert session.scalar(select(func.count()).select_from(VerificationRecord)) == 0


def test_every_attempt_is_recorded_with_its_entry_path(session, store):
    store()
    result = run(session, typed("011002400104", "12345678", {"check_code": "294433"}),
                 entry_path=EntryPath.SCANNER, owner_key="visitor-1")
    record = session.get(VerificationRecord, result.receipt_id)
    assert (record.entry_path, record.outcome, record.status) == ("scanner", "match", "normal")
    assert record.owner_key == "visitor-1"
    assert record.check_code == "294433"
    assert record.verification_count == 1


def test_amounts_compare_to_the_cent(session, store):
    store(type="01", invoice_code="1100245130", check_code="", amount="94339.62")
    for typed_amount in ("94339.62", "94,339.62", "¥94339.62", "９４３３９．６２"):
        result = run(session, typed("1100245130", "12345678", {"amount": typed_amount}))
        assert result.outcome is Outcome.MATCH, typed_amount
    assert run(session, typed("1100245130", "12345678", {"amount": "94339.6"})).outcome is (
        Outcome.MISMATCH
    )
