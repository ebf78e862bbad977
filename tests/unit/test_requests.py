from datetime import date
from decimal import Decimal

import pytest

from yanpiao.requests import ErrorCode, InvalidRequest, build_request, check_issue_date, plan_fields
from yanpiao.types import EntryPath, ExtraField, InvoiceType


def fields(**overrides):
    base = {
        "invoice_code": "011002400104",
        "invoice_number": "12345678",
        "issue_date": "2024-10-25",
        "amount": "",
        "check_code": "294433",
    }
    base.update(overrides)
    return base


def errors_of(**overrides):
    with pytest.raises(InvalidRequest) as caught:
        build_request(fields(**overrides))
    return {name: error.code for name, error in caught.value.errors.items()}


def test_ordinary_invoice_request():
    request = build_request(fields(), entry_path=EntryPath.SCANNER)
    assert request.invoice_type is InvoiceType.VAT_ORDINARY
    assert request.extra_field is ExtraField.CHECK_CODE
    assert request.check_code == "294433"
    assert request.issue_date == date(2024, 10, 25)
    assert request.entry_path is EntryPath.SCANNER


def test_full_twenty_digit_check_code_keeps_last_six():
    request = build_request(fields(check_code="4811 4255 5421 6829 4433"))
    assert request.check_code == "294433"


def test_special_invoice_needs_pretax_amount():
    request = build_request(fields(invoice_code="1100245130", amount="¥1,000.5", check_code=""))
    assert request.extra_field is ExtraField.PRETAX_AMOUNT
    assert request.amount == Decimal("1000.50")


@pytest.mark.parametrize("invoice_code", ["1100245130", ""])
def test_an_amount_beyond_any_invoice_is_a_field_error_of_its_own(invoice_code):
    errors = errors_of(invoice_code=invoice_code, amount="99999999999999999999.99",
                       check_code="")
    assert errors["amount"] is ErrorCode.AMOUNT_TOO_LARGE


def test_digital_invoice_needs_no_code_and_the_total():
    request = build_request(
        fields(invoice_code="", invoice_number="24312000000136634917", amount="0.01", check_code="")
    )
    assert request.invoice_code == ""
    assert request.invoice_type is None  # a typed 20-digit number does not say 31 or 32
    assert request.extra_field is ExtraField.TOTAL


def test_digital_invoice_ignores_a_printed_code():
    request = build_request(
        fields(invoice_code="011002400104", invoice_number="24312000000136634917", amount="1")
    )
    assert request.invoice_code == ""


def test_type_hint_from_qr_names_the_digital_type():
    request = build_request(
        fields(invoice_code="", invoice_number="24312000000136634917", amount="1"),
        type_hint=InvoiceType.DIGITAL_SPECIAL,
    )
    assert request.invoice_type is InvoiceType.DIGITAL_SPECIAL


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"invoice_number": ""}, {"invoice_number": ErrorCode.REQUIRED}),
        ({"invoice_number": "1234"}, {"invoice_number": ErrorCode.NUMBER_LENGTH}),
        ({"invoice_number": "1234abcd"}, {"invoice_number": ErrorCode.NUMBER_NOT_DIGITS}),
        ({"invoice_code": ""}, {"invoice_code": ErrorCode.CODE_REQUIRED}),
        ({"invoice_code": "0110"}, {"invoice_code": ErrorCode.CODE_LENGTH}),
        ({"invoice_code": "01100240010x"}, {"invoice_code": ErrorCode.CODE_NOT_DIGITS}),
        ({"invoice_code": "011002400199"}, {"invoice_code": ErrorCode.CODE_UNKNOWN_KIND}),
        ({"invoice_code": "1100241230"}, {"invoice_code": ErrorCode.CODE_UNSUPPORTED}),
        ({"issue_date": ""}, {"issue_date": ErrorCode.REQUIRED}),
        ({"issue_date": "2024-02-30"}, {"issue_date": ErrorCode.DATE_INVALID}),
        ({"check_code": ""}, {"check_code": ErrorCode.CHECK_CODE_REQUIRED}),
        ({"check_code": "1234"}, {"check_code": ErrorCode.CHECK_CODE_INVALID}),
        (
            {"invoice_code": "1100245130", "check_code": "294433"},
            {"amount": ErrorCode.AMOUNT_REQUIRED},
        ),
        ({"invoice_code": "1100245130", "amount": "12,34"}, {"amount": ErrorCode.AMOUNT_INVALID}),
        (
            {"invoice_code": "", "invoice_number": "", "issue_date": "", "check_code": ""},
            # Until the number is known the code may be a 数电 invoice's: not asked for yet.
            {"invoice_number": ErrorCode.REQUIRED, "issue_date": ErrorCode.REQUIRED},
        ),
    ],
)
def test_field_errors(overrides, expected):
    assert errors_of(**overrides) == expected


def test_wrong_extra_field_says_which_one_is_needed():
    with pytest.raises(InvalidRequest) as caught:
        build_request(fields(invoice_code="1100245130"))
    assert caught.value.errors["amount"].params["extra_field"] is ExtraField.PRETAX_AMOUNT


@pytest.mark.parametrize(
    ("code", "number", "extra", "code_needed"),
    [
        ("011002400104", "", ExtraField.CHECK_CODE, True),
        ("1100245130", "", ExtraField.PRETAX_AMOUNT, True),
        ("011002400117", "", ExtraField.VEHICLE_PRICE, True),
        ("", "24312000000136634917", ExtraField.TOTAL, False),
        ("0110", "", None, True),
        ("", "", None, True),
    ],
)
def test_plan_fields_adapts_to_partial_input(code, number, extra, code_needed):
    plan = plan_fields(code, number)
    assert plan.extra_field is extra
    assert plan.code_needed is code_needed


@pytest.mark.parametrize(
    ("issue", "expected"),
    [
        (date(2026, 11, 21), None),
        (date(2026, 11, 22), ErrorCode.FUTURE_DATE),
        (date(2021, 11, 21), None),  # exactly five years back is still allowed
        (date(2021, 11, 20), ErrorCode.TOO_OLD),
    ],
)
def test_check_issue_date(issue, expected):
    error = check_issue_date(issue, date(2026, 11, 21), 5)
    assert (error.code if error else None) is expected


def test_leap_day_age_limit():
    assert check_issue_date(date(2023, 2, 28), date(2028, 2, 29), 5) is None
    assert check_issue_date(date(2023, 2, 27), date(2028, 2, 29), 5).code is ErrorCode.TOO_OLD
