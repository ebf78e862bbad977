from __future__ import annotations

import datetime
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select

from yanpiao import codes, registry, seed
from yanpiao.db import Base, make_engine, make_session_factory
from yanpiao.models import Invoice, InvoiceItem
from yanpiao.types import InvoiceType, Status

TODAY = datetime.date(2025, 6, 15)
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return seed.demo_invoices(2_000, today=TODAY)


@pytest.fixture
def session():
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as db:
        yield db
    engine.dispose()


def test_same_arguments_give_identical_records():
    assert seed.demo_invoices(300, today=TODAY) == seed.demo_invoices(300, today=TODAY)


def test_a_shorter_run_is_a_prefix_of_a_longer_one(records):
    assert seed.demo_invoices(50, today=TODAY) == records[:50]


def test_seed_and_today_change_the_records():
    base = seed.demo_invoices(20, today=TODAY)
    assert seed.demo_invoices(20, today=TODAY, seed=7) != base
    assert seed.demo_invoices(20, today=TODAY + datetime.timedelta(days=1)) != base


def test_the_generator_yields_what_the_list_holds():
    assert list(seed.iter_demo_invoices(40, today=TODAY)) == seed.demo_invoices(40, today=TODAY)


def test_first_ten_are_one_recent_normal_invoice_of_every_type(records):
    first = records[:10]
    assert sorted(r["type"] for r in first) == sorted(t.code for t in InvoiceType)
    for record in first:
        assert record["status"] == Status.NORMAL.value
        age = TODAY - datetime.date.fromisoformat(record["issue_date"])
        assert datetime.timedelta(0) <= age <= datetime.timedelta(days=60)


def test_every_status_is_present_at_fifty():
    statuses = {r["status"] for r in seed.demo_invoices(50, today=TODAY)}
    assert statuses == {s.value for s in Status}


def test_records_ten_to_thirteen_show_each_warning_status(records):
    assert [r["status"] for r in records[10:14]] == [
        Status.VOID.value,
        Status.RED_REVERSED.value,
        Status.OUT_OF_CONTROL.value,
        Status.ABNORMAL.value,
    ]


def test_most_invoices_are_normal_and_every_type_recurs(records):
    statuses = Counter(r["status"] for r in records)
    assert 0.72 < statuses[Status.NORMAL.value] / len(records) < 0.88
    types = Counter(r["type"] for r in records[14:])
    assert set(types) == {t.code for t in InvoiceType}


def test_records_have_the_import_format_keys(records):
    for record in records[:50]:
        assert list(record) == [
            "type", "invoice_code", "invoice_number", "issue_date", "check_code", "amount",
            "tax", "total", "status", "seller", "buyer", "items", "remarks", "drawer",
        ]
        for role in ("seller", "buyer"):
            assert list(record[role]) == list(registry.PARTY_FIELDS)
        for item in record["items"]:
            assert list(item) == list(registry.ITEM_FIELDS)


def test_every_record_passes_the_import_check(records):
    for record in records:
        registry.parse_import_record(record)


def test_code_and_number_structure_match_the_type(records):
    for record in records:
        invoice_type = InvoiceType(record["type"])
        code, number = record["invoice_code"], record["invoice_number"]
        if invoice_type.is_digital:
            assert code == ""
            assert len(number) == codes.DIGITAL_NUMBER_LENGTH
            assert number[:2] == record["issue_date"][2:4]
            assert codes.region_of_digital_number(number) == seed.REGION
        else:
            assert len(number) == codes.LEGACY_NUMBER_LENGTH
            assert codes.type_from_code(code) is invoice_type
            assert codes.region_of_code(code) == seed.REGION
            assert codes.year_of_code(code) <= int(record["issue_date"][:4])


def test_check_codes_only_where_the_type_needs_one(records):
    for record in records:
        needs = InvoiceType(record["type"]).extra_field.value == "check_code"
        if needs:
            assert len(record["check_code"]) == 20 and record["check_code"].isdigit()
        else:
            assert record["check_code"] == ""


def _money(text: str) -> Decimal:
    return Decimal(text)


def test_amounts_add_up(records):
    for record in records:
        amount = tax = Decimal(0)
        for item in record["items"]:
            line = _money(item["amount"])
            quantity_times_price = Decimal(item["quantity"]) * Decimal(item["unit_price"])
            assert line == quantity_times_price.quantize(CENT, rounding=ROUND_HALF_UP)
            rate = Decimal(item["tax_rate"])
            assert _money(item["tax"]) == (line * rate).quantize(CENT, rounding=ROUND_HALF_UP)
            amount += line
            tax += _money(item["tax"])
        assert record["items"]
        assert _money(record["amount"]) == amount > 0
        assert _money(record["tax"]) == tax
        assert _money(record["total"]) == amount + tax


def test_tax_rates_match_the_kind_of_item(records):
    rates = {"0.13", "0.09", "0.06", "0.03", "0.01"}
    for record in records:
        for item in record["items"]:
            assert item["name"].startswith("*") and item["name"].count("*") == 2
            if record["type"] == InvoiceType.USED_VEHICLE.code:
                assert item["tax_rate"] == "0"
                continue
            assert item["tax_rate"] in rates
            if "*运输服务*" in item["name"] or "*建筑服务*" in item["name"]:
                assert item["tax_rate"] in {"0.09", "0.03", "0.01"}
            if "*信息技术服务*" in item["name"] or "*餐饮服务*" in item["name"]:
                assert item["tax_rate"] in {"0.06", "0.03", "0.01"}


def test_vehicle_invoices_carry_one_vehicle(records):
    for record in records:
        if record["type"] in (InvoiceType.MOTOR_VEHICLE.code, InvoiceType.USED_VEHICLE.code):
            [item] = record["items"]
            assert item["unit"] == "辆" and item["quantity"] == "1"
            assert "车辆识别代号" in record["remarks"]


def test_tax_ids_are_valid_unified_social_credit_codes(records):
    for record in records:
        assert len(record["seller"]["tax_id"]) == 18
        assert seed.is_valid_uscc(record["seller"]["tax_id"])
        buyer_id = record["buyer"]["tax_id"]
        assert buyer_id == "" or seed.is_valid_uscc(buyer_id)
        assert record["seller"]["name"].startswith("北京")


def test_uscc_check_agrees_with_published_codes():
    assert seed.is_valid_uscc("91110000802100433B")
    assert seed.is_valid_uscc("9144030071526726XG")
    assert not seed.is_valid_uscc("91110000802100433C")


def test_vin_check_digit():
    assert seed.vin_check("1M8GDM9A" + "0" + "KP042788") == "X"


def test_issue_dates_are_within_four_and_a_half_years_and_not_future(records):
    dates = [datetime.date.fromisoformat(r["issue_date"]) for r in records]
    assert max(dates) <= TODAY
    assert min(dates) >= TODAY - datetime.timedelta(days=seed.MAX_AGE_DAYS)
    # spread over the years, not bunched up near today
    assert min(dates) < TODAY - datetime.timedelta(days=3 * 365)


def test_code_and_number_are_unique_over_twenty_thousand():
    big = seed.demo_invoices(20_000, today=TODAY)
    keys = {(r["invoice_code"], r["invoice_number"]) for r in big}
    assert len(keys) == len(big)
    digital = [r["invoice_number"] for r in big if InvoiceType(r["type"]).is_digital]
    assert len(set(digital)) == len(digital)


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError):
        seed.demo_invoices(-1, today=TODAY)


def test_seeding_stores_every_record_and_is_idempotent(session):
    first = seed.seed_registry(session, 60, today=TODAY, batch_size=25)
    assert (first.added, first.updated, first.refused) == (60, 0, 0)
    again = seed.seed_registry(session, 60, today=TODAY, batch_size=25)
    assert (again.added, again.updated, again.refused) == (0, 60, 0)
    assert session.scalar(select(func.count()).select_from(Invoice)) == 60
    expected_items = sum(len(r["items"]) for r in seed.demo_invoices(60, today=TODAY))
    assert session.scalar(select(func.count()).select_from(InvoiceItem)) == expected_items


def test_a_stored_invoice_reads_back_as_its_record(session):
    seed.seed_registry(session, 12, today=TODAY)
    for record in seed.demo_invoices(12, today=TODAY):
        invoice = registry.find_invoice(session, record["invoice_code"], record["invoice_number"])
        assert invoice is not None
        assert registry.snapshot(invoice).to_dict() == record
